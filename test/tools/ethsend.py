#!/usr/bin/env python3
"""Sends COUNT Ethernet frames out of each interface named, as a container's
peer would: broadcast destination, EtherType 0x88b5 (IEEE local
experimental, which no stack on the far side answers), 64 bytes.

    ethsend.py COUNT IFNAME...

Needs CAP_NET_RAW (root in the test's namespace). Exits non-zero when a
send fails.
"""
import socket
import sys


def main():
    count = int(sys.argv[1])
    for name in sys.argv[2:]:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((name, 0))
        mac = s.getsockname()[4]
        frame = b"\xff" * 6 + mac + b"\x88\xb5" + name.encode().ljust(50, b"\0")
        for _ in range(count):
            s.send(frame)
        s.close()


if __name__ == "__main__":
    main()
