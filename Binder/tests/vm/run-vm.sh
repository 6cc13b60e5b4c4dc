#!/usr/bin/env bash
# usbip-binder against a real kernel: Debian's kernel in qemu (KVM when
# available), an emulated FTDI device (qemu usb-serial behind qemu-xhci), the
# kernel's usbip-host module. The guest binds, serves and unbinds
# (guest-init.sh); the host lists and imports through qemu's port forward with
# Debian's usbip and a raw OP_REQ_IMPORT, and checks the guest's report.
# Usage: run-vm.sh BINDER (the x86_64 usbip-binder)
set -u
BINDER=$(realpath "${1:?usage: run-vm.sh path/to/x86_64/usbip-binder}")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=Binder/tests/lib.sh
. "$HERE/../lib.sh"
KVER=${KVER:-$(find /lib/modules -mindepth 1 -maxdepth 1 -name '*-amd64' -printf '%f\n' | sort -V | tail -n 1)}
KERNEL=/boot/vmlinuz-$KVER
MODS=/lib/modules/$KVER/kernel
for f in "$KERNEL" "/boot/initrd.img-$KVER"; do
    [ -r "$f" ] || { echo "missing $f (apt-get install linux-image-amd64)"; exit 1; }
done
command -v qemu-system-x86_64 > /dev/null || { echo "qemu-system-x86 is required"; exit 1; }

WORK=$(mktemp -d)
QEMU_PID=
trap '[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2> /dev/null; rm -rf "$WORK"' EXIT

# The initramfs: Debian's (for klibc's sh, mount, insmod, ipconfig), our /init,
# the modules and the binder.
unmkinitramfs "/boot/initrd.img-$KVER" "$WORK/unpacked"
ROOT=$WORK/unpacked/main
[ -d "$ROOT" ] || ROOT=$WORK/unpacked
rm -rf "$ROOT/usr/lib/modules" "$ROOT/usr/lib/firmware" "$ROOT/scripts"
mkdir -p "$ROOT/modules" "$ROOT/dev" "$ROOT/proc" "$ROOT/sys"
[ -e "$ROOT/dev/console" ] || mknod -m 600 "$ROOT/dev/console" c 5 1
for m in common/usb-common core/usbcore host/xhci-hcd host/xhci-pci serial/usbserial serial/ftdi_sio \
    usbip/usbip-core usbip/usbip-host; do
    cp "$MODS/drivers/usb/$m.ko" "$ROOT/modules/"
done
cp "$MODS/drivers/net/ethernet/intel/e1000/e1000.ko" "$ROOT/modules/"
cp "$HERE/guest-init.sh" "$ROOT/init"
cp "$BINDER" "$ROOT/usbip-binder"
chmod 0755 "$ROOT/init" "$ROOT/usbip-binder"
(cd "$ROOT" && find . | cpio -o -H newc --quiet) > "$WORK/initrd.cpio"

# A port the kernel reports free, for qemu to forward (lib.sh free_port: taken between the
# check and qemu's bind by another process, qemu fails to start and the test fails).
PORT=$(free_port)
# TCG: KVM is not reliable in nested CI machines (set ACCEL=kvm to try it).
ACCEL=${ACCEL:-tcg}
qemu-system-x86_64 -accel "$ACCEL" -m 512 -smp 1 -display none -monitor none -no-reboot \
    -serial "file:$WORK/console.log" -kernel "$KERNEL" -initrd "$WORK/initrd.cpio" \
    -append "console=ttyS0 panic=-1 quiet" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-10.0.2.15:3240" -device e1000,netdev=n0 \
    -device qemu-xhci -chardev null,id=s0 -device usb-serial,chardev=s0,always-plugged=on &
QEMU_PID=$!

# wait_console TEXT [SECONDS]: until the guest prints TEXT.
wait_console() { wait_for "${2:-120}" has_text "$WORK/console.log" "$1"; }

wait_console "listening on port 3240" 180 || { echo "guest never served"; cat "$WORK/console.log"; exit 1; }
out=$(usbip --tcp-port "$PORT" list -r 127.0.0.1 2> /dev/null); rc=$?
check "host usbip list -r through the VM: exit 0" 0 "$rc"
check_contains "host usbip list -r shows the FTDI device" "1-1: " "$out"
check_contains "host usbip list -r shows its id" "(0403:6001)" "$out"
check_contains "host usbip list -r shows its path" "/sys/devices/pci" "$out"

# A raw import: after OP_REP_IMPORT status 0 the guest kernel owns the socket.
exec 3<> "/dev/tcp/127.0.0.1/$PORT"
{ printf '\x01\x11\x80\x03\x00\x00\x00\x00'; printf '1-1'; head -c 29 /dev/zero; } >&3
head -c 8 <&3 | od -An -tx1 | tr -d ' \n' > "$WORK/import.hdr"
check "OP_REP_IMPORT status 0 from the real kernel's binder" "0111000300000000" "$(cat "$WORK/import.hdr")"
wait_console "T: usbip_status after import" 60
exec 3<&-
wait_console "T: done" 60
wait "$QEMU_PID"
QEMU_PID=
log=$(tr -d '\r' < "$WORK/console.log")
check_contains "driver before bind is usb" "T: driver before: ../../../../../bus/usb/drivers/usb" "$log"
check_contains "bind exits 0" "T: bind rc=0" "$log"
check_contains "kernel shows usbip-host as driver" "T: driver after: ../../../../../bus/usb/drivers/usbip-host" "$log"
check_contains "usbip_status 1 (available)" "T: usbip_status: 1" "$log"
check_contains "match_busid lists 1-1" "T: match_busid: 1-1" "$log"
check_contains "bind again exits 0" "T: rebind rc=0" "$log"
check_contains "bind again says already bound" "1-1 already bound to usbip-host" "$log"
check_contains "missing device exits 4" "T: missing rc=4" "$log"
check_contains "status line" "1-1        0403:6001  usbip-host    available  -" "$log"
check_contains "import moved usbip_status to 2 (in use)" "T: usbip_status after import: 2" "$log"
check_contains "serve logged the hand-over" "import 1-1, socket handed to usbip-host" "$log"
check_contains "unbind exits 0" "T: unbind rc=0" "$log"
check_contains "device back with its driver" "T: driver after unbind: ../../../../../bus/usb/drivers/usb" "$log"
check "match_busid emptied" "T: match_busid after unbind: " "$(grep -a "^T: match_busid after unbind" <<< "$log")"
check_contains "unbind again exits 0" "T: unbind again rc=0" "$log"
if ! summary "real-kernel VM test"; then
    grep -aE '^T:|^usbip-binder:|usb' "$WORK/console.log"
    exit 1
fi
