#!/usr/bin/env bash
# e2e client lane (issue 7): two VMs under qemu TCG, the way a lab uses fpga-lab.
#   server VM: the bootable stand-in patched by `fpga-lab build-image` with the lab (usbip-binder),
#              its USB/IP port forwarded to the host; the board is an emulated FTDI (usb-serial)
#              whose chardev is a unix socket held by Tests/e2e/serial-peer.py (a loopback board);
#   client VM: the same stand-in, NOT patched (no server udev rule that would re-export attached
#              boards), with a second virtio disk (ext4, mkfs.ext4 -d) holding the fpga-lab binary
#              with the shared libraries it needs (the Swift runtime, Foundation, libarchive,
#              libext2fs ...; host and guest are both Debian 12), the lab file, the `fpga-lab client-recipe`
#              package and its vhci-hcd.ko built on the host with DKMS for the guest's kernel.
# The client reaches the server through the host: qemu's user-networking gateway 10.0.2.2 and
# the server's host forward. Cases:
#   (1) the rebuilt vhci-hcd replaces the stock one: nports 240 -> the lab's client.ports count;
#   (2) `fpga-lab attach` -> /dev/ttyUSB0 and the recipe's /dev/fpga/<name> symlink;
#   (3) bytes both ways: guest -> /dev/ttyUSB0 -> USB/IP -> server VM -> host socket, and back;
#   (4) `fpga-lab status` shows the board on its vhci port with its tty;
#   (5) `fpga-lab detach`: the tty goes, the server exports the board again;
#   (6) `fpga-lab watch` attaches it; `systemctl restart usbip-binder` on the server; then a
#       server-side drop (the board unbound and bound again): watch re-attaches (time measured);
#   (7) the data path (issue 20), over a virtual cable between the VMs (qemu dgram netdev,
#       192.168.77.0/24: TCP end to end, unlike user networking whose slirp ACKs for a peer that
#       is gone), with usbip-binder and then Debian's usbipd in the same server VM: 1000 one-byte
#       round trips and 1 MiB each way through the board's tty (Tests/e2e/pingpong.c), who holds
#       the board (`fpga-lab list`; usbipd: unknown), a second attach told who holds it, and a
#       dead client (its link cut): seconds until the host can import the board; then two more
#       ping-pong runs per daemon, interleaved, and the 3000 trips of each pooled;
#   (8) a dead server: its link cut while `watch` runs; watch notices, and re-attaches once the
#       link is back.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
BOARD=ftdi-a SERIAL=FPGALAB-A
LANE=client-lane
# shellcheck source=Tests/e2e/lane-lib.sh
. "$HERE/lane-lib.sh"

usage() {
  cat <<'EOF'
usage: Tests/e2e/client-lane.sh --fpga-lab BIN [options]

  --fpga-lab BIN        fpga-lab: runs on the host (build-image, client-recipe) and, with the
                        shared libraries `ldd` finds for it except glibc's, in the client VM
  --lab FILE            lab config with a client section (default Tests/e2e/lab-binder.yaml)
  --keep-running        leave both VMs up at the end
environment:
  E2E_ACCEL             qemu accelerator (default tcg,thread=multi), passed to boot.sh
Outputs go to build/e2e/client-lane/ (lane.log, server/ and client/ with console.log and sockets);
the DKMS-built vhci-hcd.ko is cached in build/cache/clientvm.
EOF
}

fpga_lab='' lab=$HERE/lab-binder.yaml keep=0
while (($#)); do
  case $1 in
    --fpga-lab | --lab)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      case $1 in
        --fpga-lab) fpga_lab=$2 ;;
        --lab) lab=$2 ;;
      esac
      shift 2
      ;;
    --keep-running) keep=1 && shift ;;
    *) lane_help_or_die "$1" ;;
  esac
