#!/usr/bin/env python3
"""A peer outside the allowlist is refused before any byte is read (issue #10).

    allowlist-peer.py BINDER SYSFS_ROOT PORT

`serve --allow 127.0.0.1` runs under `strace -f -e trace=accept4,read,recvfrom,close`. A
client bound to 127.0.0.2 connects and sends a whole OP_REQ_DEVLIST while the server is
stopped (SIGSTOP), so its bytes are queued before accept. Three oracles:
- strace: between the accept4() that returned that client (matched by its port) and the
  close() of the fd, no read()/recvfrom() on the fd;
- TCP: the client gets a reset, which Linux sends only when a socket is closed with
  received bytes still unread; the same sequence from 127.0.0.1 gets the devlist;
- the log line `refused, not in allowlist` naming the client's address and port.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

from peerlib import Checks, connect, exchange, expected_devlist, read_all, server_pid

DEVLIST = bytes.fromhex("0111800500000000")


def queued_exchange(port, pid, source):
    """Connects from `source` and sends a devlist request while the server is stopped, so
    the bytes wait in the kernel before accept. Returns (client port, reply, reset?)."""
    os.kill(pid, signal.SIGSTOP)
    try:
        s = connect(port, source)
        s.sendall(DEVLIST)
        local_port = s.getsockname()[1]
        time.sleep(0.2)
    finally:
        os.kill(pid, signal.SIGCONT)
    with s:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return local_port, b"", True
        return local_port, chunk + read_all(s) if chunk else b"", False


def syscalls_on_accepted(trace, client_port):
    """The syscalls on the fd accept4() returned for the client with that port, up to and
    including its close()."""
    accepted = re.compile(r"accept4\(\d+, \{.*htons\(" + str(client_port) + r"\).*\) = (\d+)$")
    fd, calls = None, []
    for line in trace:
        body = line.split(None, 2)[-1]
        if fd is None:
            m = accepted.search(body)
            if m:
                fd = m.group(1)
                calls.append(body)
            continue
        m = re.match(r"(\w+)\((\d+)[,)]", body)
        if m and m.group(2) == fd:
            calls.append(body)
            if m.group(1) == "close":
                break
    return calls


def main():
    binder, tree, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    checks = Checks()
    golden = expected_devlist(tree)
    work = os.path.dirname(tree)
    trace_path, log_path = os.path.join(work, "strace.out"), os.path.join(work, "allow.log")
    with open(log_path, "w") as log:
        tracer = subprocess.Popen(["strace", "-f", "-tt", "-o", trace_path, "-e", "trace=accept4,read,recvfrom,close",
                                   binder, "--sysfs-root", tree, "--config", "/dev/null", "serve", "--port", str(port),
                                   "--allow", "127.0.0.1", "--timeout", "2"], stderr=log)
    pid = None
    try:
        pid = server_pid(tracer.pid, binder)
        for _ in range(100):
            try:
                exchange(port, DEVLIST)
                break
            except OSError:
                time.sleep(0.05)
        checks.check("127.0.0.1 answered once the server is up", golden.hex(), exchange(port, DEVLIST).hex())
        denied_port, denied_reply, reset = queued_exchange(port, pid, "127.0.0.2")
        checks.check("127.0.0.2: no reply", b"", denied_reply)
        checks.check("127.0.0.2: reset (closed with its 8 bytes unread)", True, reset)
        allowed_port, allowed_reply, allowed_reset = queued_exchange(port, pid, "127.0.0.1")
        checks.check("127.0.0.1, same sequence: the devlist, no reset", (golden.hex(), False),
                     (allowed_reply.hex(), allowed_reset))
        checks.check("127.0.0.1 still answered after the refusal", golden.hex(),
                     exchange(port, DEVLIST, source="127.0.0.1").hex())
    finally:
        # strace detaches (and leaves the server running) on SIGTERM: stop the server.
        os.kill(pid, signal.SIGTERM) if pid else tracer.send_signal(signal.SIGTERM)
        tracer.wait()
    with open(trace_path) as f:
        trace = f.read().splitlines()
    denied = syscalls_on_accepted(trace, denied_port)
    checks.note("strace, 127.0.0.2:%d: %s" % (denied_port, " | ".join(c[:60] for c in denied)))
    checks.check("strace: 127.0.0.2 accepted, then closed", ["accept4", "close"],
                 [re.match(r"\w+", c).group(0) for c in denied])
    allowed = syscalls_on_accepted(trace, allowed_port)
    checks.check("strace: 127.0.0.1 accepted, read (recvfrom), closed", True,
                 len(allowed) >= 3 and allowed[0].startswith("accept4") and allowed[1].startswith("recvfrom")
                 and allowed[-1].startswith("close"))
    with open(log_path) as f:
        log_text = f.read()
    checks.check(f"log: 127.0.0.2:{denied_port} refused, not in allowlist", True,
                 f"127.0.0.2:{denied_port}: refused, not in allowlist" in log_text)
    return checks.summary("allowlist")


if __name__ == "__main__":
    sys.exit(main())
