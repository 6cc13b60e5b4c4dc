# shellcheck shell=bash
# Helpers shared by the e2e lanes (Tests/e2e/*-lane.sh). Sourced after the lane sets
#   LANE        its name, the prefix of its messages (e.g. client-lane)
# and, before anything that logs, calls `lane_transcript FILE`: every guest and host command
# with its output and exit status goes there, and `say` lines are copied there with "== ".
#
#   die MSG                         error on stderr, exit 1 (argument errors, before the VMs)
#   now / elapsed START [END]       wall clock seconds, and the difference (2 decimals)
#   log LINE... / say MSG           transcript only / stdout and transcript
#   vm_run LABEL SERIAL CMD [S]     CMD in the root shell on the serial socket SERIAL (console.py),
#                                   timeout S (default 60); output on stdout and in the transcript
#   vm_qmp QMP ARGS...              qmp.py on the QMP socket QMP
#   vm_stop PID QMP                 QMP quit, then SIGTERM after 5 s
#   vm_interrupt SERIAL             Ctrl-C to a shell that may still run a command console.py gave up on
#   vm_report TITLE SERIAL CMD      for a failure report: interrupt, run CMD, print its output
#   host_usbip_list PORT            the host's Debian `usbip list -r` against the forwarded PORT
#   free_port                       a TCP port on 127.0.0.1 the kernel reports free (for a hostfwd)
#   wait_for SECONDS CMD...         CMD every 0.2 s until it succeeds; fails only after SECONDS
#   vm_wait_marker PID LOG MARKER S until LOG holds MARKER; fails (the reason in VM_WAIT_ERROR)
#                                   when the qemu PID exits first, the guest kernel panics, or
#                                   after S seconds
#   lane_tail TITLE FILE N          the last N lines of FILE under a "--- TITLE ---" header
#   lane_traps FAIL_FN EXIT_CMD STOP_CMD
#                                   ERR -> FAIL_FN "command failed (line L): CMD"; EXIT -> EXIT_CMD;
#                                   INT/TERM -> STOP_CMD, exit 130

LANE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${LANE:?set LANE before sourcing lane-lib.sh}"
LANE_TRANSCRIPT=/dev/null

# E2E_ACCEL: the qemu accelerator of every lane's VMs. The default is single-threaded TCG (all
# of a VM's vCPUs on one host thread): multi-threaded TCG in Debian 12's QEMU 7.2 races a vCPU's
# translation against another vCPU's code patching, and a guest kernel patching a static key
# (systemd's device cgroup programs toggle one at boot) died of an int3 trap at the patched jump
# in one CI run of issue 23 (QEMU 8.1's "accel/tcg: Always lock pages before translation" fixed
# that race). thread=single made the boots here 4-26 s longer (trixie's the most) and the
# arm64 one 16 s; the client lane's two VMs fill both cores either way.
: "${E2E_ACCEL:=tcg,thread=single}"
export E2E_ACCEL

die() { printf '%s: error: %s\n' "$LANE" "$*" >&2; exit 1; }

# lane_help_or_die ARG: the end of every lane's option loop. --help prints the lane's usage()
# and exits 0; any other argument the lane did not take is an error.
lane_help_or_die() {
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.2f", b - a }'; }

# usage: lane_transcript FILE (truncated)
lane_transcript() {
  LANE_TRANSCRIPT=$1
  : >"$LANE_TRANSCRIPT"
}
log() { printf '%s\n' "$@" >>"$LANE_TRANSCRIPT"; }
say() { printf '%s: %s\n' "$LANE" "$*"; log "== $*"; }

vm_run() {
  local label=$1 serial=$2 cmd=$3 output status=0
  output=$(python3 "$LANE_LIB_DIR/console.py" "$serial" run "$cmd" "${4:-60}" 2>&1) || status=$?
  output=${output//$'\r'/}
  log "$label\$ $cmd" "$output" "(exit $status)"
  printf '%s\n' "$output"
  return "$status"
}

vm_qmp() { python3 "$LANE_LIB_DIR/qmp.py" "$@"; }

vm_stop() {
  local pid=$1 qmp=$2
  [[ -n $pid ]] || return 0
  python3 "$LANE_LIB_DIR/qmp.py" "$qmp" quit >/dev/null 2>&1 || true
  for _ in $(seq 20); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  kill "$pid" 2>/dev/null || true
}

vm_interrupt() {
  python3 -c 'import socket, sys, time; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"\x03\r"); time.sleep(0.5)' "$1" 2>/dev/null || true
}

vm_report() {
  local title=$1 serial=$2 cmd=$3
  vm_interrupt "$serial"
  printf -- '--- %s ---\n' "$title"
  python3 "$LANE_LIB_DIR/console.py" "$serial" run "$cmd" 60 2>&1 | tr -d '\r' || true
}

host_usbip_list() {
  local port=$1 output status=0
  output=$(usbip --tcp-port "$port" list -r 127.0.0.1 2>&1) || status=$?
  log "host\$ usbip --tcp-port $port list -r 127.0.0.1" "$output" "(exit $status)"
  printf '%s\n' "$output"
  return "$status"
}

# The port is released before qemu binds it: another process taking it in between makes qemu
# fail to start (its hostfwd cannot bind), which the lane reports; it does not pass by chance.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# shellcheck disable=SC2034 # VM_WAIT_ERROR is for the sourcing lane
vm_wait_marker() {
  local pid=$1 log=$2 marker=$3 seconds=$4 deadline=$((SECONDS + $4))
  until grep -q "$marker" "$log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { VM_WAIT_ERROR="qemu exited before $marker"; return 1; }
    # A panicked guest waits forever (panic=0): say so now rather than at the timeout.
    if grep -q 'Kernel panic - not syncing' "$log" 2>/dev/null; then
      VM_WAIT_ERROR="the guest kernel panicked before $marker (the console log holds the oops)"
      return 1
    fi
    ((SECONDS < deadline)) || { VM_WAIT_ERROR="no $marker within $seconds s"; return 1; }
    sleep 1
  done
}

lane_tail() {
  local title=$1 file=$2 lines=$3
  [[ -e $file ]] || return 0
  printf -- '--- %s (last %s lines of %s) ---\n' "$title" "$lines" "$file"
  tail -n "$lines" "$file" 2>/dev/null || true
}

lane_traps() {
  # shellcheck disable=SC2064 # the function names are fixed now; LINENO and BASH_COMMAND are not
  trap "$1 \"command failed (line \$LINENO): \$BASH_COMMAND\"" ERR
  # shellcheck disable=SC2064
  trap "$2" EXIT
  # shellcheck disable=SC2064
  trap "$3; exit 130" INT TERM
}
