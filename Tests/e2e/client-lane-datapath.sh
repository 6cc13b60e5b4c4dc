# shellcheck shell=bash
# Section (7) of Tests/e2e/client-lane.sh, sourced by it (same shell: its VMs, helpers and
# variables): the data path over the virtual cable between the VMs, usbip-binder against
# Debian's usbipd in the same server VM. Not a script of its own.
# (7) The data path over the virtual cable, per daemon.
# attach_lan: attach the board over the cable and wait for its tty.
attach_lan() {
  client "fpga-lab attach $BOARD --config /mnt/e2e/lab.yaml --server $lan_addr && for i in \$(seq 500); do [ -e /dev/ttyUSB0 ] && break; sleep 0.02; done; ls /dev/ttyUSB0" 60 >/dev/null ||
    fail "(7) fpga-lab attach $BOARD --server $lan_addr ($1) failed"
}
detach_lan() {
  client "fpga-lab detach --all --config /mnt/e2e/lab.yaml; for i in \$(seq 250); do [ -e /dev/ttyUSB0 ] || break; sleep 0.02; done" 60 >/dev/null || true
}
# wait_exported: the server exports the board again (host usbip list -r).
wait_exported() { wait_for 30 is_exported || fail "(7) the server does not export $busid again ($1)"; }
# pingpong LABEL RUN BYTES: 1000 one-byte round trips (every trip's ms kept in the client VM's
# /tmp/pp-RUN.txt, to pool runs), then BYTES each way (0: none); sets pp_median, pp_p99,
# bulk_mbps.
pingpong() {
  local output
  output=$(client "/mnt/e2e/pingpong /dev/ttyUSB0 1000 $3 /tmp/pp-$2.txt" 600) ||
    fail "(7) pingpong through /dev/ttyUSB0 with $1 failed:
$output"
  read -r _ _ _ _ pp_median _ pp_p99 _ < <(grep '^PINGPONG ' <<<"$output")
  say "ping-pong $1 median $pp_median ms p99 $pp_p99 ms"
  (($3 > 0)) || return 0
  read -r _ _ _ _ bulk_seconds _ bulk_mbps bulk_ok < <(grep '^BULK ' <<<"$output")
  [[ $bulk_ok == ok ]] || fail "(7) $3 bytes through /dev/ttyUSB0 with $1 did not come back intact: $output"
  say "bulk $1: $3 bytes each way in $bulk_seconds s, $bulk_mbps MB/s"
}
# pooled DAEMON: median and p99 (nearest rank) of every trip of every run of DAEMON.
pooled() {
  client "cat /tmp/pp-$1-*.txt | sort -g | awk '{ t[NR] = \$1 } END { p = int((NR * 99 + 99) / 100); printf \"POOLED %d %.3f %.3f\\n\", NR, (NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2), t[p] }'" | grep '^POOLED '
}
# to_usbipd / to_binder: which daemon serves USB/IP in the server VM (the board stays bound to
# usbip-host throughout). usbipd runs as fpga-lab's usbipd.service would run it as far as the
# data path goes: a unit with IPAddressDeny=any and IPAddressAllow= the lab's list, the same
# per-packet cgroup filter the binder's unit has (the imported socket stays in the cgroup of
# the daemon that accepted it). systemd-run takes no `localhost` there: its addresses instead.
to_usbipd() {
  server "systemctl stop usbip-binder && allow=\$(sed -n 's/^IPAddressAllow=//p' /etc/systemd/system/usbip-binder.service | sed 's|localhost|127.0.0.0/8 ::1/128|') && systemd-run --collect --unit=e2e-usbipd -p IPAddressDeny=any -p IPAddressAllow=\"\$allow\" /usr/sbin/usbipd && for i in \$(seq 50); do usbip list -r 127.0.0.1 2>/dev/null | grep -q $busid && break; sleep 0.1; done; systemctl is-active e2e-usbipd" >/dev/null ||
    fail "(7) cannot start usbipd in the server VM"
}
to_binder() {
  server "systemctl stop e2e-usbipd; systemctl start usbip-binder && systemctl is-active usbip-binder" >/dev/null ||
    fail "(7) cannot switch the server VM back to usbip-binder"
  wait_exported "back on usbip-binder"
}
# dead_client DAEMON BOUND: cut the client's cable with the board attached; seconds until the
# host's import succeeds (the server freed the board and a second client got it), at most BOUND.
dead_client() {
  local t status='' freed=''
  link client off
  t=$(now)
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    status=$(host_import 2>/dev/null || true)
    if [[ $status == 0 ]]; then
      freed=$(elapsed "$t")
      break
    fi
    sleep 0.5
  done
  link client on
  dead_freed=${freed:-"not within $2"}
  say "dead client freed in $dead_freed s ($1; last import status ${status:-none})"
}

