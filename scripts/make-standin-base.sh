#!/usr/bin/env bash
# Builds stand-ins of a stock Raspberry Pi OS image (pi-gen layout) without root tricks.
set -Eeuo pipefail
trap 'printf "make-standin-base: error: command failed (line %s): %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB_DIR=$SCRIPT_DIR/lib
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=SCRIPTDIR/lib/standin-layout.sh
. "$LIB_DIR/standin-layout.sh"
# shellcheck source=SCRIPTDIR/lib/standin-small.sh
. "$LIB_DIR/standin-small.sh"
# shellcheck source=SCRIPTDIR/lib/standin-bootable.sh
. "$LIB_DIR/standin-bootable.sh"

usage() {
  cat <<'EOF'
usage: make-standin-base.sh --small OUT.img [options]
       make-standin-base.sh --bootable OUT.img [options]

  --small OUT.img     small stand-in: MBR, FAT16 bootfs at sector 8192, tiny ext4 rootfs (< 10 s)
  --bootable OUT.img  x86_64 Debian stand-in bootable under qemu: FAT32 bootfs at sector 16384
                      holding vmlinuz + initrd.img; also writes OUT.vmlinuz and OUT.initrd.img
options:
  --release R         bootable only: bookworm (Debian 12, default) or trixie (Debian 13: 512 MiB
                      bootfs with 512-byte clusters, cmdline `resize`, cloud-init with the NoCloud
                      seed on bootfs, first user pi with shell nologin, NetworkManager)
  --arch A            x86_64 | aarch64 | armhf (small only; default x86_64)
  --boot-mib N        bootfs size in MiB (small: 64, bootable: 256)
  --fat 16|32         bootfs FAT type (small: 16, bootable: 32)
  --disk-id HEX8      MBR disk identifier (PARTUUID prefix)
  --size-gib N        whole image size in GiB (small only: a benchmark base)
  --fill-mib M        copy about M MiB of the host's /usr/share and /usr/lib into the rootfs
  --cache DIR         cache directory (default: REPO/build/cache)
environment:
  SOURCE_DATE_EPOCH   timestamps of every file and file system (default 1731974400, 2024-11-19)
EOF
}

mode='' out='' arch=x86_64 boot_mib='' fat='' disk_id='' size_gib='' fill_mib=0 release=
cache_dir=$REPO_ROOT/build/cache
while (($#)); do
  case $1 in
    --small | --bootable)
      mode=${1#--}
      out=${2:?"$1 needs an output path"}
      shift 2
      ;;
    --arch | --boot-mib | --fat | --disk-id | --size-gib | --fill-mib | --cache | --release)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      case $1 in
        --release) release=$2 ;;
        --arch) arch=$2 ;;
        --boot-mib) boot_mib=$2 ;;
        --fat) fat=$2 ;;
        --disk-id) disk_id=$2 ;;
        --size-gib) size_gib=$2 ;;
        --fill-mib) fill_mib=$2 ;;
        --cache) cache_dir=$2 ;;
      esac
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
[[ -n $mode ]] || {
  usage >&2
  die "give --small OUT.img or --bootable OUT.img"
}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1731974400}
[[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be seconds since 1970"
for v in boot_mib size_gib fill_mib; do
  [[ -z ${!v} || ${!v} =~ ^[0-9]+$ ]] || die "--${v//_/-} must be a whole number (got '${!v}')"
done
[[ -z $fat || $fat == 16 || $fat == 32 ]] || die "--fat must be 16 or 32 (got '$fat')"
[[ -z $disk_id || $disk_id =~ ^[0-9a-f]{8}$ ]] || die "--disk-id must be 8 lowercase hex digits"
[[ -z $release || $release == bookworm || $release == trixie ]] || die "--release must be bookworm or trixie (got '$release')"
[[ -z $release || $mode != small ]] || die "--release applies to --bootable only"
need_tools sfdisk mkdosfs mmd mcopy mkfs.ext4 debugfs openssl truncate dd
mkdir -p "$(dirname "$out")" "$cache_dir"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

work=$(mktemp -d "${out}.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [[ $mode == small ]]; then
  boot_mib=${boot_mib:-64} fat=${fat:-16} disk_id=${disk_id:-5e3da3f1}
  boot_start=8192 root_mib=32
  if [[ -n $size_gib ]]; then
    root_start_mib=$(((boot_start / 2048 + boot_mib + 3) / 4 * 4))
    root_mib=$((size_gib * 1024 - root_start_mib))
    ((root_mib >= 64)) || die "--size-gib $size_gib leaves no room for the rootfs"
  fi
  envbin=$(arch_env_binary "$arch" "$cache_dir/standin")
  small_bootfs "$work/boot" "$arch" "$disk_id"
  small_rootfs "$work/root" "$arch" "$disk_id" "$envbin"
  if ((fill_mib > 0)); then
    fill_rootfs "$work/root" "$fill_mib"
    used_mib=$(($(du -sm "$work/root" | cut -f1) * 115 / 100 + 64))
    ((used_mib <= root_mib)) || root_mib=$used_mib
  fi
  pin_mtimes "$work/boot"
  pin_mtimes "$work/root"
  make_fat "$work/boot.fat" "$boot_mib" "$fat" "${disk_id}" "$boot_start" "$work/boot"
  make_ext4 "$work/root.ext4" "$root_mib" "$(fixed_uuid "rootfs-$disk_id")" "$work/root"
  assemble_image "$work/out.img" "$disk_id" "$boot_start" "$boot_mib" "$fat" "$work/boot.fat" \
    "$root_mib" "$work/root.ext4"
  mv "$work/out.img" "$out"
else
  [[ $arch == x86_64 ]] || die "--bootable builds x86_64 only (got --arch $arch)"
  [[ -z $size_gib && $fill_mib == 0 ]] || die "--size-gib/--fill-mib apply to --small only"
  if [[ $release == trixie ]]; then
    build_bootable "$out" "${boot_mib:-512}" "${fat:-32}" "${disk_id:-7c1e0a13}" "$cache_dir" "$work" trixie
  else
    build_bootable "$out" "${boot_mib:-256}" "${fat:-32}" "${disk_id:-8a438930}" "$cache_dir" "$work" bookworm
  fi
fi
note "wrote $out"
