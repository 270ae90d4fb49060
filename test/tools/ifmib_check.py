#!/usr/bin/env python3
"""Compares what SNMP serves in IF-MIB with what the kernel says.

Run inside the network namespace (ip netns exec NS ...): it reads
`ip -j -s -d link` and /sys/class/net/*/speed there, walks ifNumber, ifTable
and ifXTable at 127.0.0.1:PORT, and prints one line per check:
    ok NAME
    fail NAME: WHY
Exit status 0 when every check passed. Retries (kernel, walk, kernel) until the
deadline, because counters in SNMP may be up to 500 ms old and the kernel may
still move; the last attempt's results are printed.

    ifmib_check.py --port P [--deadline S]
        [--override NAME alias=TEXT]   config `interface NAME alias "TEXT"`
        [--override NAME speed=BPS]    config `interface NAME speed N`
        [--index NAME=N]               expect NAME served as ifIndex N (map)
        [--relocated NAME]             NAME served under some other free number
        [--before-start NAME|all]      NAME existed before hostflowd started and
                                       its ifOperStatus has not changed since:
                                       ifLastChange and ifCounterDiscontinuityTime
                                       are 0 (all: every link, ifTableLastChange too)
        [--new NAME]                   NAME appeared after hostflowd started: both
                                       times > 0, ifLastChange >= the other
                                       (1 tick of rounding allowed)
        [--only CHECK]...              only these checks (names as printed)

Every time column is also checked against the agent's sysUpTime (read after
the walk): no value lies in the future.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

IFTABLE = ".1.3.6.1.2.1.2.2.1"
IFXTABLE = ".1.3.6.1.2.1.31.1.1.1"
IFNUMBER = ".1.3.6.1.2.1.2.1.0"
SYSUPTIME = ".1.3.6.1.2.1.1.3.0"
IFTABLELASTCHANGE = ".1.3.6.1.2.1.31.1.5.0"
M32 = (1 << 32) - 1

# column name -> (table, column number, expected SNMP type, required)
COLUMNS = {
    "ifIndex": (IFTABLE, 1, "INTEGER", True),
    "ifDescr": (IFTABLE, 2, "STRING", True),
    "ifType": (IFTABLE, 3, "INTEGER", True),
    "ifMtu": (IFTABLE, 4, "INTEGER", True),
    "ifSpeed": (IFTABLE, 5, "Gauge32", True),
    "ifPhysAddress": (IFTABLE, 6, "STRING", True),
    "ifAdminStatus": (IFTABLE, 7, "INTEGER", True),
    "ifOperStatus": (IFTABLE, 8, "INTEGER", True),
    "ifLastChange": (IFTABLE, 9, "Timeticks", True),
    "ifInOctets": (IFTABLE, 10, "Counter32", True),
    "ifInUcastPkts": (IFTABLE, 11, "Counter32", True),
    "ifInDiscards": (IFTABLE, 13, "Counter32", True),
    "ifInErrors": (IFTABLE, 14, "Counter32", True),
    "ifOutOctets": (IFTABLE, 16, "Counter32", True),
    "ifOutUcastPkts": (IFTABLE, 17, "Counter32", True),
    "ifOutDiscards": (IFTABLE, 19, "Counter32", True),
    "ifOutErrors": (IFTABLE, 20, "Counter32", True),
    "ifName": (IFXTABLE, 1, "STRING", True),
    "ifInMulticastPkts": (IFXTABLE, 2, "Counter32", True),
    "ifInBroadcastPkts": (IFXTABLE, 3, "Counter32", True),
    "ifOutMulticastPkts": (IFXTABLE, 4, "Counter32", True),
    "ifOutBroadcastPkts": (IFXTABLE, 5, "Counter32", True),
    "ifHCInOctets": (IFXTABLE, 6, "Counter64", True),
    "ifHCInUcastPkts": (IFXTABLE, 7, "Counter64", True),
    "ifHCInMulticastPkts": (IFXTABLE, 8, "Counter64", True),
    "ifHCInBroadcastPkts": (IFXTABLE, 9, "Counter64", True),
    "ifHCOutOctets": (IFXTABLE, 10, "Counter64", True),
    "ifHCOutUcastPkts": (IFXTABLE, 11, "Counter64", True),
    "ifHCOutMulticastPkts": (IFXTABLE, 12, "Counter64", True),
    "ifHCOutBroadcastPkts": (IFXTABLE, 13, "Counter64", True),
    "ifHighSpeed": (IFXTABLE, 15, "Gauge32", True),
    "ifPromiscuousMode": (IFXTABLE, 16, "INTEGER", True),
    "ifAlias": (IFXTABLE, 18, "STRING", True),
    "ifCounterDiscontinuityTime": (IFXTABLE, 19, "Timeticks", True),
}

OPER = {"UP": 1, "DOWN": 2, "TESTING": 3, "UNKNOWN": 4, "DORMANT": 5,
        "NOTPRESENT": 6, "LOWERLAYERDOWN": 7}

# ARPHRD_* (linux/if_arp.h, /sys/class/net/X/type) -> IANAifType-MIB, as
# mibs/README.md promises; written here, not taken from the daemon.
ARPHRD_IFTYPE = {
    1: 6,         # ARPHRD_ETHER: ethernetCsmacd
    772: 24,      # ARPHRD_LOOPBACK: softwareLoopback
    65534: 131,   # ARPHRD_NONE (tun, wireguard): tunnel
    512: 23,      # ARPHRD_PPP: ppp
    768: 131,     # ARPHRD_TUNNEL: tunnel
    769: 131,     # ARPHRD_TUNNEL6
    776: 131,     # ARPHRD_SIT
    778: 131,     # ARPHRD_IPGRE
    823: 131,     # ARPHRD_IP6GRE
    32: 199,      # ARPHRD_INFINIBAND: infiniband
    801: 71,      # ARPHRD_IEEE80211: ieee80211
    802: 71,      # ARPHRD_IEEE80211_PRISM
    803: 71,      # ARPHRD_IEEE80211_RADIOTAP
}
IFTYPE_OTHER = 1

LINE = re.compile(r"^(\.[0-9.]+) = (?:([A-Za-z0-9-]+): )?(.*)$")


def walk(port, oid):
    """{oid: (type, value)}; strings as bytes (-Ox), numbers as int."""
    out = subprocess.run(
        ["snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Ox", "-t", "2", "-r", "1",
         "127.0.0.1:%d" % port, oid],
        capture_output=True, text=True, env=dict(os.environ, MIBS=""), check=False)
    res = {}
    last = None
    for line in out.stdout.splitlines():
        m = LINE.match(line)
        if not m:
            if last and res[last][0] == "STRING":  # a wrapped Hex-STRING
                res[last] = ("STRING", res[last][1] + bytes.fromhex(line))
            continue
        o, typ, val = m.groups()
        if not o.startswith(oid + "."):
            continue
        last = o
        if typ in ("Hex-STRING", "STRING") or (typ is None and val == '""'):
            b = bytes.fromhex(val) if typ == "Hex-STRING" else \
                val.strip('"').encode()
            res[o] = ("STRING", b)
        elif typ == "Timeticks":
            res[o] = ("Timeticks", int(val.split(")")[0].lstrip("(")))
        elif typ in ("INTEGER", "Gauge32", "Counter32", "Counter64"):
            res[o] = (typ, int(val.split()[0]))
        else:
            res[o] = (typ or "?", val)
    return res


def snmp_get(port, oid, typ="INTEGER"):
    out = subprocess.run(
        ["snmpget", "-v2c", "-c", "public", "-On", "-t", "2", "-r", "1",
         "127.0.0.1:%d" % port, oid],
        capture_output=True, text=True, env=dict(os.environ, MIBS=""), check=False)
    m = LINE.match(out.stdout.strip())
    if not m or m.group(2) != typ:
        return None
    if typ == "Timeticks":
        return int(m.group(3).split(")")[0].lstrip("("))
    return int(m.group(3))


def read_arphrd(name):
    try:
        with open("/sys/class/net/%s/type" % name) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def read_speed(name):
    try:
        with open("/sys/class/net/%s/speed" % name) as f:
            mbps = int(f.read().strip())
    except (OSError, ValueError):
        return 0
    return mbps * 1000000 if mbps > 0 else 0


def kernel():
    out = subprocess.run(["ip", "-j", "-s", "-d", "link", "show"],
                         capture_output=True, text=True, check=True)
    links = {}
    for ln in json.loads(out.stdout):
        ln["speed_bps"] = read_speed(ln["ifname"])
        ln["arphrd"] = read_arphrd(ln["ifname"])
        links[ln["ifname"]] = ln
    return links


def counters_key(links):
    # lo carries the SNMP queries themselves.
    return {n: (l["stats64"], l["operstate"], l.get("flags"), l["mtu"])
            for n, l in links.items() if n != "lo"}


class Checker:
    def __init__(self, args):
        self.args = args
        self.results = []  # (name, ok, why)

    def check(self, name, problems):
        self.results.append((name, not problems, "; ".join(problems[:6]) +
                             (" (+%d more)" % (len(problems) - 6) if len(problems) > 6 else "")))

    def expected_rows(self, links):
        """{served ifIndex: link}, problems: what the options and the kernel
        expect cannot all hold (a mapped name the kernel lacks, two links
        expected at one number)."""
        want = dict(self.args.index)
        rows, problems = {}, []
        for name in sorted(want):
            if name not in links:
                problems.append("--index %s=%d: no such link" % (name, want[name]))
        for name in self.args.relocated:
            if name not in links:
                problems.append("--relocated %s: no such link" % name)
        for name, ln in sorted(links.items()):
            if name in self.args.relocated:
                continue
            idx = want.get(name, ln["ifindex"])
            if idx in rows:
                problems.append("%s and %s both expected at ifIndex %d" %
                                (rows[idx]["ifname"], name, idx))
                continue
            rows[idx] = ln
        return rows, problems

    def run(self, links, data, ifnumber, times=None):
        want, _ = self.expected_rows(links)
        col = {}
        for cname, (table, num, _, _) in COLUMNS.items():
            prefix = "%s.%d." % (table, num)
            col[cname] = {int(o[len(prefix):]): v for o, v in data.items()
                          if o.startswith(prefix)}
        served = col["ifIndex"]
        by_name = {}
        for idx, (_, nm) in col["ifName"].items():
            by_name.setdefault(nm.decode(errors="replace"), []).append(idx)
        self.check_rows(links, served, by_name, ifnumber)
        # Each link's columns are read at the row it should be served under.
        rowof = {ln["ifname"]: idx for idx, ln in want.items()}
        for name in self.args.relocated:
            if name in by_name:
                rowof[name] = by_name[name][0]
        for cname, (_, _, typ, required) in COLUMNS.items():
            self.check_column(cname, typ, required, links, rowof, col[cname])
        if times is not None:
            self.check_times(links, rowof, col, times)

    def check_times(self, links, rowof, col, times):
        """ifLastChange, ifCounterDiscontinuityTime, ifTableLastChange: never
        after sysUpTime; 0 for links there before start (--before-start);
        set for links that came later (--new)."""
        uptime, table_change = times
        p = []
        if uptime is None:
            p.append("sysUpTime.0 unanswered")
            uptime = 0
        before = set(links) if "all" in self.args.before_start else set(self.args.before_start)
        for name in sorted(set(self.args.before_start) | set(self.args.new)):
            if name != "all" and name not in links:
                p.append("%s: no such link" % name)
        if table_change is None:
            p.append("ifTableLastChange.0 unanswered")
        elif table_change > uptime:
            p.append("ifTableLastChange %d > sysUpTime %d" % (table_change, uptime))
        elif "all" in self.args.before_start and table_change != 0:
            p.append("ifTableLastChange %d, want 0 (no row added or removed)" % table_change)
        for name in sorted(links):
            idx = rowof.get(name)
            lc = col["ifLastChange"].get(idx, (None, None))[1]
            dc = col["ifCounterDiscontinuityTime"].get(idx, (None, None))[1]
            if idx is None or lc is None or dc is None:
                continue  # reported by the column checks
            for cname, v in (("ifLastChange", lc), ("ifCounterDiscontinuityTime", dc)):
                if v > uptime:
                    p.append("%s %s %d > sysUpTime %d" % (name, cname, v, uptime))
                if name in before and v != 0:
                    p.append("%s %s %d, want 0 (there before start)" % (name, cname, v))
                if name in self.args.new and v == 0:
                    p.append("%s %s 0, want > 0 (appeared after start)" % (name, cname))
            # Columns come from different requests: 1 tick of rounding.
            if name in self.args.new and lc + 1 < dc:
                p.append("%s ifLastChange %d < ifCounterDiscontinuityTime %d" % (name, lc, dc))
        self.check("time columns: <= sysUpTime, 0 before start, set after", p)

    def check_rows(self, links, served, by_name, ifnumber):
        p = []
        if ifnumber != len(links):
            p.append("ifNumber %s, kernel has %d links" % (ifnumber, len(links)))
        self.check("ifNumber = number of links", p)
        p = ["ifIndex.%d = %d" % (k, v[1]) for k, v in served.items() if k != v[1]]
        vals = [v[1] for v in served.values()]
        if len(set(vals)) != len(vals):
            p.append("duplicate ifIndex values %s" % sorted(vals))
        self.check("ifIndex column unique and equal to the row index", p)
        p = []
        for name in links:
            if name not in by_name:
                p.append("%s not served" % name)
            elif len(by_name[name]) > 1:
                p.append("%s served %d times" % (name, len(by_name[name])))
        extra = set(by_name) - set(links)
        p += ["stale row %s" % n for n in sorted(extra)]
        want, wp = self.expected_rows(links)
        p += wp
        for idx, ln in want.items():
            got = by_name.get(ln["ifname"], [None])[0]
            if got is not None and got != idx:
                p.append("%s served as %d, want %d" % (ln["ifname"], got, idx))
        for name in self.args.relocated:
            got = by_name.get(name, [None])[0]
            if got is not None and got in want:
                p.append("relocated %s served as %d, a number taken by %s" %
                         (name, got, want[got]["ifname"]))
        self.check("one row per link, at the expected ifIndex", p)

    def expect(self, cname, ln):
        """Expected value, or a set of acceptable ones, or None (not compared)."""
        name = ln["ifname"]
        ov = self.args.override.get(name, {})
        st = ln["stats64"]
        rx, tx = st["rx"], st["tx"]
        speed = int(ov["speed"]) if "speed" in ov else ln["speed_bps"]
        up = "UP" in ln["flags"]
        if cname in ("ifDescr", "ifName"):
            return name.encode()
        if cname == "ifType":
            if ln["arphrd"] is None:
                return -1  # /sys/class/net/X/type unreadable: cannot expect anything
            return ARPHRD_IFTYPE.get(ln["arphrd"], IFTYPE_OTHER)
        if cname == "ifMtu":
            return ln["mtu"]
        if cname == "ifSpeed":
            return min(speed, M32)
        if cname == "ifHighSpeed":
            return {speed // 1000000, (speed + 500000) // 1000000}
        if cname == "ifPhysAddress":
            mac = bytes.fromhex(ln.get("address", "").replace(":", ""))
            if mac and not any(mac):
                return {mac, b""}
            return mac
        if cname == "ifAdminStatus":
            return 1 if up else 2
        if cname == "ifOperStatus":
            # operstates.rst: UNKNOWN is usable when up with carrier.
            if not up:
                return 2
            if ln["operstate"] == "UNKNOWN":
                return 1 if "LOWER_UP" in ln["flags"] else 2
            return OPER[ln["operstate"]]
        if cname == "ifAlias":
            a = ov["alias"] if "alias" in ov else ln.get("ifalias", "")
            return a.encode()[:64]
        if cname == "ifPromiscuousMode":
            return 1 if "PROMISC" in ln["flags"] else 2
        if name == "lo":
            return None  # the walk itself crosses lo: its counters never rest
        counters = {
            "ifHCInOctets": rx["bytes"], "ifHCOutOctets": tx["bytes"],
            "ifInOctets": rx["bytes"] & M32, "ifOutOctets": tx["bytes"] & M32,
            "ifHCInMulticastPkts": rx["multicast"],
            "ifInDiscards": rx["dropped"] & M32, "ifInErrors": rx["errors"] & M32,
            "ifOutDiscards": tx["dropped"] & M32, "ifOutErrors": tx["errors"] & M32,
        }
        return counters.get(cname)

    def check_column(self, cname, typ, required, links, rowof, values):
        p = []
        for name, ln in sorted(links.items()):
            idx = rowof.get(name)
            if idx is None:
                continue
            if idx not in values:
                if required:
                    p.append("%s (%d) missing" % (name, idx))
                continue
            vtyp, v = values[idx]
            if vtyp != typ:
                p.append("%s: type %s, want %s" % (name, vtyp, typ))
                continue
            exp = self.expect(cname, ln)
            if exp is None:
                continue
            if not (v in exp if isinstance(exp, set) else v == exp):
                p.append("%s: got %r, want %r" % (name, v, exp))
        self.check(cname, p)

    def check_sums(self, links, data):
        """Packets: ucast+mcast+bcast = the kernel's; 32-bit = low 32 bits of 64."""
        p = []
        for name, ln in sorted(links.items()):
            st = ln["stats64"]
            g = self.row_values(data, name)
            if name == "lo":
                continue
            if g is None:
                continue
            hc = [g.get(c) for c in ("HCInU", "HCInM", "HCInB", "HCOutU", "HCOutM", "HCOutB")]
            if None in hc:
                continue
            if hc[0] + hc[1] + hc[2] != st["rx"]["packets"]:
                p.append("%s: HC in packets %d, kernel %d" % (name, sum(hc[:3]), st["rx"]["packets"]))
            if hc[3] + hc[4] + hc[5] != st["tx"]["packets"]:
                p.append("%s: HC out packets %d, kernel %d" % (name, sum(hc[3:]), st["tx"]["packets"]))
            for c32, c64 in (("InU", "HCInU"), ("InM", "HCInM"), ("InB", "HCInB"),
                             ("OutU", "HCOutU"), ("OutM", "HCOutM"), ("OutB", "HCOutB")):
                if g.get(c32) is not None and g[c32] != g[c64] & M32:
                    p.append("%s: 32-bit %s %d != low bits of %d" % (name, c32, g[c32], g[c64]))
        self.check("packet counters: HC sums = kernel, 32-bit = low 32 bits", p)

    def row_values(self, data, name):
        idx = None
        for o, (_, v) in data.items():
            if o.startswith(IFXTABLE + ".1.") and v == name.encode():
                idx = int(o.rsplit(".", 1)[1])
        if idx is None:
            return None
        cols = {"HCInU": (IFXTABLE, 7), "HCInM": (IFXTABLE, 8), "HCInB": (IFXTABLE, 9),
                "HCOutU": (IFXTABLE, 11), "HCOutM": (IFXTABLE, 12), "HCOutB": (IFXTABLE, 13),
                "InU": (IFTABLE, 11), "InM": (IFXTABLE, 2), "InB": (IFXTABLE, 3),
                "OutU": (IFTABLE, 17), "OutM": (IFXTABLE, 4), "OutB": (IFXTABLE, 5)}
        return {k: data.get("%s.%d.%d" % (t, c, idx), (None, None))[1]
                for k, (t, c) in cols.items()}


