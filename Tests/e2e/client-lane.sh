#!/usr/bin/env bash
# e2e client lane (issue 7): two VMs under qemu TCG, the way a lab uses fpga-lab.
#   server VM: the bootable stand-in patched by `fpga-lab build-image` with the lab (usbip-binder),
#              its USB/IP port forwarded to the host; the board is an emulated FTDI (usb-serial)
#              whose chardev is a unix socket held by Tests/e2e/serial-peer.py (a loopback board);
#   client VM: the same stand-in, NOT patched (no server udev rule that would re-export attached
#              boards), with a second virtio disk (ext4, mkfs.ext4 -d) holding a flat apt
#              repository (the fpga-lab .deb of `make dist` and the .debs of its dependency
#              closure, downloaded on the host: the guest has no route to a mirror and the stand-in
#              lacks libcurl4, libarchive13 ...; host and guest are both Debian 12), from which
#              `apt-get install fpga-lab` installs /usr/bin/fpga-lab and fpga-lab-watch@.service;
#              the lab file, the `fpga-lab client-recipe` package and its vhci-hcd.ko built on the
#              host with DKMS for the guest's kernel.
# The client reaches the server through the host: qemu's user-networking gateway 10.0.2.2 and
# the server's host forward. Cases:
#   (1) the rebuilt vhci-hcd replaces the stock one: nports 240 -> the lab's client.ports count;
#   (2) `fpga-lab attach` -> /dev/ttyUSB0 and the recipe's /dev/fpga/<name> symlink;
#   (3) bytes both ways: guest -> /dev/ttyUSB0 -> USB/IP -> server VM -> host socket, and back;
#   (4) `fpga-lab status` shows the board on its vhci port with its tty;
#   (5) `fpga-lab detach`: the tty goes, the server exports the board again;
#   (6) the packaged unit: /etc/fpga-lab/lab.yaml (client.server: the virtual cable's server
#       end), `systemctl start fpga-lab-watch@lab` attaches the lab's boards (the one that
#       exists; the other's absence only retried), `systemctl enable` makes its wants link,
#       `systemd-analyze security` scores it; `systemctl restart usbip-binder` on the server;
#       then a server-side drop (the board unbound and bound again): watch re-attaches (time
#       measured);
#   (7) the data path (issue 20), over a virtual cable between the VMs (qemu dgram netdev,
#       192.168.77.0/24: TCP end to end, unlike user networking whose slirp ACKs for a peer that
#       is gone), with usbip-binder and then Debian's usbipd in the same server VM: 1000 one-byte
#       round trips and 1 MiB each way through the board's tty (Tests/e2e/pingpong.c), who holds
#       the board (`fpga-lab list`; usbipd: unknown), a second attach told who holds it, and a
#       dead client (its link cut): seconds until the host can import the board; then two more
#       ping-pong runs per daemon, interleaved, and the 3000 trips of each pooled;
#   (8) a dead server: its link cut while the unit's watch runs; watch notices, and re-attaches
#       once the link is back.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
BOARD=ftdi-a SERIAL=FPGALAB-A
LANE=client-lane
# shellcheck source=Tests/e2e/lane-lib.sh
. "$HERE/lane-lib.sh"

usage() {
  cat <<'EOF'
usage: Tests/e2e/client-lane.sh --deb FILE [options]

  --deb FILE            the fpga-lab .deb (make dist; Debian 12 amd64): installed in the client
                        VM with apt from a local repository on its data disk that also holds
                        the .debs of its Depends' closure (apt-get download on the host, cached
                        in build/cache/clientvm/debs); unpacked on the host, its fpga-lab also
                        runs build-image (baking in its usbip-binder) and client-recipe
  --fpga-lab BIN        run build-image and client-recipe on the host with BIN instead (a debug
                        build, say; it bakes in the usbip-binder it finds); the client VM still
                        runs the .deb's
  --lab FILE            lab config with a client section (default Tests/e2e/lab-binder.yaml)
  --keep-running        leave both VMs up at the end
environment:
  E2E_ACCEL             qemu accelerator (default tcg,thread=single: see lane-lib.sh), passed to boot.sh
Outputs go to build/e2e/client-lane/ (lane.log, server/ and client/ with console.log and sockets);
the DKMS-built vhci-hcd.ko and the dependencies' .debs are cached in build/cache/clientvm. Runs
as root (the host's apt-get on a cache miss, mkfs, DKMS).
EOF
}