done
[[ -x $fpga_lab ]] || die "no fpga-lab executable at '$fpga_lab' (give --fpga-lab)"
[[ -r $lab ]] || die "cannot read lab config '$lab'"
grep -Eq '^client:' "$lab" || die "$lab has no client section (client.ports sizes the vhci-hcd)"
for tool in qemu-system-x86_64 usbip python3 sfdisk mcopy mmdebstrap mkfs.ext4 dkms file; do
  command -v "$tool" >/dev/null || die "missing tool $tool (see deps/e2e.apt, deps/client.apt)"
done

lane_start=$(now)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
out=$REPO_ROOT/build/e2e/client-lane
cache=$REPO_ROOT/build/cache/clientvm
base=$REPO_ROOT/build/standin/bootable-x86_64.img
rm -rf "$out"
mkdir -p "$out/server" "$out/client" "$cache"
transcript=$out/lane.log
lane_transcript "$transcript"

server_pid='' client_pid='' peer_pid='' usbip_port=''
stop_all() {
  vm_stop "$server_pid" "$out/server/qmp.sock"
  vm_stop "$client_pid" "$out/client/qmp.sock"
  server_pid='' client_pid=''
  [[ -z $peer_pid ]] || kill "$peer_pid" 2>/dev/null || true
  peer_pid=''
}

# server / client CMD [TIMEOUT]: CMD over that VM's serial root shell.
server() { vm_run server "$out/server/serial.sock" "$@"; }
client() { vm_run client "$out/client/serial.sock" "$@"; }
qmp() { vm_qmp "$out/server/qmp.sock" "$@"; }
# link VM on|off: the VM's end of the virtual cable (QMP set_link on its NIC lan0).
link() { vm_qmp "$out/$1/qmp.sock" execute set_link "{\"name\": \"lan0\", \"up\": $([[ $2 == on ]] && echo true || echo false)}" >/dev/null; }
# host_import: one OP_REQ_IMPORT of $busid from the host through the forwarded port, as a second
# client would; prints the reply's status (0: the server handed the board over) and closes.
host_import() {
  python3 - "$usbip_port" "$busid" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(struct.pack(">HHI", 0x0111, 0x8003, 0) + sys.argv[2].encode().ljust(32, b"\0"))
reply = b""
while len(reply) < 8:
    chunk = s.recv(8 - len(reply))
    if not chunk:
        break
    reply += chunk
print(struct.unpack(">HHI", reply)[2] if len(reply) == 8 else "closed")
PY
}
# exported: the bus IDs the host's Debian usbip client sees on the server VM (forwarded port).
exported() { host_usbip_list "$usbip_port" | awk '$1 ~ /^[0-9]+-[0-9.]+:$/ { sub(":", "", $1); print $1 }'; }
# first_exported: sets busid to the first busid the server exports; fails while there is none.
first_exported() { busid=$(exported | head -n 1) && [[ -n $busid ]]; }
# is_exported: the server exports $busid (host usbip list -r).
is_exported() { exported | grep -qx "$busid"; }
fail() {
  local reason=$*
  trap - ERR
  {
    printf '\nclient-lane: FAILED: %s\n' "$reason"
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
      vm_report "server VM: journalctl -u usbip-binder -u usbip-bind@*" "$out/server/serial.sock" \
        "journalctl --no-pager -o short-monotonic -u usbip-binder -u 'usbip-bind@*' | tail -n 40; systemctl --no-pager --failed"
    fi
    if [[ -n $client_pid ]] && kill -0 "$client_pid" 2>/dev/null; then
      vm_report "client VM: journalctl -u fpga-lab-watch, kernel usb/vhci lines" "$out/client/serial.sock" \
        "journalctl --no-pager -o short-monotonic -u fpga-lab-watch | tail -n 30; dmesg | grep -Ei 'vhci|usbip|ftdi|ttyUSB| [0-9]+-[0-9]+:' | grep -v 'USB/IP Virtual Host\\|usb usb' | tail -n 30; systemctl --no-pager --failed"
    fi
    lane_tail transcript "$transcript" 80
    for vm in server client; do
      lane_tail "$vm console" "$out/$vm/console.log" 40
    done
  } >&2
  stop_all
  exit 1
}
lane_traps fail '((keep)) || stop_all' stop_all

