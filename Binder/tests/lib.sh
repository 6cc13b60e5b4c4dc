# shellcheck shell=bash
# Helpers for the usbip-binder test scripts: a fake sysfs tree with the real
# layout (DESIGN.md section 6), a runner for the binary under test (natively or
# under qemu-user), and assertions. Sourced, not run.

: "${BINDER:?set BINDER to the usbip-binder binary under test}"
BINDER_RUNNER=${BINDER_RUNNER:-}
FAILURES=0
PASSES=0

# binder ARGS...: runs the binary under test (through qemu when BINDER_RUNNER is set).
binder() {
    # shellcheck disable=SC2086 # BINDER_RUNNER is a command line, split on purpose
    $BINDER_RUNNER "$BINDER" "$@"
}

pass() { PASSES=$((PASSES + 1)); printf '  ok   %s\n' "$1"; }
fail() { FAILURES=$((FAILURES + 1)); printf '  FAIL %s\n' "$1"; }

# check NAME EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1"
        printf '       expected: %q\n       actual:   %q\n' "$2" "$3"
    fi
}

# check_contains NAME NEEDLE HAYSTACK
check_contains() {
    case "$3" in
        *"$2"*) pass "$1" ;;
        *) fail "$1"; printf '       wanted %q in: %q\n' "$2" "${3:0:300}" ;;
    esac
}

# summary: prints the counts, returns non-zero on any failure.
summary() {
    printf '%s: %d passed, %d failed\n' "$1" "$PASSES" "$FAILURES"
    [ "$FAILURES" -eq 0 ]
}

# attr FILE TEXT: one sysfs attribute, newline-terminated like the kernel's.
attr() { printf '%s\n' "$2" > "$1"; }

# make_tree ROOT: drivers and the root hub usb1 with an external hub 1-1.
make_tree() {
    local root=$1 d
    rm -rf "$root"
    mkdir -p "$root/bus/usb/devices"
    for d in usb hub usbip-host ftdi_sio; do mkdir -p "$root/bus/usb/drivers/$d"; done
    : > "$root/bus/usb/drivers/usb/bind"
    : > "$root/bus/usb/drivers/usb/unbind"
    for d in bind unbind match_busid rebind; do : > "$root/bus/usb/drivers/usbip-host/$d"; done
    add_device "$root" usb1 devices/platform/soc/usb1 1d6b 0002 0602 09 usb 480 "3f980000.usb" "09/00/00"
    add_device "$root" 1-1 devices/platform/soc/usb1/1-1 0424 9514 0200 09 usb 480 "" "09/00/02"
}

