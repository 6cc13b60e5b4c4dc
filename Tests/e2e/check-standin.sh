#!/usr/bin/env bash
# Checks the stand-in base images against the real tools: layout (sfdisk), fsck.fat -n,
# e2fsck -fn, stock bootfs files, rootfs skeleton, ELF arch of /usr/bin/env (run under
# qemu-user) and determinism under SOURCE_DATE_EPOCH. Build times are printed, not checked:
# how fast a build runs depends on the machine and its load, not on the stand-in.
#
# usage: Tests/e2e/check-standin.sh [--bootable IMAGE]
#   --bootable IMAGE   also check a bootable stand-in (bootfs at 16384, FAT32, kernel + initrd)
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
MAKE_BASE=$REPO_ROOT/scripts/make-standin-base.sh
export MTOOLS_SKIP_CHECK=1
unset SOURCE_DATE_EPOCH # the expected times below are the default epoch (0x673bd500)
trap 'printf "check-standin: error: command failed (line %s): %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

failures=0
pass() { printf 'ok   %s\n' "$*"; }
failed() {
  printf 'FAIL %s\n' "$*"
  failures=$((failures + 1))
}
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then pass "$what"; else failed "$what"; fi
}
equals() { # equals DESCRIPTION ACTUAL EXPECTED
  if [[ $2 == "$3" ]]; then pass "$1"; else failed "$1: got '$2', want '$3'"; fi
}

bootable=''
case ${1:-} in
  --bootable) bootable=${2:?--bootable needs an image} ;;
  '') ;;
  *) printf 'usage: %s [--bootable IMAGE]\n' "$0" >&2 && exit 2 ;;
esac
for tool in sfdisk fsck.fat e2fsck debugfs dumpe2fs mtype minfo qemu-aarch64-static qemu-arm-static sha256sum; do
  command -v "$tool" >/dev/null || { printf 'check-standin: missing tool %s (see deps/standin.apt)\n' "$tool" >&2 && exit 1; }
done

work=$REPO_ROOT/build/e2e/check-standin
rm -rf "$work"
mkdir -p "$work"

# part_field IMAGE N FIELD  ->  start|size|type of partition N from `sfdisk --dump`
part_field() {
  sfdisk --dump "$1" | sed -n "s/^.*$2 : \(.*, \)\{0,1\}$3= *\([^, ]*\).*/\2/p"
}

# check_layout NAME IMAGE DISKID BOOT_START FATBITS PTYPE
check_layout() {
  local name=$1 img=$2 diskid=$3 bstart=$4 bits=$5 ptype=$6 rstart rsize bsize fat rootfs
  equals "$name: disk identifier" "$(sfdisk --dump "$img" | awk '/^label-id:/ { print $2 }')" "0x$diskid"
  equals "$name: bootfs starts at sector $bstart" "$(part_field "$img" 1 start)" "$bstart"
  equals "$name: bootfs partition type $ptype" "$(part_field "$img" 1 type)" "$ptype"
  equals "$name: rootfs partition type 83" "$(part_field "$img" 2 type)" 83
  bsize=$(part_field "$img" 1 size) rstart=$(part_field "$img" 2 start) rsize=$(part_field "$img" 2 size)
  equals "$name: rootfs 4 MiB aligned" "$((rstart % 8192))" 0
  fat=$work/$name.p1 rootfs=$work/$name.p2
  dd if="$img" of="$fat" bs=512 skip="$bstart" count="$bsize" conv=sparse status=none
  dd if="$img" of="$rootfs" bs=4M skip="$((rstart * 512))" count="$((rsize * 512))" \
    iflag=skip_bytes,count_bytes conv=sparse status=none
  check "$name: fsck.fat -n is clean" fsck.fat -n "$fat"
  equals "$name: fsck.fat -n prints nothing but its summary" \
    "$(fsck.fat -n "$fat" 2>&1 | grep -v -e '^fsck.fat ' -e ' files, ' || true)" ""
  equals "$name: FAT$bits" "$(minfo -i "$fat" :: | awk -F'"' '/^disk type=/ { print $2 }' | tr -d ' ')" "FAT$bits"
  equals "$name: FAT label bootfs" "$(minfo -i "$fat" :: | awk -F'"' '/^disk label=/ { print $2 }' | tr -d ' ')" bootfs
  equals "$name: FAT hidden sectors = partition start" \
    "$(minfo -i "$fat" :: | awk '/^hidden sectors:/ { print $3 }')" "$bstart"
  check "$name: e2fsck -fn is clean" e2fsck -fn "$rootfs"
  equals "$name: ext4 label rootfs" "$(dumpe2fs -h "$rootfs" 2>/dev/null | awk -F': *' '/^Filesystem volume name/ { print $2 }')" rootfs
  local features
  features=$(dumpe2fs -h "$rootfs" 2>/dev/null | awk -F': *' '/^Filesystem features/ { print $2 }' || true)
  equals "$name: ext4 has no 64bit/huge_file" "$(grep -o -w -e 64bit -e huge_file <<<"$features" || true)" ""
  equals "$name: ext4 has extents + metadata_csum" "$(grep -o -w -e extent -e metadata_csum <<<"$features" | sort | tr '\n' ' ')" "extent metadata_csum "
  equals "$name: cmdline.txt" "$(mtype -i "$fat" ::cmdline.txt)" \
    "console=serial0,115200 console=tty1 root=PARTUUID=$diskid-02 rootfstype=ext4 fsck.repair=yes rootwait"
  local config
  config=$(mtype -i "$fat" ::config.txt)
  equals "$name: config.txt stock lines" \
    "$(grep -c -x -e dtparam=audio=on -e camera_auto_detect=1 -e display_auto_detect=1 -e auto_initramfs=1 \
      -e dtoverlay=vc4-kms-v3d -e max_framebuffers=2 -e disable_fw_kms_setup=1 -e disable_overscan=1 \
      -e arm_boost=1 -e otg_mode=1 -e dtoverlay=dwc2,dr_mode=host <<<"$config")" 11
  equals "$name: config.txt sections" "$(grep '^\[' <<<"$config" | tr '\n' ' ')" "[cm4] [cm5] [all] "
  equals "$name: fstab PARTUUIDs" "$(debugfs -R 'cat /etc/fstab' "$rootfs" 2>/dev/null | grep -o 'PARTUUID=[^ ]*' | tr '\n' ' ')" \
    "PARTUUID=$diskid-01 PARTUUID=$diskid-02 "
  equals "$name: /boot/firmware is a directory" \
    "$(debugfs -R 'stat /boot/firmware' "$rootfs" 2>/dev/null | grep -o 'Type: directory')" "Type: directory"
  equals "$name: /etc atime, ctime, mtime, crtime pinned to SOURCE_DATE_EPOCH" \
    "$(debugfs -R 'stat /etc' "$rootfs" 2>/dev/null | grep -o -E '^ *[a-z]+time: 0x[0-9a-f]+' | tr -d ' ' | sort | tr '\n' ' ')" \
    "atime:0x673bd500 crtime:0x673bd500 ctime:0x673bd500 mtime:0x673bd500 "
  equals "$name: hostname" "$(debugfs -R 'cat /etc/hostname' "$rootfs" 2>/dev/null)" raspberrypi
}

