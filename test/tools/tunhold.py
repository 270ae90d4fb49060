#!/usr/bin/env python3
"""Holds a tun device open so it has carrier, and injects traffic on request.

    tunhold.py serve NAME CTLSOCK     create tun NAME (IFF_TUN|IFF_NO_PI) in the
                                      current network namespace, listen on the
                                      unix socket CTLSOCK, print "ready" on
                                      stdout, then read and discard whatever the
                                      kernel sends to the tun until SIGTERM.
    tunhold.py send CTLSOCK COMMAND   send one command, print the reply, exit 0
                                      when it starts with "ok".

Commands (one line):
    inject v4|v6 COUNT [PAYLOAD]      write COUNT UDP packets (PAYLOAD bytes of
                                      UDP data, default 64) into the tun: the
                                      kernel receives them on NAME (rx counters).
                                      v4 100.64.0.2 -> 100.64.0.1, v6
                                      fd7a:115c:a1e0::2 -> fd7a:115c:a1e0::1,
                                      ports 40000 -> 9 (discard).
    stats                             "ok rx=N tx=N": packets the helper wrote
                                      and packets it read from the kernel.
The tun disappears when the helper exits (it is not persistent).
"""
import fcntl
import os
import selectors
import signal
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

V4_SRC, V4_DST = "100.64.0.2", "100.64.0.1"
V6_SRC, V6_DST = "fd7a:115c:a1e0::2", "fd7a:115c:a1e0::1"
SPORT, DPORT = 40000, 9


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_v4(payload):
    src, dst = socket.inet_aton(V4_SRC), socket.inet_aton(V4_DST)
    ulen = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", SPORT, DPORT, ulen, 0) + payload
    udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xFFFF) + udp[8:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17,
                      0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + udp


def udp_v6(payload):
    src = socket.inet_pton(socket.AF_INET6, V6_SRC)
    dst = socket.inet_pton(socket.AF_INET6, V6_DST)
    ulen = 8 + len(payload)
    pseudo = src + dst + struct.pack("!I3xB", ulen, 17)
    udp = struct.pack("!HHHH", SPORT, DPORT, ulen, 0) + payload
    udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xFFFF) + udp[8:]
    hdr = struct.pack("!IHBB16s16s", 6 << 28, ulen, 17, 64, src, dst)
    return hdr + udp


class Holder:
    def __init__(self, name, ctlpath):
        self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        ifr = struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI)
        fcntl.ioctl(self.fd, TUNSETIFF, ifr)
        self.ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(ctlpath):
            os.unlink(ctlpath)
        self.ctl.bind(ctlpath)
        self.ctl.listen(4)
        self.ctlpath = ctlpath
        self.rx = self.tx = 0
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.fd, selectors.EVENT_READ, self.drain)
        self.sel.register(self.ctl, selectors.EVENT_READ, self.accept)

    def drain(self):
        while True:
            try:
                os.read(self.fd, 65536)
            except BlockingIOError:
                return
            self.rx += 1

    def write(self, pkt):
        # The tun queue is deep; on EAGAIN retry after draining our side.
        while True:
            try:
                os.write(self.fd, pkt)
                self.tx += 1
                return
            except BlockingIOError:
                self.drain()

    def command(self, line):
        words = line.split()
        if words[:1] == ["stats"]:
            return "ok rx=%d tx=%d" % (self.rx, self.tx)
        if len(words) in (3, 4) and words[0] == "inject" and words[1] in ("v4", "v6"):
            count = int(words[2])
            size = int(words[3]) if len(words) == 4 else 64
            make = udp_v4 if words[1] == "v4" else udp_v6
            pkt = make(bytes(size))
            for _ in range(count):
                self.write(pkt)
            return "ok injected %d bytes=%d" % (count, len(pkt))
        return "error: unknown command: " + line

    def accept(self):
        conn, _ = self.ctl.accept()
        with conn:
            conn.settimeout(5)
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            try:
                reply = self.command(data.decode().strip())
            except (ValueError, OSError) as e:
                reply = "error: %s" % e
            conn.sendall((reply + "\n").encode())

    def run(self):
        print("ready", flush=True)
        while True:
            for key, _ in self.sel.select():
                key.data()

    def close(self):
        self.sel.close()
        self.ctl.close()
        os.close(self.fd)
        try:
            os.unlink(self.ctlpath)
        except FileNotFoundError:
            pass


def send(ctlpath, command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(ctlpath)
        s.sendall((command + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    reply = data.decode().strip()
    print(reply)
    return 0 if reply.startswith("ok") else 1


def main(argv):
    if len(argv) == 4 and argv[1] == "serve":
        holder = Holder(argv[2], argv[3])

        def stop(_sig, _frm):
            raise SystemExit(0)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            holder.run()
        finally:
            holder.close()
        return 0
    if len(argv) >= 4 and argv[1] == "send":
        return send(argv[2], " ".join(argv[3:]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
