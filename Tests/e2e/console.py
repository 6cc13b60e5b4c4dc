#!/usr/bin/env python3
"""Run shell commands in the VM over its serial console (python3 stdlib only).

The bootable stand-in logs root in on ttyS0 (agetty --autologin); QEMU exposes that port as a
unix socket chardev (boot.sh: -chardev socket,id=ser0,path=SOCK,server=on,wait=off,logfile=...).

usage:
  console.py SOCK run COMMAND [TIMEOUT]   print COMMAND's output, exit with its status
                                          (124 when it does not finish within TIMEOUT s, default 60)

Each command is followed by `printf '%s-%s\\n' FPGA-END-<token> "$?"`; the echoed input line
cannot match FPGA-END-<token>-<digits>, so the status line is found without ambiguity.
"""

import re
import socket
import sys
import time

PROMPT = re.compile(rb"root@[^:\s]+:[^#\n]*# ")
# Terminal control sequences bash emits around a command (e.g. bracketed paste: ESC [ ? 2004 l).
CONTROL = re.compile(rb"\x1b\[\??[0-9;]*[A-Za-z]")


class Console:
    """A connection to the VM's serial console socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.data = b""

    def _read_for(self, seconds):
        self.sock.settimeout(max(seconds, 0.01))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return
        if not chunk:
            raise OSError("QEMU closed the serial console")
        self.data += chunk

    def send(self, text):
        self.sock.sendall(text.encode())

    def wait_for(self, pattern, start, deadline, nudge=None):
        """Waits until PATTERN matches data[start:]; sends NUDGE every 3 s while waiting."""
        next_nudge = time.monotonic()
        while True:
            match = pattern.search(self.data, start)
            if match:
                return match
            now = time.monotonic()
            if now >= deadline:
                return None
            if nudge is not None and now >= next_nudge:
                self.send(nudge)
                next_nudge = now + 3
            self._read_for(min(deadline, next_nudge if nudge else deadline) - now)

    def shell_ready(self, deadline):
        """Waits for the root prompt, then widens the tty so readline does not wrap lines."""
        if not self.wait_for(PROMPT, 0, deadline, nudge="\r"):
            return False
        start = len(self.data)
        self.send("stty cols 4096 rows 50\r")
        return self.wait_for(PROMPT, start, deadline) is not None

    def run(self, command, deadline):
        """Returns (status, output) or (None, everything read) on timeout."""
        token = f"FPGA-END-{time.monotonic_ns()}"
        start = len(self.data)
        self.send(f"{command}; printf '%s-%s\\n' {token} \"$?\"\r")
        marker = re.compile(re.escape(token).encode() + rb"-(\d+)\r?\n")
        match = self.wait_for(marker, start, deadline)
        if not match:
            return None, self.data[start:].decode(errors="replace")
        echoed = self.data.find(b'"$?"', start, match.start())
        body_start = self.data.find(b"\n", echoed) + 1 if echoed >= 0 else start
        body = CONTROL.sub(b"", self.data[body_start:match.start()]).replace(b"\r", b"")
        return int(match.group(1)), body.decode(errors="replace")


def main(argv):
    if len(argv) not in (4, 5) or argv[2] != "run":
        print(__doc__, file=sys.stderr)
        return 2
    timeout = float(argv[4]) if len(argv) == 5 else 60.0
    deadline = time.monotonic() + timeout
    try:
        console = Console(argv[1])
        if not console.shell_ready(deadline):
            print(f"console.py: no root prompt within {timeout:.0f} s; last output:\n"
                  + console.data[-2000:].decode(errors="replace"), file=sys.stderr)
            return 124
        status, output = console.run(argv[3], deadline)
    except OSError as error:
        print(f"console.py: {argv[1]}: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(output)
    if status is None:
        print(f"console.py: '{argv[3]}' did not finish within {timeout:.0f} s", file=sys.stderr)
        return 124
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
