#!/usr/bin/env bash
# e2e first-boot lane (issue 19): for each stand-in release (bookworm: userconf-pi and
# systemd-networkd; trixie: cloud-init with the NoCloud seed on bootfs, NetworkManager, first
# user with shell nologin), patch it with a lab holding server.ssh (a key made for this run) and
# server.network (a static address on qemu's user network), boot it under qemu TCG and log in
# from the host over ssh, through a forward to the STATIC address (so the login proves the
# address was applied):
#   - the lab's key logs in as the lab's user, with a real shell (`id` runs);
#   - usbip-binder is active;
#   - a password login is refused (the server offers publickey only);
#   - one line per release: `login ok` and the seconds from starting qemu to the first login;
#   - the control: the patched trixie image with pi's shell put back to /usr/sbin/nologin (what
#     fpga-lab left before it set a login shell) boots, and the same key login is refused with
#     "This account is currently not available" (so the lane can tell the trap from the fix).
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
LANE=firstboot-lane
# shellcheck source=Tests/e2e/lane-lib.sh
. "$HERE/lane-lib.sh"

usage() {
  cat <<'EOF'
usage: Tests/e2e/firstboot-lane.sh [options]

  --fpga-lab BIN   the fpga-lab executable (default: `swift build --show-bin-path`)
  --release R      only this release (bookworm or trixie; default: both)
  --timeout S      seconds to wait for the first ssh login (default 600)
environment:
  E2E_ACCEL        qemu accelerator (default tcg,thread=single: see lane-lib.sh), passed to boot.sh
Outputs go to build/e2e/firstboot-lane/ (lab files, images, console logs, lane.log).
EOF
}

fpga_lab='' releases=(bookworm trixie) timeout=600
while (($#)); do
  case $1 in
    --fpga-lab | --release | --timeout)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      case $1 in
        --fpga-lab) fpga_lab=$2 ;;
        --release) releases=("$2") ;;
        --timeout) timeout=$2 ;;
      esac
      shift 2
      ;;
    *) lane_help_or_die "$1" ;;
  esac
done
for release in "${releases[@]}"; do
  [[ $release == bookworm || $release == trixie ]] || die "--release must be bookworm or trixie (got '$release')"
done
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds"
for tool in qemu-system-x86_64 ssh ssh-keygen python3 sfdisk mcopy mmdebstrap; do
  command -v "$tool" >/dev/null || die "missing tool $tool (see deps/e2e.apt)"
done
if [[ -z $fpga_lab ]]; then
  fpga_lab=$(cd "$REPO_ROOT" && swift build --show-bin-path)/fpga-lab
fi
[[ -x $fpga_lab ]] || die "no fpga-lab executable at '$fpga_lab' (run: swift build)"

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
work=$REPO_ROOT/build/e2e/firstboot-lane
rm -rf "$work"
mkdir -p "$work"
lane_transcript "$work/lane.log"

# The guest's static address on qemu's user network (10.0.2.0/24; the host is 10.0.2.2, its DNS
# 10.0.2.3). qemu's DHCP would hand out 10.0.2.15: a login through the forward to .50 shows the
# lab's address is the one the Pi took.
STATIC=10.0.2.50
USER_NAME=pi

qemu_pid='' qmp_sock='' console_log='' vm_dir=''
fail() {
  printf '\n%s: FAILED: %s\n' "$LANE" "$*" >&2
  lane_tail "lane transcript" "$work/lane.log" 40 >&2
  lane_tail "guest console" "$console_log" 60 >&2
  vm_stop "$qemu_pid" "$qmp_sock"
  exit 1
}
# shellcheck disable=SC2016 # expanded when the trap runs
lane_traps fail 'vm_stop "$qemu_pid" "$qmp_sock"' 'vm_stop "$qemu_pid" "$qmp_sock"'

ssh-keygen -q -t ed25519 -N '' -C "fpga-lab firstboot lane" -f "$work/id_ed25519"
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
guest_ssh() { # PORT CMD: runs CMD as the lab's user over ssh with the lab's key
  local output status=0
  output=$(ssh "${ssh_opts[@]}" -i "$work/id_ed25519" -p "$1" "$USER_NAME@127.0.0.1" "$2" 2>&1) || status=$?
  log "ssh\$ $2" "$output" "(exit $status)"
  printf '%s\n' "$output"
  return "$status"
}

cat >"$work/lab.yaml" <<EOF
# The e2e first-boot lane's lab (written by Tests/e2e/firstboot-lane.sh for this run's key).
lab: firstboot-lab
server:
  board: pi4
  hostname: firstboot-pi
  daemon: binder
  allow: [10.0.2.0/24, 127.0.0.1]
  ssh:
    user: $USER_NAME
    authorized_keys:
      - $(cat "$work/id_ed25519.pub")
  network:
    addresses: [$STATIC/24]
    gateway: 10.0.2.2
    dns: [10.0.2.3]
