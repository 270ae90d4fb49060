#!/usr/bin/env python3
"""A reference for the router benchmark: one unbound AF_PACKET socket for
every protocol (ETH_P_ALL), the shape of hostflowd's capture socket, with a
classic BPF program that drops every packet ("ret #0"). What forwarding loses
with it running is the kernel's cost of the tap alone, no sampler at all.

    tapdrop.py [ignore-outgoing] [bind=IFNAME]... MAX_SECONDS

ignore-outgoing sets PACKET_IGNORE_OUTGOING (Linux 4.20): the kernel then
skips the socket on every interface's transmit path (dev_queue_xmit_nit).
bind=IFNAME binds the socket to one interface, as hostflowd's are when it
samples a few: the kernel then meets it on that interface's packets only.
Several bind= open one such socket for each.
Prints "ready" once the program is attached; exits after MAX_SECONDS or on
SIGTERM."""

import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26
PACKET_IGNORE_OUTGOING = 23
SOL_PACKET = 263


def main():
    args = sys.argv[1:]
    ignore = bool(args) and args[0] == "ignore-outgoing"
    if ignore:
        args = args[1:]
    binds = []
    while args and args[0].startswith("bind="):
        binds.append(args[0][len("bind="):])
        args = args[1:]
    if len(args) != 1:
        sys.exit("usage: tapdrop.py [ignore-outgoing] [bind=IFNAME]... MAX_SECONDS")
    deadline = time.monotonic() + float(args[0])
    # One instruction: BPF_RET|BPF_K 0 (drop).
    import ctypes
    insns = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))
    prog = struct.pack("HL", 1, ctypes.addressof(insns))
    socks = []
    for name in binds or [None]:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, prog)
        if ignore:
            s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        if name:
            s.bind((name, ETH_P_ALL))
        socks.append(s)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    while time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
