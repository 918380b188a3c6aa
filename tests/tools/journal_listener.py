#!/usr/bin/env python3
"""Stands in for journald's socket so a test can read what yuebaod sends.

journal_listener.py SOCKET OUT SECONDS binds a datagram socket at SOCKET,
writes each entry received (journald's native protocol: FIELD=value lines,
or FIELD, a 64-bit little-endian length and the value for values with a
newline) as one JSON object per line to OUT, and exits after SECONDS or on
SIGTERM. "ready" is printed once the socket is bound.
"""
import json
import os
import signal
import socket
import struct
import sys
import time


def parse(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        fields[k.decode()] = v.decode("utf-8", "replace")
    return fields


def main():
    path, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    try:
        with open(out, "a", encoding="utf-8") as f:
            while time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data = s.recv(1 << 20)
                except socket.timeout:
                    continue
                f.write(json.dumps(parse(data), ensure_ascii=False) + "\n")
                f.flush()
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
