#!/usr/bin/env python3
"""Steady UDP traffic for fault tests: PPS datagrams a second, in 10 ms ticks,
until STOPFILE exists or MAX_S seconds have passed (whichever comes first).

    udp_pace.py SRC DST DPORT PPS MAX_S STOPFILE [SIZE]

The schedule follows the clock, not a sleep per packet, so the rate stays
steady when a tick runs late; a late tick never sends more than one extra
tick's worth (no burst after a stall). Send errors (no route, ICMP) are
ignored: the traffic is only there to be sampled.
"""
import os
import socket
import sys
import time

TICK = 0.01


def main():
    src, dst, dport, pps, max_s, stop = sys.argv[1:7]
    size = int(sys.argv[7]) if len(sys.argv) > 7 else 20
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    per_tick = float(pps) * TICK
    buf = b"x" * size
    start = time.monotonic()
    deadline = start + float(max_s)
    owed = 0.0
    tick = 0
    while time.monotonic() < deadline:
        if tick % 10 == 0 and os.path.exists(stop):
            break
        owed = min(owed + per_tick, 2 * per_tick)
        while owed >= 1:
            owed -= 1
            try:
                s.sendto(buf, (dst, int(dport)))
            except OSError:
                pass
        tick += 1
        delay = start + tick * TICK - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -5 * TICK:
            start = time.monotonic() - tick * TICK  # stalled: no catch-up burst
    return 0


if __name__ == "__main__":
    sys.exit(main())
