#!/usr/bin/env python3
"""Devlist load on `usbip-binder serve` over loopback: a fake sysfs tree with two exported
boards (Binder/tests/lib.sh builds it), N sequential OP_REQ_DEVLIST requests, each on a new
connection as `usbip list -r` makes them. Prints JSON: requests/s, p50/p99 latency in ms."""
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fake_tree(binder, root):
    script = f"""
        BINDER={binder}
        source {ROOT}/Binder/tests/lib.sh
        make_tree {root}
        add_boards {root}
        set_driver {root} devices/platform/soc/usb1/1-1/1-1.3 usbip-host
        set_driver {root} devices/platform/soc/usb1/1-1/1-1.4 usbip-host
        attr {root}/devices/platform/soc/usb1/1-1/1-1.3/usbip_status 1
        attr {root}/devices/platform/soc/usb1/1-1/1-1.4/usbip_status 1
    """
    subprocess.run(["bash", "-c", script], check=True)


def devlist(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(struct.pack(">HHI", 0x0111, 0x8005, 0))
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    version, code, status, count = struct.unpack(">HHII", data[:12])
    assert (version, code, status) == (0x0111, 0x0005, 0), (version, code, status)
    return count


def main():
    binder, requests = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    work = tempfile.mkdtemp(prefix="binder-load-")
    tree = os.path.join(work, "sys")
    fake_tree(binder, tree)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([binder, "serve", "--sysfs-root", tree, "--port", str(port), "--config", "/dev/null"],
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                devlist(port)
                break
            except OSError:
                time.sleep(0.05)
        latencies = []
        start = time.monotonic()
        for _ in range(requests):
            t = time.monotonic()
            assert devlist(port) == 2
            latencies.append((time.monotonic() - t) * 1000)
        elapsed = time.monotonic() - start
        rss = int(open(f"/proc/{server.pid}/status").read().split("VmHWM:")[1].split()[0])
    finally:
        server.terminate()
        server.wait()
    latencies.sort()
    print(json.dumps({"requests": requests, "per_second": round(requests / elapsed, 1),
                      "p50_ms": round(statistics.median(latencies), 3),
                      "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3), "server_peak_rss_kib": rss}))


if __name__ == "__main__":
    main()
