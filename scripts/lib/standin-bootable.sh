# shellcheck shell=bash
# The BOOTABLE stand-in: a Debian 12 (bookworm) or 13 (trixie) x86_64 rootfs (mmdebstrap) in the
# Raspberry Pi OS layout of that release, bootable with
# `qemu-system-x86_64 -kernel vmlinuz -initrd initrd.img`, first boot shaped like Raspberry Pi OS's
# (standin-firstboot.sh). Needs standin-layout.sh and standin-small.sh sourced first.

# shellcheck source=SCRIPTDIR/standin-firstboot.sh
. "${BASH_SOURCE[0]%/*}/standin-firstboot.sh"

# shellcheck disable=SC2034 # make-standin-arm64.sh builds this suite
BOOTABLE_SUITE=bookworm
BOOTABLE_PACKAGES=systemd,systemd-sysv,udev,kmod,iproute2,usbutils,procps,linux-image-amd64,usbip
# What Raspberry Pi OS Lite has and its first boot needs: sshd (installed, disabled), sudo, dbus,
# e2fsprogs (not in trixie's minbase; cloud-init's resizefs fails without resize2fs),
# adduser; trixie adds NetworkManager (bookworm's stand-in keeps systemd-networkd, which the e2e
# lanes' virtual cable is configured with) and cloud-init (pi-gen stage2/04-cloud-init).
FIRSTBOOT_PACKAGES=openssh-server,sudo,adduser,dbus,e2fsprogs
TRIXIE_PACKAGES=network-manager,cloud-init
# The mirror the host uses (deb822), so the guest gets the same archive.
BOOTABLE_SOURCES=/etc/apt/sources.list.d/debian.sources
BOOTED_MARKER=FPGA-LAB-BOOTED

# Prints the path of a cached mmdebstrap tarball, building it on a miss.
# Downloaded .debs are kept in CACHE/apt-archives so a rebuild does not fetch them again.
# The first user is created the way each release's pi-gen creates it (stage1/01-sys-tweaks).
# usage: bootable_rootfs_tar CACHE [RELEASE]
bootable_rootfs_tar() {
  local cache=$1 release=${2:-bookworm} key tar archives=$1/apt-archives packages
  packages=$BOOTABLE_PACKAGES,$FIRSTBOOT_PACKAGES
  [[ $release == trixie ]] && packages+=,$TRIXIE_PACKAGES
  local user_hook
  user_hook=$(firstboot_user_hook "$release")
  [[ -r $BOOTABLE_SOURCES ]] || die "no apt sources at $BOOTABLE_SOURCES to take the mirror from"
  # The host's mirror, with its suites renamed to RELEASE's (bookworm-updates -> trixie-updates).
  local sources=$cache/standin/sources-$release
  mkdir -p "$cache/standin"
  sed -E "s/^(Suites:.*)\bbookworm/\1$release/; s/^(Suites:.*)\bbookworm/\1$release/" "$BOOTABLE_SOURCES" >"$sources"
  key=$({
    printf '%s\n' "$release" "$packages" "$SOURCE_DATE_EPOCH" "$user_hook"
    cat "$sources"
    mmdebstrap --version
  } | sha256sum | cut -c1-16)
  tar=$cache/standin/rootfs-$release-$key.tar
  if [[ -s $tar ]]; then
    printf '%s\n' "$tar"
    return
  fi
  need_tools mmdebstrap
  ((EUID == 0)) || die "mmdebstrap needs root here (it runs apt in a chroot)"
  mkdir -p "$archives" "$cache/standin"
  note "mmdebstrap $release (+ $packages) from $(grep -m1 '^URIs:' "$sources")"
  # shellcheck disable=SC2016 # "$1" (the chroot) is expanded by mmdebstrap, not here
  local mkdir_hook='mkdir -p "$1"/var/cache/apt/archives'
  mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" --skip=essential/unlink \
    --setup-hook="$mkdir_hook" \
    --setup-hook="sync-in $archives /var/cache/apt/archives" \
    --customize-hook="$user_hook" \
    --customize-hook="sync-out /var/cache/apt/archives $archives" \
    "$release" "$tar.tmp" "$sources" >&2 || die "mmdebstrap failed"
  mv "$tar.tmp" "$tar"
  printf '%s\n' "$tar"
}

