#!/usr/bin/env bash
# usbip-binder bind / unbind / status against fake sysfs trees.
#
# A fake tree has no kernel: each test checks what the binder WROTE to the
# driver files (the binder opens them O_APPEND and writes without newline, as
# the kernel needs, so a regular file keeps every command, back to back), and where the binder waits for the kernel's reaction, the test plays
# the kernel itself in the background (re-points the `driver` link).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=Binder/tests/lib.sh
. "$HERE/lib.sh"

suite_workdir
ARTY=devices/platform/soc/usb1/1-1/1-1.3
HOST=$T/bus/usb/drivers/usbip-host

# check_again WHAT MESSAGE ARGS...: the binder run once more with ARGS exits 0, says MESSAGE
# and writes nothing.
check_again() {
    local what=$1 message=$2 before out rc
    shift 2
    before=$(driver_state)
    out=$(binder --sysfs-root "$T" "$@" 2>&1); rc=$?
    check "$what exits 0" 0 "$rc"
    check "$what says so" "$message" "$out"
    check "$what writes nothing" "$before" "$(driver_state)"
}


echo "bind"
make_tree "$T"; add_boards "$T"
kernel_move usb 1-1.3 "$ARTY" &
out=$(binder --sysfs-root "$T" bind 1-1.3 2>&1); rc=$?
wait
check "bind exits 0" 0 "$rc"
check "bind says what it did" "usbip-binder: 1-1.3 bound to usbip-host (was usb)" "$out"
check "old driver told to unbind" "1-1.3" "$(cat "$T/bus/usb/drivers/usb/unbind")"
check "match_busid got add" "add 1-1.3" "$(cat "$HOST/match_busid")"
check "usbip-host told to bind" "1-1.3" "$(cat "$HOST/bind")"
check "nothing else written" "" "$(cat "$HOST/unbind" "$HOST/rebind")"

echo "bind again (idempotent)"
check_again "second bind" "usbip-binder: 1-1.3 already bound to usbip-host" bind 1-1.3

echo "status"
cat > "$WORK/binder.conf" <<'CONF'
# fpga-lab binder.conf (generated)
port 3240
allow 192.168.10.0/24

device arty-a7-1 0403:6010 serial=210319A4B3C1 port=1-1.3
device jtag-1 03fd:0013 port=1-1.9
CONF
out=$(binder --sysfs-root "$T" --config "$WORK/binder.conf" status); rc=$?
check "status exits 0" 0 "$rc"
check "status table" "BUSID      ID         DRIVER        EXPORT     NAME
1-1        0424:9514  usb           hub        -
1-1.3      0403:6010  usbip-host    available  arty-a7-1
1-1.4      03fd:0013  usb           -          -" "$out"

echo "unbind"
make_tree "$T"; add_boards "$T"
set_driver "$T" "$ARTY" usbip-host; attr "$T/$ARTY/usbip_status" 1; attr "$HOST/match_busid" "1-1.3 "
out=$(binder --sysfs-root "$T" unbind 1-1.3 2>&1); rc=$?
check "unbind exits 0" 0 "$rc"
check "unbind says so" "usbip-binder: 1-1.3 unbound from usbip-host" "$out"
check "usbip-host told to unbind" "1-1.3" "$(cat "$HOST/unbind")"
check "match_busid got del" "1-1.3 
del 1-1.3" "$(cat "$HOST/match_busid")"
check "rebind asked for" "1-1.3" "$(cat "$HOST/rebind")"
echo "unbind again (idempotent)"
set_driver "$T" "$ARTY" usb; : > "$HOST/match_busid"
check_again "second unbind" "usbip-binder: 1-1.3 not bound to usbip-host" unbind 1-1.3

