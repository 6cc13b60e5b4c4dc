#!/usr/bin/env bash
# Runs libFuzzer targets built by `make fuzz-build` and prints one line per target.
#
#   Fuzz/run-fuzz.sh BIN_DIR OUT_DIR SECONDS TIMEOUT TARGET...
#
# Each target fuzz-T runs for SECONDS on a copy of Fuzz/Corpus/T in OUT_DIR/T/corpus (so the
# committed corpus is never rewritten), with AddressSanitizer, -rss_limit_mb=2048 and
# -timeout=TIMEOUT (an input that runs longer is a hang). Findings (crash-*, timeout-*, oom-*,
# leak-*) land in OUT_DIR/T/, the log in OUT_DIR/T/log. Exit status 1 when any target found
# something or did not run; the paths of the inputs that did it are printed.
set -uo pipefail
# Swift's own crash handler would race AddressSanitizer's report; libFuzzer prints the stack.
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")/.." || exit 1
bin=$1 out=$2 seconds=$3 timeout=$4
shift 4
status=0
findings=()
printf '%-16s %12s %9s %7s %8s %8s\n' target executions exec/s cov ft crashes
for target in "$@"; do
    dir=$out/$target
    rm -rf "$dir"
    mkdir -p "$dir/corpus"
    cp Fuzz/Corpus/"$target"/* "$dir/corpus/"
    "$bin/fuzz-$target" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    found=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
    count=$(printf '%s' "$found" | grep -c . || true)
    printf '%-16s %12s %9s %7s %8s %8s\n' "$target" "${execs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "$count"
    if [ "$count" -gt 0 ] || [ "$rc" -ne 0 ]; then
        status=1
        findings+=("fuzz-$target: exit $rc, log $dir/log")
        while IFS= read -r path; do [ -n "$path" ] && findings+=("  input: $path"); done <<<"$found"
    fi
done
if [ "$status" -ne 0 ]; then
    printf '\nfindings (reproduce: %s/fuzz-TARGET INPUT):\n' "$bin"
    printf '%s\n' "${findings[@]}"
fi
exit "$status"