deb='' fpga_lab='' lab=$HERE/lab-binder.yaml keep=0
while (($#)); do
  case $1 in
    --deb | --fpga-lab | --lab)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      case $1 in
        --deb) deb=$2 ;;
        --fpga-lab) fpga_lab=$2 ;;
        --lab) lab=$2 ;;
      esac
      shift 2
      ;;
    --keep-running) keep=1 && shift ;;
    *) lane_help_or_die "$1" ;;
  esac
done
[[ -n $deb ]] || die "give --deb FILE: the fpga-lab .deb (make dist puts it in build/dist/)"
[[ -r $deb ]] || die "cannot read the .deb '$deb'"
[[ $(dpkg-deb -f "$deb" Package 2>/dev/null) == fpga-lab ]] || die "$deb is not the fpga-lab .deb"
[[ $(dpkg-deb -f "$deb" Architecture) == amd64 ]] || die "$deb is not for amd64, the client VM's architecture"
[[ -z $fpga_lab || -x $fpga_lab ]] || die "no fpga-lab executable at '$fpga_lab'"
[[ -r $lab ]] || die "cannot read lab config '$lab'"
grep -Eq '^client:' "$lab" || die "$lab has no client section (client.ports sizes the vhci-hcd)"
for tool in qemu-system-x86_64 usbip python3 sfdisk mcopy mmdebstrap mkfs.ext4 dkms file apt-get apt-cache dpkg-scanpackages; do
  command -v "$tool" >/dev/null || die "missing tool $tool (see deps/e2e.apt, deps/client.apt, deps/clientvm.apt)"
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
      vm_report "client VM: journalctl -u fpga-lab-watch@lab, kernel usb/vhci lines" "$out/client/serial.sock" \
        "journalctl --no-pager -o short-monotonic -u fpga-lab-watch@lab | tail -n 30; dmesg | grep -Ei 'vhci|usbip|ftdi|ttyUSB| [0-9]+-[0-9]+:' | grep -v 'USB/IP Virtual Host\\|usb usb' | tail -n 30; systemctl --no-pager --failed"
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