# 1. The stand-in, the server image, the client recipe and its vhci-hcd.ko, the data disk.
t=$(now)
say "building the bootable stand-in $base"
"$REPO_ROOT/scripts/make-standin-base.sh" --bootable "$base" >>"$transcript" 2>&1 ||
  fail "scripts/make-standin-base.sh --bootable $base failed"
say "fpga-lab build-image --config $lab --base $base --output $out/server.img"
"$fpga_lab" build-image --config "$lab" --base "$base" --output "$out/server.img" >>"$transcript" 2>&1 ||
  fail "fpga-lab build-image failed"
images_seconds=$(elapsed "$t")

# The guest's kernel release, from the stand-in's bzImage header ("version 6.1.0-56-amd64 (...").
kernel=$(file -b "${base%.img}.vmlinuz" | sed -n 's/.*version \([^ ]*\) .*/\1/p')
[[ -n $kernel ]] || fail "cannot read the kernel release of ${base%.img}.vmlinuz"
[[ -d /lib/modules/$kernel/build ]] ||
  fail "the stand-in runs kernel $kernel but the host has no headers for it: apt-get install linux-headers-$kernel"
recipe=$out/disk/client-recipe
mkdir -p "$out/disk"
"$fpga_lab" client-recipe --config "$lab" --output "$recipe" >>"$transcript" 2>&1 ||
  fail "fpga-lab client-recipe --config $lab failed"
# The DKMS build takes a minute or two: cached, keyed by the package's files and the kernel.
key=$({ cat "$recipe"/{dkms.conf,Kbuild,Makefile,prepare.sh,fpga_lab_version.c}; echo "$kernel"; } | sha256sum | cut -c1-16)
module=$cache/vhci-hcd-$kernel-$key.ko
dkms_seconds='cached'
if [[ ! -s $module ]]; then
  t=$(now)
  say "building vhci-hcd.ko for $kernel: $recipe/install.sh --build-only"
  rm -rf "$cache/work"
  built=$("$recipe/install.sh" --build-only --kernel "$kernel" --work-dir "$cache/work" 2>>"$transcript") ||
    fail "client-recipe install.sh --build-only --kernel $kernel failed"
  cp "$built" "$module.tmp" && mv "$module.tmp" "$module"
  find "$cache" -maxdepth 1 -name 'vhci-hcd-*.ko' ! -name "${module##*/}" -delete
  rm -rf "$cache/work"
  dkms_seconds="$(elapsed "$t") s"
fi
# fpga-lab and every library it loads that glibc does not provide, found with the host's ldd
# (host and guest are both Debian 12); /usr/local/bin/fpga-lab runs it with them.
mkdir -p "$out/disk/fpga-lab"
install -m 0755 "$fpga_lab" "$out/disk/fpga-lab/fpga-lab"
ldd "$fpga_lab" >>"$transcript" 2>&1 || fail "ldd $fpga_lab failed"
while read -r library; do
  install -m 0644 "$library" "$out/disk/fpga-lab/"
done < <(ldd "$fpga_lab" | awk '$3 ~ /^\// { print $3 }' | grep -Ev '/(libc|libm|libdl|libpthread|librt)\.so')
# RUNPATH covers the executable's own dependencies only, not theirs (libarchive -> libxml2).
printf '#!/bin/sh\nLD_LIBRARY_PATH=/opt/fpga-lab exec /opt/fpga-lab/fpga-lab "$@"\n' >"$out/disk/fpga-lab.sh"
install -m 0644 "$module" "$out/disk/vhci-hcd.ko"
install -m 0644 "$lab" "$out/disk/lab.yaml"
binary_mib=$(du -m --apparent-size "$out/disk/fpga-lab/fpga-lab" | cut -f1)
bundle_mib=$(du -sm --apparent-size "$out/disk/fpga-lab" | cut -f1)
libraries=$(find "$out/disk/fpga-lab" -name '*.so*' | wc -l)
disk_mib=$(($(du -sm --apparent-size "$out/disk" | cut -f1) + 32))
gcc -O2 -static -pthread -o "$out/disk/pingpong" "$HERE/pingpong.c" >>"$transcript" 2>&1 ||
  fail "gcc -static Tests/e2e/pingpong.c failed"