devices:
  - name: ftdi-a
    vendor: "0403"
    product: "6001"
EOF

# check_image RELEASE IMAGE: fsck.fat -n and e2fsck -fn clean; cmdline.txt one line, keeping
# trixie's `resize`, with the seed's instance-id on cloud-init images.
check_image() {
  local release=$1 img=$2 dump bstart bsize rstart cmdline
  dump=$(sfdisk --dump "$img")
  bstart=$(sed -n 's/^.*1 : start= *\([0-9]*\), size= *\([0-9]*\).*/\1/p' <<<"$dump")
  bsize=$(sed -n 's/^.*1 : start= *\([0-9]*\), size= *\([0-9]*\).*/\2/p' <<<"$dump")
  rstart=$(sed -n 's/^.*2 : start= *\([0-9]*\),.*/\1/p' <<<"$dump")
  dd if="$img" of="$vm_dir/bootfs" bs=512 skip="$bstart" count="$bsize" conv=sparse status=none
  fsck.fat -n "$vm_dir/bootfs" >>"$work/lane.log" 2>&1 || fail "$release: fsck.fat -n finds errors in the patched bootfs"
  e2fsck -fn "$img?offset=$((rstart * 512))" >>"$work/lane.log" 2>&1 || fail "$release: e2fsck -fn finds errors in the patched rootfs"
  cmdline=$(MTOOLS_SKIP_CHECK=1 mtype -i "$vm_dir/bootfs" ::cmdline.txt)
  [[ $(wc -l <<<"$cmdline") == 1 ]] || fail "$release: cmdline.txt is not one line: $cmdline"
  if [[ $release == trixie ]]; then
    [[ " $cmdline " == *" resize "* && $cmdline == *" ds=nocloud;i=fpga-lab-"* ]] || fail "$release: cmdline.txt lost resize or has no instance-id: $cmdline"
  fi
  rm -f "$vm_dir/bootfs"
  say "$release: patched image fsck.fat -n and e2fsck -fn clean; cmdline.txt: $cmdline"
}

# boot_vm RELEASE IMAGE DIR: starts boot.sh in the background (ssh forward to the static address);
# sets boot_pid, ssh_port, start, and console_log/qmp_sock for the failure report.
boot_vm() {
  vm_dir=$3
  mkdir -p "$vm_dir"
  ssh_port=$(free_port)
  console_log=$vm_dir/console.log qmp_sock=$vm_dir/qmp.sock qemu_pid=''
  start=$(now)
  "$HERE/boot.sh" "$2" --no-hotplug --keep-running --workdir "$vm_dir" --timeout "$timeout" \
    --forward "$ssh_port:$STATIC:22" >"$vm_dir/boot.out" 2>&1 &
  boot_pid=$!
}

# first_ssh RELEASE: polls `ssh ... id` until sshd answers with a result that is not a
# connection failure; prints what it said, returns ssh's status.
first_ssh() {
  local deadline=$((SECONDS + timeout)) out status
  while :; do
    status=0
    out=$(ssh "${ssh_opts[@]}" -i "$work/id_ed25519" -p "$ssh_port" "$USER_NAME@127.0.0.1" id 2>&1) || status=$?
    if ((status == 0)) || [[ $out == *"currently not available"* || $out == *"Permission denied"* ]]; then
      printf '%s\n' "$out"
      return "$status"
    fi
    [[ -z $qemu_pid && -s $vm_dir/qemu.pid ]] && qemu_pid=$(<"$vm_dir/qemu.pid")
    if [[ -n $qemu_pid ]] && ! kill -0 "$qemu_pid" 2>/dev/null; then fail "$1: qemu exited before sshd answered"; fi
    ((SECONDS < deadline)) || fail "$1: sshd did not answer a login as $USER_NAME within $timeout s (last: $out)"
    sleep 1
  done
}

