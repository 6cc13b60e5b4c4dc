#!/usr/bin/env bash
# Makes build/dist/fpga-lab_VERSION_amd64.deb and fpga-lab_VERSION_amd64.tar.gz from a tree that
# install-tree.sh staged with --prefix /usr (mk/dist.mk, `make dist`).
#   Depends: dpkg-shlibdeps on the staged fpga-lab (the libraries its ELF header names, at the
#            versions their symbols files require), never a hand-kept list.
#   DEBIAN/: control, md5sums, conffiles (none), postinst/postrm (systemctl daemon-reload, as
#            debhelper writes it for a unit no instance of which is enabled by default).
# usage: make-deb.sh --stage DIR --version VERSION --out DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
die() { echo "make-deb: $*" >&2; exit 1; }

stage='' version='' out=''
while (($#)); do
  [[ $# -ge 2 ]] || die "$1 needs a value"
  case $1 in
    --stage) stage=$2 ;;
    --version) version=$2 ;;
    --out) out=$2 ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
[[ -x $stage/usr/bin/fpga-lab ]] || die "no $stage/usr/bin/fpga-lab (install-tree.sh --destdir $stage --prefix /usr)"
[[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "'$version' is not a Debian native version"
arch=$(dpkg --print-architecture)
name=fpga-lab_${version}_$arch
mkdir -p "$out"
stage=$(cd "$stage" && pwd)

# dpkg-shlibdeps reads debian/control from the directory it runs in.
shlibs=$(mktemp -d)
trap 'rm -rf "$shlibs"' EXIT
mkdir -p "$shlibs/debian"
printf 'Source: fpga-lab\n\nPackage: fpga-lab\nArchitecture: any\n' >"$shlibs/debian/control"
depends=$(cd "$shlibs" && dpkg-shlibdeps -O -e"$stage/usr/bin/fpga-lab" 2>"$shlibs/warnings" | sed -n 's/^shlibs:Depends=//p')
[[ -n $depends ]] || die "dpkg-shlibdeps found no dependencies: $(cat "$shlibs/warnings")"
if grep -q . "$shlibs/warnings"; then cat "$shlibs/warnings" >&2; fi

rm -rf "$stage/DEBIAN"
install -d -m 0755 "$stage/DEBIAN"
installed_kib=$(du -sk --apparent-size --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: fpga-lab
Version: $version
Architecture: $arch
Maintainer: $(sed -n 's/^ -- \(.*>\)  .*/\1/p' packaging/changelog | head -n 1)
Installed-Size: $installed_kib
Depends: $depends
Recommends: dkms
Suggests: bmap-tools, usbip
Section: utils
Priority: optional
Description: Raspberry Pi USB/IP servers for FPGA boards
 fpga-lab turns a lab config (which FPGA boards, which Raspberry Pi, who may
 connect) into a Raspberry Pi OS image that exports the boards over USB/IP,
 and attaches them on developers' machines as if they were local.
 .
 It renders the server's files, patches a stock image (bookworm or trixie)
 without root, writes it to an SD card and verifies it, builds a DKMS vhci-hcd
 with enough ports for a client, and keeps a lab's boards attached through the
 fpga-lab-watch@LAB service. usbip-binder, the small USB/IP server baked into
 images, ships built for aarch64, armv6 and x86_64.
CONTROL
for script in postinst postrm; do
  cat >"$stage/DEBIAN/$script" <<'SCRIPT'
#!/bin/sh
set -e
# fpga-lab-watch@.service changed: let a running systemd read it again.
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
SCRIPT
  chmod 0755 "$stage/DEBIAN/$script"
done
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
if [[ -n ${SOURCE_DATE_EPOCH:-} ]]; then
  find "$stage" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
fi
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/$name.deb" >/dev/null
# The same tree, without DEBIAN/, for machines without dpkg (unpack at /).
tar -C "$stage" --exclude=./DEBIAN --sort=name --owner=0 --group=0 --numeric-owner \
  ${SOURCE_DATE_EPOCH:+--mtime=@$SOURCE_DATE_EPOCH --clamp-mtime} -cf - . | gzip -9n >"$out/$name.tar.gz"
echo "$out/$name.deb"
