#!/usr/bin/env python3
"""A tiny sFlow v5 collector that only counts: datagrams, the samples their
headers announce, flow samples (formats 1 and 3) and counter samples (2 and 4),
and datagrams it could not parse. Works for hostflowd and pmacctd's sfprobe.

    sflowcount.py BIND_IP PORT STATE_FILE MAX_SECONDS

Rewrites STATE_FILE (JSON, atomically) at most every 100 ms when something
changed and once more on exit. Exits on SIGTERM/SIGINT or after MAX_SECONDS."""

import json
import os
import signal
import socket
import struct
import sys
import time


class Counts:
    def __init__(self):
        self.c = {"datagrams": 0, "announced": 0, "flow": 0, "counter": 0,
                  "other": 0, "bad": 0, "rates": {}, "last_pool": 0,
                  "last_drops": 0}

    def datagram(self, buf):
        self.c["datagrams"] += 1
        try:
            self.parse(buf)
        except (struct.error, ValueError):
            self.c["bad"] += 1

    def parse(self, buf):
        version, atype = struct.unpack_from(">II", buf, 0)
        if version != 5 or atype not in (1, 2):
            raise ValueError("not sFlow v5")
        pos = 8 + (4 if atype == 1 else 16) + 12
        (nsamples,) = struct.unpack_from(">I", buf, pos)
        pos += 4
        self.c["announced"] += nsamples
        for _ in range(nsamples):
            tag, length = struct.unpack_from(">II", buf, pos)
            body = pos + 8
            pos = body + length
            if pos > len(buf):
                raise ValueError("truncated sample")
            self.sample(tag, buf, body)
        if pos != len(buf):
            raise ValueError("trailing bytes")

    def sample(self, tag, buf, body):
        fmt = tag & 0xFFF if tag >> 12 == 0 else -1
        if fmt in (1, 3):
            self.c["flow"] += 1
            # Expanded samples carry source type and index as two words.
            off = body + (12 if fmt == 3 else 8)
            rate, pool, drops = struct.unpack_from(">III", buf, off)
            key = str(rate)
            self.c["rates"][key] = self.c["rates"].get(key, 0) + 1
            self.c["last_pool"] = pool
            self.c["last_drops"] = drops
        elif fmt in (2, 4):
            self.c["counter"] += 1
        else:
            self.c["other"] += 1


def write_state(path, counts):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(counts.c, f)
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: sflowcount.py BIND_IP PORT STATE_FILE MAX_SECONDS")
    ip, port, state, max_s = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((ip, port))
    sock.settimeout(0.1)
    counts = Counts()
    write_state(state, counts)
    end = time.monotonic() + max_s
    dirty, last_write = False, 0.0
    while not stop and time.monotonic() < end:
        try:
            buf = sock.recv(65535)
            counts.datagram(buf)
            dirty = True
        except socket.timeout:
            pass
        except InterruptedError:
            pass
        now = time.monotonic()
        if dirty and now - last_write >= 0.1:
            write_state(state, counts)
            dirty, last_write = False, now
    write_state(state, counts)
    sock.close()


if __name__ == "__main__":
    main()
