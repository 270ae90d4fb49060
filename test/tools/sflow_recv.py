#!/usr/bin/env python3
"""An sFlow v5 collector for tests: one JSON line per datagram and per
sample, appended to OUT as they arrive (flushed at once), so a test can wait
for a line and read every field it checks.

    sflow_recv.py ADDR OUT PORT...

Binds ADDR (IPv4 or IPv6) on each PORT and prints "ready" once bound. Lines:

  {"t": "dgram", "port": P, "len": N, "seq": S, "agent": "A", "n": K}
  {"t": "flow", "port": P, "seq": S, "source": I, "rate": R, "pool": P,
   "drops": D, "input": I, "output": O, "proto": H, "frame_length": L,
   "stripped": S, "header": "hex"}
  {"t": "counter", "port": P, "seq": S, "source": I, "ifindex": I,
   "iftype": T, "speed": S, "direction": D, "status": S}
  {"t": "bad", "port": P, "why": "..."}     a datagram it could not parse

Formats 1 and 3 (flow) and 2 and 4 (counters); records other than the raw
header (flow) and the generic interface counters are skipped by length.
"""
import json
import select
import socket
import struct
import sys


def u32(b, o):
    return struct.unpack_from(">I", b, o)[0]


def address(b, o):
    kind = u32(b, o)
    if kind == 1:
        return socket.inet_ntop(socket.AF_INET, b[o + 4:o + 8]), o + 8
    if kind == 2:
        return socket.inet_ntop(socket.AF_INET6, b[o + 4:o + 20]), o + 20
    raise ValueError("address type %d" % kind)


def records(b, o, end, what):
    """(tag, body offset) of each record of the counted list at o; the
    records must fill WHAT to its end."""
    n = u32(b, o)
    o += 4
    for _ in range(n):
        tag, length = struct.unpack_from(">II", b, o)
        yield tag, o + 8
        o += 8 + length
    if o != end:
        raise ValueError(what + " length")


def flow(b, o, end, expanded, port):
    out = {"t": "flow", "port": port, "seq": u32(b, o)}
    if expanded:
        out["source"] = u32(b, o + 8)
        o += 12
    else:
        out["source"] = u32(b, o + 4) & 0x00FFFFFF
        o += 8
    out["rate"], out["pool"], out["drops"] = struct.unpack_from(">III", b, o)
    o += 12
    if expanded:
        out["input"], out["output"] = u32(b, o + 4), u32(b, o + 12)
        o += 16
    else:
        out["input"], out["output"] = u32(b, o), u32(b, o + 4)
        o += 8
    for tag, body in records(b, o, end, "flow sample"):
        if tag == 1:
            proto, flen, stripped, hlen = struct.unpack_from(">IIII", b, body)
            out.update(proto=proto, frame_length=flen, stripped=stripped,
                       header=b[body + 16:body + 16 + hlen].hex())
    return out


def counter(b, o, end, expanded, port):
    out = {"t": "counter", "port": port, "seq": u32(b, o)}
    o += 12 if expanded else 8
    for tag, body in records(b, o, end, "counter sample"):
        if tag == 1:
            out["ifindex"], out["iftype"] = struct.unpack_from(">II", b, body)
            out["speed"] = struct.unpack_from(">Q", b, body + 8)[0]
            out["direction"], out["status"] = struct.unpack_from(">II", b, body + 16)
            out["source"] = out["ifindex"]
    return out


def parse(b, port):
    if u32(b, 0) != 5:
        raise ValueError("not sFlow v5")
    agent, o = address(b, 4)
    o += 4                      # sub-agent id
    seq = u32(b, o)
    o += 8                      # sequence, uptime
    n = u32(b, o)
    o += 4
    lines = [{"t": "dgram", "port": port, "len": len(b), "seq": seq, "agent": agent,
              "n": n}]
    for _ in range(n):
        tag, length = struct.unpack_from(">II", b, o)
        body, end = o + 8, o + 8 + length
        if end > len(b):
            raise ValueError("sample beyond the datagram")
        fmt = tag & 0xFFF if tag >> 12 == 0 else -1
        if fmt in (1, 3):
            lines.append(flow(b, body, end, fmt == 3, port))
        elif fmt in (2, 4):
            lines.append(counter(b, body, end, fmt == 4, port))
        o = end
    if o != len(b):
        raise ValueError("trailing bytes")
    return lines


def main():
    addr, out, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    socks = {}
    for p in ports:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((addr, p))
        socks[s] = p
    print("ready", flush=True)
    with open(out, "a", buffering=1) as f:
        while True:
            ready, _, _ = select.select(list(socks), [], [])
            for s in ready:
                b = s.recv(65536)
                try:
                    lines = parse(b, socks[s])
                except (struct.error, ValueError) as e:
                    lines = [{"t": "bad", "port": socks[s], "why": str(e)}]
                for line in lines:
                    f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