def parse_args(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--deadline", type=float, default=3.0)
    ap.add_argument("--override", nargs=2, action="append", default=[],
                    metavar=("NAME", "KEY=VALUE"))
    ap.add_argument("--index", action="append", default=[])
    ap.add_argument("--relocated", action="append", default=[])
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--before-start", action="append", default=[])
    ap.add_argument("--new", action="append", default=[])
    a = ap.parse_args(argv)
    ov = {}
    for name, kv in a.override:
        k, v = kv.split("=", 1)
        ov.setdefault(name, {})[k] = v
    a.override = ov
    a.index = [(s.split("=")[0], int(s.split("=")[1])) for s in a.index]
    a.only = set(a.only)
    return a


def attempt(args):
    k1 = kernel()
    data = walk(args.port, IFTABLE)
    data.update(walk(args.port, IFXTABLE))
    ifnumber = snmp_get(args.port, IFNUMBER)
    table_change = snmp_get(args.port, IFTABLELASTCHANGE, "Timeticks")
    uptime = snmp_get(args.port, SYSUPTIME, "Timeticks")
    k2 = kernel()
    c = Checker(args)
    c.run(k2, data, ifnumber, (uptime, table_change))
    c.check_sums(k2, data)
    res = [r for r in c.results if not args.only or r[0] in args.only]
    return res, counters_key(k1) == counters_key(k2)


def main(argv):
    args = parse_args(argv)
    end = time.monotonic() + args.deadline
    while True:
        res, stable = attempt(args)
        if (stable and all(ok for _, ok, _ in res)) or time.monotonic() >= end:
            break
        time.sleep(0.2)
    for name, ok, why in res:
        print("ok %s" % name if ok else "fail %s: %s" % (name, why))
    if not stable:
        print("fail kernel counters stable during the walk: they kept moving")
        return 1
    return 0 if all(ok for _, ok, _ in res) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
