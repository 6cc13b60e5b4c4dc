#!/usr/bin/env bash
# e2e arm64 smoke (issue 7): the arm64 stand-in (scripts/make-standin-arm64.sh: Debian 12 arm64,
# linux-image-arm64, Raspberry Pi OS layout) patched by `fpga-lab build-image` with the lab,
# which bakes in the aarch64 usbip-binder, boots under
# `qemu-system-aarch64 -M virt -cpu cortex-a57 -accel tcg` to systemd's multi-user target;
# usbip-binder.service is active; a board plugged at boot (emulated FTDI on qemu-xhci) is bound
# to usbip-host, and the host's `usbip list -r` over the forwarded port lists it.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
MARKER=FPGA-LAB-BOOTED
LANE=arm64-lane
# shellcheck source=Tests/e2e/lane-lib.sh
. "$HERE/lane-lib.sh"

usage() {
  cat <<'EOF'
usage: Tests/e2e/arm64-lane.sh --fpga-lab BIN [--lab FILE] [--timeout S]

  --fpga-lab BIN   the fpga-lab executable (build-image)
  --lab FILE       lab config with `daemon: binder` (default Tests/e2e/lab-binder.yaml)
  --timeout S      seconds to wait for the boot marker (default 900)
environment:
  E2E_ACCEL        qemu accelerator (default tcg,thread=single: see lane-lib.sh)
Outputs go to build/e2e/arm64-lane/ (lane.log, console.log, sockets).
EOF
}

fpga_lab='' lab=$HERE/lab-binder.yaml timeout=900
while (($#)); do
  case $1 in
    --fpga-lab | --lab | --timeout)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      case $1 in
        --fpga-lab) fpga_lab=$2 ;;
        --lab) lab=$2 ;;
        --timeout) timeout=$2 ;;
      esac
      shift 2
      ;;
    *) lane_help_or_die "$1" ;;
  esac
done
[[ -x $fpga_lab ]] || die "no fpga-lab executable at '$fpga_lab' (give --fpga-lab)"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds"
for tool in qemu-system-aarch64 qemu-aarch64-static mmdebstrap usbip python3 sfdisk mcopy mtype; do
  command -v "$tool" >/dev/null || die "missing tool $tool (see deps/e2e.apt)"
done

lane_start=$(now)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
out=$REPO_ROOT/build/e2e/arm64-lane
base=$REPO_ROOT/build/standin/bootable-arm64.img
image=$out/pi-arm64.img
rm -rf "$out"
mkdir -p "$out"
transcript=$out/lane.log qmp_sock=$out/qmp.sock serial_sock=$out/serial.sock console_log=$out/console.log
lane_transcript "$transcript"

qemu_pid=''
stop_vm() {
  vm_stop "$qemu_pid" "$qmp_sock"
  qemu_pid=''
}
guest() { vm_run guest "$serial_sock" "$1" "${2:-120}"; }
fail() {
  trap - ERR
  {
    printf '\narm64-lane: FAILED: %s\n' "$*"
    if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
      vm_report "guest: journalctl -u usbip-binder -u usbip-bind@*, failed units" "$serial_sock" \
        "journalctl --no-pager -o short-monotonic -u usbip-binder -u 'usbip-bind@*' | tail -n 40; systemctl --no-pager --failed"
    fi
    lane_tail transcript "$transcript" 60
    lane_tail console "$console_log" 60
    lane_tail qemu "$out/qemu.log" 20
  } >&2
  stop_vm
  exit 1
}
lane_traps fail stop_vm stop_vm

t=$(now)
say "building the arm64 stand-in $base (scripts/make-standin-arm64.sh; cached in build/cache/standin)"
"$REPO_ROOT/scripts/make-standin-arm64.sh" "$base" >>"$transcript" 2>&1 ||
  fail "scripts/make-standin-arm64.sh $base failed"
