#!/usr/bin/env bash
# Installs fpga-lab's tree under DESTDIR/PREFIX: the one layout `make install`, the .deb and the
# .tar.gz share (mk/dist.mk).
#
#   PREFIX/bin/fpga-lab                                   stripped, Swift runtime static
#   PREFIX/lib/fpga-lab/binder/{aarch64,armv6,x86_64}/usbip-binder
#                                                         what build-image bakes in without --binder
#   PREFIX/lib/systemd/system/fpga-lab-watch@.service     the client unit (ExecStart: PREFIX/bin)
#   PREFIX/share/fpga-lab/templates/, examples/lab.yaml   the built-in templates' sources, an example
#   PREFIX/share/man/man1/fpga-lab.1.gz
#   PREFIX/share/bash-completion/completions/fpga-lab
#   PREFIX/share/zsh/vendor-completions/_fpga-lab
#   PREFIX/share/fish/vendor_completions.d/fpga-lab.fish
#   PREFIX/share/doc/fpga-lab/{README.md,copyright,changelog.gz}
#
# usage: install-tree.sh --destdir DIR --prefix /usr --fpga-lab BIN --generated DIR --binders DIR
#        --version VERSION --date RFC2822
#   --generated: the man page and completions made from BIN (mk/dist.mk); --binders: build/binder.
# With --destdir, every file under it gets mtime SOURCE_DATE_EPOCH when set (reproducible archives).
set -euo pipefail
cd "$(dirname "$0")/../.."
die() { echo "install-tree: $*" >&2; exit 1; }

destdir='' prefix='' bin='' generated='' binders='' version='' date=''
while (($#)); do
  [[ $# -ge 2 ]] || die "$1 needs a value"
  case $1 in
    --destdir) destdir=$2 ;;
    --prefix) prefix=$2 ;;
    --fpga-lab) bin=$2 ;;
    --generated) generated=$2 ;;
    --binders) binders=$2 ;;
    --version) version=$2 ;;
    --date) date=$2 ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
[[ $prefix == /* ]] || die "--prefix must be an absolute path, not '$prefix'"
[[ -x $bin ]] || die "no fpga-lab executable at '$bin'"
for f in fpga-lab.1 fpga-lab.bash _fpga-lab fpga-lab.fish; do
  [[ -s $generated/$f ]] || die "$generated/$f is missing (make dist-generated)"
done
for arch in aarch64 armv6 x86_64; do
  [[ -x $binders/$arch/usbip-binder ]] || die "$binders/$arch/usbip-binder is missing (make binder)"
done
[[ -n $version && -n $date ]] || die "--version and --date are required"

root=$destdir$prefix
install -d "$root/bin"
install -m 0755 "$bin" "$root/bin/fpga-lab"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/bin/fpga-lab"
for arch in aarch64 armv6 x86_64; do
  install -D -m 0755 "$binders/$arch/usbip-binder" "$root/lib/fpga-lab/binder/$arch/usbip-binder"
done
unit=$(mktemp)
trap 'rm -f "$unit"' EXIT
sed "s|@BINDIR@|$prefix/bin|g" packaging/fpga-lab-watch@.service >"$unit"
install -D -m 0644 "$unit" "$root/lib/systemd/system/fpga-lab-watch@.service"
while IFS= read -r -d '' file; do
  install -D -m 0644 "$file" "$root/share/fpga-lab/$file"
done < <(find templates -type f -print0 | sort -z)
install -D -m 0644 examples/lab.yaml "$root/share/fpga-lab/examples/lab.yaml"
install -d "$root/share/man/man1"
gzip -9n <"$generated/fpga-lab.1" >"$root/share/man/man1/fpga-lab.1.gz"
# bash-completion sources the file: no #! line (ArgumentParser writes one).
install -d "$root/share/bash-completion/completions"
sed '1{/^#!/d}' "$generated/fpga-lab.bash" >"$root/share/bash-completion/completions/fpga-lab"
chmod 0644 "$root/share/bash-completion/completions/fpga-lab"
install -D -m 0644 "$generated/_fpga-lab" "$root/share/zsh/vendor-completions/_fpga-lab"
install -D -m 0644 "$generated/fpga-lab.fish" "$root/share/fish/vendor_completions.d/fpga-lab.fish"
doc=$root/share/doc/fpga-lab
install -D -m 0644 README.md "$doc/README.md"
install -m 0644 packaging/copyright "$doc/copyright"
install -D -m 0644 packaging/lintian-overrides "$root/share/lintian/overrides/fpga-lab"
# The changelog: this build's entry on top of packaging/changelog's released ones.
{
  if ! grep -q "^fpga-lab ($version)" packaging/changelog; then
    printf 'fpga-lab (%s) unstable; urgency=medium\n\n' "$version"
    printf '  * Built from git: %s.\n\n' "$(git describe --tags --always --dirty 2>/dev/null || echo "$version")"
    printf ' -- %s  %s\n\n' "$(sed -n 's/^ -- \(.*>\)  .*/\1/p' packaging/changelog | head -n 1)" "$date"
  fi
  cat packaging/changelog
} | gzip -9n >"$doc/changelog.gz"
# A staged tree (DESTDIR, as make dist's) is all ours: its times become SOURCE_DATE_EPOCH.
if [[ -n $destdir && -n ${SOURCE_DATE_EPOCH:-} ]]; then
  find "$destdir" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
fi