echo "hubs and vhci devices are refused"
make_tree "$T"; add_boards "$T"
add_device "$T" 3-1 devices/platform/vhci_hcd.0/usb3/3-1 0403 6010 0700 00 usb 480 "" "ff/ff/ff"
before=$(driver_state)
out=$(binder --sysfs-root "$T" bind 1-1 2>&1); rc=$?
check "hub: exit 5" 5 "$rc"
check "hub: message" "usbip-binder: refusing 1-1: it is a USB hub" "$out"
out=$(binder --sysfs-root "$T" bind 3-1 2>&1); rc=$?
check "vhci: exit 5" 5 "$rc"
check "vhci: message" "usbip-binder: refusing 3-1: it is attached through vhci_hcd" "$out"
out=$(binder --sysfs-root "$T" bind usb1 2>&1); rc=$?
check "root hub name is no busid: exit 2" 2 "$rc"
check "refusals write nothing" "$before" "$(driver_state)"

echo "stale match_busid entries"
make_tree "$T"; add_boards "$T"
add_device "$T" 1-1.2 devices/platform/soc/usb1/1-1/1-1.2 09fb 6010 0100 00 usbip-host 480 "" "ff/ff/ff"
attr "$HOST/match_busid" "1-1.9 1-1.2 1-1.4 "
out=$(binder --sysfs-root "$T" status | tail -n 1)
check "status lists stale entries" "stale match_busid entries: 1-1.9 1-1.4" "$out"
kernel_bind 1-1.3 "$ARTY" &
out=$(binder --sysfs-root "$T" bind 1-1.3 2>&1); rc=$?
wait
check "bind with stale entries exits 0" 0 "$rc"
check "stale entries logged" "usbip-binder: removed stale match_busid entry 1-1.9
usbip-binder: removed stale match_busid entry 1-1.4
usbip-binder: 1-1.3 bound to usbip-host (was usb)" "$out"
check "absent and unbound entries deleted, bound one kept" "1-1.9 1-1.2 1-1.4 
del 1-1.9del 1-1.4add 1-1.3" "$(cat "$HOST/match_busid")"

echo "device disappears mid-bind"
make_tree "$T"; add_boards "$T"
( wait_for_line "$HOST/bind" 1-1.3 && rm -rf "${T:?}/$ARTY" "$T/bus/usb/devices/1-1.3" ) &
out=$(binder --sysfs-root "$T" bind 1-1.3 2>&1); rc=$?
wait
check "vanished: exit 4" 4 "$rc"
check "vanished: message" "usbip-binder: device 1-1.3 disappeared during the operation" "$out"
check "vanished: match_busid entry taken back" "add 1-1.3del 1-1.3" "$(cat "$HOST/match_busid")"

echo "kernel does not take the device"
make_tree "$T"; add_boards "$T"
kernel_unbind usb 1-1.3 "$ARTY" &
out=$(binder --sysfs-root "$T" bind 1-1.3 2>&1); rc=$?
wait
check "not taken: exit 1" 1 "$rc"
check "not taken: message" "usbip-binder: usbip-host did not take 1-1.3 (driver is none)" "$out"
check "not taken: match_busid entry taken back" "add 1-1.3del 1-1.3" "$(cat "$HOST/match_busid")"
check "not taken: device handed back to its driver" "1-1.3" "$(cat "$T/bus/usb/drivers/usb/bind")"

echo "errors"
make_tree "$T"; add_boards "$T"
out=$(binder --sysfs-root "$T" bind 2-1 2>&1); rc=$?
check "no such device: exit 4" 4 "$rc"
check "no such device: message" "usbip-binder: no USB device 2-1" "$out"
out=$(binder --sysfs-root "$T" unbind 2-1 2>&1); rc=$?
check "unbind of no such device: exit 4" 4 "$rc"
rm -rf "$HOST"
out=$(binder --sysfs-root "$T" bind 1-1.3 2>&1); rc=$?
check "usbip-host missing: exit 6" 6 "$rc"
check "usbip-host missing: message" \
    "usbip-binder: usbip-host driver not loaded ($T/bus/usb/drivers/usbip-host missing): modprobe usbip-host" "$out"
