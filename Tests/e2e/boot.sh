#!/usr/bin/env bash
# Boots a (patched or stock) bootable stand-in under qemu TCG, waits for FPGA-LAB-BOOTED,
# then proves USB hot-plug: an emulated FTDI FT232 (0403:6001) added through QMP shows up in
# the guest's lsusb, and is gone again after device_del.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
MARKER=FPGA-LAB-BOOTED
LANE=boot.sh
# shellcheck source=Tests/e2e/lane-lib.sh
. "$HERE/lane-lib.sh"

usage() {
  cat <<'EOF'
usage: Tests/e2e/boot.sh IMAGE [options]

Kernel, initrd and cmdline come from IMAGE's bootfs (vmlinuz, initrd.img, cmdline.txt with
console=serial0 mapped to ttyS0). The disk is attached with -snapshot: IMAGE is never written.

  --timeout S      seconds to wait for the boot marker (default 420)
  --port P         host port forwarded to the guest's USB/IP port 3240 (default: a free one)
  --no-hotplug     only boot; skip the FTDI hot-plug check
  --usb-serial ID[:SERIAL[:PORT]]
                   plug an emulated FTDI FT232 (usb-serial, 0403:6001) before the guest boots:
                   QEMU id ID, serial number SERIAL, xHCI root port PORT (1-4: busid 1-PORT);
                   repeatable; `qmp.py SOCK unplug ID` removes it
  --disk FILE      attach FILE (raw) as a further virtio disk (/dev/vdb, ...); repeatable
  --forward HOSTPORT:GUESTADDR:GUESTPORT
                   also forward 127.0.0.1:HOSTPORT to GUESTADDR:GUESTPORT on user networking
                   (a guest with a static address in 10.0.2.0/24); repeatable
  --lan LOCAL:REMOTE:MAC
                   a second NIC (virtio-net, id lan0, MAC MAC) on a virtual cable: qemu's dgram
                   netdev between unix datagram sockets LOCAL (this VM's) and REMOTE (the peer
                   VM's). TCP between two VMs on it is end to end (user networking's slirp would
                   ACK for a peer that is gone); QMP `set_link` lan0 off cuts it
  --keep-running   leave the VM up; print its sockets (stop it with: qmp.py QMP quit)
  --workdir DIR    where console.log, sockets and qemu.log go (default build/e2e/boot-<time>)
environment:
  E2E_ACCEL        qemu accelerator (default tcg,thread=single: see lane-lib.sh)
EOF
}

image='' timeout=420 port='' hotplug=1 keep=0 workdir=''
coldplug=() disks=() lan=() forwards=''
while (($#)); do
  case $1 in
    --timeout | --port | --workdir | --usb-serial | --disk | --lan | --forward)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      case $1 in
        --lan)
          lan_local=${2%%:*} lan_rest=${2#*:}
          lan_remote=${lan_rest%%:*} lan_mac=${lan_rest#*:}
          [[ -n $lan_local && -n $lan_remote && $lan_mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] ||
            die "--lan $2: expected LOCAL:REMOTE:MAC (two socket paths and a MAC address)"
          lan=(-netdev "dgram,id=lan,local.type=unix,local.path=$lan_local,remote.type=unix,remote.path=$lan_remote"
            -device "virtio-net-pci,netdev=lan,id=lan0,mac=$lan_mac")
          ;;
        --forward)
          [[ $2 =~ ^([0-9]+):([0-9.]+):([0-9]+)$ ]] || die "--forward $2: expected HOSTPORT:GUESTADDR:GUESTPORT"
          forwards+=",hostfwd=tcp:127.0.0.1:${BASH_REMATCH[1]}-${BASH_REMATCH[2]}:${BASH_REMATCH[3]}"
          ;;
        --timeout) timeout=$2 ;;
        --usb-serial) coldplug+=("$2") ;;
        --disk) disks+=(-drive "file=$2,format=raw,if=virtio") ;;
        --port) port=$2 ;;
        --workdir) workdir=$2 ;;
      esac
      shift 2
      ;;
    --no-hotplug)
      hotplug=0
      shift
      ;;
    --keep-running) keep=1 && shift ;;
    -*) lane_help_or_die "$1" ;;
    *)
      [[ -z $image ]] || die "one IMAGE only"
      image=$1
      shift
      ;;
  esac
done
[[ -n $image ]] || { usage >&2; exit 2; }
[[ -r $image ]] || die "cannot read image '$image'"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds"
for tool in qemu-system-x86_64 sfdisk mcopy mtype python3; do
  command -v "$tool" >/dev/null || die "missing tool $tool (see deps/standin.apt)"
done

lane_start=$(now)
workdir=${workdir:-$REPO_ROOT/build/e2e/boot-$(date -u +%Y%m%dT%H%M%S)-$$}
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
qmp_sock=$workdir/qmp.sock serial_sock=$workdir/serial.sock console_log=$workdir/console.log
rm -f "$qmp_sock" "$serial_sock" "$console_log"

