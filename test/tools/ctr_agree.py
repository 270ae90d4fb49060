#!/usr/bin/env python3
"""Do the two faces agree in time? An sFlow receiver that, the moment a
counter sample for IFINDEX arrives, asks SNMP for ifHCInOctets.IFINDEX over
one UDP socket (hand-encoded BER, no process start) and compares: a counter
read for the sample must never be ahead of what SNMP serves after it.

    ctr_agree.py SFLOW_PORT SNMP_PORT COUNT MAX_S GOFILE

Binds 127.0.0.1:SFLOW_PORT and prints "ready"; reads and ignores datagrams
until GOFILE exists (the daemon's collector stays a bound port), then reads
IFINDEX from it and stops after COUNT counter samples of IFINDEX or MAX_S
seconds. Prints one line per sample, "SAMPLE_IN_OCTETS SNMP_VALUE", then
"checked N behind M" (M: SNMP served less than the sample)."""

import os
import socket
import struct
import sys
import time

from hfwire import get_request, response_values, sflow_samples, u32

HC_IN_OCTETS = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6)


def counter64_of(resp):
    """The value of the response's only varbind when it is a Counter64."""
    _, err, values = response_values(resp)
    if err or len(values) != 1 or values[0][0] != 0x46:
        raise ValueError("not one Counter64 (error %d, %r)" % (err, values))
    return int.from_bytes(values[0][1], "big")


def in_octets(b, want):
    """ifInOctets of every generic counter record for ifIndex want."""
    out = []
    for fmt, body, _ in sflow_samples(b)[1]:
        if fmt in (2, 4):                     # counters_sample (expanded)
            r = body + (16 if fmt == 4 else 12)
            for _ in range(u32(b, r - 4)):
                rfmt, rlen = u32(b, r), u32(b, r + 4)
                if rfmt == 1 and u32(b, r + 8) == want:
                    out.append(struct.unpack_from(">Q", b, r + 8 + 24)[0])
                r += 8 + rlen
    return out


def main():
    sport, snmp_port, count, max_s = (int(x) for x in sys.argv[1:5])
    gofile = sys.argv[5]
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", sport))
    rx.settimeout(0.5)
    snmp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    snmp.connect(("127.0.0.1", snmp_port))
    snmp.settimeout(5.0)      # a loaded machine answers late, not wrong
    print("ready", flush=True)
    while not os.path.exists(gofile):
        try:
            rx.recv(65536)
        except socket.timeout:
            pass
    with open(gofile) as f:
        idx = int(f.read())
    end = time.monotonic() + max_s
    checked = behind = 0
    reqid = 1
    while checked < count and time.monotonic() < end:
        try:
            b = rx.recv(65536)
        except socket.timeout:
            continue
        for v in in_octets(b, idx):
            reqid += 1
            snmp.send(get_request(b"public", reqid, [HC_IN_OCTETS + (idx,)]))
            got = counter64_of(snmp.recv(65536))
            checked += 1
            behind += got < v
            print(v, got, flush=True)
    print("checked %d behind %d" % (checked, behind), flush=True)


if __name__ == "__main__":
    main()
