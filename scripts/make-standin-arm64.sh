#!/usr/bin/env bash
# Builds the arm64 bootable stand-in: Debian 12 arm64 (mmdebstrap --arch=arm64, maintainer
# scripts run under qemu-user-static through binfmt_misc) with Debian's linux-image-arm64, in the
# Raspberry Pi OS layout of the x86_64 bootable stand-in (MBR, FAT32 bootfs at sector 16384 with
# vmlinuz + initrd.img, ext4 rootfs, root=PARTUUID), bootable with
# `qemu-system-aarch64 -M virt -kernel vmlinuz -initrd initrd.img`. Console: ttyAMA0 (PL011).
# Cached in CACHE/standin (rootfs tarball and image); the .debs in CACHE/apt-archives-arm64.
# A separate script from make-standin-base.sh so that the x86_64 stand-in's cache key (which
# hashes that script and lib/standin-*.sh) does not change.
set -Eeuo pipefail
trap 'printf "make-standin-arm64: error: command failed (line %s): %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB_DIR=$SCRIPT_DIR/lib
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=SCRIPTDIR/lib/standin-layout.sh
. "$LIB_DIR/standin-layout.sh"
# shellcheck source=SCRIPTDIR/lib/standin-small.sh
. "$LIB_DIR/standin-small.sh"
# shellcheck source=SCRIPTDIR/lib/standin-bootable.sh
. "$LIB_DIR/standin-bootable.sh"
die() { printf 'make-standin-arm64: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'make-standin-arm64: %s\n' "$*" >&2; }

ARM64_PACKAGES=${BOOTABLE_PACKAGES/linux-image-amd64/linux-image-arm64}
# Not written by dpkg (less to unpack, depmod, tar and copy under qemu-user): documentation and
# the kernel modules for hardware no qemu virt machine or Pi lab has (sound, GPUs, video capture,
# Wi-Fi, Bluetooth, InfiniBand). The paths are the packages' own, hence /lib/modules.
ARM64_EXCLUDES=(/usr/share/doc/ /usr/share/man/ /usr/share/locale/)
ARM64_EXCLUDES+=(/lib/modules/'*'/kernel/{sound,drivers/gpu,drivers/media,drivers/net/wireless,drivers/infiniband,net/wireless,net/mac80211,net/bluetooth}/)
ARM64_DISK_ID=8a438964

usage() {
  cat <<'EOF'
usage: make-standin-arm64.sh OUT.img [--cache DIR]

Writes OUT.img, OUT.vmlinuz and OUT.initrd.img. Needs root (mmdebstrap runs apt in a chroot),
mmdebstrap, qemu-user-static and binfmt_misc with qemu-aarch64 registered (the script registers
it from /usr/lib/binfmt.d/qemu-aarch64.conf when binfmt_misc can be mounted).
environment:
  SOURCE_DATE_EPOCH   timestamps (default 1731974400)
EOF
}

out='' cache_dir=$REPO_ROOT/build/cache
while (($#)); do
  case $1 in
    --cache)
      cache_dir=${2:?"--cache needs a directory"}
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*) die "unknown option '$1' (try --help)" ;;
    *)
      [[ -z $out ]] || die "one OUT.img only"
      out=$1
      shift
      ;;
  esac
done
[[ -n $out ]] || { usage >&2; exit 2; }
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1731974400}
need_tools mmdebstrap sfdisk mkdosfs mmd mcopy mkfs.ext4 debugfs openssl truncate dd

# mmdebstrap runs arm64 maintainer scripts (and update-initramfs) through binfmt_misc; the
# interpreter must be registered with the F flag (opened at registration) to work in the chroot.
ensure_binfmt() {
  local misc=/proc/sys/fs/binfmt_misc conf=/usr/lib/binfmt.d/qemu-aarch64.conf
  [[ -r $conf ]] || die "no $conf: apt-get install qemu-user-static"
  if [[ ! -e $misc/register ]]; then
    mount -t binfmt_misc binfmt_misc "$misc" 2>/dev/null ||
      die "binfmt_misc is not mounted at $misc and cannot be (mount -t binfmt_misc binfmt_misc $misc needs root outside a container, or a --privileged container): arm64 programs cannot run during mmdebstrap"
  fi
  if [[ ! -e $misc/qemu-aarch64 ]]; then
    cat "$conf" >"$misc/register" 2>/dev/null ||
      die "cannot register qemu-aarch64 in $misc/register (needs root with CAP_SYS_ADMIN on the host's binfmt_misc; in a container run it --privileged, or run 'update-binfmts --enable qemu-aarch64' / 'systemctl restart systemd-binfmt' on the host)"
    note "registered qemu-aarch64 in binfmt_misc ($conf)"
  fi
  if [[ $(head -n1 "$misc/qemu-aarch64") != enabled ]]; then
    echo 1 >"$misc/qemu-aarch64" 2>/dev/null || die "binfmt_misc qemu-aarch64 is disabled and cannot be enabled (echo 1 >$misc/qemu-aarch64)"
    note "enabled qemu-aarch64 in binfmt_misc"
  fi
  grep -q '^flags:.*F' "$misc/qemu-aarch64" ||
    die "binfmt_misc qemu-aarch64 lacks the F (fix-binary) flag, so qemu cannot run inside the chroot: re-register it from $conf (echo -1 >$misc/qemu-aarch64; cat $conf >$misc/register)"
  local probe
  probe=$(find /usr/lib/aarch64-linux-gnu /usr/aarch64-linux-gnu -maxdepth 2 -name 'ld-linux-aarch64.so.1' -print -quit 2>/dev/null || true)
  [[ -z $probe ]] || "$probe" --version >/dev/null 2>&1 ||
    die "binfmt_misc qemu-aarch64 is registered but $probe does not run"
}

