#!/usr/bin/env python3
"""A DNS server for tests that answers late, or never.

    slowdns.py ADDR PORT DELAY_MS IPV4

Every A query is answered with IPV4 after DELAY_MS, every other query with
an empty NOERROR answer after the same delay, except names whose first label
starts with "never": those are read and dropped (a resolver that never
answers). Prints "ready" once bound and one line per query ("q NAME TYPE").
Runs until killed.
"""
import socket
import struct
import sys
import threading


def parse_question(msg):
    i, labels = 12, []
    while i < len(msg) and msg[i]:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype = struct.unpack(">H", msg[i + 1:i + 3])[0]
    return ".".join(labels), qtype, msg[12:i + 5]


def answer(msg, addr4):
    name, qtype, question = parse_question(msg)
    qid = msg[:2]
    records = b""
    if qtype == 1:
        records = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(addr4)
    hdr = qid + struct.pack(">HHHHH", 0x8180, 1, 1 if records else 0, 0, 0)
    return hdr + question + records


def main():
    addr, port, delay, addr4 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        msg, peer = s.recvfrom(4096)
        if len(msg) < 17:
            continue
        name, qtype, _ = parse_question(msg)
        print("q %s %d" % (name, qtype), flush=True)
        if name.startswith("never"):
            continue
        reply = answer(msg, addr4)
        threading.Timer(int(delay) / 1000.0, s.sendto, (reply, peer)).start()


if __name__ == "__main__":
    main()
