#!/usr/bin/env python3
"""The host end of an emulated board's serial port (python3 stdlib only).

QEMU's usb-serial only attaches to the USB bus while its chardev is open, so a board whose
chardev is a listening unix socket (`chardev-add` socket, server=on, wait=off) appears when this
peer connects and stays while it is connected. Everything the guest writes to the board's tty
arrives here: it is appended to LOG and sent straight back (a loopback board), so the guest reads
its own bytes back from the tty after a round trip through both VMs and the host.

usage:
  serial-peer.py SOCK LOG [TIMEOUT]   connect to SOCK (retrying up to TIMEOUT s, default 30),
                                      echo and log until QEMU closes the socket or SIGTERM
"""

import signal
import socket
import sys
import time


def connect(path, timeout):
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except OSError:
            sock.close()
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    timeout = float(argv[3]) if len(argv) == 4 else 30.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        sock = connect(argv[1], timeout)
    except OSError as error:
        print(f"serial-peer.py: {argv[1]}: {error}", file=sys.stderr)
        return 1
    with open(argv[2], "ab", buffering=0) as log:
        while True:
            data = sock.recv(65536)
            if not data:
                return 0
            log.write(data)
            sock.sendall(data)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