# The initramfs: Debian's initramfs-tools with MODULES=list, i.e. only the modules that booting
# `qemu-system-aarch64 -M virt` from a virtio disk needs (the generic PCIe host bridge and the
# PL011 UART are built into linux-image-arm64), loaded at init-top. MODULES=most under qemu-user
# took most of an hour; this takes about a minute. update-initramfs is diverted to a no-op while
# the packages install (the kernel hook and the initramfs-tools trigger would build it twice) and
# runs once at the end.
INITRAMFS_MODULES='virtio_pci virtio_mmio virtio_blk virtio_net ext4 vfat nls_cp437 nls_ascii'
INITRAMFS_CONF='MODULES=list
COMPRESS=gzip'
INITRAMFS_HOOK="#!/bin/sh
# fpga-lab arm64 stand-in: the modules booting qemu -M virt from a virtio disk needs.
[ \"\$1\" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
for m in $INITRAMFS_MODULES; do force_load \"\$m\"; done"
# shellcheck disable=SC2016 # "$1" (the chroot) is expanded by mmdebstrap's hook shell, not here
DIVERT_INITRAMFS='chroot "$1" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.fpga-lab --add /usr/sbin/update-initramfs &&
  printf "#!/bin/sh\nexit 0\n" >"$1/usr/sbin/update-initramfs" && chmod 755 "$1/usr/sbin/update-initramfs"'
# shellcheck disable=SC2016
BUILD_INITRAMFS='rm -f "$1/usr/sbin/update-initramfs" &&
  chroot "$1" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.fpga-lab --remove /usr/sbin/update-initramfs &&
  chroot "$1" update-initramfs -c -k all'

# Prints the cached arm64 rootfs tarball, building it on a miss.
arm64_rootfs_tar() {
  local key tar archives=$cache_dir/apt-archives-arm64
  key=$({
    printf '%s\n' arm64 "$BOOTABLE_SUITE" "$ARM64_PACKAGES" "$SOURCE_DATE_EPOCH" "${ARM64_EXCLUDES[@]}"
    printf '%s\n' "$INITRAMFS_CONF" "$INITRAMFS_HOOK" "$DIVERT_INITRAMFS" "$BUILD_INITRAMFS" initramfs-v1
    cat "$BOOTABLE_SOURCES"
    mmdebstrap --version
  } | sha256sum | cut -c1-16)
  tar=$cache_dir/standin/rootfs-$BOOTABLE_SUITE-arm64-$key.tar
  if [[ -s $tar ]]; then
    printf '%s\n' "$tar"
    return
  fi
  ((EUID == 0)) || die "mmdebstrap needs root here (it runs apt in a chroot)"
  ensure_binfmt
  mkdir -p "$archives" "$cache_dir/standin"
  note "mmdebstrap --arch=arm64 $BOOTABLE_SUITE (+ $ARM64_PACKAGES); maintainer scripts under qemu-user, several minutes"
  # shellcheck disable=SC2016 # "$1" (the chroot) and the exported texts are expanded by mmdebstrap's hook shell
  local mkdir_hook='mkdir -p "$1"/var/cache/apt/archives' initramfs_hook='i="$1"/etc/initramfs-tools &&
    mkdir -p "$i"/conf.d "$i"/hooks && printf "%s\n" "$FPGA_LAB_INITRAMFS_CONF" >"$i"/conf.d/fpga-lab-standin &&
    printf "%s\n" "$FPGA_LAB_INITRAMFS_HOOK" >"$i"/hooks/fpga-lab-standin && chmod 755 "$i"/hooks/fpga-lab-standin'
  export FPGA_LAB_INITRAMFS_CONF=$INITRAMFS_CONF FPGA_LAB_INITRAMFS_HOOK=$INITRAMFS_HOOK
  local exclude dpkgopts=()
  for exclude in "${ARM64_EXCLUDES[@]}"; do dpkgopts+=(--dpkgopt="path-exclude=$exclude*"); done
  mmdebstrap --quiet --arch=arm64 --format=tar --variant=minbase --include="$ARM64_PACKAGES" \
    --skip=essential/unlink "${dpkgopts[@]}" --setup-hook="$mkdir_hook" \
    --setup-hook="sync-in $archives /var/cache/apt/archives" \
    --setup-hook="$initramfs_hook" \
    --essential-hook="$DIVERT_INITRAMFS" \
    --customize-hook="$BUILD_INITRAMFS" \
    --customize-hook="sync-out /var/cache/apt/archives $archives" \
    "$BOOTABLE_SUITE" "$tar.tmp" "$BOOTABLE_SOURCES" >&2 || die "mmdebstrap --arch=arm64 failed"
  mv "$tar.tmp" "$tar"
  printf '%s\n' "$tar"
}

mkdir -p "$(dirname "$out")" "$cache_dir/standin"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
tar=$(arm64_rootfs_tar)
key=$({
  cat "$LIB_DIR"/standin-*.sh "${BASH_SOURCE[0]}"
  printf '%s\n' "$SOURCE_DATE_EPOCH"
  basename "$tar"
} | sha256sum | cut -c1-16)
work=$(mktemp -d "${out}.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The bootfs of the x86_64 bootable stand-in: 256 MiB FAT32.
bootable_cached "$out" "$cache_dir" bootable-arm64 "$key" "$work" \
  bootable_image_from_tar 256 32 "$ARM64_DISK_ID" "$tar" "$work" aarch64 ttyAMA0
note "wrote $out"
