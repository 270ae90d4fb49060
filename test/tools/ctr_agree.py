#!/usr/bin/env python3
"""Do the two faces agree in time? An sFlow receiver that, the moment a
counter sample for IFINDEX arrives, asks SNMP for ifHCInOctets.IFINDEX over
one UDP socket (hand-encoded BER, no process start) and compares: a counter
read for the sample must never be ahead of what SNMP serves after it.

    ctr_agree.py SFLOW_PORT SNMP_PORT COUNT MAX_S GOFILE

Binds 127.0.0.1:SFLOW_PORT and prints "ready"; reads and ignores datagrams
until GOFILE exists (the daemon's collector stays a bound port), then reads
IFINDEX from it and stops after COUNT counter samples of IFINDEX or MAX_S
seconds. Prints one line per
sample, "SAMPLE_IN_OCTETS SNMP_VALUE", then "checked N behind M" (M: SNMP
served less than the sample)."""

import os
import socket
import struct
import sys
import time

HC_IN_OCTETS = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6)


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + body


def ber_int(v):
    return tlv(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def ber_oid(oid):
    out = bytearray([oid[0] * 40 + oid[1]])
    for arc in oid[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def get_request(reqid, oid):
    vbs = tlv(0x30, ber_oid(oid) + b"\x05\x00")
    pdu = tlv(0xA0, ber_int(reqid) + ber_int(0) + ber_int(0) + tlv(0x30, vbs))
    return tlv(0x30, ber_int(1) + tlv(0x04, b"public") + pdu)


def read_tlv(buf, pos):
    tag, n = buf[pos], buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, pos, pos + n


def counter64_of(resp):
    """The value of the response's only varbind when it is a Counter64."""
    _, s, _ = read_tlv(resp, 0)              # message
    _, s, e = read_tlv(resp, read_tlv(resp, read_tlv(resp, s)[2])[2])  # PDU
    for _ in range(3):                        # request-id, error, index
        s = read_tlv(resp, s)[2]
    _, s, _ = read_tlv(resp, s)               # varbind list
    _, s, _ = read_tlv(resp, s)               # varbind
    s = read_tlv(resp, s)[2]                  # past the OID
    tag, vs, ve = read_tlv(resp, s)
    if tag != 0x46:
        raise ValueError("not a Counter64 (tag 0x%02x)" % tag)
    return int.from_bytes(resp[vs:ve], "big")


def u32(b, o):
    return struct.unpack_from(">I", b, o)[0]


def in_octets(b, want):
    """ifInOctets of every generic counter record for ifIndex want."""
    o = 4
    o += 4 + (4 if u32(b, o) == 1 else 16)
    o += 4 + 8                                # sub agent, seq, uptime
    n = u32(b, o)
    o += 4
    out = []
    for _ in range(n):
        fmt, length = u32(b, o), u32(b, o + 4)
        body = o + 8
        if fmt in (2, 4):                     # counters_sample (expanded)
            r = body + (16 if fmt == 4 else 12)
            for _ in range(u32(b, r - 4)):
                rfmt, rlen = u32(b, r), u32(b, r + 4)
                if rfmt == 1 and u32(b, r + 8) == want:
                    out.append(struct.unpack_from(">Q", b, r + 8 + 24)[0])
                r += 8 + rlen
        o = body + length
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
            snmp.send(get_request(reqid, HC_IN_OCTETS + (idx,)))
            got = counter64_of(snmp.recv(65536))
            checked += 1
            behind += got < v
            print(v, got, flush=True)
    print("checked %d behind %d" % (checked, behind), flush=True)


if __name__ == "__main__":
    main()
