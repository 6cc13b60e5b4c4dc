# shellcheck shell=bash
# The BOOTABLE stand-in: a Debian 12 x86_64 rootfs (mmdebstrap) in the Raspberry Pi OS layout,
# bootable with `qemu-system-x86_64 -kernel vmlinuz -initrd initrd.img`.
# Needs standin-layout.sh and standin-small.sh sourced first.

BOOTABLE_SUITE=bookworm
BOOTABLE_PACKAGES=systemd,systemd-sysv,udev,kmod,iproute2,usbutils,procps,linux-image-amd64,usbip
# The mirror the host uses (deb822), so the guest gets the same archive.
BOOTABLE_SOURCES=/etc/apt/sources.list.d/debian.sources
BOOTED_MARKER=FPGA-LAB-BOOTED

# Prints the path of a cached mmdebstrap tarball, building it on a miss.
# Downloaded .debs are kept in CACHE/apt-archives so a rebuild does not fetch them again.
# usage: bootable_rootfs_tar CACHE
bootable_rootfs_tar() {
  local cache=$1 key tar archives=$1/apt-archives
  [[ -r $BOOTABLE_SOURCES ]] || die "no apt sources at $BOOTABLE_SOURCES to take the mirror from"
  key=$({
    printf '%s\n' "$BOOTABLE_SUITE" "$BOOTABLE_PACKAGES" "$SOURCE_DATE_EPOCH"
    cat "$BOOTABLE_SOURCES"
    mmdebstrap --version
  } | sha256sum | cut -c1-16)
  tar=$cache/standin/rootfs-$BOOTABLE_SUITE-$key.tar
  if [[ -s $tar ]]; then
    printf '%s\n' "$tar"
    return
  fi
  need_tools mmdebstrap
  ((EUID == 0)) || die "mmdebstrap needs root here (it runs apt in a chroot)"
  mkdir -p "$archives" "$cache/standin"
  note "mmdebstrap $BOOTABLE_SUITE (+ $BOOTABLE_PACKAGES) from $(grep -m1 '^URIs:' "$BOOTABLE_SOURCES")"
  # shellcheck disable=SC2016 # "$1" (the chroot) is expanded by mmdebstrap, not here
  local mkdir_hook='mkdir -p "$1"/var/cache/apt/archives'
  mmdebstrap --quiet --format=tar --variant=minbase --include="$BOOTABLE_PACKAGES" --skip=essential/unlink \
    --setup-hook="$mkdir_hook" \
    --setup-hook="sync-in $archives /var/cache/apt/archives" \
    --customize-hook="sync-out /var/cache/apt/archives $archives" \
    "$BOOTABLE_SUITE" "$tar.tmp" "$BOOTABLE_SOURCES" >&2 || die "mmdebstrap failed"
  mv "$tar.tmp" "$tar"
  printf '%s\n' "$tar"
}

# Serial autologin on TTY (default ttyS0), the boot marker, DHCP on the virtual NIC, and the
# client lane's virtual cable.
# usage: bootable_units ROOTDIR [TTY]
bootable_units() {
  local r=$1 tty=${2:-ttyS0}
  mkdir -p "$r/etc/systemd/system/serial-getty@$tty.service.d" "$r/etc/systemd/network" \
    "$r/etc/systemd/system/multi-user.target.wants" "$r/etc/systemd/system/sockets.target.wants" \
    "$r/etc/systemd/system/network-online.target.wants"
  cat >"$r/etc/systemd/system/serial-getty@$tty.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 - $TERM
EOF
  cat >"$r/etc/systemd/system/fpga-lab-booted.service" <<EOF
[Unit]
Description=fpga-lab stand-in: announce on the console that multi-user.target is reached
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo $BOOTED_MARKER >/dev/console'

[Install]
WantedBy=multi-user.target
EOF
  ln -sf ../fpga-lab-booted.service "$r/etc/systemd/system/multi-user.target.wants/fpga-lab-booted.service"
  printf '[Match]\nName=en*\n\n[Network]\nDHCP=yes\n' >"$r/etc/systemd/network/20-wired.network"
  # The e2e client lane's virtual cable between two VMs (Tests/e2e/boot.sh --lan): no DHCP
  # there, static addresses by MAC, and not needed for network-online.target (else
  # systemd-networkd-wait-online waits 2 minutes for a DHCP lease that never comes).
  local n
  for n in 1 2; do
    printf '[Match]\nMACAddress=52:54:00:77:00:0%s\n\n[Link]\nRequiredForOnline=no\n\n[Network]\nAddress=192.168.77.%s/24\n' "$n" "$n" \
      >"$r/etc/systemd/network/10-e2e-lan-$n.network"
  done
  ln -sf /usr/lib/systemd/system/systemd-networkd.service \
    "$r/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
  ln -sf /usr/lib/systemd/system/systemd-networkd.socket \
    "$r/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
  ln -sf /usr/lib/systemd/system/systemd-networkd-wait-online.service \
    "$r/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service"
}