say "(7) data path over the virtual cable ($lan_addr), usbip-binder first"
attach_lan binder
holder=$(client "fpga-lab list --server $lan_addr 2>&1")
grep -q "in use by 192.168.77.2:[0-9]* since " <<<"$holder" ||
  fail "(7) fpga-lab list does not say the client VM (192.168.77.2) holds the board:
$holder"
busy=$(client "fpga-lab attach $BOARD --config /mnt/e2e/lab.yaml --server $server_addr 2>&1" 30 || true)
grep -q "is in use by 192.168.77.2:[0-9]* since .*; detach it there first" <<<"$busy" ||
  fail "(7) a second attach of the held board does not say who holds it:
$busy"
say "(7) fpga-lab list: $(grep -o 'in use by 192.168.77.2:[0-9]* since [^ ]*' <<<"$holder"); a second attach: $(grep -o 'is in use by [^;]*' <<<"$busy")"
# A warm-up run, discarded: the first trips after boot also pay for TCG translating the whole
# USB/IP path in both VMs, which would fall on whichever daemon goes first.
pingpong "warm-up (discarded)" warmup 0
pingpong binder binder-1 1048576
binder_mbps=$bulk_mbps
dead_client binder 60
binder_freed=$dead_freed
[[ $binder_freed != not* ]] || fail "(7) usbip-binder did not free the dead client's board within 60 s"
server "journalctl --no-pager -u usbip-binder | grep -c 'released by 192.168.77.2'" | grep -qv '^0$' ||
  fail "(7) the binder's journal has no 'released by 192.168.77.2' line"
detach_lan
client "fpga-lab detach --all --config /mnt/e2e/lab.yaml" >/dev/null 2>&1 || true
wait_exported "after the dead client, binder"

say "(7) the same with Debian's usbipd in the server VM (usbip-binder stopped; the board stays bound to usbip-host; usbipd in a unit with the lab's IPAddressAllow=, as fpga-lab's usbipd.service)"
to_usbipd
unknown=$(client "fpga-lab list --server $lan_addr 2>&1")
grep -q "^$busid .* unknown\$" <<<"$unknown" && grep -q "does not tell who holds its boards" <<<"$unknown" ||
  fail "(7) fpga-lab list against usbipd should list $busid with its state unknown:
$unknown"
attach_lan usbipd
held=$(client "fpga-lab list --server $lan_addr 2>&1")
say "(7) fpga-lab list against usbipd: $busid listed, state unknown (usbipd does not answer the holders request); once attached, usbipd lists $(grep -q "$busid" <<<"$held" && echo "it still" || echo "nothing: it hides a board in use")"
pingpong usbipd usbipd-1 1048576
usbipd_mbps=$bulk_mbps
dead_client usbipd $((10 + 50))
usbipd_freed=$dead_freed
# usbipd kept the dead connection: unbind and bind the board to end it, then back to the binder.
server "systemctl stop e2e-usbipd; usbip-binder unbind $busid; systemctl start usbip-bind@$busid.service usbip-binder" >/dev/null ||
  fail "(7) cannot switch the server VM back from usbipd to usbip-binder"
detach_lan
wait_exported "back on usbip-binder"
# Two more runs of each, interleaved, so that drift of this shared 2-core host under TCG falls
# on both daemons alike; then every trip of each daemon pooled (3000).
for run in 2 3; do
  attach_lan binder
  pingpong "binder run $run" "binder-$run" 0
  detach_lan
  wait_exported "after binder run $run"
  to_usbipd
  attach_lan usbipd
  pingpong "usbipd run $run" "usbipd-$run" 0
  detach_lan
  to_binder
done
read -r _ binder_trips binder_median binder_p99 < <(pooled binder)
read -r _ usbipd_trips usbipd_median usbipd_p99 < <(pooled usbipd)
[[ -n $binder_p99 && -n $usbipd_p99 ]] || fail "(7) cannot pool the ping-pong samples"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
goal=$(awk -v m="$(ratio "$binder_median" "$usbipd_median")" -v p="$(ratio "$binder_p99" "$usbipd_p99")" 'BEGIN { print (m <= 1.05 && p <= 1.05) ? "met" : "not met" }')
say "(7) ping-pong pooled over 3 interleaved runs: binder/usbipd median $(ratio "$binder_median" "$usbipd_median")x, p99 $(ratio "$binder_p99" "$usbipd_p99")x (goal <= 1.05x: $goal); dead client freed: binder $binder_freed s (dead_peer_timeout 10 s), usbipd $usbipd_freed s"
