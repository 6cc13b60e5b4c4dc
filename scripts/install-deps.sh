#!/usr/bin/env bash
# Installs the Debian packages listed in DIR/*.apt and the PyPI packages in DIR/*.pip that are
# not installed yet. Runs apt-get only when something is missing (needs root or sudo then).
set -euo pipefail
dir=${1:-deps}

mapfile -t wanted < <(cat "$dir"/*.apt 2>/dev/null | sed 's/#.*//' | awk 'NF {print $1}' | sort -u)
missing=()
for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
    echo "install-deps: installing ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

mapfile -t pips < <(cat "$dir"/*.pip 2>/dev/null | sed 's/#.*//' | awk 'NF {print $1}' | sort -u)
for spec in "${pips[@]}"; do
    name=${spec%%[=<>]*}
    if ! python3 -m pip show -q "$name" >/dev/null 2>&1; then
        echo "install-deps: pip installing $spec"
        python3 -m pip install -q "$spec"
    fi
done
