#!/usr/bin/env python3
# Writes the hand-made seeds of fuzz_frame (test/fuzz/corpus/frame/): one frame of each
# link type, tagged and not, IPv4 and IPv6, and frames cut where a field would start.
# Usage: python3 test/fuzz/frame_seeds.py test/fuzz/corpus/frame
# The input layout is fuzz_frame.c's: link, flags, [len - caplen], host addresses, route answers, frame.
import struct, os, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
LINKS = {'ether':0, 'loopback':1, 'none':2, 'rawip':3, 'ppp':4, 'ipip':5, 'unknown':6}
def v4(src, dst, proto=17, total=None, ihl=5, payload=b'\x12\x34\x18\xc7\x00\x0c\x00\x00abcd'):
    tl = total if total is not None else 4*ihl + len(payload)
    h = struct.pack('>BBHHHBBH4s4s', 0x40 | ihl, 0, tl, 0, 0, 64, proto, 0, bytes(src), bytes(dst))
    return h + b'\0' * (4*ihl - 20) + payload
def v6(src, dst, nh=17, payload=b'\x12\x34\x18\xc7\x00\x0c\x00\x00abcd'):
    return struct.pack('>IHBB16s16s', 0x60000000, len(payload), nh, 64, bytes(src), bytes(dst)) + payload
def eth(pl, etype, tags=()):
    h = b'\x02\0\0\0\0\x02\x02\0\0\0\0\x01'
    for t in tags:
        h += struct.pack('>HH', t, 100)
    return h + struct.pack('>H', etype) + pl
A = [198,18,0,1]; B = [198,18,0,2]; T = [100,64,0,1]
A6 = [0xfd,0x7a,0x11,0x5c,0xa1,0xe0] + [0]*9 + [1]
B6 = [0xfd,0x7a,0x11,0x5c,0xa1,0xe0] + [0]*9 + [2]
routes = bytes(range(2, 66, 2))  # 32 bytes of answers
def seed(name, link, flags, frame, extra=None, locals_=()):
    b = bytes([LINKS[link], flags])
    if flags & 2:
        b += struct.pack('>H', extra or 0)
    b += bytes([len(locals_)])
    for fam, a in locals_:
        b += bytes([fam]) + bytes(a + [0]*(16-len(a)))
    b += routes + frame
    open(os.path.join(out, name), 'wb').write(b)
seed('ether-v4', 'ether', 0x10, eth(v4(A, B), 0x0800))
seed('ether-v4-out-gso', 'ether', 0x13, eth(v4(A, B, total=65000), 0x0800), extra=64000)
seed('ether-v6', 'ether', 0x04, eth(v6(A6, B6), 0x86dd))
seed('ether-vlan-v4', 'ether', 0x04, eth(v4(T, B), 0x0800, tags=(0x8100,)))
seed('ether-qinq-v6', 'ether', 0x05, eth(v6(A6, B6), 0x86dd, tags=(0x88a8, 0x8100)))
seed('ether-3tags', 'ether', 0x00, eth(v4(A, B), 0x0800, tags=(0x88a8, 0x8100, 0x8100)))
seed('ether-arp', 'ether', 0x00, eth(b'\0\1\x08\0\6\4\0\1' + bytes(20), 0x0806))
seed('ether-short', 'ether', 0x00, eth(v4(A, B), 0x0800)[:30])
seed('loopback-v4-local', 'loopback', 0x00, eth(v4([127,0,0,1], [127,0,0,1]), 0x0800), locals_=((0, [127,0,0,1]),))
seed('tun-v4', 'none', 0x04, v4(T, B))
seed('tun-v6-out', 'none', 0x05, v6(A6, B6))
seed('tun-v4-options', 'none', 0x00, v4(T, B, ihl=15))
seed('tun-v4-bad-ihl', 'none', 0x00, bytes([0x44]) + v4(T, B)[1:])
seed('tun-garbage', 'none', 0x00, b'\x99' * 30)
seed('rawip-v4', 'rawip', 0x24, v4(A, [224,0,0,251]))
seed('ppp-v6', 'ppp', 0x04, v6(A6, [0xff,2] + [0]*13 + [1]))
seed('ipip-v4', 'ipip', 0x00, v4(A, B))
seed('unknown-link', 'unknown', 0x00, eth(v4(A, B), 0x0800))
seed('ether-forwarded-local-src', 'ether', 0x85, eth(v4(A, B), 0x0800))
# Frames cut where a field would start: the parser must stop at the last byte.
full = eth(v4(A, B), 0x0800, tags=(0x88a8, 0x8100))
for cut in (13, 14, 16, 17, 18, 20, 21, 22, 41):
    seed('ether-qinq-cut-%d' % cut, 'ether', 0x00, full[:cut])
full6 = eth(v6(A6, B6), 0x86dd, tags=(0x8100,))
for cut in (18, 19, 57):
    seed('ether-v6-cut-%d' % cut, 'ether', 0x00, full6[:cut])
seed('tun-v4-cut-19', 'none', 0x00, v4(T, B)[:19])
seed('tun-v6-cut-39', 'none', 0x00, v6(A6, B6)[:39])
seed('tun-empty', 'none', 0x00, b'')
