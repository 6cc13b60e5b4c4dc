"""Helpers of the hostile-peer tests: loopback USB/IP exchanges, the devlist reply built
from the fake sysfs tree field by field (not by the binder's codec), /proc figures, checks."""
import os
import socket
import struct
import threading
import time


class Checks:
    """Prints `ok`/`FAIL` lines like Binder/tests/lib.sh; summary() is the exit status."""

    def __init__(self):
        self.passed = self.failed = 0
        self.shown = set()

    def check(self, name, expected, actual):
        """A check that passes again (a repeated attack) is counted, not printed again."""
        if expected == actual:
            self.passed += 1
            if name not in self.shown:
                print(f"  ok   {name}", flush=True)
            self.shown.add(name)
        else:
            self.failed += 1
            if self.failed > 20:
                return
            print(f"  FAIL {name}\n       expected: {expected!r:.300}\n       actual:   {actual!r:.300}", flush=True)

    def within(self, name, value, low, high):
        self.check(f"{name} ({value:.2f} s, wanted {low:.1f}..{high:.1f})", True, low <= value <= high)

    @staticmethod
    def note(text):
        print(f"  ..   {text}", flush=True)

    def summary(self, what):
        print(f"{what}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


def connect(port, source=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def read_all(s):
    """Everything until EOF; a reset ends it too (the server closed with our bytes unread)."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def exchange(port, payload, half_close=False, send_in_thread=False, timeout=5.0, source=None):
    """One connection: send payload (optionally then EOF), return what the server sent."""
    with connect(port, source, timeout) as s:
        def send():
            try:
                s.sendall(payload)
                if half_close:
                    s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server closed first: its reply (if any) is what counts
        if send_in_thread:
            sender = threading.Thread(target=send)
            sender.start()
            data = read_all(s)
            sender.join()
            return data
        send()
        return read_all(s)


def attr(tree, rel):
    with open(os.path.join(tree, rel)) as f:
        return f.read().strip()


def expected_devlist(tree):
    """OP_REP_DEVLIST for the one device the suite exports (1-1.3, an FT2232H, two interfaces).

    ```
    op_common 0111 0005 00000000 | ndev 00000001
    path[256] busid[32] busnum devnum speed (be32) | idVendor idProduct bcdDevice (be16)
    class subclass protocol configValue numConfigs numInterfaces (u8)
    per interface: class subclass protocol pad (u8)
    ```
    """
    rel = "devices/platform/soc/usb1/1-1/1-1.3"
    out = struct.pack(">HHII", 0x0111, 0x0005, 0, 1)
    out += ("/sys/" + rel).encode().ljust(256, b"\0") + b"1-1.3".ljust(32, b"\0")
    out += struct.pack(">III", 1, int(attr(tree, rel + "/devnum")), 3)
    out += struct.pack(">HHH", 0x0403, 0x6010, 0x0700) + bytes([0, 0, 0, 1, 1, 2])
    out += bytes([0xFF, 0xFF, 0xFF, 0]) * 2
    return out


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def memory(pid):
    """(VmRSS, VmHWM) in kB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else ""
    return int(fields["VmRSS"]), int(fields["VmHWM"])


def server_pid(tracer, binder):
    """The binder: the child of strace that runs `binder` (strace may fork helpers first)."""
    target = os.path.realpath(binder)
    for _ in range(200):
        for task in os.listdir(f"/proc/{tracer}/task"):
            with open(f"/proc/{tracer}/task/{task}/children") as f:
                for child in f.read().split():
                    try:
                        if os.readlink(f"/proc/{child}/exe") == target:
                            return int(child)
                    except OSError:
                        pass
        time.sleep(0.05)
    raise RuntimeError("strace did not start the binder")
