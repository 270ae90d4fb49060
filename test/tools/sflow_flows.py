#!/usr/bin/env python3
"""An sFlow receiver that writes every flow sample as one line, with its raw
header record whole, so that two captures can be compared sample by sample.

    sflow_flows.py ADDR PORT OUT STOPFILE MAX_S

Binds ADDR:PORT (UDP), decodes sFlow v5 datagrams itself (flow samples,
plain and expanded; counter samples are counted and skipped) and appends to
OUT, flushed per datagram:

    F SOURCE RATE POOL DROPS INPUT OUTPUT PROTO FRAME_LEN STRIPPED HEADER_HEX

("-" for the header fields of a sample without a raw header record). Writes
"READY" first. Stops when STOPFILE exists or after MAX_S seconds.
"""
import os
import socket
import struct
import sys
import time


def u32(b, o):
    return struct.unpack_from(">I", b, o)[0]


def flows(dgram):
    """Yields the fields of each flow sample of one datagram."""
    if u32(dgram, 0) != 5:
        return
    o = 8 + (4 if u32(dgram, 4) == 1 else 16)
    o += 12                                   # sub agent, sequence, uptime
    n = u32(dgram, o)
    o += 4
    for _ in range(n):
        fmt, ln = u32(dgram, o), u32(dgram, o + 4)
        body, o = dgram[o + 8:o + 8 + ln], o + 8 + ln
        if fmt == 1:
            src = u32(body, 4) & 0xFFFFFF
            rate, pool, drops, inp, out = (u32(body, 8 + 4 * i) for i in range(5))
            r, nrec = 32, u32(body, 28)
        elif fmt == 3:
            src = u32(body, 8)
            rate, pool, drops = (u32(body, 12 + 4 * i) for i in range(3))
            inp, out = u32(body, 28), u32(body, 36)
            r, nrec = 44, u32(body, 40)
        else:
            continue
        hdr = ["-"] * 4
        for _ in range(nrec):
            rfmt, rln = u32(body, r), u32(body, r + 4)
            rec = body[r + 8:r + 8 + rln]
            r += 8 + rln
            if rfmt == 1:
                proto, flen, stripped, hlen = (u32(rec, 4 * i) for i in range(4))
                hdr = [proto, flen, stripped, rec[16:16 + hlen].hex()]
        yield [src, rate, pool, drops, inp, out] + hdr


def main():
    addr, port, out, stop, max_s = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        sys.argv[4], float(sys.argv[5])
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, port))
    s.settimeout(0.2)
    end = time.monotonic() + max_s
    with open(out, "a") as f:
        f.write("READY\n")
        f.flush()
        while time.monotonic() < end and not os.path.exists(stop):
            try:
                d = s.recv(65536)
            except socket.timeout:
                continue
            try:
                for fl in flows(d):
                    f.write("F " + " ".join(str(x) for x in fl) + "\n")
            except (struct.error, IndexError):
                f.write("X undecodable\n")
            f.flush()


if __name__ == "__main__":
    main()
