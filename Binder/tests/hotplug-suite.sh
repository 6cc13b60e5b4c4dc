#!/usr/bin/env bash
# usbip-binder serve binding the lab's boards on hot-plug (Hotplug.swift), against a fake
# sysfs tree whose uevents the test sends (same bytes as the kernel's netlink messages) on
# the --uevents socket, and whose driver moves the test plays (lib.sh kernel_move).
# The real kernel's netlink path is proven by the e2e binder lane (make e2e-binder).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=Binder/tests/lib.sh
. "$HERE/lib.sh"
need usbip "Debian package usbip" python3 "uevent sender, free ports"

suite_workdir
HOST=$T/bus/usb/drivers/usbip-host
HUB=devices/platform/soc/usb1/1-1
EVENTS=$WORK/uevents.sock

# uevent ACTION BUSID [KEY=VALUE...]: one kernel-format datagram for the USB device BUSID.
uevent() {
    python3 - "$EVENTS" "$1" "/$HUB/$2" "${@:3}" << 'PY'
import socket, sys
sock, action, devpath = sys.argv[1:4]
keys = ["ACTION=" + action, "DEVPATH=" + devpath, "SUBSYSTEM=usb"] + sys.argv[4:] + ["SEQNUM=1"]
message = (action + "@" + devpath).encode() + b"\0" + b"".join(k.encode() + b"\0" for k in keys)
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(message, sock)
PY
}
# raw_datagram BYTES-AS-PYTHON-LITERAL: anything at all on the uevent socket.
raw_datagram() {
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(eval(sys.argv[2]), sys.argv[1])' "$EVENTS" "$1"
}
# fresh_writes: empties the command files the fake kernel watches (it waits for a whole line).
fresh_writes() {
    local f
    for f in usb/bind usb/unbind usbip-host/bind usbip-host/unbind usbip-host/rebind; do : > "$T/bus/usb/drivers/$f"; done
}
# listed: busids of the server's devlist, as Debian's usbip client shows them.
listed() {
    usbip --tcp-port "$PORT" list -r 127.0.0.1 2> /dev/null |
        sed -nE 's/^ +([0-9]+-[0-9.]+): .*/\1/p' | sort | tr '\n' ' '
}

make_tree "$T"; add_boards "$T"
# 1-1.3 the Arty (0403:6010 serial 210319A4B3C1), 1-1.4 a JTAG cable the lab does not name.
cat > "$WORK/binder.conf" << 'EOF'
device arty-a7-1 0403:6010 serial=210319A4B3C1
device de10-nano-1 09fb:6010
device de10-nano-1 09fb:6810 port=1-1.7
EOF

echo "coldplug: the lab's board present at start is bound, the stranger is not"
kernel_move usb 1-1.3 "$HUB/1-1.3" &
start_server "$WORK/serve.log" --config "$WORK/binder.conf" --port 0 --uevents "$EVENTS"
PORT=$(served_port)
check "READY=1 after the coldplug" "READY=1" "${NOTIFIED%%$'\n'*}"
wait_for_line "$WORK/serve.log" "usbip-binder: hotplug: 1-1.3 bound to usbip-host (was usb)"
check_contains "coldplug names the board" "hotplug: 1-1.3 (arty-a7-1) present, not exported" "$(cat "$WORK/serve.log")"
check "coldplug bound the Arty only" "./usb/unbind:1-1.3
./usbip-host/bind:1-1.3
./usbip-host/match_busid:add 1-1.3" "$(driver_state)"
check "devlist shows it" "1-1.3 " "$(listed)"

echo "hot-plug: add, then the generic driver's bind -> bound"
add_device "$T" 1-1.5 "$HUB/1-1.5" 09fb 6010 0100 00 usb 480 "" "ff/ff/ff"
fresh_writes
before=$(driver_state)
uevent add 1-1.5 DEVTYPE=usb_device PRODUCT=9fb/6010/100
wait_for_line "$WORK/serve.log" "usbip-binder: hotplug: 1-1.5 (de10-nano-1) plugged"
check "nothing written before the driver's bind" "$before" "$(driver_state)"
kernel_move usb 1-1.5 "$HUB/1-1.5" &
uevent bind 1-1.5 DEVTYPE=usb_device DRIVER=usb
wait_for_line "$WORK/serve.log" "usbip-binder: hotplug: 1-1.5 bound to usbip-host (was usb)"
check "usbip-host told to bind 1-1.5" "1-1.5" "$(cat "$HOST/bind")"
check "devlist shows both" "1-1.3 1-1.5 " "$(listed)"