out=$(binder frobnicate 2>&1); rc=$?
check "unknown command: exit 2" 2 "$rc"
check "unknown command: message" "usbip-binder: unknown command 'frobnicate'
usbip-binder: try 'usbip-binder --help'" "$out"
out=$(binder bind 1-1.3 --port 99 2>&1); rc=$?
check "--port outside serve: exit 2" 2 "$rc"
for bad in 65536 -1 00 x; do
    out=$(binder serve --port "$bad" 2>&1); rc=$?
    check "bad --port $bad: exit 2 and the range" "2 usbip-binder: bad --port '$bad' (1-65535, or 0 for a free one)" "$rc $(head -n 1 <<< "$out")"
done
out=$(binder serve --allow 10.0.0.300/8 2>&1); rc=$?
check "bad --allow: exit 2" 2 "$rc"
check "bad --allow: message" "usbip-binder: bad --allow '10.0.0.300/8' (CIDR, e.g. 192.168.10.0/24)" "$(head -n 1 <<< "$out")"
out=$(binder --version); rc=$?
check "--version exits 0" 0 "$rc"
check_contains "--version names the program" "usbip-binder " "$out"

echo "binder.conf errors carry file and line"
conf_error() {
    printf '%b' "$2" > "$WORK/bad.conf"
    out=$(binder --sysfs-root "$T" --config "$WORK/bad.conf" status 2>&1); rc=$?
    check "conf: $1: exit 3" 3 "$rc"
    check "conf: $1: message" "usbip-binder: $WORK/bad.conf:$3" "$out"
}
conf_error "unknown directive" '# c\n\nport 3240\nlisten 0.0.0.0\n' "4: unknown directive 'listen'"
conf_error "port twice" 'port 3240\nport 3241\n' "2: 'port' repeated (first on line 1)"
conf_error "port range" 'port 65536\n' "1: bad port '65536' (1-65535)"
conf_error "bad CIDR" 'allow 192.168.10.0/33\n' "1: bad CIDR '192.168.10.0/33'"
conf_error "allow arity" 'allow\n' "1: 'allow' takes one CIDR"
conf_error "uppercase id" 'device a 0403:601A\n' "1: bad id '0403:601A' (vid:pid, lowercase hex)"
conf_error "bad option" 'device a 0403:6010 color=red\n' "1: bad device option 'color=red' (serial=S or port=P, each once)"
conf_error "bad name" 'device Arty 0403:6010\n' "1: bad device name 'Arty' ([a-z0-9-]+)"
conf_error "dead_peer_timeout range" 'dead_peer_timeout 4\n' "1: bad dead_peer_timeout '4' (seconds, 5-3600)"
conf_error "dead_peer_timeout text" 'dead_peer_timeout 30s\n' "1: bad dead_peer_timeout '30s' (seconds, 5-3600)"
conf_error "dead_peer_timeout twice" 'dead_peer_timeout 30\nport 1\ndead_peer_timeout 60\n' "3: 'dead_peer_timeout' repeated (first on line 1)"
out=$(binder serve --dead-peer-timeout 3601 2>&1); rc=$?
check "bad --dead-peer-timeout: exit 2" 2 "$rc"
check "bad --dead-peer-timeout: message" "usbip-binder: bad --dead-peer-timeout '3601' (seconds, 5-3600)" "$(head -n 1 <<< "$out")"
out=$(binder --sysfs-root "$T" --config "$WORK/missing.conf" status 2>&1); rc=$?
check "named config missing: exit 3" 3 "$rc"
check_contains "named config missing: message" "cannot read $WORK/missing.conf: No such file or directory" "$out"
printf 'port 3240 # trailing comment\n\tallow ::1\nallow 10.1.2.3\n  # indented comment\ndevice x 0403:6010 port=1-1.3\n' > "$WORK/ok.conf"
out=$(binder --sysfs-root "$T" --config "$WORK/ok.conf" status 2>&1); rc=$?
check "comments, blanks, tabs, host CIDRs parse" 0 "$rc"
check_contains "port= selects the device" "1-1.3      0403:6010  usb           -          x" "$out"

summary "sysfs suite ($BINDER_ARCH)"
