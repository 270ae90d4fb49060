#!/usr/bin/env python3
"""A collector's SNMP poll, timed: one SNMPv2c GET with Akvorado's 5 varbinds
(sysName.0, ifDescr.N, ifName.N, ifAlias.N, ifHighSpeed.N) per request, over
one UDP socket, so process start-up does not drown the agent's latency.

    snmplat.py HOST PORT COMMUNITY COUNT IFINDEX...

Cycles through the given ifIndex values. Prints one JSON object: count, ok,
bad (a varbind was an exception or an error-status was set), timeouts,
median_us, p99_us, max_us. BER is hand-encoded: Debian 12 has no pysnmp
that installs cleanly everywhere, and a GET is a few bytes."""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from hfwire import children, get_request, read_tlv  # noqa: E402

SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)
IF_DESCR = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
IF_NAME = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)
IF_ALIAS = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18)
IF_HIGH_SPEED = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15)
TIMEOUT_S = 1.0  # Akvorado's poller timeout


def check_response(buf, reqid, nvb):
    """True when buf answers reqid with no error and nvb plain values."""
    _, s, e = read_tlv(buf, 0)
    _, community, pdu = children(buf, s, e)
    tag, ps, pe = pdu
    if tag != 0xA2:
        return False
    rid, err, _, vbl = children(buf, ps, pe)
    if int.from_bytes(buf[rid[1]:rid[2]], "big", signed=True) != reqid:
        raise LookupError("stale response")
    if int.from_bytes(buf[err[1]:err[2]], "big") != 0:
        return False
    vbs = children(buf, vbl[1], vbl[2])
    if len(vbs) != nvb:
        return False
    for _, vs, ve in vbs:
        _, value = children(buf, vs, ve)
        if value[0] in (0x80, 0x81, 0x82):  # noSuchObject/Instance, endOfMibView
            return False
    return True


def poll_once(sock, community, reqid, n):
    oids = [SYS_NAME, IF_DESCR + (n,), IF_NAME + (n,), IF_ALIAS + (n,),
            IF_HIGH_SPEED + (n,)]
    req = get_request(community, reqid, oids)
    t0 = time.perf_counter_ns()
    sock.send(req)
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, False
        sock.settimeout(left)
        try:
            buf = sock.recv(65535)
        except socket.timeout:
            return None, False
        t1 = time.perf_counter_ns()
        try:
            return (t1 - t0) / 1000.0, check_response(buf, reqid, len(oids))
        except LookupError:
            continue  # a late answer to an earlier, timed-out request


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, int(round(q * (len(sorted_vals) - 1))))
    return sorted_vals[i]


def main():
    if len(sys.argv) < 6:
        sys.exit("usage: snmplat.py HOST PORT COMMUNITY COUNT IFINDEX...")
    host, port = sys.argv[1], int(sys.argv[2])
    community = sys.argv[3].encode()
    count = int(sys.argv[4])
    rows = [int(x) for x in sys.argv[5:]]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((host, port))
    lat, bad, timeouts = [], 0, 0
    for i in range(count):
        us, ok = poll_once(sock, community, 1000 + i, rows[i % len(rows)])
        if us is None:
            timeouts += 1
            continue
        lat.append(us)
        if not ok:
            bad += 1
    sock.close()
    lat.sort()
    print(json.dumps({
        "count": count, "ok": len(lat) - bad, "bad": bad, "timeouts": timeouts,
        "median_us": percentile(lat, 0.5), "p99_us": percentile(lat, 0.99),
        "max_us": lat[-1] if lat else None,
    }))


if __name__ == "__main__":
    main()