# 1. The stand-in, the server image, the client recipe and its vhci-hcd.ko, the data disk with
# the local apt repository.
# The .deb is copied first (make dist replaces build/dist's), then unpacked: its fpga-lab, which
# finds its usbip-binder builds in ../lib/fpga-lab/binder, runs on the host unless --fpga-lab
# names another (host and guest are both Debian 12: the .deb's libraries are the host's too).
repo=$out/disk/repo
mkdir -p "$repo"
deb_file=$repo/${deb##*/}
cp "$deb" "$deb_file"
deb_version=$(dpkg-deb -f "$deb_file" Version)
deb_depends=$(dpkg-deb -f "$deb_file" Depends)
if [[ -z $fpga_lab ]]; then
  dpkg-deb -x "$deb_file" "$out/deb-root" >>"$transcript" 2>&1 || fail "dpkg-deb -x $deb_file failed"
  fpga_lab=$out/deb-root/usr/bin/fpga-lab
  host_fpga_lab="the .deb's fpga-lab $deb_version"
else
  host_fpga_lab="$fpga_lab $("$fpga_lab" --version 2>/dev/null || echo '(no --version)')"
fi
say "fpga-lab .deb $deb_version (${deb##*/}); on the host: $host_fpga_lab"
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
# The client VM has no route to a Debian mirror: the repository holds the .deb and every real
# package of its Depends' closure (recursive, no recommends or suggests), fetched by the host's
# apt (host and guest are both Debian 12), so apt in the guest finds whatever the stand-in
# lacks. Cached, keyed by the Depends line; a miss refreshes the host's package lists first.
debs_key=$(printf '%s\n' "$deb_depends" | sha256sum | cut -c1-16)
debs=$cache/debs/$debs_key
debs_note=cached
if [[ ! -s $debs/closure.txt ]]; then
  t=$(now)
  mapfile -t depends < <(sed 's/([^)]*)//g; s/|/,/g' <<<"$deb_depends" | tr ',' '\n' | awk 'NF { print $1 }')
  say "downloading the .debs of the closure of ${depends[*]} (host apt-get download)"
  apt-get update -qq >>"$transcript" 2>&1 || fail "apt-get update on the host failed"
  mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${depends[@]}" | grep -v '^[ <]' | sort -u)
  ((${#closure[@]} >= ${#depends[@]})) || fail "apt-cache depends --recurse ${depends[*]} found ${#closure[@]} packages"
  rm -rf "$debs.tmp" && mkdir -p "$debs.tmp"
  (cd "$debs.tmp" && apt-get -o APT::Sandbox::User=root download "${closure[@]}") >>"$transcript" 2>&1 ||
    fail "apt-get download of the .deb's dependency closure failed: ${closure[*]}"
  printf '%s\n' "${closure[@]}" >"$debs.tmp/closure.txt"
  rm -rf "$debs" && mv "$debs.tmp" "$debs"
  find "$cache/debs" -mindepth 1 -maxdepth 1 ! -name "$debs_key" -exec rm -rf {} +
  debs_note="downloaded in $(elapsed "$t") s"
fi
cp "$debs"/*.deb "$repo/"
dep_debs=$(find "$debs" -name '*.deb' | wc -l)
(cd "$repo" && dpkg-scanpackages --multiversion . /dev/null >Packages) 2>>"$transcript" ||
  fail "dpkg-scanpackages $repo failed"
install -m 0644 "$module" "$out/disk/vhci-hcd.ko"
install -m 0644 "$lab" "$out/disk/lab.yaml"
# The lab of the packaged unit (section 6: /etc/fpga-lab/lab.yaml in the client VM): client.server
# is the server's end of the virtual cable; the port stays the lab's server.port.
sed '/^client:/,/^[^[:space:]#]/ s/^\([[:space:]]\{1,\}server:\).*/\1 192.168.77.1/' "$lab" >"$out/disk/lab-cable.yaml"
[[ $(awk '/^client:/ { c = 1; next } c && /^[^[:space:]#]/ { c = 0 } c && /^[[:space:]]+server:/ { print $2 }' "$out/disk/lab-cable.yaml") == 192.168.77.1 ]] ||
  fail "$lab has no client.server line to point at the virtual cable's server end (192.168.77.1)"
deb_mib=$(du -m --apparent-size "$deb_file" | cut -f1)
repo_mib=$(du -sm --apparent-size "$repo" | cut -f1)
disk_mib=$(($(du -sm --apparent-size "$out/disk" | cut -f1) + 32))
gcc -O2 -static -pthread -o "$out/disk/pingpong" "$HERE/pingpong.c" >>"$transcript" 2>&1 ||
  fail "gcc -static Tests/e2e/pingpong.c failed"
mkfs.ext4 -q -F -L fpga-lab-client -d "$out/disk" "$out/client-data.img" "${disk_mib}M" >>"$transcript" 2>&1 ||
  fail "mkfs.ext4 -d $out/disk failed"
say "client data disk: apt repository (fpga-lab .deb ${deb_mib} MiB + ${dep_debs} dependency .debs, ${debs_note} = ${repo_mib} MiB), vhci-hcd.ko for $kernel (DKMS build: ${dkms_seconds}), lab file, client recipe; ${disk_mib} MiB ext4"

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

# 4. The client: fpga-lab installed with apt from the data disk's repository, the only source
# apt reads (the stand-in's own names a mirror the guest cannot reach); then stock vhci-hcd
# first, then the recipe's, installed the way install.sh expects.
# Kernel messages stay off the consoles, whose output the lane parses.
server "dmesg -n 1" >/dev/null
client "dmesg -n 1 && mkdir -p /mnt/e2e && mount /dev/vdb /mnt/e2e" >/dev/null ||
  fail "cannot mount the data disk /dev/vdb in the client VM"
apt_only_e2e='-o Dir::Etc::sourcelist=/etc/apt/sources.list.d/e2e.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0'
t=$(now)
apt_out=$(client "echo 'deb [trusted=yes] file:/mnt/e2e/repo ./' > /etc/apt/sources.list.d/e2e.list && apt-get $apt_only_e2e -q update 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get $apt_only_e2e -q -y install fpga-lab 2>&1" 600) ||
  fail "apt-get install fpga-lab from the data disk's repository failed in the client VM:
$(tail -n 30 <<<"$apt_out")"
apt_seconds=$(elapsed "$t")
# "0 upgraded, 13 newly installed, 0 to remove and 0 not upgraded."
read -r apt_upgraded apt_new < <(sed -n 's/^\([0-9]*\) upgraded, \([0-9]*\) newly installed.*/\1 \2/p' <<<"$apt_out") || true
[[ -n $apt_new ]] || fail "no 'N newly installed' line in apt-get install's output"
apt_pkgs=$(sed -n '/^The following NEW packages will be installed:/,/^[^ ]/ { /^ /p }' <<<"$apt_out" | xargs)
installed=$(client "echo DPKG \$(dpkg-query -W -f '\${Version}' fpga-lab) VERSION \$(fpga-lab --version) PATH \$(command -v fpga-lab) UNIT \$(systemctl list-unit-files --no-legend 'fpga-lab-watch@.service' | awk '{ print \$1 }')") ||
  fail "fpga-lab does not run in the client VM after apt installed it"
read -r _ dpkg_version _ cli_version _ cli_path _ unit_file < <(grep '^DPKG ' <<<"$installed") || true
[[ $dpkg_version == "$deb_version" && $cli_version == "$deb_version" ]] ||
  fail "the client VM's fpga-lab is not the .deb's $deb_version: dpkg-query '$dpkg_version', fpga-lab --version '$cli_version'"
[[ $cli_path == /usr/bin/fpga-lab && $unit_file == fpga-lab-watch@.service ]] ||
  fail "the client VM runs fpga-lab from '$cli_path' (want /usr/bin/fpga-lab) or lacks fpga-lab-watch@.service ('$unit_file')"
say "client: apt-get install fpga-lab from the data disk's repository in ${apt_seconds} s: ${apt_new} packages newly installed (${apt_pkgs}), ${apt_upgraded} upgraded; dpkg-query fpga-lab ${dpkg_version}, /usr/bin/fpga-lab --version ${cli_version}"
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

# (6) watch as the packaged unit fpga-lab-watch@lab (the lab /etc/fpga-lab/lab.yaml, every
#     board of it, the default 1 s interval); the server's binder restarts; then a server-side drop.
# round_trip TEXT: TEXT written to the board's tty comes back (the host's peer echoes it).
# shellcheck disable=SC2016 # expanded by the guest's shell
round_trip() {
  client "stty -F /dev/ttyUSB0 raw -echo && (timeout 10 head -c ${#1} /dev/ttyUSB0 > /tmp/rt &) && sleep 0.3 && printf $1 > /dev/ttyUSB0 && for i in \$(seq 100); do [ \$(stat -c %s /tmp/rt) -ge ${#1} ] && break; sleep 0.1; done; echo RT \$(cat /tmp/rt)" 30 | grep -qx "RT $1"
}
unit=fpga-lab-watch@lab
# watch_journal: the unit's lines from fpga-lab (its syslog identifier); watch_log: those about
# $BOARD. The lab's other board (no emulated device matches it) is only retried, with backoff:
# "NAME: not exported by SERVER; retry in N s".
watch_journal() { client "journalctl --no-pager -o short-monotonic -u $unit | grep -F ' fpga-lab['"; }
watch_log() { { watch_journal | grep -F " $BOARD: "; } || true; }
client "install -m 0644 /mnt/e2e/lab-cable.yaml /etc/fpga-lab/lab.yaml && systemctl start $unit && systemctl is-active $unit" >/dev/null ||
  fail "(6) systemctl start $unit failed in the client VM"
client "for i in \$(seq 600); do [ -e /dev/ttyUSB0 ] && break; sleep 0.05; done; ls /dev/ttyUSB0" 60 >/dev/null ||
  fail "(6) $unit did not attach $BOARD"
# The unit's attachment records are readable by all (UMask=0022), as usbip's are: a user's
# `fpga-lab status` names the board's server and busid.
user_status=$(client "stat -c '%a %U' /run/vhci_hcd/port*; runuser -u nobody -- fpga-lab status --config /etc/fpga-lab/lab.yaml" 30) ||
  fail "(6) fpga-lab status as nobody failed in the client VM:
$user_status"
[[ $user_status == *"644 root"* && $user_status == *"$BOARD $busid@192.168.77.1:3240"* ]] ||
  fail "(6) the records $unit wrote are not readable by a user, or status lacks $BOARD $busid@192.168.77.1:3240:
$user_status"
unit_info=$(client "systemctl enable $unit 2>&1; echo ENABLED \$(systemctl is-enabled $unit) \$(readlink /etc/systemd/system/multi-user.target.wants/$unit.service); systemd-analyze security --no-pager $unit.service 2>&1 | grep 'Overall exposure level'; systemd-analyze verify --man=no $unit.service 2>&1 | grep -F 'fpga-lab-watch@' | sed 's/^/VERIFY /'" 120) ||
  fail "(6) systemctl enable $unit or systemd-analyze security $unit.service failed:
$unit_info"
read -r _ enabled wants_target < <(grep '^ENABLED ' <<<"$unit_info") || true
[[ $enabled == enabled && $wants_target == */fpga-lab-watch@.service ]] ||
  fail "(6) systemctl enable $unit: is-enabled '$enabled', multi-user.target.wants/$unit.service -> '$wants_target'"
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]* [A-Z_]*\).*/\1/p' <<<"$unit_info")
[[ -n $exposure ]] || fail "(6) no exposure level in systemd-analyze security $unit.service:
$unit_info"
# systemd-analyze verify: the guest's systemd knows every directive of the unit (one it ignored
# would make the exposure figure claim a hardening the service does not have). --man=no: the
# stand-in has no man-db, so `man fpga-lab(1)` (Documentation=) cannot run there.
! grep '^VERIFY ' <<<"$unit_info" ||
  fail "(6) systemd-analyze verify --man=no $unit.service in the client VM complains about the unit:
$(grep '^VERIFY ' <<<"$unit_info")"
say "(6) systemctl start $unit: attached $BOARD ($(watch_journal | grep -o 'watching .*' | head -n 1)); systemctl enable: multi-user.target.wants/$unit.service -> $wants_target; systemd-analyze security: exposure $exposure"
server "systemctl restart usbip-binder && systemctl is-active usbip-binder" >/dev/null ||
  fail "(6) systemctl restart usbip-binder failed in the server VM"
wait_for 30 round_trip PING-AFTER-RESTART || fail "(6) no echo through /dev/ttyUSB0 after the server's binder restarted"
wlog=$(watch_log)
[[ $wlog == *"$BOARD: attached $busid"* && $wlog != *lost* ]] ||
  fail "(6) fpga-lab watch should have attached $BOARD once and lost nothing:
$wlog"
say "(6) usbip-binder restarted in the server VM: the board stayed attached and echoes (usbip-host, not the daemon, holds an imported board's connection)"
# The lab's other boards: never exported here, each only retried (1 s doubling to 30 s) while
# $BOARD stays attached; their last words.
others=$(watch_journal | grep -E ' fpga-lab\[[0-9]+\]: [0-9T:-]+Z ' | grep -vF -e " $BOARD: " -e " watching " |
  sed 's/^.* fpga-lab\[[0-9]*\]: [^ ]* //' | awk -F': ' '{ last[$1] = $0 } END { for (b in last) print last[b] }' | paste -sd ';' || true)
say "(6) the lab's other boards, retried alongside: ${others:-none}"

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
say "(6) server-side drop of $busid: watch re-attached it, echoes again; lost -> attached ${watch_ms} ms (client journal), unbind issued -> /dev/ttyUSB0 back ${reattach_s} s (host clock, console round trips included; the unit's watch checks every 1 s, so up to 1 s of it is waiting for the next check)"
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
say "(8) dead server: watch noticed the loss ${lost_s} s after the server's link was cut (dead_peer_timeout 10 s, then up to the unit's 1 s check interval), re-attached ${back} s after it came back, echoes again"
restarts=$(client "systemctl show -p NRestarts --value $unit; systemctl is-active $unit" | xargs)
[[ $restarts == "0 active" ]] ||
  fail "(8) $unit should have run throughout without a restart (NRestarts, is-active: $restarts)"

lane_seconds=$(elapsed "$lane_start")
say "ping-pong binder median $binder_median ms p99 $binder_p99 ms ($binder_trips round trips, 3 runs)"
say "ping-pong usbipd median $usbipd_median ms p99 $usbipd_p99 ms ($usbipd_trips round trips, 3 runs, interleaved with the binder's)"
say "bulk 1 MiB each way: binder $binder_mbps MB/s, usbipd $usbipd_mbps MB/s"
say "dead client freed in $binder_freed s (binder, dead_peer_timeout 10 s); usbipd: $usbipd_freed s"
say "dead server: watch lost the board after $lost_s s, re-attached $back s after the link came back"
say "figures: stand-in + build-image ${images_seconds} s, server boot ${server_boot_s} s, client boot ${client_boot_s} s (both at once), attach ${attach_cmd_ms} ms (tty ${attach_ms} ms), bytes echoed ${rx_n}/${tx_n}, nports ${stock_nports} -> ${nports}, re-attach ${watch_ms} ms (watch; ${reattach_s} s host clock), fpga-lab .deb ${deb_mib} MiB, apt installed ${apt_new} packages (fpga-lab + $((apt_new - 1)) dependencies) in ${apt_seconds} s, watch unit exposure ${exposure}, whole lane ${lane_seconds} s"
if ((keep)); then
  say "VMs left running: server pid $server_pid ($out/server), client pid $client_pid ($out/client)"
fi