mkfs.ext4 -q -F -L fpga-lab-client -d "$out/disk" "$out/client-data.img" "${disk_mib}M" >>"$transcript" 2>&1 ||
  fail "mkfs.ext4 -d $out/disk failed"
say "client data disk: fpga-lab ${binary_mib} MiB + ${libraries} libraries = ${bundle_mib} MiB, vhci-hcd.ko for $kernel (DKMS build: ${dkms_seconds}), lab file, client recipe; ${disk_mib} MiB ext4"

# 2. Both VMs boot at once (2 vCPUs each, TCG).
say "booting the server VM ($out/server.img) and the client VM (unpatched stand-in) under TCG"
t=$(now)
"$HERE/boot.sh" "$out/server.img" --no-hotplug --keep-running --workdir "$out/server" \
  --lan "$out/server/lan.sock:$out/client/lan.sock:52:54:00:77:00:01" >"$out/server/boot.out" 2>&1 &
server_boot=$!
"$HERE/boot.sh" "$base" --no-hotplug --keep-running --workdir "$out/client" --disk "$out/client-data.img" \
  --lan "$out/client/lan.sock:$out/server/lan.sock:52:54:00:77:00:02" >"$out/client/boot.out" 2>&1 &
client_boot=$!
server_ok=0 client_ok=0
wait "$server_boot" && server_ok=1
wait "$client_boot" && client_ok=1
cat "$out/server/boot.out" "$out/client/boot.out" >>"$transcript"
[[ -s $out/server/qemu.pid ]] && server_pid=$(<"$out/server/qemu.pid")
[[ -s $out/client/qemu.pid ]] && client_pid=$(<"$out/client/qemu.pid")
((server_ok)) || fail "the server VM did not boot: $(tail -n 3 "$out/server/boot.out")"
((client_ok)) || fail "the client VM did not boot: $(tail -n 3 "$out/client/boot.out")"
boot_of() { awk '/after [0-9.]+ s$/ { print $(NF-1); exit }' "$out/$1/boot.out"; }
server_boot_s=$(boot_of server) client_boot_s=$(boot_of client)
usbip_port=$(sed -n 's/.*usbip port \([0-9]*\).*/\1/p' "$out/server/boot.out")
[[ -n $usbip_port ]] || fail "boot.sh did not report the server's forwarded usbip port"
say "booted (both at once, $(elapsed "$t") s): server to marker ${server_boot_s} s, client ${client_boot_s} s; server USB/IP on host port $usbip_port, 10.0.2.2:$usbip_port from the client"
server_addr=10.0.2.2:$usbip_port

# 3. The board: a usb-serial whose chardev is a unix socket; it attaches once the peer connects.
board_sock=$out/board.sock peer_log=$out/board-from-guest.bin
: >"$peer_log"
qmp execute chardev-add "{\"id\": \"board-chr\", \"backend\": {\"type\": \"socket\", \"data\": {\"addr\": {\"type\": \"unix\", \"data\": {\"path\": \"$board_sock\"}}, \"server\": true, \"wait\": false}}}" >/dev/null ||
  fail "chardev-add board-chr (unix socket $board_sock) failed"
python3 "$HERE/serial-peer.py" "$board_sock" "$peer_log" 2>>"$transcript" &
peer_pid=$!
qmp execute device_add "{\"driver\": \"usb-serial\", \"bus\": \"xhci.0\", \"port\": \"1\", \"chardev\": \"board-chr\", \"id\": \"board\", \"serial\": \"$SERIAL\"}" >/dev/null ||
  fail "device_add usb-serial (serial $SERIAL) failed"
