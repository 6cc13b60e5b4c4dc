#!/usr/bin/env bash
# The deb lane (issue 23): the .deb `make dist` built, installed with apt into clean Debian 12
# and Debian 13 roots (mmdebstrap --variant=minbase, no Swift), and used there as a new user
# would. In each root:
#   - apt-get install ./fpga-lab_*.deb pulls its Depends from the mirror; ldd finds every
#     library and none is Swift's;
#   - fpga-lab --version is the package's version;
#   - check and render --output x.tar.gz on the packaged example lab (daemon: binder: the
#     packaged armv6 usbip-binder goes in without flags);
#   - build-image of the aarch64 stand-in with the packaged example (daemon: binder), no --binder: the image's
#     /usr/local/sbin/usbip-binder is /usr/lib/fpga-lab/binder/aarch64/usbip-binder byte for byte,
#     and its manifest names the package's version (read back with debugfs on the host);
#   - client-recipe writes a DKMS package;
#   - list against the packaged x86_64 usbip-binder serving a fake sysfs on loopback shows the
#     exported board;
#   - man fpga-lab shows the page; bash, fish and zsh (driven on a pseudo-terminal by
#     zsh-complete.zsh) complete `fpga-lab fl<TAB>` to flash, zsh `build-image --bas<TAB>` to --base;
#   - then, with the package removed (its libraries stay), the .tar.gz beside the .deb unpacked
#     under /opt/fpga-lab: its fpga-lab prints the version, render and build-image bake in its
#     own binders (../lib/fpga-lab/binder beside the executable), and the image is the .deb's
#     byte for byte.
# With --install-tree DIR (what `make install DESTDIR=DIR PREFIX=/usr` wrote), first: that tree
# and the .deb's hold the same files with the same bytes (the .deb adds /etc/fpga-lab/ only).
# usage: Tests/dist/deb-lane.sh --deb build/dist/fpga-lab_VERSION_amd64.deb [--install-tree DIR]
#        [--release R]...
# Needs root (chroot, mount), mmdebstrap and the host's apt mirror (deb822 sources).
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
LANE="deb-lane"
# die, say, now, elapsed and the transcript: the e2e lanes' helpers.
# shellcheck source=Tests/e2e/lane-lib.sh
. "$REPO_ROOT/Tests/e2e/lane-lib.sh"

