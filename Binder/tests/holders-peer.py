#!/usr/bin/env python3
"""Dead-peer socket options and board holders (issue 20).

    holders-peer.py BINDER SYSFS_ROOT PORT PORT2   (PORT2: the second binder.conf's run)

For two binder.conf files (no dead_peer_timeout: 30 s; `dead_peer_timeout 60`), `serve` runs
under `strace -f -e trace=setsockopt,open,openat,write`. A client imports 1-1.3 (usbip_status 1)
from loopback. Oracles:
- strace: on the accepted socket, before usbip_sockfd is opened, TCP_NODELAY 1, SO_KEEPALIVE
  1, TCP_KEEPIDLE T/2, TCP_KEEPINTVL T/10, TCP_KEEPCNT (T - T/2)/(T/10), TCP_USER_TIMEOUT
  T*1000, each returning 0; then the fd number written to usbip_sockfd.
- OP_REQ_HOLDERS (0111 80f1 00000000) answered with the bytes built here field by field: with
  usbip_status 2 (as the kernel sets it), state 2, the import's time, ::ffff:127.0.0.1 and the
  client's source port; `usbip-binder status` prints `held by 127.0.0.1:PORT since ...`; a
  second import is refused with ST_DEV_BUSY and logged with the holder.
- usbip_status back to 1 (as after a detach or a dead peer): the holders reply shows state 1
  without a holder, and the log says `released by` (the request checks sysfs first; without
  requests the binder checks every 10 s).
"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

from peerlib import Checks, connect, exchange, read_all, server_pid

REL = "devices/platform/soc/usb1/1-1/1-1.3"
HOLDERS = bytes.fromhex("011180f100000000")


def import_request(busid):
    return bytes.fromhex("0111800300000000") + busid.encode().ljust(32, b"\0")


def holders_reply(state, since=0, address=b"\0" * 16, port=0):
    """OP_REP_HOLDERS for the one exported board 1-1.3 (docs/DESIGN.md, section 6)."""
    out = struct.pack(">HHII", 0x0111, 0x00F1, 0, 1)
    out += b"1-1.3".ljust(32, b"\0") + struct.pack(">IQ", state, since) + address + struct.pack(">HH", port, 0)
    return out


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def run(checks, binder, tree, port, timeout):
    work = os.path.dirname(tree)
    conf = os.path.join(work, f"holders-{timeout}.conf")
    with open(conf, "w") as f:
        f.write(f"port {port}\n" + (f"dead_peer_timeout {timeout}\n" if timeout != 30 else ""))
    status_path = os.path.join(tree, REL, "usbip_status")
    sockfd_path = os.path.join(tree, REL, "usbip_sockfd")
    with open(status_path, "w") as f:
        f.write("1\n")
    open(sockfd_path, "w").close()
    trace = os.path.join(work, f"strace-{timeout}.log")
    log = os.path.join(work, f"serve-{timeout}.log")
    with open(log, "w") as err:
        tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=setsockopt,open,openat,write", "-o", trace,
                                   binder, "--sysfs-root", tree, "--config", conf, "serve"], stderr=err)
    binder_pid = server_pid(tracer.pid, binder)
    try:
        if not wait_for(lambda: "listening on port" in open(log).read(), 10):
            checks.check(f"T={timeout}: serve started", True, False)
            return
        with connect(port) as client:
            source_port = client.getsockname()[1]
            before = int(time.time())
            client.sendall(import_request("1-1.3"))
            reply = read_all(client)
            after = int(time.time())
        checks.check(f"T={timeout}: import 1-1.3 answered ST_OK", "0111000300000000", reply[:8].hex())

        # The options, on the handed fd, before usbip_sockfd is opened.
        text = open(trace).read()
        fd = open(sockfd_path).read().strip()
        lines = text.splitlines()
        opened = next((i for i, line in enumerate(lines) if "usbip_sockfd" in line and re.search(r"\bopen(at)?\(", line)), None)
        wanted = {"TCP_NODELAY": 1, "SO_KEEPALIVE": 1, "TCP_KEEPIDLE": timeout // 2, "TCP_KEEPINTVL": timeout // 10,
                  "TCP_KEEPCNT": (timeout - timeout // 2) // (timeout // 10), "TCP_USER_TIMEOUT": timeout * 1000}
        found = {}
        for line in lines[:opened if opened is not None else len(lines)]:
            m = re.search(r"setsockopt\((\d+), SOL_(?:TCP|SOCKET), (\w+), \[(\d+)\], \d+\) = (-?\d+)", line)
            if m and m.group(1) == fd:
                found[m.group(2)] = (int(m.group(3)), int(m.group(4)))
        checks.check(f"T={timeout}: usbip_sockfd opened after the options", True, opened is not None)
        checks.check(f"T={timeout}: options on fd {fd} before hand-over", {k: (v, 0) for k, v in wanted.items()}, found)

        # The kernel marks the board in use; the holders op says who holds it.
        with open(status_path, "w") as f:
            f.write("2\n")
        answer = exchange(port, HOLDERS)
        mapped = b"\0" * 10 + b"\xff\xff" + socket.inet_aton("127.0.0.1")
        since = struct.unpack(">Q", answer[48:56])[0] if len(answer) >= 56 else 0
        checks.check(f"T={timeout}: holders: since is the import's time", True, before <= since <= after)
        checks.check(f"T={timeout}: holders reply bytes (in use)", holders_reply(2, since, mapped, source_port).hex(), answer.hex())
        status = subprocess.run([binder, "--sysfs-root", tree, "--config", conf, "status"], capture_output=True, text=True)
        checks.check(f"T={timeout}: status shows the holder", True,
                     f"  held by 127.0.0.1:{source_port} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(since))}" in status.stdout.splitlines())
        second = exchange(port, import_request("1-1.3"))
        checks.check(f"T={timeout}: a second import: ST_DEV_BUSY", "0111000300000002", second.hex())
        checks.check(f"T={timeout}: log names the holder", True,
                     f"import 1-1.3 refused: in use by 127.0.0.1:{source_port} for" in open(log).read())

        # Freed (detach, or TCP gave up on a dead peer): forgotten, logged, available.
        with open(status_path, "w") as f:
            f.write("1\n")
        checks.check(f"T={timeout}: holders reply bytes (available)", holders_reply(1).hex(), exchange(port, HOLDERS).hex())
        # The request checked sysfs first, so the release is logged by the time it is answered.
        released = wait_for(lambda: f"1-1.3: released by 127.0.0.1:{source_port} after" in open(log).read(), 2)
        checks.check(f"T={timeout}: release logged", True, released)
    finally:
        os.kill(binder_pid, signal.SIGKILL)
        tracer.wait()


def main():
    binder, tree, port, port2 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    checks = Checks()
    run(checks, binder, tree, port, 30)
    run(checks, binder, tree, port2, 60)
    return checks.summary("holders and dead-peer options")


if __name__ == "__main__":
    sys.exit(main())