busid=''
wait_for 30 first_exported || fail "the board was not exported by the server VM within 30 s"
say "board $BOARD (0403:6001 serial $SERIAL, chardev $board_sock) exported by the server VM as $busid"

# The virtual cable: each VM's second NIC (found by its MAC) has its address (the stand-in's
# networkd config, scripts/lib/standin-bootable.sh; `ip addr replace` in case networkd is late).
lan_up() {
  local vm=$1 mac=$2 address=$3
  "$vm" "ifname=\$(ip -o link | awk -F': ' '/$mac/ { print \$2; exit }') && ip link set dev \$ifname up && ip addr replace $address/24 dev \$ifname && echo LAN \$ifname" ||
    fail "cannot configure the virtual cable's NIC ($mac) in the $vm VM"
}
lan_up server 52:54:00:77:00:01 192.168.77.1 >/dev/null
lan_up client 52:54:00:77:00:02 192.168.77.2 >/dev/null
lan_addr=192.168.77.1:3240
client "for i in \$(seq 50); do (exec 3<>/dev/tcp/192.168.77.1/3240) 2>/dev/null && echo CABLE-OK && break; sleep 0.2; done" | grep -q CABLE-OK ||
  fail "the client VM cannot reach the server's USB/IP port over the virtual cable (192.168.77.1:3240)"
say "virtual cable up: server 192.168.77.1, client 192.168.77.2 (qemu dgram netdev)"

# 4. The client: stock vhci-hcd first, then the recipe's, installed the way install.sh expects.
# Kernel messages stay off the consoles, whose output the lane parses.
server "dmesg -n 1" >/dev/null
client "dmesg -n 1 && mkdir -p /mnt/e2e && mount /dev/vdb /mnt/e2e && cp -a /mnt/e2e/fpga-lab /opt/fpga-lab && install -m 0755 /mnt/e2e/fpga-lab.sh /usr/local/bin/fpga-lab" >/dev/null ||
  fail "cannot mount the data disk /dev/vdb or install fpga-lab in the client VM"
stock=$(client "modprobe vhci-hcd && cat /sys/devices/platform/vhci_hcd.0/nports && modprobe -r vhci-hcd") ||
  fail "the stock vhci-hcd does not load in the client VM"
stock_nports=$(tail -n 1 <<<"$stock")
ports=$(awk '/^client:/ { c = 1 } c && /^[[:space:]]+ports:/ { print $2; exit }' "$lab")
install=$(client "install -D -m 0644 /mnt/e2e/vhci-hcd.ko /lib/modules/\$(uname -r)/updates/dkms/vhci-hcd.ko && depmod -a && /mnt/e2e/client-recipe/install.sh 2>&1 && modprobe vhci-hcd && echo NPORTS \$(cat /sys/devices/platform/vhci_hcd.0/nports) VERSION \$(cat /sys/module/vhci_hcd/version) FILE \$(modinfo -F filename vhci-hcd)" 120) ||
  fail "installing the recipe's vhci-hcd in the client VM failed:
$install"
nports=$(awk '/^NPORTS / { print $2 }' <<<"$install")
[[ $nports == "$ports" && $nports != "$stock_nports" ]] ||
  fail "(1) vhci_hcd.0/nports is '$nports' after installing the recipe's module, expected the lab's $ports (stock: $stock_nports)"
say "(1) vhci-hcd: stock nports $stock_nports -> $(awk '/^NPORTS / { print $2, "(module version", $4 ", " $6 ")" }' <<<"$install")"
client "fpga-lab --version 2>&1; fpga-lab list --server $server_addr" | grep -q "$busid" ||
  fail "fpga-lab list --server $server_addr in the client VM does not show $busid"

