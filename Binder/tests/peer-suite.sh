#!/usr/bin/env bash
# Hostile peers for `usbip-binder serve` on loopback (issue #10): hostile-peers.py (floods,
# malformed and idle clients under a 50 ms devlist prober) and allowlist-peer.py (a peer
# outside the allowlist is closed before any byte is read, checked with strace);
# holders-peer.py (issue 20: the socket options before hand-over, traced with strace, and
# OP_REQ_HOLDERS / status naming who holds a board). The
# timing budget (100 ms) is about the binary, not an emulator: native runs only.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=Binder/tests/lib.sh
. "$HERE/lib.sh"
need python3 "the peers, free ports" strace "Debian package strace"

suite_workdir
make_tree "$T"; add_boards "$T"
set_driver "$T" devices/platform/soc/usb1/1-1/1-1.3 usbip-host
attr "$T/devices/platform/soc/usb1/1-1/1-1.3/usbip_status" 1
: > "$T/devices/platform/soc/usb1/1-1/1-1.3/usbip_sockfd"
BIN=$(cd "$(dirname "$BINDER")" && pwd)/$(basename "$BINDER")

status=0
echo "hostile peers (prober: devlist every 50 ms, budget 100 ms)"
python3 "$HERE/hostile-peers.py" "$BIN" "$T" "$(free_port)" 1 || status=1
echo "allowlist: refused before any byte is read"
python3 "$HERE/allowlist-peer.py" "$BIN" "$T" "$(free_port)" || status=1
echo "dead-peer socket options and board holders (strace, OP_REQ_HOLDERS, status)"
python3 "$HERE/holders-peer.py" "$BIN" "$T" "$(free_port)" "$(free_port)" || status=1
exit "$status"
