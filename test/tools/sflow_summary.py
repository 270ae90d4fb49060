#!/usr/bin/env python3
"""Summarises the sFlow v5 in a capture, decoded by tshark, per ifIndex.

    sflow_summary.py PCAP [PORT]      (PORT defaults to 6343)

Prints, for every source ifIndex: the number of flow samples, their sampling
rate, the input/output ifIndex pairs seen, header protocols, and the last
counter sample (ifType, ifSpeed, status, octets in/out). Also
`--json` to print the same as JSON for scripts, and `--samples` to print one
line per flow sample, for scripts (fields "-" when absent):

    S source input output proto src dst sport dport nexthop src_mask dst_mask

(src/dst/ports from the sampled header; next hop and masks from the
extended_router record).
"""
import json
import subprocess
import sys
from collections import defaultdict

FLOW_KEY = "sflow.flow_sample.sampling_rate"
CTR_KEY = "sflow.counters_sample.sequence_number"


class Obj(list):
    """A JSON object as its (key, value) pairs: tshark repeats keys (two
    samples of one kind in a datagram), which a dict would silently merge."""

    def keys(self):
        return [k for k, _ in self]


def flatten(node, out):
    """All leaf fields below node into out (first occurrence wins)."""
    items = node if isinstance(node, Obj) else \
        (("", v) for v in node) if isinstance(node, list) else ()
    for k, v in items:
        if isinstance(v, list):
            flatten(v, out)
        else:
            out.setdefault(k, v)


def samples(node, flows, ctrs):
    if isinstance(node, Obj):
        keys = node.keys()
        for key, into in ((FLOW_KEY, flows), (CTR_KEY, ctrs)):
            if key in keys:
                f = {}
                flatten(node, f)
                into.append(f)
                return
        for _, v in node:
            samples(v, flows, ctrs)
    elif isinstance(node, list):
        for v in node:
            samples(v, flows, ctrs)


def iface(f, which):
    for k in ("sflow.flow_sample.%s_interface_value" % which,
              "sflow.flow_sample.%s_interface" % which):
        if k in f:
            return int(f[k], 0)
    return None


def decode(pcap, port):
    out = subprocess.run(["tshark", "-r", pcap, "-d", "udp.port==%d,sflow" % port,
                          "-T", "json"], capture_output=True, text=True, check=False)
    pkts = json.loads(out.stdout or "[]", object_pairs_hook=Obj)
    flows, ctrs = [], []
    for p in pkts:
        samples(p, flows, ctrs)
    return len(pkts), flows, ctrs


def summarise(flows, ctrs):
    by = defaultdict(lambda: {"flow_samples": 0, "rates": set(), "in_out": defaultdict(int),
                              "header_protocols": set(), "counters": None,
                              "counter_samples": 0})
    for f in flows:
        s = by[int(f.get("sflow.flow_sample.source_id_index",
                         f.get("sflow.flow_sample.index", "-1")))]
        s["flow_samples"] += 1
        s["rates"].add(int(f[FLOW_KEY]))
        s["in_out"]["%s>%s" % (iface(f, "input"), iface(f, "output"))] += 1
        if "sflow_245.header_protocol" in f:
            s["header_protocols"].add(int(f["sflow_245.header_protocol"]))
    for c in ctrs:
        idx = int(c.get("sflow_245.ifindex", c.get("sflow.counters_sample.source_id_index", "-1")))
        s = by[idx]
        s["counter_samples"] += 1
        s["counters"] = {k: c.get("sflow_245." + k) for k in
                         ("iftype", "ifspeed", "ifinoct", "ifoutoct", "ifinpkt", "ifoutpkt")}
    return by


def sample_line(f):
    def first(*keys):
        for k in keys:
            if k in f:
                return f[k]
        return "-"
    return " ".join(str(x) for x in (
        "S", first("sflow.flow_sample.source_id_index", "sflow.flow_sample.index"),
        iface(f, "input"), iface(f, "output"), first("sflow_245.header_protocol"),
        first("ip.src", "ipv6.src"), first("ip.dst", "ipv6.dst"),
        first("udp.srcport", "tcp.srcport"), first("udp.dstport", "tcp.dstport"),
        first("sflow_245.nexthop", "sflow_245.nexthop.v6"),
        first("sflow_245.nexthop.src_mask"), first("sflow_245.nexthop.dst_mask")))


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    as_json = "--json" in argv
    per_sample = "--samples" in argv
    args = [a for a in argv[1:] if a not in ("--json", "--samples")]
    port = int(args[1]) if len(args) > 1 else 6343
    n, flows, ctrs = decode(args[0], port)
    if per_sample:
        for f in flows:
            print(sample_line(f))
        return 0
    by = summarise(flows, ctrs)
    if as_json:
        print(json.dumps({str(k): {**v, "rates": sorted(v["rates"]),
                                   "header_protocols": sorted(v["header_protocols"]),
                                   "in_out": dict(v["in_out"])}
                          for k, v in by.items()}, indent=1))
        return 0
    print("%d datagrams, %d flow samples, %d counter samples" % (n, len(flows), len(ctrs)))
    hdr = "%-8s %6s %6s %-36s %5s | %6s %6s %12s %12s" % (
        "ifIndex", "flows", "rate", "input>output (count)", "proto",
        "ifType", "Mb/s", "in octets", "out octets")
    print(hdr)
    print("-" * len(hdr))
    for idx in sorted(by):
        s = by[idx]
        io = " ".join("%s(%d)" % kv for kv in sorted(s["in_out"].items()))
        c = s["counters"] or {}
        spd = c.get("ifspeed")
        print("%-8d %6d %6s %-36s %5s | %6s %6s %12s %12s" % (
            idx, s["flow_samples"], ",".join(map(str, sorted(s["rates"]))) or "-",
            io or "-", ",".join(map(str, sorted(s["header_protocols"]))) or "-",
            c.get("iftype", "-"), int(spd) // 1000000 if spd else "-",
            c.get("ifinoct", "-"), c.get("ifoutoct", "-")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
