"""The wire formats the test tools speak by hand, in one place: SNMPv2c GET
requests and their responses in BER (Debian 12 has no pysnmp that installs
cleanly everywhere, and a GET is a few bytes), and the sFlow v5 datagram's
header and sample list. Imported by test/tools/*.py and test/bench/snmplat.py."""

import struct


# ---- BER, SNMPv2c ----

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


def get_request(community, reqid, oids):
    vbs = b"".join(tlv(0x30, ber_oid(o) + b"\x05\x00") for o in oids)
    pdu = tlv(0xA0, ber_int(reqid) + ber_int(0) + ber_int(0) + tlv(0x30, vbs))
    return tlv(0x30, ber_int(1) + tlv(0x04, community) + pdu)


def read_tlv(buf, pos):
    """Returns (tag, body_start, body_end) of the TLV at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    if pos + n > len(buf):
        raise ValueError("truncated")
    return tag, pos, pos + n


def children(buf, start, end):
    out = []
    while start < end:
        item = read_tlv(buf, start)
        out.append(item)
        start = item[2]
    return out


def response_values(buf):
    """(request-id, error-status, [(tag, value bytes)]) of a GetResponse."""
    _, s, e = read_tlv(buf, 0)
    _, _, pdu = children(buf, s, e)
    rid, err, _, vbl = children(buf, pdu[1], pdu[2])
    values = []
    for _, vs, ve in children(buf, vbl[1], vbl[2]):
        _, value = children(buf, vs, ve)
        values.append((value[0], buf[value[1]:value[2]]))
    return (int.from_bytes(buf[rid[1]:rid[2]], "big", signed=True),
            int.from_bytes(buf[err[1]:err[2]], "big"), values)


# ---- sFlow v5 ----

def u32(b, o):
    return struct.unpack_from(">I", b, o)[0]


def sflow_samples(b):
    """(datagram sequence, [(format, body offset, body length)])."""
    o = 4
    o += 4 + (4 if u32(b, o) == 1 else 16)   # agent address
    o += 4                                   # sub agent
    seq = u32(b, o)
    o += 8                                   # sequence, uptime
    n = u32(b, o)
    o += 4
    out = []
    for _ in range(n):
        fmt, length = u32(b, o), u32(b, o + 4)
        out.append((fmt, o + 8, length))
        o += 8 + length
    return seq, out