# add_device ROOT BUSID DIR VID PID BCD CLASS DRIVER SPEED SERIAL "IFCLS/SUB/PROTO ..."
# The device directory DIR, its interfaces, its driver link and its
# bus/usb/devices link. busnum is the number after "usb"/before "-"; devnum
# counts devices created in this tree.
add_device() {
    local root=$1 busid=$2 dir=$3 vid=$4 pid=$5 bcd=$6 class=$7 driver=$8 speed=$9
    local serial=${10} ifaces=${11}
    local path="$root/$dir" n=0 i cls sub proto busnum
    mkdir -p "$path"
    busnum=${busid%%-*}
    busnum=${busnum#usb}
    DEVNUM=$(( ${DEVNUM:-0} + 1 ))
    attr "$path/idVendor" "$vid"
    attr "$path/idProduct" "$pid"
    attr "$path/bcdDevice" "$bcd"
    attr "$path/bDeviceClass" "$class"
    attr "$path/bDeviceSubClass" 00
    attr "$path/bDeviceProtocol" 00
    attr "$path/bConfigurationValue" 1
    attr "$path/bNumConfigurations" 1
    attr "$path/busnum" "$busnum"
    attr "$path/devnum" "$DEVNUM"
    attr "$path/speed" "$speed"
    [ -n "$serial" ] && attr "$path/serial" "$serial"
    for i in $ifaces; do
        IFS=/ read -r cls sub proto <<< "$i"
        mkdir -p "$path/$busid:1.$n"
        attr "$path/$busid:1.$n/bInterfaceClass" "$cls"
        attr "$path/$busid:1.$n/bInterfaceSubClass" "$sub"
        attr "$path/$busid:1.$n/bInterfaceProtocol" "$proto"
        n=$((n + 1))
    done
    printf '%2d\n' "$n" > "$path/bNumInterfaces"
    [ -n "$driver" ] && set_driver "$root" "$dir" "$driver"
    ln -sr "$path" "$root/bus/usb/devices/$busid"
}

# set_driver ROOT DIR NAME: what the kernel does when a driver binds (relative link).
set_driver() { ln -sfnr "$1/bus/usb/drivers/$3" "$1/$2/driver"; }

# The boards of the tests (under the hub 1-1): an Arty (FT2232H) and a Digilent JTAG.
add_boards() {
    local root=$1
    add_device "$root" 1-1.3 devices/platform/soc/usb1/1-1/1-1.3 0403 6010 0700 00 usb 480 \
        210319A4B3C1 "ff/ff/ff ff/ff/ff"
    add_device "$root" 1-1.4 devices/platform/soc/usb1/1-1/1-1.4 03fd 0013 0001 ff usb 12 "" "ff/00/00"
}

# need TOOL WHY [TOOL WHY...]: the suite cannot run without each TOOL.
need() {
    while [ $# -ge 2 ]; do
        command -v "$1" > /dev/null || { echo "$1 is required ($2)"; exit 1; }
        shift 2
    done
}

# suite_workdir: WORK, a temporary directory, T, the fake sysfs root inside it, and PIDS,
# background processes of the suite; on exit all go (the processes killed and waited for).
suite_workdir() {
    WORK=$(mktemp -d)
    T=$WORK/sys
    PIDS=()
    trap suite_cleanup EXIT
}
suite_cleanup() {
    local p
    for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2> /dev/null; done
    wait 2> /dev/null
    rm -rf "$WORK"
}

# free_port: a TCP port the kernel reports free on the IPv4 and IPv6 wildcards (a dual-stack
# socket bound to port 0), for a port that must be known before the server starts (binder.conf's
# `port`, which takes 1-65535). It is released before the server binds it, so another process
# could take it in between; a server started with --port 0 binds a free port itself and names it
# (served_port).
free_port() {
    python3 -c 'import socket
try:
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", 0))
except OSError:
    s = socket.socket(socket.AF_INET)
    s.bind(("0.0.0.0", 0))
print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds; fails only when
# SECONDS pass without that.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# served_port: the port of the server start_server last started, from its STATUS= line (the
# binder's --port 0 binds one the kernel picks); empty when the notification has none.
served_port() { sed -n 's/^STATUS=serving USB\/IP on port \([0-9][0-9]*\)$/\1/p' <<< "$NOTIFIED"; }

# has_line FILE LINE / has_text FILE TEXT: FILE holds LINE as a whole line / TEXT anywhere.
has_line() { grep -qxF -- "$2" "$1" 2> /dev/null; }
has_text() { grep -qF -- "$2" "$1" 2> /dev/null; }

# wait_for_line FILE LINE [SECONDS]: until FILE holds LINE (default 10 s).
wait_for_line() { wait_for "${3:-10}" has_line "$1" "$2"; }

# driver_state: every file the binder may write under $T, for before/after comparisons.
driver_state() { (cd "$T/bus/usb/drivers" && grep -r . --include=bind --include=unbind --include=match_busid --include=rebind . | sort); }

# The fake tree's kernel (needs $T and $HOST = $T/bus/usb/drivers/usbip-host), run in the
# background while the binder works.
# kernel_bind BUSID DIR: answers the binder's write to usbip-host/bind as the kernel does.
kernel_bind() {
    wait_for_line "$HOST/bind" "$1" && set_driver "$T" "$2" usbip-host && attr "$T/$2/usbip_status" 1
}

# kernel_unbind DRIVER BUSID DIR: the old driver lets go once told (driver link removed).
kernel_unbind() {
    wait_for_line "$T/bus/usb/drivers/$1/unbind" "$2" && rm -f "$T/$3/driver"
}

# kernel_move DRIVER BUSID DIR: both reactions, in the kernel's order.
kernel_move() { kernel_unbind "$@" && kernel_bind "$2" "$3"; }

# start_server LOG [ARGS...]: runs `serve` on the tree $T, waits for READY=1 on a notify socket
# in $WORK; the server's pid is added to PIDS and set in SERVER, the notification in NOTIFIED.
# shellcheck disable=SC2034 # SERVER and NOTIFIED are for the sourcing suite
start_server() {
    local log=$1 sock
    shift
    NOTIFY_COUNT=$(( ${NOTIFY_COUNT:-0} + 1 ))
    sock=$WORK/notify.$NOTIFY_COUNT
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(30)
print(s.recv(4096).decode())' "$sock" > "$sock.out" &
    wait_for 10 test -S "$sock" || { fail "notify listener never bound $sock"; return 1; }
    # Not through the binder function: $! must be the server (or its qemu) itself.
    # shellcheck disable=SC2086 # BINDER_RUNNER is a command line, split on purpose
    NOTIFY_SOCKET=$sock $BINDER_RUNNER "$BINDER" --sysfs-root "$T" serve "$@" 2> "$log" &
    PIDS+=("$!")
    SERVER=$!
    # No READY=1 within 30 s leaves NOTIFIED empty: the suite's READY=1 check reports it.
    wait_for 30 test -s "$sock.out"
    NOTIFIED=$(cat "$sock.out")
}