# (2) attach: times inside the client from the command's start to its exit (fpga-lab starting,
#     devlist + import over the network, the vhci attach) and to the tty and its symlink
#     (enumeration, ftdi_sio, udev).
# shellcheck disable=SC2016 # expanded by the guest's shell
attach=$(client "t0=\$(date +%s%N); fpga-lab attach $BOARD --config /mnt/e2e/lab.yaml --server $server_addr && t1=\$(date +%s%N) && for i in \$(seq 500); do [ -e /dev/ttyUSB0 ] && [ -e /dev/fpga/$BOARD ] && break; sleep 0.02; done; t2=\$(date +%s%N); echo ATTACH_MS \$(((t1 - t0) / 1000000)) \$(((t2 - t0) / 1000000)); ls -l /dev/ttyUSB0 /dev/fpga/$BOARD" 60) ||
  fail "(2) fpga-lab attach $BOARD failed or /dev/ttyUSB0 / /dev/fpga/$BOARD did not appear:
$attach"
read -r _ attach_cmd_ms attach_ms < <(grep '^ATTACH_MS ' <<<"$attach")
link=$(client "readlink -f /dev/fpga/$BOARD")
[[ $link == */dev/ttyUSB0* ]] || fail "(2) /dev/fpga/$BOARD points to '$link', not /dev/ttyUSB0"
say "(2) attached $BOARD: fpga-lab attach returned after ${attach_cmd_ms} ms, /dev/ttyUSB0 and /dev/fpga/$BOARD -> ttyUSB0 after ${attach_ms} ms"

# (3) bytes both ways: the guest writes a payload, the host's peer logs and returns it.
payload_bytes=4096
# shellcheck disable=SC2016 # expanded by the guest's shell
echo_out=$(client "stty -F /dev/ttyUSB0 raw -echo 115200 && head -c $((payload_bytes * 3 / 4)) /dev/urandom | base64 -w 0 > /tmp/tx && (timeout 30 head -c \$(stat -c %s /tmp/tx) /dev/ttyUSB0 > /tmp/rx &) && sleep 0.5 && cat /tmp/tx > /dev/ttyUSB0 && for i in \$(seq 300); do [ \$(stat -c %s /tmp/rx) -ge \$(stat -c %s /tmp/tx) ] && break; sleep 0.1; done; echo TX \$(stat -c %s /tmp/tx) \$(sha256sum < /tmp/tx | cut -c1-16) RX \$(stat -c %s /tmp/rx) \$(sha256sum < /tmp/rx | cut -c1-16)" 60) ||
  fail "(3) the serial round trip failed in the client VM:
$echo_out"
read -r _ tx_n tx_sum _ rx_n rx_sum < <(grep '^TX ' <<<"$echo_out")
host_n=$(stat -c %s "$peer_log") host_sum=$(sha256sum <"$peer_log" | cut -c1-16)
log "host: board peer received $host_n bytes, sha256 $host_sum"
[[ $host_n == "$tx_n" && $host_sum == "$tx_sum" ]] ||
  fail "(3) the host end of the board got $host_n bytes ($host_sum), the guest wrote $tx_n ($tx_sum)"
[[ $rx_n == "$tx_n" && $rx_sum == "$tx_sum" ]] ||
  fail "(3) the guest read back $rx_n bytes ($rx_sum) of the $tx_n it wrote ($tx_sum)"
say "(3) $tx_n bytes guest -> host end of the board's chardev and $rx_n bytes back, identical (sha256 $tx_sum)"

# (4) status.
status=$(client "fpga-lab status --config /mnt/e2e/lab.yaml")
[[ $status == *"$BOARD"* && $status == *"$busid"* && $status == *ttyUSB0* ]] ||
  fail "(4) fpga-lab status does not show $BOARD on $busid with ttyUSB0:
$status"
say "(4) fpga-lab status:"
printf '%s\n' "$status" | sed 's/^/    /'

