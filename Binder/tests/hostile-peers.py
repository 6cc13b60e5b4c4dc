#!/usr/bin/env python3
"""Hostile peers against `usbip-binder serve` on loopback (issue #10).

    hostile-peers.py BINDER SYSFS_ROOT PORT TIMEOUT_S   (peer-suite.sh builds the tree)

While a prober (its own process) sends a well-formed OP_REQ_DEVLIST every 50 ms and checks
each reply byte for byte, each attack runs in turn, ROUNDS times: random bytes on 1000
connections, truncated headers, OP_REQ_IMPORT of busids that are not exported, headers
with overflowing count/status fields and a 16 MiB body, idle clients, 200 concurrent
connections held open. Asserts: every probe answered correctly within 100 ms, no crash,
VmRSS flat after the warm-up rounds, the fd count back to its baseline once the timeouts
ran. Prints the figures (prober p50/p99/max per attack, VmRSS/VmHWM, fds).
"""
import os
import random
import selectors
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

from peerlib import Checks, connect, exchange, expected_devlist, fd_count, memory

DEVLIST = struct.pack(">HHI", 0x0111, 0x8005, 0)
NODEV = struct.pack(">HHI", 0x0111, 0x0003, 4)
PROBE_BUDGET_MS = 100.0
# A quick attack is repeated until it has lasted this long, so the prober samples it.
MIN_PHASE_S = 1.0
# Round 1 warms the allocator up; later rounds must not grow VmRSS (a leak would).
ROUNDS = 3


def import_request(busid: bytes) -> bytes:
    return struct.pack(">HHI", 0x0111, 0x8003, 0) + busid[:32].ljust(32, b"\0")