# check_elf NAME IMAGE MACHINE RUNNER   (MACHINE: e_machine as decimal; RUNNER: '' or qemu-*-static)
check_elf() {
  local name=$1 machine=$3 runner=$4 env=$work/$1.env out
  debugfs -R "dump /usr/bin/env $env" "$work/$name.p2" 2>/dev/null
  equals "$name: /usr/bin/env is ELF" "$(head -c 4 "$env" | od -An -c | tr -d ' ')" '177ELF'
  equals "$name: /usr/bin/env e_machine" "$(od -An -t u2 -j 18 -N 2 "$env" | tr -d ' ')" "$machine"
  chmod +x "$env"
  out=$(${runner:+"$runner"} "$env" printf '%s' env-runs 2>&1 || true)
  equals "$name: /usr/bin/env runs" "$out" env-runs
  for link in bin:usr/bin sbin:usr/sbin lib:usr/lib; do
    equals "$name: /${link%%:*} -> ${link#*:}" \
      "$(debugfs -R "stat /${link%%:*}" "$work/$name.p2" 2>/dev/null | awk -F'"' '/Fast link dest/ { print $2 }')" "${link#*:}"
  done
}

for spec in x86_64:62: aarch64:183:qemu-aarch64-static armhf:40:qemu-arm-static; do
  IFS=: read -r arch machine runner <<<"$spec"
  img=$work/small-$arch.img
  start=$(date +%s%N)
  "$MAKE_BASE" --small "$img" --arch "$arch" 2>"$work/$arch.log" || { failed "small $arch build: $(cat "$work/$arch.log")" && continue; }
  pass "small-$arch built (in $((($(date +%s%N) - start) / 1000000)) ms)"
  check_layout "small-$arch" "$img" 5e3da3f1 8192 16 e
  check_elf "small-$arch" "$img" "$machine" "$runner"
done

"$MAKE_BASE" --small "$work/again.img" 2>/dev/null
equals "small-x86_64 is deterministic" "$(sha256sum <"$work/again.img")" "$(sha256sum <"$work/small-x86_64.img")"
SOURCE_DATE_EPOCH=1700000000 "$MAKE_BASE" --small "$work/other-epoch.img" 2>/dev/null
if cmp -s "$work/other-epoch.img" "$work/small-x86_64.img"; then
  failed "SOURCE_DATE_EPOCH changes the image"
else
  pass "SOURCE_DATE_EPOCH changes the image"
fi

"$MAKE_BASE" --small "$work/fat32.img" --boot-mib 256 --fat 32 --disk-id 0badcafe 2>/dev/null
check_layout small-fat32 "$work/fat32.img" 0badcafe 8192 32 c
equals "small-fat32: 2 KiB clusters (-s 4)" "$(minfo -i "$work/small-fat32.p1" :: | awk '/^cluster size:/ { print $3 }')" 4

if "$MAKE_BASE" --small "$work/bad.img" --fat 12 2>"$work/bad.log"; then
  failed "--fat 12 is refused"
else
  equals "--fat 12 is refused with a message" "$(cat "$work/bad.log")" "make-standin-base: error: --fat must be 16 or 32 (got '12')"
fi

if [[ -n $bootable ]]; then
  check_layout bootable "$bootable" 8a438930 16384 32 c
  check_elf bootable "$bootable" 62 ''
  for f in vmlinuz initrd.img; do
    equals "bootable: bootfs holds $f" "$(mdir -b -i "$work/bootable.p1" "::$f" 2>/dev/null)" "::/$f"
  done
  equals "bootable: marker unit enabled" "$(debugfs -R 'stat /etc/systemd/system/multi-user.target.wants/fpga-lab-booted.service' \
    "$work/bootable.p2" 2>/dev/null | awk -F'"' '/Fast link dest/ { print $2 }')" ../fpga-lab-booted.service
fi

if ((failures)); then
  printf 'check-standin: %d check(s) FAILED\n' "$failures"
  exit 1
fi
printf 'check-standin: all checks passed\n'
