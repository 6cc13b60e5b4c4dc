#!/usr/bin/env bash
# Runs every usbip-binder suite for one binary: BINDER=path [BINDER_RUNNER=qemu...] BINDER_ARCH=name.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
status=0
bash "$HERE/sysfs-suite.sh" || status=1
bash "$HERE/serve-suite.sh" || status=1
bash "$HERE/hotplug-suite.sh" || status=1
# Timing budgets hold for the binary, not for an emulator: native only.
if [ -z "${BINDER_RUNNER:-}" ]; then bash "$HERE/peer-suite.sh" || status=1; fi
exit "$status"