def attack_random(port, checks):
    """1000 connections, each 1..1024 random bytes then half-close: closed, no reply."""
    rng = random.Random(10)
    payloads = [rng.randbytes(rng.randint(1, 1024)) for _ in range(1000)]
    replies = []

    def worker(chunk):
        for p in chunk:
            replies.append((p, exchange(port, p, half_close=True)))
    threads = [threading.Thread(target=worker, args=(payloads[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = [p for p, r in replies if r and not p.startswith(b"\x01\x11")]
    checks.check("random bytes: 1000 connections closed without a reply", 1000, len(replies) - len(answered))


def attack_truncated(port, timeout_s, checks):
    """Every proper prefix of OP_REQ_DEVLIST and OP_REQ_IMPORT: held open, the timeout closes
    each without a reply; half-closed, each is closed at once."""
    prefixes = [DEVLIST[:n] for n in range(1, 8)] + [import_request(b"1-1.3")[:n] for n in range(1, 40)]
    held = []
    for p in prefixes:
        s = connect(port)
        s.sendall(p)
        held.append(s)
    start = time.monotonic()
    closed_at, silent = [], 0
    for s in held:
        s.settimeout(timeout_s + 3)
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""
        closed_at.append(time.monotonic() - start)
        silent += data == b""
        s.close()
    checks.check(f"truncated headers held open: {len(prefixes)} closed without a reply", len(prefixes), silent)
    checks.within(f"truncated headers held open: closed by the {timeout_s} s timeout",
                  max(closed_at), timeout_s - 0.3, timeout_s + 1.5)
    early = [exchange(port, p, half_close=True) for p in prefixes]
    checks.check("truncated headers then EOF: closed without a reply", [b""] * len(prefixes), early)


def attack_import(port, tree, checks):
    """OP_REQ_IMPORT of busids that are not exported: exactly ST_NODEV, nothing handed over."""
    sockfd = os.path.join(tree, "devices/platform/soc/usb1/1-1/1-1.3/usbip_sockfd")
    handed = open(sockfd).read()
    before = sorted(os.path.join(d, f) for d, _, fs in os.walk(tree) for f in fs)
    busids = [b"1-1.4", b"9-9", b"1-1", b"usb1", b"", b"../../../etc", b"1-1.3/../1-1.4",
              b"1-1.3\n", b"1-1.30", b"A" * 32, b"\xff" * 32]
    for busid in busids:
        reply = exchange(port, import_request(busid))
        checks.check(f"import {busid[:12]!r}: ST_NODEV (8 bytes, no device)", NODEV.hex(), reply.hex())
    checks.check("import of unexported busids: nothing written to usbip_sockfd", handed, open(sockfd).read())
    after = sorted(os.path.join(d, f) for d, _, fs in os.walk(tree) for f in fs)
    checks.check("import of unexported busids: no file created in sysfs", before, after)


def attack_overflow(port, golden, checks):
    """Fields a naive decoder would use as lengths or counts, set to their maximum; a body
    far longer than any request."""
    cases = {
        "status 0xffffffff": struct.pack(">HHI", 0x0111, 0x8005, 0xFFFFFFFF),
        "import, status 0x80000000": struct.pack(">HHI", 0x0111, 0x8003, 0x80000000) + b"1-1.3".ljust(32, b"\0"),
        "OP_REP_DEVLIST, count 0xffffffff": struct.pack(">HHII", 0x0111, 0x0005, 0, 0xFFFFFFFF) + b"\0" * 1024,
        "OP_REP_IMPORT + 312 bytes": struct.pack(">HHI", 0x0111, 0x0003, 0) + b"\xff" * 312,
        "version/code/status all ones": b"\xff" * 8 + b"\xff" * 4096,
        "USBIP_CMD_SUBMIT, length 0xffffffff": struct.pack(">IIIII", 1, 1, 0x10002, 0, 1)
        + struct.pack(">IIiii", 0, 0xFFFFFFFF, 0, 0x7FFFFFFF, 0) + b"\0" * 8,
    }
    for name, payload in cases.items():
        checks.check(f"overflow, {name}: closed without a reply", b"", exchange(port, payload))
    body = DEVLIST + b"\x01\x11\x80\x05" * (4 << 20)
    checks.check("devlist + 16 MiB body: correct reply, body never read", golden.hex(),
                 exchange(port, body, send_in_thread=True).hex())


def attack_idle(port, timeout_s, checks):
    """64 clients (every slot) that connect and send nothing: the prober still gets in
    (eviction), and the timeout (or eviction) closes every one of them."""
    idle = [connect(port) for _ in range(64)]
    start = time.monotonic()
    closed = 0
    for s in idle:
        s.settimeout(timeout_s + 3)
        try:
            closed += s.recv(1) == b""
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
        s.close()
    checks.check("64 idle clients: all closed by the server", 64, closed)
    checks.within("64 idle clients: closed within the timeout", time.monotonic() - start, 0, timeout_s + 1.5)


def attack_concurrent(port, hold_s, checks):
    """200 connections opened at once and held for hold_s: every one the server closes is
    reopened at once (a client fighting for slots)."""
    sel = selectors.DefaultSelector()
    opened = reopened = 0

    def open_one():
        nonlocal opened
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sel.register(s, selectors.EVENT_READ)
        opened += 1
    for _ in range(200):
        open_one()
    end = time.monotonic() + hold_s
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                data = s.recv(1)
            except (ConnectionResetError, ConnectionRefusedError):
                data = b""
            except BlockingIOError:
                continue
            if data == b"":
                sel.unregister(s)
                s.close()
                reopened += 1
                open_one()
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    sel.close()
    checks.note(f"200 concurrent: {opened} connections opened, {reopened} closed by the server and reopened")
    checks.check("200 concurrent: the server closed the surplus (cap 64)", True, reopened >= 136)


def probe(port, golden_hex, out_path):
    """The prober process: a devlist every 50 ms until SIGTERM, one line per probe:
    start (monotonic s), latency ms, ok."""
    golden = bytes.fromhex(golden_hex)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(out_path, "w", buffering=1) as out:
        tick = time.monotonic()
        while not stop:
            t0 = time.monotonic()
            try:
                reply = exchange(port, DEVLIST, timeout=2)
            except OSError:
                reply = b""
            out.write(f"{t0:.6f} {(time.monotonic() - t0) * 1000:.3f} {int(reply == golden)}\n")
            tick += 0.05
            time.sleep(max(0.0, tick - time.monotonic()))


def run_attacks(port, tree, timeout_s, golden, server, checks):
    """Every attack, ROUNDS times. Returns the phases (name, start, end) and, per round,
    ((VmRSS, VmHWM), fds) once that round's timeouts have run."""
    attacks = [("random bytes x1000", lambda: attack_random(port, checks)),
               ("truncated headers", lambda: attack_truncated(port, timeout_s, checks)),
               ("import unexported", lambda: attack_import(port, tree, checks)),
               ("overflowing fields", lambda: attack_overflow(port, golden, checks)),
               ("idle clients x64", lambda: attack_idle(port, timeout_s, checks)),
               ("200 concurrent", lambda: attack_concurrent(port, 2 * timeout_s, checks))]
    phases, rounds = [], []
    for r in range(1, ROUNDS + 1):
        for name, attack in attacks:
            t0 = time.monotonic()
            runs = 0
            while runs == 0 or time.monotonic() - t0 < MIN_PHASE_S:
                attack()
                runs += 1
            phases.append((f"round {r}: {name} (x{runs})", t0, time.monotonic()))
        time.sleep(timeout_s + 1)
        rounds.append((memory(server.pid), fd_count(server.pid)))
    return phases, rounds


def report_probes(samples, phases, checks):
    checks.note(f"prober: {len(samples)} devlists every 50 ms during the attacks")
    for name, t0, t1 in phases:
        during = [s for s in samples if t0 <= s[0] < t1]
        lat = sorted(s[1] for s in during)
        bad = [s for s in during if s[2] != 1 or s[1] > PROBE_BUDGET_MS]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
        median = statistics.median(lat) if lat else float("nan")
        checks.check(f"{name}: {len(during)} probes, p50 {median:.2f} p99 {p99:.2f} max {max(lat, default=0):.2f} ms",
                     0, len(bad))
    lat = sorted(s[1] for s in samples)
    if lat:
        checks.note(f"all probes: p50 {statistics.median(lat):.2f} p99 {lat[int(len(lat) * 0.99)]:.2f} "
                    f"max {lat[-1]:.2f} ms")
    late = [s for s in samples if s[2] != 1 or s[1] > PROBE_BUDGET_MS]
    checks.check("every probe answered correctly within 100 ms", [], late)
    checks.check("some probes ran during every attack", True, all(
        any(t0 <= s[0] < t1 for s in samples) for _, t0, t1 in phases))


def main():
    if sys.argv[1] == "--probe":
        return probe(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    binder, tree, port, timeout_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    checks = Checks()
    golden = expected_devlist(tree)
    work = os.path.dirname(tree)
    log_path = os.path.join(work, "serve.log")
    with open(log_path, "w") as log:
        server = subprocess.Popen([binder, "--sysfs-root", tree, "--config", "/dev/null", "serve", "--port", str(port),
                                   "--allow", "127.0.0.1", "--timeout", str(timeout_s)], stderr=log)
    prober = None
    try:
        for _ in range(100):
            try:
                if exchange(port, DEVLIST) == golden:
                    break
            except OSError:
                time.sleep(0.05)
        checks.check("devlist before any attack: golden bytes", golden.hex(), exchange(port, DEVLIST).hex())
        fds0, memory0 = fd_count(server.pid), memory(server.pid)
        probes_path = os.path.join(work, "probes")
        prober = subprocess.Popen([sys.executable, __file__, "--probe", str(port), golden.hex(), probes_path])
        # The attackers would be other machines: on this one they must not take the CPU
        # from the server and the prober (2 cores).
        os.nice(5)
        time.sleep(0.5)
        phases, rounds = run_attacks(port, tree, timeout_s, golden, server, checks)
        prober.send_signal(signal.SIGTERM)
        prober.wait()
        checks.check("server still running", None, server.poll())
        with open(probes_path) as f:
            report_probes([tuple(map(float, line.split())) for line in f], phases, checks)
    finally:
        for p in (prober, server):
            if p and p.poll() is None:
                p.terminate()
                p.wait()
    rss = [m[0] for m, _ in rounds]
    checks.note(f"VmRSS/VmHWM kB: before {memory0[0]}/{memory0[1]}, after each round "
                + ", ".join(f"{m[0]}/{m[1]}" for m, _ in rounds))
    # The warm-up can take two rounds: how many slots round 1 fills at once depends on the
    # scheduler (a CI run saw 324, 508, 516 kB). A leak grows every round, so it shows between
    # the last two as well; the bound above the idle server covers the rest.
    checks.check("VmRSS flat: the last round adds <= 128 kB to the one before", True, rss[-1] - rss[-2] <= 128)
    checks.check("VmRSS: < 512 kB above the idle server after every round", True, max(rss) - memory0[0] < 512)
    checks.check(f"fds back to baseline ({fds0}) after each round's timeouts", [fds0] * ROUNDS, [f for _, f in rounds])
    with open(log_path) as f:
        text = f.read()
    checks.check("log: evictions when all slots were taken", True, "evicted for" in text)
    return checks.summary("hostile peers")


if __name__ == "__main__":
    sys.exit(main())
