#!/usr/bin/env python3
"""An sFlow receiver that polls SNMP the way Akvorado does.

    akvorado_poll.py ADDR PORT SNMP_PORT OUT STOPFILE MAX_S

Binds ADDR:PORT (UDP). For every datagram it receives it decodes the sFlow v5
header and samples itself (no tshark) and, at once, for each ifIndex in it
(the source of every sample, and the input/output of flow samples unless
0 or 0x3FFFFFFF), sends Akvorado's one GET with 5 varbinds: sysName.0,
ifDescr.N, ifName.N, ifAlias.N, ifHighSpeed.N (snmpget, SNMPv2c, community
public, 127.0.0.1:SNMP_PORT, 1 s timeout, 1 retry as Akvorado's poller).

Each datagram's GETs run in a thread of their own as it arrives (Akvorado's
poller has several workers), so a slow GET never delays the next datagram's.
A GET that times out (snmpd itself down, restarting) is sent again until
3 s have passed; a GET answered without ifName (noSuchObject/noSuchInstance:
what Akvorado caches as a miss for an hour) is a MISS.

Writes to OUT, one line per datagram and one per GET:
    D RECV_TIME DGRAM_SEQ NSAMPLES FLOWSEQS(src:seq:drops,...) CTRSEQS(src:seq,...)
    G RECV_TIME IFINDEX OK|MISS|DOWN MS
Stops when STOPFILE exists or after MAX_S seconds. SNMP_PORT 0: no GETs
(a plain decoding receiver).
"""
import os
import socket
import subprocess
import sys
import threading
import time

from hfwire import sflow_samples, u32

INTERNAL = 0x3FFFFFFF
OIDS = [".1.3.6.1.2.1.1.5.0"]
COLS = [".1.3.6.1.2.1.2.2.1.2.", ".1.3.6.1.2.1.31.1.1.1.1.",
        ".1.3.6.1.2.1.31.1.1.1.18.", ".1.3.6.1.2.1.31.1.1.1.15."]


def decode(b):
    """(dgram_seq, [(kind, source, seq, drops, input, output)])"""
    seq, smp = sflow_samples(b)
    out = []
    for fmt, body, _ in smp:
        if fmt == 1:
            out.append(("F", u32(b, body + 4) & 0xFFFFFF, u32(b, body),
                        u32(b, body + 16), u32(b, body + 20), u32(b, body + 24)))
        elif fmt == 3:
            out.append(("F", u32(b, body + 8), u32(b, body), u32(b, body + 20),
                        u32(b, body + 28), u32(b, body + 36)))
        elif fmt == 2:
            out.append(("C", u32(b, body + 4) & 0xFFFFFF, u32(b, body), 0, 0, 0))
        elif fmt == 4:
            out.append(("C", u32(b, body + 8), u32(b, body), 0, 0, 0))
    return seq, out


def get(port, idx):
    """OK, MISS or DOWN, and the time it took in ms."""
    oids = OIDS + [c + str(idx) for c in COLS]
    t0 = time.monotonic()
    deadline = t0 + 3.0
    while True:
        r = subprocess.run(["snmpget", "-v2c", "-c", "public", "-On", "-t", "1",
                            "-r", "1", "127.0.0.1:%d" % port] + oids,
                           capture_output=True, text=True)
        text = r.stdout + r.stderr
        ms = int((time.monotonic() - t0) * 1000)
        if r.returncode == 0 and "No Such" not in text:
            name = [ln for ln in r.stdout.splitlines()
                    if ln.startswith(COLS[1] + str(idx) + " ")]
            return ("OK" if name and "STRING" in name[0] else "MISS"), ms
        if "No Such" in text or "noSuch" in text:
            return "MISS", ms
        if time.monotonic() > deadline:
            return "DOWN", ms
        time.sleep(0.1)


def poll_all(port, idx, now, f, lock):
    for i in sorted(idx):
        res, ms = get(port, i)
        with lock:
            f.write("G %.6f %d %s %d\n" % (now, i, res, ms))


def main():
    addr, port, snmp_port, out, stop, max_s = sys.argv[1:7]
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, int(port)))
    s.settimeout(0.2)
    end = time.monotonic() + float(max_s)
    lock = threading.Lock()
    workers = []
    with open(out, "a", buffering=1) as f:
        f.write("READY\n")
        while time.monotonic() < end and not os.path.exists(stop):
            try:
                b = s.recv(65536)
            except socket.timeout:
                continue
            now = time.time()
            seq, smp = decode(b)
            flows = ",".join("%d:%d:%d" % (x[1], x[2], x[3]) for x in smp if x[0] == "F")
            ctrs = ",".join("%d:%d" % (x[1], x[2]) for x in smp if x[0] == "C")
            with lock:
                f.write("D %.6f %d %d %s %s\n" % (now, seq, len(smp), flows or "-", ctrs or "-"))
            idx = set()
            for x in smp if int(snmp_port) else ():
                idx.add(x[1])
                for side in (x[4], x[5]):
                    if x[0] == "F" and side not in (0, INTERNAL):
                        idx.add(side)
            if idx:
                t = threading.Thread(target=poll_all, args=(int(snmp_port), idx, now, f, lock))
                t.start()
                workers.append(t)
            workers = [w for w in workers if w.is_alive()]
        for w in workers:
            w.join()


if __name__ == "__main__":
    main()