# The image from an mmdebstrap rootfs tarball: OUT, OUT.vmlinuz and OUT.initrd.img (the rootfs's
# newest kernel and its initramfs). ARCH is x86_64 or aarch64 (config.txt, issue.txt); TTY the
# serial console that gets the autologin (ttyS0; ttyAMA0 is the PL011 of qemu's arm virt machine).
# usage: bootable_image_from_tar OUT BOOT_MIB FATBITS DISKID TAR WORK ARCH TTY
bootable_image_from_tar() {
  local out=$1 bmib=$2 bits=$3 diskid=$4 tar=$5 work=$6 arch=$7 tty=$8 root boot kver root_mib
  local bstart=16384
  root=$work/root boot=$work/boot
  mkdir -p "$root" "$boot/overlays"
  tar --numeric-owner -xpf "$tar" -C "$root" || die "cannot unpack $tar"
  kver=$(find "$root/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -1)
  [[ -n $kver && -s $root/boot/initrd.img-$kver ]] || die "no kernel + initrd in the mmdebstrap rootfs $tar"
  printf 'raspberrypi\n' >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\traspberrypi\n' >"$root/etc/hosts"
  stock_fstab "$diskid" >"$root/etc/fstab"
  mkdir -p "$root/boot/firmware"
  bootable_units "$root" "$tty"
  stock_config_txt "$arch" >"$boot/config.txt"
  stock_cmdline_txt "$diskid" >"$boot/cmdline.txt"
  printf 'fpga-lab bootable stand-in (Debian 12 %s, kernel %s) shaped like Raspberry Pi OS\n' "$arch" "$kver" \
    >"$boot/issue.txt"
  printf 'Raspberry Pi Device Tree overlays (stand-in README)\n' >"$boot/overlays/README"
  cp "$root/boot/vmlinuz-$kver" "$boot/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$boot/initrd.img"
  pin_mtimes "$root"
  pin_mtimes "$boot"
  # pi-gen's sizing: used space + 20 % + 200 MB, rounded up to 4 MiB.
  root_mib=$(du -sm --apparent-size "$root" | cut -f1)
  root_mib=$(((root_mib * 120 / 100 + 200 + 3) / 4 * 4))
  make_fat "$work/boot.fat" "$bmib" "$bits" "$diskid" "$bstart" "$boot"
  make_ext4 "$work/root.ext4" "$root_mib" "$(fixed_uuid "rootfs-$diskid")" "$root"
  assemble_image "$out" "$diskid" "$bstart" "$bmib" "$bits" "$work/boot.fat" "$root_mib" "$work/root.ext4"
  cp "$boot/vmlinuz" "${out%.img}.vmlinuz"
  cp "$boot/initrd.img" "${out%.img}.initrd.img"
}

# usage: build_bootable_uncached OUT BOOT_MIB FATBITS DISKID CACHE WORK
build_bootable_uncached() {
  bootable_image_from_tar "$1" "$2" "$3" "$4" "$(bootable_rootfs_tar "$5")" "$6" x86_64 ttyS0
}

# Copies CACHE/standin/NAME-KEY.img (with .vmlinuz and .initrd.img) to OUT, first building it
# on a miss with `BUILD_FN WORK/NAME.img ARGS...`, which writes WORK/NAME.{img,vmlinuz,initrd.img};
# then the entries of other keys (older script versions, about 1 GiB each) are deleted.
# usage: bootable_cached OUT CACHE NAME KEY WORK BUILD_FN ARGS...
bootable_cached() {
  local out=$1 cache=$2 name=$3 key=$4 work=$5 build=$6 cached stem
  shift 6
  cached=$cache/standin/$name-$key.img
  if [[ ! -s $cached ]]; then
    "$build" "$work/$name.img" "$@"
    mv "$work/$name.vmlinuz" "${cached%.img}.vmlinuz"
    mv "$work/$name.initrd.img" "${cached%.img}.initrd.img"
    mv "$work/$name.img" "$cached"
    find "$cache/standin" -maxdepth 1 -name "$name-????????????????.*" ! -name "$name-$key.*" -delete
  else
    note "cached: $cached"
  fi
  stem=${out%.img}
  cp --sparse=always --reflink=auto "$cached" "$out.tmp"
  cp "${cached%.img}.vmlinuz" "$stem.vmlinuz"
  cp "${cached%.img}.initrd.img" "$stem.initrd.img"
  mv "$out.tmp" "$out"
}

# Builds (or copies from the cache, keyed by these scripts + arguments) the bootable stand-in.
# usage: build_bootable OUT BOOT_MIB FATBITS DISKID CACHE WORK
build_bootable() {
  local out=$1 bmib=$2 bits=$3 diskid=$4 cache=$5 work=$6 key
  key=$({
    cat "$LIB_DIR"/standin-*.sh "$SCRIPT_DIR/make-standin-base.sh"
    printf '%s\n' "$bmib" "$bits" "$diskid" "$SOURCE_DATE_EPOCH"
    basename "$(bootable_rootfs_tar "$cache")"
  } | sha256sum | cut -c1-16)
  bootable_cached "$out" "$cache" bootable "$key" "$work" \
    build_bootable_uncached "$bmib" "$bits" "$diskid" "$cache" "$work"
}