# Partition 1 (bootfs) start sector, from the MBR.
boot_start=$(sfdisk --dump "$image" | awk -F'[=,]' '/^[^:]*1 : start=/ { gsub(/ /, "", $2); print $2; exit }')
[[ $boot_start =~ ^[0-9]+$ ]] || die "no partition 1 in $image's partition table"
boot_fs="$image@@$((boot_start * 512))"
export MTOOLS_SKIP_CHECK=1
mcopy -n -i "$boot_fs" ::vmlinuz "$workdir/vmlinuz" || die "no vmlinuz on $image's bootfs"
mcopy -n -i "$boot_fs" ::initrd.img "$workdir/initrd.img" || die "no initrd.img on $image's bootfs"
cmdline=$(mtype -i "$boot_fs" ::cmdline.txt | tr -d '\r\n') || die "no cmdline.txt on $image's bootfs"
cmdline=$(printf '%s' "$cmdline" | sed -e 's/console=serial0/console=ttyS0/' -e 's/ *console=tty1//')
[[ $cmdline == *root=* ]] || die "cmdline.txt has no root=: $cmdline"

[[ -n $port ]] || port=$(free_port)

# Cold-plugged boards: the chardev id follows qmp.py's convention (ID-chr), so unplug works.
usb_args=()
for spec in ${coldplug[@]+"${coldplug[@]}"}; do
  IFS=: read -r id serial usb_port <<<"$spec"
  [[ $id =~ ^[A-Za-z][A-Za-z0-9_-]*$ ]] || die "--usb-serial: '$id' is not a QEMU id"
  [[ $serial =~ ^[A-Za-z0-9_.-]*$ ]] || die "--usb-serial: serial '$serial' has characters QEMU options cannot carry"
  [[ $usb_port =~ ^[1-4]?$ ]] || die "--usb-serial: port '$usb_port' is not 1-4"
  usb_args+=(-chardev "file,id=$id-chr,path=$workdir/$id.out"
    -device "usb-serial,bus=xhci.0,chardev=$id-chr,id=$id${serial:+,serial=$serial}${usb_port:+,port=$usb_port}")
done

qemu_pid=''
stop_vm() { vm_stop "$qemu_pid" "$qmp_sock"; }
fail() {
  printf 'boot.sh: FAILED: %s\n--- last 40 lines of %s ---\n' "$*" "$console_log" >&2
  tail -n 40 "$console_log" >&2 2>/dev/null || true
  [[ -s $workdir/qemu.log ]] && { printf -- '--- qemu.log ---\n' >&2; tail -n 20 "$workdir/qemu.log" >&2; }
  stop_vm
  exit 1
}
lane_traps fail '((keep)) || stop_vm' stop_vm

say "booting $image (accel $E2E_ACCEL, port $port -> 3240, log $console_log)"
boot_start_time=$(now)
qemu-system-x86_64 -accel "$E2E_ACCEL" -smp 2 -m 1024 \
  -display none -monitor none \
  -kernel "$workdir/vmlinuz" -initrd "$workdir/initrd.img" -append "$cmdline" \
  -drive "file=$image,format=raw,if=virtio" ${disks[@]+"${disks[@]}"} -snapshot \
  -device qemu-xhci,id=xhci ${usb_args[@]+"${usb_args[@]}"} \
  -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:3240$forwards" ${lan[@]+"${lan[@]}"} \
  -qmp "unix:$qmp_sock,server=on,wait=off" \
  -chardev "socket,id=ser0,path=$serial_sock,server=on,wait=off,logfile=$console_log" \
  -serial chardev:ser0 \
  </dev/null >"$workdir/qemu.log" 2>&1 &
qemu_pid=$!
printf '%s\n' "$qemu_pid" >"$workdir/qemu.pid"

vm_wait_marker "$qemu_pid" "$console_log" "$MARKER" "$timeout" || fail "$VM_WAIT_ERROR"
boot_seconds=$(elapsed "$boot_start_time")
say "$MARKER after ${boot_seconds} s"

if ((hotplug)); then
  # ftdi_listed / ftdi_gone: the guest's lsusb (in $usb) does / does not list 0403:6001.
  usb=''
  ftdi_listed() { usb=$(vm_run guest "$serial_sock" lsusb 120) && [[ $usb == *0403:6001* ]]; }
  ftdi_gone() { usb=$(vm_run guest "$serial_sock" lsusb 120) && [[ $usb != *0403:6001* ]]; }
  ftdi_gone || fail "0403:6001 is present before device_add (or lsusb failed):
$usb"
  vm_qmp "$qmp_sock" plug-ftdi board1 "$workdir/board1.out" || fail "device_add failed"
  wait_for 30 ftdi_listed || fail "0403:6001 not in lsusb within 30 s of device_add:
$usb"
  say "after device_add, guest lsusb shows: $(grep 0403:6001 <<<"$usb")"
  vm_qmp "$qmp_sock" unplug board1 || fail "device_del failed"
  wait_for 30 ftdi_gone || fail "0403:6001 still in lsusb 30 s after device_del:
$usb"
  say "after device_del, 0403:6001 is gone"
fi

lane_seconds=$(elapsed "$lane_start")
say "boot to marker: ${boot_seconds} s; whole lane: ${lane_seconds} s"
if ((keep)); then
  say "VM left running: pid $qemu_pid, qmp $qmp_sock, serial $serial_sock, usbip port $port"
fi