# Serial autologin on TTY (default ttyS0), the boot marker, DHCP on the virtual NIC, and the
# client lane's virtual cable (systemd-networkd; NET=networkmanager leaves the network to
# NetworkManager, as on trixie).
# usage: bootable_units ROOTDIR [TTY [NET]]
bootable_units() {
  local r=$1 tty=${2:-ttyS0} net=${3:-networkd}
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
  [[ $net == networkd ]] || return 0
  printf '[Match]\nName=e*\n\n[Network]\nDHCP=yes\n' >"$r/etc/systemd/network/20-wired.network"
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
# RELEASE (bookworm, default, or trixie) picks config.txt, cmdline.txt, the FAT's cluster size
# and the first-boot shape (standin-firstboot.sh); arm64 passes none (no first-boot shape).
# usage: bootable_image_from_tar OUT BOOT_MIB FATBITS DISKID TAR WORK ARCH TTY [RELEASE]
bootable_image_from_tar() {
  local out=$1 bmib=$2 bits=$3 diskid=$4 tar=$5 work=$6 arch=$7 tty=$8 release=${9:-} root boot kver root_mib
  local bstart=16384 spc=4 net=networkd
  root=$work/root boot=$work/boot
  mkdir -p "$root" "$boot/overlays"
  tar --numeric-owner -xpf "$tar" -C "$root" || die "cannot unpack $tar"
  kver=$(find "$root/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -1)
  [[ -n $kver && -s $root/boot/initrd.img-$kver ]] || die "no kernel + initrd in the mmdebstrap rootfs $tar"
  printf 'raspberrypi\n' >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\traspberrypi\n' >"$root/etc/hosts"
  stock_fstab "$diskid" >"$root/etc/fstab"
  mkdir -p "$root/boot/firmware"
  if [[ $release == trixie ]]; then
    spc=1 net=networkmanager
  fi
  bootable_units "$root" "$tty" "$net"
  [[ -z $release ]] || firstboot_shape "$root" "$boot" "$release"
  stock_config_txt "$arch" "${release:-bookworm}" >"$boot/config.txt"
  stock_cmdline_txt "$diskid" "${release:-bookworm}" >"$boot/cmdline.txt"
  printf 'fpga-lab bootable stand-in (Debian %s %s, kernel %s) shaped like Raspberry Pi OS\n' \
    "$(cut -d. -f1 "$root/etc/debian_version")" "$arch" "$kver" >"$boot/issue.txt"
  printf 'Raspberry Pi Device Tree overlays (stand-in README)\n' >"$boot/overlays/README"
  cp "$root/boot/vmlinuz-$kver" "$boot/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$boot/initrd.img"
  pin_mtimes "$root"
  pin_mtimes "$boot"
  # pi-gen's sizing: used space + 20 % + 200 MB, rounded up to 4 MiB.
  root_mib=$(du -sm --apparent-size "$root" | cut -f1)
  root_mib=$(((root_mib * 120 / 100 + 200 + 3) / 4 * 4))
  make_fat "$work/boot.fat" "$bmib" "$bits" "$diskid" "$bstart" "$boot" "$spc"
  make_ext4 "$work/root.ext4" "$root_mib" "$(fixed_uuid "rootfs-$diskid")" "$root"
  assemble_image "$out" "$diskid" "$bstart" "$bmib" "$bits" "$work/boot.fat" "$root_mib" "$work/root.ext4"
  cp "$boot/vmlinuz" "${out%.img}.vmlinuz"
  cp "$boot/initrd.img" "${out%.img}.initrd.img"
}

# usage: build_bootable_uncached OUT BOOT_MIB FATBITS DISKID CACHE WORK RELEASE
build_bootable_uncached() {
  local tar
  tar=$(bootable_rootfs_tar "$5" "$7") || exit 1
  bootable_image_from_tar "$1" "$2" "$3" "$4" "$tar" "$6" x86_64 ttyS0 "$7"
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
# usage: build_bootable OUT BOOT_MIB FATBITS DISKID CACHE WORK [RELEASE]
build_bootable() {
  local out=$1 bmib=$2 bits=$3 diskid=$4 cache=$5 work=$6 release=${7:-bookworm} key name=bootable tar
  [[ $release == bookworm ]] || name=bootable-$release
  tar=$(bootable_rootfs_tar "$cache" "$release") || exit 1
  key=$({
    cat "$LIB_DIR"/standin-*.sh "$SCRIPT_DIR/make-standin-base.sh"
    printf '%s\n' "$bmib" "$bits" "$diskid" "$SOURCE_DATE_EPOCH" "$release"
    basename "$tar"
  } | sha256sum | cut -c1-16)
  bootable_cached "$out" "$cache" "$name" "$key" "$work" \
    build_bootable_uncached "$bmib" "$bits" "$diskid" "$cache" "$work" "$release"
}
