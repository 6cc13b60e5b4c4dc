#!/usr/bin/env bash
# usbip-binder serve on loopback against Debian's real `usbip` client, plus raw
# byte-level checks of every reply (golden bytes built here with printf, not by
# the binder's codec), import hand-over, allowlist, timeouts, malformed input
# and READY=1 over $NOTIFY_SOCKET.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=Binder/tests/lib.sh
. "$HERE/lib.sh"
need usbip "Debian package usbip" python3 "sd_notify listener, free ports"

suite_workdir
BASE=devices/platform/soc/usb1/1-1
make_tree "$T"; add_boards "$T"
add_device "$T" 1-1.2 "$BASE/1-1.2" 09fb 6010 0100 00 usbip-host 480 "" "ff/ff/ff"
attr "$T/$BASE/1-1.2/usbip_status" 2
set_driver "$T" "$BASE/1-1.3" usbip-host
attr "$T/$BASE/1-1.3/usbip_status" 1
: > "$T/$BASE/1-1.3/usbip_sockfd"
: > "$T/$BASE/1-1.2/usbip_sockfd"

# normalise: the fields of `usbip list -r` output, without usb.ids names.
normalise() {
    sed -nE -e 's/^ +([0-9.-]+): .*\(([0-9a-f]{4}:[0-9a-f]{4})\)$/dev \1 \2/p' \
        -e 's/^ +: (\/sys\/.*)$/path \1/p' \
        -e 's/^ +: \(.*\) \(([0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{2})\)$/class \1/p' \
        -e 's/^ +: +([0-9]+) - .*\(([0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{2})\)$/if \1 \2/p'
}