# (5) detach: the tty goes away and the server exports the board again.
detach=$(client "fpga-lab detach $BOARD --config /mnt/e2e/lab.yaml && for i in \$(seq 250); do [ -e /dev/ttyUSB0 ] || break; sleep 0.02; done; for f in /dev/ttyUSB0 /dev/fpga/$BOARD; do [ -e \$f ] && echo \"STILL \$f\"; done; true")
[[ $detach == *"detached from vhci port"* && $detach != *STILL* ]] ||
  fail "(5) /dev/ttyUSB0 or /dev/fpga/$BOARD still there after detach:
$detach"
wait_for 10 is_exported || fail "(5) the server does not export $busid again after detach"
say "(5) detached: /dev/ttyUSB0 gone, $busid exportable again (host usbip list -r)"

# (7) The data path over the virtual cable, per daemon (Tests/e2e/client-lane-datapath.sh, run
# in this shell: it uses the lane's VMs, helpers and variables).
# shellcheck source=Tests/e2e/client-lane-datapath.sh
. "$HERE/client-lane-datapath.sh"

# (6) watch as a unit; the server's binder restarts; then a server-side drop.
# round_trip TEXT: TEXT written to the board's tty comes back (the host's peer echoes it).
# shellcheck disable=SC2016 # expanded by the guest's shell
round_trip() {
  client "stty -F /dev/ttyUSB0 raw -echo && (timeout 10 head -c ${#1} /dev/ttyUSB0 > /tmp/rt &) && sleep 0.3 && printf $1 > /dev/ttyUSB0 && for i in \$(seq 100); do [ \$(stat -c %s /tmp/rt) -ge ${#1} ] && break; sleep 0.1; done; echo RT \$(cat /tmp/rt)" 30 | grep -qx "RT $1"
}
watch_log() { client "journalctl --no-pager -o short-monotonic -u fpga-lab-watch | grep -F ' fpga-lab['"; }
client "systemd-run --unit=fpga-lab-watch /usr/local/bin/fpga-lab watch $BOARD --config /mnt/e2e/lab.yaml --server $lan_addr --interval 0.2" >/dev/null ||
  fail "(6) systemd-run fpga-lab watch failed"
client "for i in \$(seq 500); do [ -e /dev/ttyUSB0 ] && break; sleep 0.05; done; ls /dev/ttyUSB0" >/dev/null ||
  fail "(6) fpga-lab watch did not attach $BOARD"
server "systemctl restart usbip-binder && systemctl is-active usbip-binder" >/dev/null ||
  fail "(6) systemctl restart usbip-binder failed in the server VM"
wait_for 30 round_trip PING-AFTER-RESTART || fail "(6) no echo through /dev/ttyUSB0 after the server's binder restarted"
wlog=$(watch_log)
[[ $wlog == *"$BOARD: attached $busid"* && $wlog != *lost* ]] ||
  fail "(6) fpga-lab watch should have attached $BOARD once and lost nothing:
$wlog"
say "(6) usbip-binder restarted in the server VM: the board stayed attached and echoes (usbip-host, not the daemon, holds an imported board's connection)"

# A real drop: the server unbinds the board (its USB/IP connection closes) and binds it again;
# watch sees the vhci port go free and attaches again (perhaps before the server's command
# returns: the host polls the watch's journal for the loss and the attach after it).
t=$(now)
server "usbip-binder unbind $busid && systemctl start usbip-bind@$busid.service" >/dev/null ||
  fail "(6) usbip-binder unbind/bind $busid in the server VM failed"
back=''
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  wlog=$(watch_log)
  if [[ $wlog == *": lost "* && $(tail -n 1 <<<"$wlog") == *"$BOARD: attached $busid"* ]] &&
    client "[ -e /dev/ttyUSB0 ]" >/dev/null; then
    back=yes
    break
  fi
  sleep 0.5
