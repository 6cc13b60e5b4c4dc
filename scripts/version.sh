#!/usr/bin/env bash
# Prints fpga-lab's version: `git describe` of the source tree, made a Debian version.
#   tag v0.1.0 exactly          -> 0.1.0
#   12 commits after v0.1.0     -> 0.1.0+12.g1a2b3c4d5e6f
#   uncommitted changes         -> ... with .dirty appended (0.1.0+12.g1a2b3c4d5e6f.dirty)
#   no v* tag reachable         -> 0.0.0+N.gHASH (N: commits in the history)
# `+` sorts after the tag and before the next one (0.1.0 < 0.1.0+12.g... < 0.1.1), as dpkg
# compares versions. Used by make for --version and the manifest (version-header), the .deb
# (make dist) and the usbip-binder builds. Fails outside a git checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
git rev-parse --git-dir >/dev/null 2>&1 || {
  echo "version.sh: $(pwd) is not a git checkout: no version to derive" >&2
  exit 1
}
dirty=''
git diff --quiet HEAD -- 2>/dev/null || dirty=.dirty
hash=$(git rev-parse --short=12 HEAD)
if described=$(git describe --tags --match 'v[0-9]*' --long --abbrev=12 HEAD 2>/dev/null); then
  # v0.1.0-12-g1a2b3c4d5e6f
  tag=${described%-*-g*}
  count=${described#"$tag"-}
  count=${count%%-*}
  version=${tag#v}
  [[ $version =~ ^[0-9][0-9A-Za-z.~]*$ ]] || {
    echo "version.sh: tag $tag is not v followed by a Debian upstream version" >&2
    exit 1
  }
  ((count == 0)) || version+="+$count.g$hash"
else
  version="0.0.0+$(git rev-list --count HEAD).g$hash"
fi
if [[ -n $dirty ]]; then
  [[ $version == *+* ]] && version+=$dirty || version+="+dirty"
fi
echo "$version"
