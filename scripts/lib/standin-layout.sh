# shellcheck shell=bash
# Disk layout of a Raspberry Pi OS image, built without loop devices or mounts.
# Sourced by scripts/make-standin-base.sh; every function dies with a clear message.
#
#   sector 0          BOOT_START              ROOT_START (4 MiB aligned)      end
#   +-----+-----------+-----------------------+--------------------------------+
#   | MBR |  (gap)    | p1 FAT "bootfs"       | p2 ext4 "rootfs"               |
#   |     |           | type 0x0c (FAT32)     | type 0x83                      |
#   |     |           |   or 0x0e (FAT16 LBA) | -O ^64bit,^huge_file           |
#   +-----+-----------+-----------------------+--------------------------------+
#   PARTUUIDs are "<disk identifier>-01" and "<disk identifier>-02".

die() { printf 'make-standin-base: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'make-standin-base: %s\n' "$*" >&2; }

need_tools() {
  local t missing=()
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (see deps/standin.apt)"
}

# Fixed pseudo-random bytes: AES-CTR keystream keyed by sha256(seed).
# usage: fixed_random_bytes SEED COUNT > FILE
fixed_random_bytes() {
  local key
  key=$(printf '%s' "$1" | sha256sum | cut -c1-32)
  head -c "$2" /dev/zero |
    openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000
}

# A UUID derived from SEED (same seed, same UUID). usage: fixed_uuid SEED
fixed_uuid() {
  local h
  h=$(printf '%s' "$1" | sha256sum)
  printf '%s-%s-4%s-a%s-%s\n' "${h:0:8}" "${h:8:4}" "${h:13:3}" "${h:17:3}" "${h:20:12}"
}

# Sets every mtime/atime under DIR (symlinks included) to SOURCE_DATE_EPOCH.
pin_mtimes() {
  find "$1" -exec touch -h -d "@${SOURCE_DATE_EPOCH}" {} +
}

# Stock Raspberry Pi OS config.txt (pi-gen stage1/00-boot-files). trixie drops arm_64bit=1
# (64-bit is the firmware's default) and adds the [pi5] section.
# usage: stock_config_txt ARCH [RELEASE]   (RELEASE: bookworm (default) | trixie)
stock_config_txt() {
  cat <<'EOF'
# For more options and information see
# http://rptl.io/configtxt
# Some settings may impact device functionality. See link above for details

# Uncomment some or all of these to enable the optional hardware interfaces
#dtparam=i2c_arm=on
#dtparam=i2s=on
#dtparam=spi=on

# Enable audio (loads snd_bcm2835)
dtparam=audio=on

# Additional overlays and parameters are documented
# /boot/firmware/overlays/README

# Automatically load overlays for detected cameras
camera_auto_detect=1

# Automatically load overlays for detected DSI displays
display_auto_detect=1

# Automatically load initramfs files, if found
auto_initramfs=1

# Enable DRM VC4 V3D driver
dtoverlay=vc4-kms-v3d
max_framebuffers=2

# Don't have the firmware create an initial video= setting in cmdline.txt.
# Use the kernel's default instead.
disable_fw_kms_setup=1

EOF
  if [[ $1 != armhf && ${2:-bookworm} == bookworm ]]; then
    printf '# Run in 64-bit mode\narm_64bit=1\n\n'
  fi
  cat <<'EOF'
# Disable compensation for displays with overscan
disable_overscan=1

# Run as fast as firmware / board allows
arm_boost=1

[cm4]
# Enable host mode on the 2711 built-in XHCI USB controller.
# This line should be removed if the legacy DWC2 controller is required
# (e.g. for USB device mode) or if USB support is not required.
otg_mode=1

[cm5]
dtoverlay=dwc2,dr_mode=host

EOF
  if [[ ${2:-bookworm} == trixie ]]; then
    printf '[pi5]\ndtoverlay=nospi10\n\n'
  fi
  printf '[all]\n'
}

# One line; trixie's pi-gen adds `resize` (rpi-resize grows the rootfs on first boot).
# usage: stock_cmdline_txt DISKID [RELEASE]   (DISKID: 8 hex digits)
stock_cmdline_txt() {
  local resize=''
  [[ ${2:-bookworm} == trixie ]] && resize=' resize'
  printf 'console=serial0,115200 console=tty1 root=PARTUUID=%s-02 rootfstype=ext4 fsck.repair=yes rootwait%s\n' "$1" "$resize"
}

# /etc/fstab of pi-gen. usage: stock_fstab DISKID
stock_fstab() {
  printf 'proc            /proc           proc    defaults          0       0\n'
  printf 'PARTUUID=%s-01  /boot/firmware  vfat    defaults          0       2\n' "$1"
  printf 'PARTUUID=%s-02  /               ext4    defaults,noatime  0       1\n' "$1"
}

# Creates a FAT file system image from a directory tree (mtools, no mount).
# SPC: sectors per cluster (default 4, bookworm's pi-gen; trixie's uses 1 since 2026-03).
# usage: make_fat OUT MIB FATBITS VOLID HIDDEN_SECTORS SRCDIR [SPC]
make_fat() {
  local out=$1 mib=$2 bits=$3 volid=$4 hidden=$5 src=$6 spc=${7:-4} rel
  if [[ $bits == 32 ]]; then
    ((mib >= 40)) || die "a FAT32 bootfs needs at least 40 MiB (got $mib)"
    # pi-gen's -s 4 (2 KiB clusters) leaves too few clusters for FAT32 below ~136 MiB.
    ((mib >= 136)) || spc=1
  else
    ((mib >= 8 && mib <= 120)) || die "a FAT16 bootfs must be 8..120 MiB with 2 KiB clusters (got $mib)"
  fi
  rm -f "$out"
  truncate -s "$((mib * 1024 * 1024))" "$out"
  # --invariant fixes the timestamps; the volume ID after it overrides its constant one.
  # The lowercase label "bootfs" is what pi-gen writes: drop mkfs.fat's warning about it.
  mkdosfs -n bootfs -F "$bits" -s "$spc" -h "$hidden" --invariant -i "$volid" "$out" >/dev/null 2>"$out.err" \
    || die "mkdosfs failed on $out: $(cat "$out.err")"
  grep -v 'lowercase labels' "$out.err" >&2 || true
  rm -f "$out.err"
  export MTOOLS_SKIP_CHECK=1
  while IFS= read -r -d '' rel; do
    rel=${rel#./}
    if [[ -d $src/$rel ]]; then
      mmd -i "$out" "::$rel" || die "mmd ::$rel failed"
    else
      mcopy -m -i "$out" "$src/$rel" "::$rel" || die "mcopy ::$rel failed"
    fi
  done < <(cd "$src" && find . -mindepth 1 -print0 | LC_ALL=C sort -z)
}

# Creates an ext4 image from a directory tree with fixed UUID, hash seed and times.
# usage: make_ext4 OUT MIB UUID SRCDIR
make_ext4() {
  local out=$1 mib=$2 uuid=$3 src=$4 cmds path field
  rm -f "$out"
  truncate -s "$((mib * 1024 * 1024))" "$out"
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -L rootfs -O ^64bit,^huge_file \
    -b 4096 -I 256 -U "$uuid" -E "hash_seed=$uuid,lazy_itable_init=0,nodiscard" -d "$src" "$out" \
    || die "mkfs.ext4 -d $src failed (is ${mib} MiB enough?)"
  # mke2fs -d copies ctime from the source inode (unsettable there) and the atime that reading
  # the tree just bumped: pin atime, ctime and crtime of every inode.
  cmds=$(mktemp)
  (cd "$src" && find . -mindepth 1 -printf '/%P\0' | LC_ALL=C sort -z) |
    {
      printf '/\0'
      cat
    } |
    while IFS= read -r -d '' path; do
      [[ $path == *'"'* || $path == *$'\n'* ]] && die "unsupported file name in rootfs: $path"
      for field in atime ctime crtime; do
        printf 'sif "%s" %s @%s\n' "$path" "$field" "$SOURCE_DATE_EPOCH"
      done
    done >"$cmds"
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH debugfs -w -f "$cmds" "$out" >/dev/null 2>"$cmds.err" \
    || die "debugfs could not pin inode times: $(tail -3 "$cmds.err")"
  if grep -v '^debugfs ' "$cmds.err" | grep -q .; then
    die "debugfs reported: $(grep -v '^debugfs ' "$cmds.err" | head -3)"
  fi
  rm -f "$cmds" "$cmds.err"
}

# Writes MBR + both file systems into OUT (sparse).
# usage: assemble_image OUT DISKID BOOT_START BOOT_MIB FATBITS BOOT_FS ROOT_MIB ROOT_FS
assemble_image() {
  local out=$1 diskid=$2 bstart=$3 bmib=$4 bits=$5 bootfs=$6 rmib=$7 rootfs=$8
  local bsize=$((bmib * 2048)) rsize=$((rmib * 2048)) rstart ptype=c
  [[ $bits == 16 ]] && ptype=e
  rstart=$(((bstart + bsize + 8191) / 8192 * 8192))
  rm -f "$out"
  truncate -s "$(((rstart + rsize) * 512))" "$out"
  sfdisk --quiet --no-reread --no-tell-kernel "$out" <<EOF || die "sfdisk failed on $out"
label: dos
label-id: 0x$diskid
unit: sectors

start=$bstart, size=$bsize, type=$ptype
start=$rstart, size=$rsize, type=83
EOF
  dd if="$bootfs" of="$out" bs=4M seek="$((bstart * 512))" oflag=seek_bytes conv=notrunc,sparse status=none \
    || die "dd of bootfs failed"
  dd if="$rootfs" of="$out" bs=4M seek="$((rstart * 512))" oflag=seek_bytes conv=notrunc,sparse status=none \
    || die "dd of rootfs failed"
}