standin_seconds=$(elapsed "$t")
say "fpga-lab build-image --config $lab --base $base --output $image"
"$fpga_lab" build-image --config "$lab" --base "$base" --output "$image" >>"$transcript" 2>&1 ||
  fail "fpga-lab build-image failed"
grep -q 'arm64 image' "$transcript" || fail "build-image did not see an arm64 image"

boot_start=$(sfdisk --dump "$image" | awk -F'[=,]' '/^[^:]*1 : start=/ { gsub(/ /, "", $2); print $2; exit }')
export MTOOLS_SKIP_CHECK=1
mcopy -n -i "$image@@$((boot_start * 512))" ::vmlinuz "$out/vmlinuz"
mcopy -n -i "$image@@$((boot_start * 512))" ::initrd.img "$out/initrd.img"
cmdline=$(mtype -i "$image@@$((boot_start * 512))" ::cmdline.txt | tr -d '\r\n')
cmdline=$(printf '%s' "$cmdline" | sed -e 's/console=serial0/console=ttyAMA0/' -e 's/ *console=tty1//')
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

say "booting $image: qemu-system-aarch64 -M virt -cpu cortex-a57 -accel $E2E_ACCEL; board FPGALAB-A on xhci port 1"
t=$(now)
qemu-system-aarch64 -M virt -cpu cortex-a57 -accel "$E2E_ACCEL" -smp 2 -m 1024 \
  -display none -monitor none \
  -kernel "$out/vmlinuz" -initrd "$out/initrd.img" -append "$cmdline" \
  -drive "file=$image,format=raw,if=virtio" -snapshot \
  -device qemu-xhci,id=xhci \
  -chardev "file,id=board-chr,path=$out/board.out" \
  -device usb-serial,bus=xhci.0,port=1,chardev=board-chr,id=board,serial=FPGALAB-A \
  -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:3240" \
  -qmp "unix:$qmp_sock,server=on,wait=off" \
  -chardev "socket,id=ser0,path=$serial_sock,server=on,wait=off,logfile=$console_log" \
  -serial chardev:ser0 \
  </dev/null >"$out/qemu.log" 2>&1 &
qemu_pid=$!
deadline=$((SECONDS + timeout))
until grep -q "$MARKER" "$console_log" 2>/dev/null; do
  kill -0 "$qemu_pid" 2>/dev/null || fail "qemu-system-aarch64 exited before $MARKER"
  ((SECONDS < deadline)) || fail "no $MARKER within $timeout s"
  sleep 1
done
boot_seconds=$(elapsed "$t")
say "multi-user.target reached ($MARKER) after $boot_seconds s"

guest "dmesg -n 1" >/dev/null
state=$(guest "uname -m; systemctl is-active multi-user.target usbip-binder.service; systemctl show -p MainPID --value usbip-binder.service | xargs -I{} readlink /proc/{}/exe")
[[ $(sed -n 1p <<<"$state") == aarch64 ]] || fail "the guest is not aarch64: $state"
[[ $(sed -n 2,3p <<<"$state" | tr '\n' ' ') == "active active " ]] ||
  fail "multi-user.target / usbip-binder.service not active:
$state"
[[ $state == */usr/local/sbin/usbip-binder* ]] || fail "usbip-binder.service does not run /usr/local/sbin/usbip-binder: $state"
say "aarch64 guest: multi-user.target active, usbip-binder.service active ($(sed -n 4p <<<"$state"))"

# The board plugged at boot is bound and exported; the host lists it over the forwarded port.
listed=''
for _ in $(seq 120); do
  listed=$(host_usbip_list "$port" || true)
  [[ $listed == *"0403:6001"* ]] && break
  sleep 1
done
[[ $listed == *"0403:6001"* ]] || fail "the host's usbip list -r does not list the board (0403:6001):
$listed"
say "host usbip list -r over port $port lists the board:"
printf '%s\n' "$listed" | sed 's/^/    /'
say "figures: arm64 stand-in ${standin_seconds} s, boot to multi-user ${boot_seconds} s (TCG cortex-a57), whole lane $(elapsed "$lane_start") s"