results=()
for release in "${releases[@]}"; do
  base=$REPO_ROOT/build/standin/bootable-x86_64.img
  [[ $release == trixie ]] && base=$REPO_ROOT/build/standin/bootable-$release-x86_64.img
  image=$work/$release.img vm_dir=$work/$release
  mkdir -p "$vm_dir"
  say "$release: stand-in $base"
  "$REPO_ROOT/scripts/make-standin-base.sh" --bootable "$base" --release "$release" >>"$work/lane.log" 2>&1 ||
    fail "make-standin-base.sh --bootable --release $release failed"
  say "$release: fpga-lab build-image --config lab.yaml --base ${base##*/} --output $image"
  "$fpga_lab" build-image --config "$work/lab.yaml" --base "$base" --output "$image" >"$vm_dir/build-image.out" 2>&1 ||
    { cat "$vm_dir/build-image.out" >>"$work/lane.log"; fail "$release: build-image failed"; }
  cat "$vm_dir/build-image.out" >>"$work/lane.log"
  say "$release: $(grep -m1 'first boot:' "$vm_dir/build-image.out" | sed 's/^[^:]*: //')"
  check_image "$release" "$image"

  boot_vm "$release" "$image" "$vm_dir"
  # The first login: poll until the lab's key gets a shell, or the deadline.
  login=$(first_ssh "$release") || fail "$release: the key login was refused: $login"
  login_seconds=$(elapsed "$start")
  log "ssh\$ id" "$login"
  wait "$boot_pid" || { cat "$vm_dir/boot.out" >>"$work/lane.log"; fail "$release: boot.sh failed"; }
  qemu_pid=$(<"$vm_dir/qemu.pid")
  [[ $login == "uid=1000($USER_NAME) "* ]] || fail "$release: id says '$login', expected uid=1000($USER_NAME)"
  say "$release: first login after $login_seconds s: $login"

  active=$(guest_ssh "$ssh_port" 'systemctl is-active usbip-binder.service') || fail "$release: usbip-binder is not active: $active"
  # shellcheck disable=SC2016 # expanded in the guest
  shell=$(guest_ssh "$ssh_port" 'getent passwd $(id -un) | cut -d: -f7')
  [[ $shell == /bin/bash ]] || fail "$release: the login shell is '$shell'"
  address=$(guest_ssh "$ssh_port" "ip -4 -o addr show dev eth0 | awk '{ print \$4 }'")
  [[ $address == "$STATIC/24" ]] || fail "$release: eth0 has '$address', expected only $STATIC/24"
  host=$(guest_ssh "$ssh_port" hostname)
  [[ $host == firstboot-pi ]] || fail "$release: hostname is '$host', expected firstboot-pi"
  if [[ $release == trixie ]]; then
    # cloud-init read the seed fpga-lab wrote (instance-id) and is done.
    ci=$(guest_ssh "$ssh_port" 'cloud-init status --wait >/dev/null 2>&1; cloud-init status; cloud-init query instance_id') ||
      fail "$release: cloud-init status failed: $ci"
    [[ $ci == *"status: done"* && $ci == *fpga-lab-* ]] || fail "$release: cloud-init did not finish with fpga-lab's instance-id: $ci"
    say "$release: cloud-init: $(tr '\n' ' ' <<<"$ci")"
  fi
  refused=$(ssh "${ssh_opts[@]}" -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
    -p "$ssh_port" "$USER_NAME@127.0.0.1" true 2>&1) && fail "$release: a login without the key succeeded"
  log "ssh (password)\$ true" "$refused"
  [[ $refused == *"Permission denied (publickey)"* ]] || fail "$release: a password login was not refused as expected: $refused"
  say "$release: password login refused ($refused)"
  vm_stop "$qemu_pid" "$qmp_sock"
  qemu_pid=''
  results+=("$release: login ok after $login_seconds s (ssh $USER_NAME@$STATIC with the lab's key; shell $shell; usbip-binder $active)")
done

# The control: the trap this lane exists for, on the trixie image with pi's shell put back.
if [[ " ${releases[*]} " == *" trixie "* ]]; then
  control=$work/control-trixie.img
  cp --sparse=always "$work/trixie.img" "$control"
  rstart=$(sfdisk --dump "$control" | sed -n 's/^.*2 : start= *\([0-9]*\),.*/\1/p')
  debugfs -R 'cat /etc/passwd' "$control?offset=$((rstart * 512))" 2>/dev/null |
    sed "s|^$USER_NAME:\(.*\):/bin/bash\$|$USER_NAME:\1:/usr/sbin/nologin|" >"$work/passwd.nologin"
  grep -q "^$USER_NAME:.*:/usr/sbin/nologin\$" "$work/passwd.nologin" || fail "control: could not put back pi's nologin shell"
  debugfs -w -R "write $work/passwd.nologin /etc/passwd.control" "$control?offset=$((rstart * 512))" >>"$work/lane.log" 2>&1
  debugfs -w -f - "$control?offset=$((rstart * 512))" >>"$work/lane.log" 2>&1 <<EOF
unlink /etc/passwd
link /etc/passwd.control /etc/passwd
unlink /etc/passwd.control
sif /etc/passwd mode 0100644
EOF
  say "control: trixie image with $USER_NAME's shell back at /usr/sbin/nologin"
  boot_vm control "$control" "$work/control"
  refusal=$(first_ssh control) && fail "control: the key login with shell nologin succeeded: $refusal"
  wait "$boot_pid" || true
  qemu_pid=$(<"$vm_dir/qemu.pid")
  [[ $refusal == *"This account is currently not available"* ]] || fail "control: expected 'This account is currently not available', got: $refusal"
  vm_stop "$qemu_pid" "$qmp_sock"
  qemu_pid=''
  results+=("control: trixie with shell nologin: key login refused after $(elapsed "$start") s: ${refusal//$'\n'/ }")
fi

for line in "${results[@]}"; do say "$line"; done