deb='' install_tree='' releases=()
while (($#)); do
  case $1 in
    --deb) [[ $# -ge 2 ]] || die "--deb needs a value"; deb=$2; shift 2 ;;
    --install-tree) [[ $# -ge 2 ]] || die "--install-tree needs a value"; install_tree=$2; shift 2 ;;
    --release) [[ $# -ge 2 ]] || die "--release needs a value"; releases+=("$2"); shift 2 ;;
    -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done
((${#releases[@]})) || releases=(bookworm trixie)
[[ -r $deb ]] || die "cannot read the .deb '$deb' (give --deb; make dist builds it)"
[[ $(id -u) == 0 ]] || die "needs root (mmdebstrap into a directory, chroot, mount)"
for tool in mmdebstrap dpkg-deb debugfs sfdisk python3 readelf; do
  command -v "$tool" >/dev/null || die "missing tool $tool (deps/dist.apt)"
done
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
tarball=${deb%.deb}.tar.gz
[[ -r $tarball ]] || die "cannot read $tarball, the .tar.gz make dist builds beside the .deb"
version=$(dpkg-deb -f "$deb" Version)
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

out=$REPO_ROOT/build/dist/deb-lane
rm -rf "$out"
mkdir -p "$out"
log=$out/lane.log
lane_transcript "$log"

# The inputs the roots' fpga-lab works on, made on the host: the aarch64 stand-in (a small
# Raspberry Pi OS shaped image) and a fake sysfs with one board exported by usbip-binder.
say "building the aarch64 stand-in base"
"$REPO_ROOT/scripts/make-standin-base.sh" --small "$REPO_ROOT/build/standin/small-aarch64.img" --arch aarch64 >>"$log" 2>&1 ||
  die "scripts/make-standin-base.sh --small failed (see $log)"

root='' binder_pid='' image_shas=()
cleanup() {
  [[ -z $binder_pid ]] || kill "$binder_pid" 2>/dev/null || true
  if [[ -n $root ]]; then
    for m in dev/pts dev proc sys; do umount "$root/$m" 2>/dev/null || true; done
  fi
}
trap cleanup EXIT
lane_fail() {
  echo "deb-lane: FAILED ($1): $2" >&2
  echo "--- last lines of $log" >&2
  tail -n 40 "$log" >&2
  exit 1
}
# in_root CMD: CMD in the chroot's login shell environment, output to the log and stdout.
in_root() { chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 bash -c "$1" 2>&1 | tee -a "$log"; }

# check_build_image RELEASE PREFIX: PREFIX/bin/fpga-lab build-image of the aarch64 stand-in with
# /tmp/lab.yaml (daemon: binder) and no --binder, in the root. The image's usbip-binder must be
# PREFIX/lib/fpga-lab/binder/aarch64/usbip-binder byte for byte and its manifest must name
# $version (both read back with debugfs on the host). Sets build_s and image_sha.
check_build_image() {
  local release=$1 prefix=$2 start t
  cp "$REPO_ROOT/build/standin/small-aarch64.img" "$root/tmp/base.img"
  t=$(now)
  in_root "cd /tmp && $prefix/bin/fpga-lab build-image --config lab.yaml --base base.img --output pi.img" >/dev/null ||
    lane_fail "$release" "$prefix/bin/fpga-lab build-image of the stand-in failed"
  build_s=$(elapsed "$t")
  start=$(sfdisk -J "$root/tmp/pi.img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"][1]["start"])')
  dd if="$root/tmp/pi.img" of="$out/rootfs.img" bs=512 skip="$start" status=none
  debugfs -R "dump /usr/local/sbin/usbip-binder $out/baked-binder" "$out/rootfs.img" >>"$log" 2>&1
  cmp -s "$out/baked-binder" "$root$prefix/lib/fpga-lab/binder/aarch64/usbip-binder" ||
    lane_fail "$release" "the image's usbip-binder is not $prefix/lib/fpga-lab/binder/aarch64/usbip-binder"
  tool=$(debugfs -R "cat /etc/fpga-lab/manifest" "$out/rootfs.img" 2>>"$log" | sed -n 's/^tool //p')
  [[ $tool == "fpga-lab $version" ]] || lane_fail "$release" "the image's manifest says 'tool $tool', expected fpga-lab $version"
  image_sha=$(sha256sum <"$root/tmp/pi.img" | cut -c1-16)
  rm -f "$out/rootfs.img" "$out/baked-binder" "$root/tmp/base.img" "$root/tmp/pi.img"
}

# The board: the packaged x86_64 usbip-binder (taken from the .deb, not the build tree) serving
# a fake sysfs (Binder/tests/lib.sh) on loopback, where every root's fpga-lab list reaches it.
extract=$out/extracted
dpkg-deb -x "$deb" "$extract"
BINDER=$extract/usr/lib/fpga-lab/binder/x86_64/usbip-binder
# No RPATH or RUNPATH: the loader must not look beside /usr/bin/fpga-lab for libraries.
if readelf -d "$extract/usr/bin/fpga-lab" | grep -E 'R(UN)?PATH'; then
  die "/usr/bin/fpga-lab has a library search path of its own (RPATH/RUNPATH)"
fi
if [[ -n $install_tree ]]; then
  [[ -x $install_tree/usr/bin/fpga-lab ]] || die "no usr/bin/fpga-lab in --install-tree $install_tree"
  # files() DIR: each regular file or symlink, its sha256 (or link target) and path.
  files() { (cd "$1" && find . \( -type f -o -type l \) ! -path './DEBIAN/*' -printf '%P\n' | sort | while read -r f; do
    if [[ -L $f ]]; then echo "link $(readlink "$f") $f"; else echo "$(sha256sum <"$f" | cut -c1-64) $f"; fi
  done); }
  if ! diff <(files "$extract") <(files "$install_tree") >"$out/install-tree.diff"; then
    die "make install's tree differs from the .deb's (< .deb, > make install):
$(head -n 20 "$out/install-tree.diff")"
  fi
  say "make install DESTDIR=... PREFIX=/usr: the same $(files "$install_tree" | wc -l) files as the .deb, byte for byte"
fi

# shellcheck source=Binder/tests/lib.sh
. "$REPO_ROOT/Binder/tests/lib.sh"
WORK=$out/binder T=$out/binder/sys
mkdir -p "$WORK"
make_tree "$T"
add_boards "$T"
set_driver "$T" devices/platform/soc/usb1/1-1/1-1.3 usbip-host
attr "$T/devices/platform/soc/usb1/1-1/1-1.3/usbip_status" 1
start_server "$WORK/serve.log" --port 0 --allow 127.0.0.1
binder_pid=$SERVER
[[ $NOTIFIED == *READY=1* ]] || die "the packaged usbip-binder did not get ready: $(cat "$WORK/serve.log")"
port=$(served_port)
[[ -n $port ]] || die "the packaged usbip-binder named no port in its STATUS=: $NOTIFIED"
say "packaged usbip-binder $("$BINDER" --version 2>&1 | head -n 1) serving 1-1.3 (0403:6010) on 127.0.0.1:$port"

for release in "${releases[@]}"; do
  t=$(now)
  root=$out/root-$release
  say "$release: mmdebstrap --variant=minbase into $root"
  mmdebstrap --variant=minbase --include=ca-certificates "$release" "$root" "$mirror" >>"$log" 2>&1 ||
    lane_fail "$release" "mmdebstrap $release failed"
  for m in proc sys dev dev/pts; do
    case $m in
      proc) mount -t proc proc "$root/proc" ;;
      sys) mount -t sysfs sysfs "$root/sys" ;;
      dev) mount --bind /dev "$root/dev" ;;
      dev/pts) mount --bind /dev/pts "$root/dev/pts" ;;
    esac
  done
  in_root "command -v swift swiftc; ls -d /usr/lib/swift* /opt/swift 2>/dev/null; true" | grep -q . &&
    lane_fail "$release" "the clean root has Swift in it"
  debian_version=$(cat "$root/etc/debian_version")
  root_s=$(elapsed "$t")

  cp "$deb" "$root/tmp/"
  # (mmdebstrap leaves no package lists behind.)
  in_root "apt-get update -q >/dev/null" >/dev/null || lane_fail "$release" "apt-get update failed"
  t=$(now)
  apt_out=$(in_root "apt-get install -y --no-install-recommends /tmp/$(basename "$deb")") ||
    lane_fail "$release" "apt-get install ./$(basename "$deb") failed"
  apt_s=$(elapsed "$t")
  pulled=$(sed -n 's/.* \([0-9]*\) newly installed.*/\1/p' <<<"$apt_out")
  # The user's tools for reading the page and completing: not the .deb's dependencies.
  in_root "apt-get install -y -q --no-install-recommends man-db bash-completion zsh fish >/dev/null" >/dev/null ||
    lane_fail "$release" "apt-get install man-db bash-completion zsh fish failed"
  installed=$(in_root "dpkg-query -W -f '\${Version}' fpga-lab")
  [[ $installed == "$version" ]] || lane_fail "$release" "dpkg-query says fpga-lab $installed, the .deb is $version"
  ldd_out=$(in_root "ldd /usr/bin/fpga-lab")
  [[ $ldd_out != *"not found"* ]] || lane_fail "$release" "a library of /usr/bin/fpga-lab is missing: $ldd_out"
  [[ $ldd_out != *swift* && $ldd_out != *Foundation* ]] || lane_fail "$release" "fpga-lab loads a Swift library: $ldd_out"

  # --version
  reported=$(in_root "fpga-lab --version")
  [[ $reported == "$version" ]] || lane_fail "$release" "fpga-lab --version printed '$reported', the package is $version"
  # check and render, on the packaged example
  in_root "cd /tmp && fpga-lab check --config /usr/share/fpga-lab/examples/lab.yaml" >/dev/null ||
    lane_fail "$release" "fpga-lab check of the packaged example failed"
  rendered=$(in_root "cd /tmp && fpga-lab render --config /usr/share/fpga-lab/examples/lab.yaml --output x.tar.gz && tar -tzf x.tar.gz") ||
    lane_fail "$release" "fpga-lab render --output x.tar.gz failed"
  grep -q 'etc/fpga-lab/manifest' <<<"$rendered" || lane_fail "$release" "render's tarball has no etc/fpga-lab/manifest"
  grep -qx 'usr/local/sbin/usbip-binder' <<<"$rendered" ||
    lane_fail "$release" "render did not bake in /usr/lib/fpga-lab/binder/armv6/usbip-binder for the daemon: binder example"
  entries=$(grep -c . <<<"$rendered")
  # build-image, the binder found in /usr/lib/fpga-lab/binder without flags
  cp "$root/usr/share/fpga-lab/examples/lab.yaml" "$root/tmp/lab.yaml"
  grep -q '^ *daemon: binder' "$root/tmp/lab.yaml" || lane_fail "$release" "the packaged example lab is not daemon: binder"
  check_build_image "$release" /usr
  image_shas+=("$image_sha")
  deb_sha=$image_sha deb_build_s=$build_s
  # client-recipe
  in_root "cd /tmp && fpga-lab client-recipe --config lab.yaml --output recipe && test -s recipe/dkms.conf && test -x recipe/install.sh" >/dev/null ||
    lane_fail "$release" "fpga-lab client-recipe failed or wrote no dkms.conf/install.sh"
  # list against the packaged binder on loopback
  listed=$(in_root "fpga-lab list --server 127.0.0.1:$port") || lane_fail "$release" "fpga-lab list --server 127.0.0.1:$port failed"
  grep -q '1-1.3' <<<"$listed" || lane_fail "$release" "fpga-lab list does not show the exported board 1-1.3: $listed"
  # man and bash completion
  page=$(in_root "MANPAGER=cat MANWIDTH=80 man fpga-lab 2>&1") || lane_fail "$release" "man fpga-lab failed: $page"
  { grep -q 'fpga-lab-watch@LAB' <<<"$page" && grep -q '^ *build-image$' <<<"$page"; } ||
    lane_fail "$release" "man fpga-lab does not show the page (no build-image section or SERVICE)"
  # shellcheck disable=SC2016 # expanded by the root's bash
  completed=$(in_root '. /usr/share/bash-completion/bash_completion
_completion_loader fpga-lab
func=$(complete -p fpga-lab | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
COMP_LINE="fpga-lab fl"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(fpga-lab fl); COMP_CWORD=1
"$func" fpga-lab fl fpga-lab
echo "${COMPREPLY[@]}"') || lane_fail "$release" "bash completion failed: $completed"
  [[ $(tail -n 1 <<<"$completed") == flash ]] || lane_fail "$release" "bash completes 'fpga-lab fl' to '$(tail -n 1 <<<"$completed")', not flash"
  # fish completes from its vendor directory; zsh's compsys is driven on a pseudo-terminal
  # (zsh-complete.zsh: compinit on the default fpath, the words and a Tab typed), from an empty
  # directory so that no file name completes.
  fished=$(in_root "fish -c 'complete -C \"fpga-lab fl\"'") || lane_fail "$release" "fish completion failed: $fished"
  [[ $(cut -f1 <<<"$fished") == flash ]] || lane_fail "$release" "fish completes 'fpga-lab fl' to '$fished', not flash"
  cp "$HERE/zsh-complete.zsh" "$root/tmp/zsh-complete.zsh"
  for typed in 'fpga-lab fl:fpga-lab flash' 'fpga-lab build-image --bas:fpga-lab build-image --base'; do
    zshed=$(in_root "mkdir -p /tmp/empty && cd /tmp/empty && timeout 60 zsh -f /tmp/zsh-complete.zsh '${typed%%:*}'") ||
      lane_fail "$release" "zsh completion of '${typed%%:*}' failed: $zshed"
    [[ $(tail -n 1 <<<"$zshed") == "${typed#*:}" ]] ||
      lane_fail "$release" "zsh completes '${typed%%:*}<TAB>' to '$(tail -n 1 <<<"$zshed")', not '${typed#*:}'"
  done

  # The .tar.gz: the same tree unpacked under another prefix, with the package removed (its
  # libraries stay). Its fpga-lab finds its binders beside itself (../lib/fpga-lab/binder) and
  # builds the same image byte for byte.
  in_root "apt-get remove -y -q fpga-lab >/dev/null && ! command -v fpga-lab" >/dev/null ||
    lane_fail "$release" "apt-get remove fpga-lab failed or left /usr/bin/fpga-lab"
  mkdir -p "$root/opt/fpga-lab"
  tar -C "$root/opt/fpga-lab" -xzf "$tarball" || lane_fail "$release" "cannot unpack $(basename "$tarball")"
  tar_reported=$(in_root "/opt/fpga-lab/usr/bin/fpga-lab --version")
  [[ $tar_reported == "$version" ]] || lane_fail "$release" "the tarball's fpga-lab --version printed '$tar_reported', expected $version"
  tar_rendered=$(in_root "cd /tmp && /opt/fpga-lab/usr/bin/fpga-lab render --config lab.yaml --output y.tar.gz 2>&1 && tar -xzOf y.tar.gz usr/local/sbin/usbip-binder | cmp - /opt/fpga-lab/usr/lib/fpga-lab/binder/armv6/usbip-binder") ||
    lane_fail "$release" "the tarball's render did not bake in /opt/fpga-lab/usr/lib/fpga-lab/binder/armv6/usbip-binder: $tar_rendered"
  check_build_image "$release" /opt/fpga-lab/usr
  [[ $image_sha == "$deb_sha" ]] ||
    lane_fail "$release" "the tarball's build-image gave $image_sha, the .deb's $deb_sha, from the same inputs"

  say "$release (Debian $debian_version): clean root ${root_s} s; apt-get install of the .deb ${apt_s} s, ${pulled} packages newly installed; --version $reported; check ok; render $entries entries (usbip-binder armv6 in); build-image ${deb_build_s} s (sha256 $deb_sha), binder from /usr/lib/fpga-lab/binder/aarch64, manifest 'tool $tool'; client-recipe ok; list shows 1-1.3; man page ok; fpga-lab fl<TAB> -> flash (bash, fish, zsh; zsh also build-image --bas<TAB> -> --base); the .tar.gz under /opt/fpga-lab: --version, render and build-image with its own binders, the same image"
  cleanup_root=$root
  for m in dev/pts dev proc sys; do umount "$cleanup_root/$m"; done
  root=''
  rm -rf "$cleanup_root"
done
# The same inputs give the same image, whichever Debian release fpga-lab runs on.
[[ $(printf '%s\n' "${image_shas[@]}" | sort -u | wc -l) == 1 ]] ||
  die "build-image gave different images on ${releases[*]}: ${image_shas[*]}"
say "ok: $(basename "$deb") on ${releases[*]}; build-image's output identical on each (sha256 ${image_shas[0]})"
