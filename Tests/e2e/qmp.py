#!/usr/bin/env python3
"""QMP client for the e2e lane (python3 stdlib only).

usage:
  qmp.py SOCK execute COMMAND [JSON-ARGUMENTS]   run one QMP command, print its "return" as JSON
  qmp.py SOCK plug-ftdi ID OUTFILE               hot-plug an emulated FTDI FT232 (usb-serial,
                                                 0403:6001) on bus xhci.0; its serial data goes
                                                 to OUTFILE (a file chardev is always "open", so
                                                 the device attaches; a null chardev never does)
  qmp.py SOCK unplug ID                          device_del ID, wait for DEVICE_DELETED, remove
                                                 its chardev
  qmp.py SOCK quit                               ask QEMU to exit

Exit status 0 on success; 1 with a message on stderr when QEMU answers with an error or a
wait times out.
"""

import json
import socket
import sys
import time


class QMPError(Exception):
    """QEMU answered a command with an error, or the connection broke."""


class QMP:
    """One QMP session over a unix socket: capabilities negotiated on connect."""

    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""
        self.events = []
        greeting = self._read_message()
        if "QMP" not in greeting:
            raise QMPError(f"no QMP greeting on {path}: {greeting!r}")
        self.execute("qmp_capabilities")

    def close(self):
        self.sock.close()

    def _read_message(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QMPError("QEMU closed the QMP connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, arguments=None):
        """Runs COMMAND and returns its "return" value; events read meanwhile are kept."""
        request = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            message = self._read_message()
            if "event" in message:
                self.events.append(message)
            elif "error" in message:
                error = message["error"]
                raise QMPError(f"{command}: {error.get('class')}: {error.get('desc')}")
            elif "return" in message:
                return message["return"]

    def wait_event(self, name, predicate=lambda data: True, timeout=30.0):
        """Returns the first event NAME whose data satisfies PREDICATE."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["event"] == name and predicate(event.get("data", {})):
                    self.events.remove(event)
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QMPError(f"no {name} event within {timeout:.0f} s")
            self.sock.settimeout(remaining)
            try:
                self.events.append(self._read_message())
            except socket.timeout:
                raise QMPError(f"no {name} event within {timeout:.0f} s") from None


def chardev_id(device_id):
    return f"{device_id}-chr"


def plug_ftdi(qmp, device_id, outfile):
    qmp.execute("chardev-add", {
        "id": chardev_id(device_id),
        "backend": {"type": "file", "data": {"out": outfile}},
    })
    qmp.execute("device_add", {
        "driver": "usb-serial", "bus": "xhci.0",
        "chardev": chardev_id(device_id), "id": device_id,
    })


def unplug(qmp, device_id, timeout=30.0):
    qmp.execute("device_del", {"id": device_id})
    qmp.wait_event("DEVICE_DELETED", lambda data: data.get("device") == device_id, timeout)
    qmp.execute("chardev-remove", {"id": chardev_id(device_id)})


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, verb, rest = argv[1], argv[2], argv[3:]
    try:
        qmp = QMP(path)
        if verb == "execute" and len(rest) in (1, 2):
            arguments = json.loads(rest[1]) if len(rest) == 2 else None
            print(json.dumps(qmp.execute(rest[0], arguments)))
        elif verb == "plug-ftdi" and len(rest) == 2:
            plug_ftdi(qmp, rest[0], rest[1])
        elif verb == "unplug" and len(rest) == 1:
            unplug(qmp, rest[0])
        elif verb == "quit" and not rest:
            qmp.execute("quit")
        else:
            print(__doc__, file=sys.stderr)
            return 2
        qmp.close()
    except (OSError, QMPError, json.JSONDecodeError) as error:
        print(f"qmp.py: {verb}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