# Golden bytes, written out field by field (DESIGN.md section 6).
be32() {
    local v=$1
    printf '%b' "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((v >> 24 & 255)) $((v >> 16 & 255)) $((v >> 8 & 255)) $((v & 255)))"
}
field() { printf '%s' "$1"; head -c $(($2 - ${#1})) /dev/zero; }
dev_1_1_2() {
    field "/sys/$BASE/1-1.2" 256; field 1-1.2 32; be32 1; be32 "$(cat "$T/$BASE/1-1.2/devnum")"; be32 3
    printf '\x09\xfb\x60\x10\x01\x00\x00\x00\x00\x01\x01\x01'
}
dev_1_1_3() {
    field "/sys/$BASE/1-1.3" 256; field 1-1.3 32; be32 1; be32 "$(cat "$T/$BASE/1-1.3/devnum")"; be32 3
    printf '\x04\x03\x60\x10\x07\x00\x00\x00\x00\x01\x01\x02'
}
hexof() { od -An -tx1 -v | tr -d ' \n'; }

# exchange REQUEST-BYTES-FILE REPLY-FILE: one TCP session through bash's /dev/tcp.
exchange() {
    exec 3<> "/dev/tcp/127.0.0.1/$PORT"
    cat "$1" >&3
    timeout 10 cat <&3 > "$2"
    exec 3<&-
}

echo "serve answers usbip list -r"
start_server "$WORK/serve.log" --port 0 --timeout 2
# --port 0: the kernel picks the port; STATUS= and the log name it, and the checks below reach
# the server there.
PORT=$(served_port)
check "READY=1 sent to NOTIFY_SOCKET, STATUS= names the port bound for --port 0" "READY=1
STATUS=serving USB/IP on port $PORT yes" "$NOTIFIED $([[ $PORT =~ ^[1-9][0-9]*$ ]] && echo yes)"
check_contains "log: the bound port" "listening on port $PORT (" "$(cat "$WORK/serve.log")"
expected="dev 1-1.2 09fb:6010
path /sys/$BASE/1-1.2
class 00/00/00
if 0 ff/ff/ff
dev 1-1.3 0403:6010
path /sys/$BASE/1-1.3
class 00/00/00
if 0 ff/ff/ff
if 1 ff/ff/ff"
out=$(usbip --tcp-port "$PORT" list -r 127.0.0.1 2> /dev/null); rc=$?
check "usbip list -r 127.0.0.1 exits 0" 0 "$rc"
check "usbip list -r 127.0.0.1: every field" "$expected" "$(normalise <<< "$out")"
out=$(usbip --tcp-port "$PORT" list -r ::1 2> /dev/null); rc=$?
check "usbip list -r ::1 exits 0" 0 "$rc"
check "usbip list -r ::1: every field" "$expected" "$(normalise <<< "$out")"

echo "raw replies, byte for byte"
printf '\x01\x11\x80\x05\x00\x00\x00\x00' > "$WORK/req"
exchange "$WORK/req" "$WORK/rep"
{ printf '\x01\x11\x00\x05\x00\x00\x00\x00'; be32 2; dev_1_1_2; printf '\xff\xff\xff\x00'
  dev_1_1_3; printf '\xff\xff\xff\x00\xff\xff\xff\x00'; } > "$WORK/golden"
check "OP_REP_DEVLIST bytes" "$(hexof < "$WORK/golden")" "$(hexof < "$WORK/rep")"

{ printf '\x01\x11\x80\x03\x00\x00\x00\x00'; field 1-1.3 32; } > "$WORK/req"
exchange "$WORK/req" "$WORK/rep"
{ printf '\x01\x11\x00\x03\x00\x00\x00\x00'; dev_1_1_3; } > "$WORK/golden"
check "OP_REP_IMPORT 1-1.3 bytes" "$(hexof < "$WORK/golden")" "$(hexof < "$WORK/rep")"
sockfd=$(cat "$T/$BASE/1-1.3/usbip_sockfd")
case "$sockfd" in
    [0-9]|[0-9][0-9]|[0-9][0-9][0-9]) pass "socket fd ($sockfd) written to usbip_sockfd" ;;
    *) fail "socket fd written to usbip_sockfd (got '$sockfd')" ;;
esac
{ printf '\x01\x11\x80\x03\x00\x00\x00\x00'; field 1-1.2 32; } > "$WORK/req"
exchange "$WORK/req" "$WORK/rep"
check "import of a device in use: ST_DEV_BUSY" "0111000300000002" "$(hexof < "$WORK/rep")"
check "nothing handed over for a device in use" "" "$(cat "$T/$BASE/1-1.2/usbip_sockfd")"
{ printf '\x01\x11\x80\x03\x00\x00\x00\x00'; field 1-1.4 32; } > "$WORK/req"
exchange "$WORK/req" "$WORK/rep"
check "import of an unexported device: ST_NODEV" "0111000300000004" "$(hexof < "$WORK/rep")"

printf '\x01\x11\x80\xf1\x00\x00\x00\x00' > "$WORK/req"
exchange "$WORK/req" "$WORK/rep"
# OP_REP_HOLDERS (docs/DESIGN.md section 6): 1-1.2 in use (status 2, not handed over by this
# server: no holder), 1-1.3 available (the fake kernel never marks it in use).
{ printf '\x01\x11\x00\xf1\x00\x00\x00\x00'; be32 2
  field 1-1.2 32; be32 2; head -c 28 /dev/zero
  field 1-1.3 32; be32 1; head -c 28 /dev/zero; } > "$WORK/golden"
check "OP_REP_HOLDERS bytes" "$(hexof < "$WORK/golden")" "$(hexof < "$WORK/rep")"

echo "malformed input and timeouts close one connection only"
printf '\x01\x06\x80\x05\x00\x00\x00\x00' > "$WORK/req"
exchange "$WORK/req" "$WORK/rep"
check "bad version: closed without reply" "" "$(hexof < "$WORK/rep")"
printf '\x01\x11\x12\x34\x00\x00\x00\x00' > "$WORK/req"
exchange "$WORK/req" "$WORK/rep"
check "unknown operation: closed without reply" "" "$(hexof < "$WORK/rep")"
printf '\x01\x11\x80' > "$WORK/req"
start=$SECONDS
exchange "$WORK/req" "$WORK/rep"
elapsed=$((SECONDS - start))
check "partial request: closed without reply" "" "$(hexof < "$WORK/rep")"
if [ "$elapsed" -ge 1 ] && [ "$elapsed" -le 5 ]; then pass "partial request: closed by the 2 s timeout (${elapsed} s)"
else fail "partial request: closed by the 2 s timeout (took ${elapsed} s)"; fi
out=$(usbip --tcp-port "$PORT" list -r 127.0.0.1 2> /dev/null); rc=$?
check "server still answers after all that" "0 $expected" "$rc $(normalise <<< "$out")"
log=$(cat "$WORK/serve.log")
check_contains "log: malformed version" "malformed request: unsupported USB/IP version 0x0106, closing" "$log"
check_contains "log: malformed code" "malformed request: unexpected USB/IP operation 0x1234, closing" "$log"
check_contains "log: timeout" "timeout after 2 s, closing" "$log"
check_contains "log: import" "import 1-1.3, socket handed to usbip-host" "$log"
check_contains "log: busy" "import 1-1.2 refused: in use" "$log"
kill "$SERVER"

echo "allowlist"
start_server "$WORK/allow.log" --port 0 --allow 10.0.0.0/8 --allow 127.0.0.1
PORT=$(served_port)
usbip --tcp-port "$PORT" list -r ::1 > /dev/null 2>&1; rc=$?
check "::1 not in 10.0.0.0/8 127.0.0.1/32: usbip fails" 1 "$rc"
out=$(usbip --tcp-port "$PORT" list -r 127.0.0.1 2> /dev/null); rc=$?
check "127.0.0.1 allowed" "0 $expected" "$rc $(normalise <<< "$out")"
log=$(cat "$WORK/allow.log")
check_contains "log: allowlist shown" "allow 10.0.0.0/8 127.0.0.1/32" "$log"
check_contains "log: refusal" "[::1]:" "$(grep 'refused, not in allowlist' "$WORK/allow.log")"
kill "$SERVER"

echo "binder.conf gives port and allowlist"
PORT=$(free_port)
printf 'port %s\nallow ::1/128\n' "$PORT" > "$WORK/binder.conf"
start_server "$WORK/conf.log" --config "$WORK/binder.conf"
usbip --tcp-port "$PORT" list -r 127.0.0.1 > /dev/null 2>&1; rc=$?
check "127.0.0.1 refused by binder.conf allow ::1/128" 1 "$rc"
out=$(usbip --tcp-port "$PORT" list -r ::1 2> /dev/null); rc=$?
check "::1 allowed by binder.conf" "0 $expected" "$rc $(normalise <<< "$out")"
kill "$SERVER"

summary "serve suite ($BINDER_ARCH)"