done
[[ -n $back ]] || fail "(6) fpga-lab watch did not re-attach $BOARD after the server dropped it:
$wlog"
reattach_s=$(elapsed "$t")
wait_for 30 round_trip PING-AFTER-DROP || fail "(6) no echo through /dev/ttyUSB0 after watch re-attached $BOARD"
wlog=$(watch_log)
lost=$(grep -c ': lost ' <<<"$wlog" || true)
last=$(tail -n 1 <<<"$wlog")
[[ $lost == 1 && $last == *"$BOARD: attached $busid"* ]] ||
  fail "(6) after the drop fpga-lab watch should have lost $BOARD once and attached it again as its last word:
$wlog"
# The watch's own view, from the client's journal (monotonic clock): lost -> attached again.
watch_ms=$(awk -F'[][]' '/: lost / { gsub(/ /, "", $2); l = $2 } l != "" && /: attached / { gsub(/ /, "", $2); a = $2 } END { printf "%d", (a - l) * 1000 }' <<<"$wlog")
say "(6) server-side drop of $busid: watch re-attached it, echoes again; lost -> attached ${watch_ms} ms (client journal), unbind issued -> /dev/ttyUSB0 back ${reattach_s} s (host clock, console round trips included)"
printf '%s\n' "$wlog" | sed 's/^/    /'

# (8) A dead server: its end of the cable cut while watch runs. The client's import socket gives
# up after dead_peer_timeout (10 s), vhci frees the port, watch logs the loss; the link comes
# back and watch attaches again.
t=$(now)
link server off
lost_s=''
deadline=$((SECONDS + 90))
while ((SECONDS < deadline)); do
  if (($(watch_log | grep -c ': lost ' || true) > lost)); then
    lost_s=$(elapsed "$t")
    break
  fi
  sleep 0.5
done
link server on
[[ -n $lost_s ]] || fail "(8) fpga-lab watch did not notice the dead server within 90 s:
$(watch_log)"
t=$(now)
back=''
deadline=$((SECONDS + 120))
while ((SECONDS < deadline)); do
  if [[ $(tail -n 1 <<<"$(watch_log)") == *"$BOARD: attached $busid"* ]] && client "[ -e /dev/ttyUSB0 ]" >/dev/null; then
    back=$(elapsed "$t")
    break
  fi
  sleep 0.5
done
[[ -n $back ]] || fail "(8) fpga-lab watch did not re-attach $BOARD after the server's link came back:
$(watch_log)"
wait_for 30 round_trip PING-AFTER-DEAD-SERVER || fail "(8) no echo through /dev/ttyUSB0 after watch re-attached $BOARD"
say "(8) dead server: watch noticed the loss ${lost_s} s after the server's link was cut (dead_peer_timeout 10 s), re-attached ${back} s after it came back, echoes again"

lane_seconds=$(elapsed "$lane_start")
say "ping-pong binder median $binder_median ms p99 $binder_p99 ms ($binder_trips round trips, 3 runs)"
say "ping-pong usbipd median $usbipd_median ms p99 $usbipd_p99 ms ($usbipd_trips round trips, 3 runs, interleaved with the binder's)"
say "bulk 1 MiB each way: binder $binder_mbps MB/s, usbipd $usbipd_mbps MB/s"
say "dead client freed in $binder_freed s (binder, dead_peer_timeout 10 s); usbipd: $usbipd_freed s"
say "dead server: watch lost the board after $lost_s s, re-attached $back s after the link came back"
say "figures: stand-in + build-image ${images_seconds} s, server boot ${server_boot_s} s, client boot ${client_boot_s} s (both at once), attach ${attach_cmd_ms} ms (tty ${attach_ms} ms), bytes echoed ${rx_n}/${tx_n}, nports ${stock_nports} -> ${nports}, re-attach ${watch_ms} ms (watch; ${reattach_s} s host clock), fpga-lab ${binary_mib} MiB (${bundle_mib} MiB with its libraries), whole lane ${lane_seconds} s"
if ((keep)); then
  say "VMs left running: server pid $server_pid ($out/server), client pid $client_pid ($out/client)"
fi