echo "interfaces, other subsystems, the lab's board rebound by hand, junk: ignored"
before=$(driver_state)
uevent add 1-1.5:1.0 DEVTYPE=usb_interface
uevent bind 1-1.5:1.0 DEVTYPE=usb_interface DRIVER=ftdi_sio
python3 -c 'import socket, sys
m = b"add@/devices/virtual/net/tap0\0ACTION=add\0DEVPATH=/devices/virtual/net/tap0\0SUBSYSTEM=net\0"
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(m, sys.argv[1])' "$EVENTS"
raw_datagram 'b"libudev\0\xfe\xed\xca\xfe" + bytes(32)'
raw_datagram 'b""'
raw_datagram 'b"add@/devices/x\0ACTION=remove\0DEVPATH=/devices/x\0"'
raw_datagram 'bytes(range(256)) * 16'
# An admin gives 1-1.3 back (`usbip-binder unbind`): its driver's bind uevent must not undo it.
set_driver "$T" "$HUB/1-1.3" usb
uevent bind 1-1.3 DEVTYPE=usb_device DRIVER=usb
add_device "$T" 1-1.6 "$HUB/1-1.6" 03fd 0013 0001 ff usb 12 "" "ff/00/00"
uevent add 1-1.6 DEVTYPE=usb_device
uevent bind 1-1.6 DEVTYPE=usb_device DRIVER=usb
uevent add 1-1.5 DEVTYPE=usb_device
uevent bind 1-1.5 DEVTYPE=usb_device DRIVER=usbip-host
# The server reads the datagrams in order, and the pending 1-1.5 is settled after all of them:
# once that is logged, every datagram above has been handled.
wait_for 10 has_line "$WORK/serve.log" "usbip-binder: hotplug: 1-1.5 already bound to usbip-host"
check_contains "the pending bound board was found bound after the deadline" \
    "hotplug: 1-1.5 already bound to usbip-host" "$(cat "$WORK/serve.log")"
check "nothing written" "$before" "$(driver_state)"
check "server alive, devlist unchanged but for the given-back board" "1-1.5 " "$(listed)"

echo "add without a bind uevent (older kernels): bound after the settle time"
add_device "$T" 1-1.7 "$HUB/1-1.7" 09fb 6810 0100 00 usb 480 "" "ff/ff/ff"
fresh_writes
kernel_move usb 1-1.7 "$HUB/1-1.7" &
uevent add 1-1.7 DEVTYPE=usb_device
wait_for_line "$WORK/serve.log" "usbip-binder: hotplug: 1-1.7 bound to usbip-host (was usb)"
check_contains "deadline logged" "hotplug: 1-1.7: no bind uevent within 1000 ms, binding" "$(cat "$WORK/serve.log")"

echo "add, then remove before the driver binds: forgotten"
add_device "$T" 1-1.8 "$HUB/1-1.8" 09fb 6010 0100 00 usb 480 "" "ff/ff/ff"
before=$(driver_state)
uevent add 1-1.8 DEVTYPE=usb_device
uevent remove 1-1.8 DEVTYPE=usb_device
# Nothing marks "nothing happened": the check waits past the settle time (1000 ms) after which
# a board still pending would be bound.
sleep 1.5
check "nothing written for the removed board" "$before" "$(driver_state)"

echo "a board whose bind fails: logged, server goes on"
add_device "$T" 1-1.9 "$HUB/1-1.9" 09fb 6010 0100 00 usb 480 "" "ff/ff/ff"
uevent add 1-1.9 DEVTYPE=usb_device
rm -rf "${T:?}/$HUB/1-1.9" "$T/bus/usb/devices/1-1.9"
uevent bind 1-1.9 DEVTYPE=usb_device DRIVER=usb
wait_for 10 has_text "$WORK/serve.log" "hotplug: 1-1.9: no USB device 1-1.9"
check_contains "bind failure logged" "hotplug: 1-1.9: no USB device 1-1.9" "$(cat "$WORK/serve.log")"
if kill -0 "$SERVER" 2> /dev/null; then pass "server still running"; else fail "server died"; fi
check "devlist still answers" "1-1.5 1-1.7 " "$(listed)"

echo "no --uevents on a fake tree: no hot-plug binding at all"
kill "$SERVER"
make_tree "$T"; add_boards "$T"
before=$(driver_state)
start_server "$WORK/off.log" --config "$WORK/binder.conf" --port 0
PORT=$(served_port)
check "READY=1" "READY=1" "${NOTIFIED%%$'\n'*}"
# A devlist answered: the server is past its start (where a coldplug would bind) and in its loop.
check "devlist answers, nothing exported" "" "$(listed)"
check "nothing bound" "$before" "$(driver_state)"
check "no hotplug line" "" "$(grep hotplug "$WORK/off.log")"

echo "--uevents outside serve: usage error"
out=$(binder --sysfs-root "$T" --uevents "$EVENTS" status 2>&1); rc=$?
check "exit 2" 2 "$rc"
check_contains "says why" "--port, --allow, --dead-peer-timeout and --uevents apply to serve only" "$out"

summary "hotplug suite (${BINDER_ARCH:-})"
