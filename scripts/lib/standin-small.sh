# shellcheck shell=bash
# Contents of the SMALL stand-in: a few stock bootfs files and a skeleton rootfs.
# Needs standin-layout.sh sourced first.

# Prints the path of an ELF binary for ARCH to copy as /usr/bin/env.
# x86_64 uses the host's own /usr/bin/env; other arches get a static build of
# standin-env.c from the Debian cross compilers, cached by source + compiler.
arch_env_binary() {
  local arch=$1 cache=$2 cc key out
  case $arch in
    x86_64)
      [[ $(uname -m) == x86_64 ]] || die "--arch x86_64 copies the host's /usr/bin/env: host is $(uname -m)"
      printf '/usr/bin/env\n'
      return
      ;;
    aarch64) cc=aarch64-linux-gnu-gcc ;;
    armhf) cc=arm-linux-gnueabihf-gcc ;;
    *) die "unknown --arch '$arch' (x86_64, aarch64, armhf)" ;;
  esac
  need_tools "$cc"
  key=$({ cat "$LIB_DIR/standin-env.c"; "$cc" --version; } | sha256sum | cut -c1-16)
  out=$cache/env-$arch-$key
  if [[ ! -x $out ]]; then
    mkdir -p "$cache"
    "$cc" -static -Os -s -o "$out.tmp" "$LIB_DIR/standin-env.c" || die "$cc could not build env for $arch"
    mv "$out.tmp" "$out"
  fi
  printf '%s\n' "$out"
}

# usage: os_release ARCH  (32-bit Pi OS is Raspbian, 64-bit is plain Debian)
os_release() {
  if [[ $1 == armhf ]]; then
    cat <<'EOF'
PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"
NAME="Raspbian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=raspbian
ID_LIKE=debian
HOME_URL="http://www.raspbian.org/"
SUPPORT_URL="http://www.raspbian.org/RaspbianForums"
BUG_REPORT_URL="http://www.raspbian.org/RaspbianBugs"
EOF
  else
    cat <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
EOF
  fi
}

# Fills DIR with the stock-looking bootfs. usage: small_bootfs DIR ARCH DISKID
small_bootfs() {
  local dir=$1 arch=$2 diskid=$3 kernel=kernel8.img f
  [[ $arch == armhf ]] && kernel=kernel7l.img
  mkdir -p "$dir/overlays"
  stock_config_txt "$arch" >"$dir/config.txt"
  stock_cmdline_txt "$diskid" >"$dir/cmdline.txt"
  printf 'Raspberry Pi reference 2024-11-19\nGenerated using pi-gen, https://github.com/RPi-Distro/pi-gen (fpga-lab stand-in)\n' \
    >"$dir/issue.txt"
  fixed_random_bytes "$kernel" 12288 >"$dir/$kernel"
  for f in bcm2711-rpi-4-b.dtb bcm2710-rpi-3-b-plus.dtb bcm2712-rpi-5-b.dtb start4.elf fixup4.dat bootcode.bin \
    LICENCE.broadcom overlays/dwc2.dtbo overlays/vc4-kms-v3d.dtbo overlays/overlay_map.dtb; do
    fixed_random_bytes "$f" 1536 >"$dir/$f"
  done
  printf 'Raspberry Pi Device Tree overlays (stand-in README)\n' >"$dir/overlays/README"
}

# Fills DIR with the skeleton rootfs. usage: small_rootfs DIR ARCH DISKID ENVBIN
small_rootfs() {
  local dir=$1 arch=$2 diskid=$3 envbin=$4
  mkdir -p "$dir"/{etc/systemd/system/multi-user.target.wants,usr/bin,usr/sbin,usr/lib/systemd/system,boot/firmware}
  mkdir -p "$dir"/{dev,proc,sys,run,tmp,root,home,var/lib/dpkg}
  chmod 1777 "$dir/tmp"
  chmod 0700 "$dir/root"
  ln -s usr/bin "$dir/bin"
  ln -s usr/sbin "$dir/sbin"
  ln -s usr/lib "$dir/lib"
  printf 'raspberrypi\n' >"$dir/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\traspberrypi\n' >"$dir/etc/hosts"
  stock_fstab "$diskid" >"$dir/etc/fstab"
  os_release "$arch" >"$dir/usr/lib/os-release"
  ln -s ../usr/lib/os-release "$dir/etc/os-release"
  printf '12.8\n' >"$dir/etc/debian_version"
  cp "$envbin" "$dir/usr/bin/env"
  chmod 0755 "$dir/usr/bin/env"
  case $arch in
    x86_64) printf 'amd64\n' ;;
    aarch64) printf 'arm64\n' ;;
    armhf) printf 'armhf\n' ;;
  esac >"$dir/var/lib/dpkg/arch"
}

# Copies about MIB MiB of the host's real files, half from /usr/share, half from /usr/lib.
# usage: fill_rootfs DIR MIB
fill_rootfs() {
  local dir=$1 budget=$(($2 * 1024 * 1024 / 2)) list tree
  list=$(mktemp)
  for tree in /usr/share /usr/lib; do
    find "$tree" -xdev -type f -size -8M -printf '%s %p\n' 2>/dev/null | LC_ALL=C sort -k2 |
      awk -v budget="$budget" '!full && total + $1 > budget { full = 1 }
        !full { total += $1; print substr($0, index($0, " ") + 2) }'
  done >"$list"
  tar -C / --files-from="$list" -cf - 2>/dev/null | tar -C "$dir" -xf - \
    || die "copying host files into the rootfs failed"
  rm -f "$list"
}
