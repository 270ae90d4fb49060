#!/usr/bin/env bash
# The sFlow face over a veth pair between two namespaces: hostflowd samples
# vethA (namespace A) 1 in 50 while counted UDP crosses it both ways; the
# datagrams are captured with tshark and decoded, and checked against what
# SNMP serves, the binomial bounds, the size rule (1400 on loopback, 1252/1232
# over a 1280-MTU path) and a second decoder (pmacct's sfacctd). A SIGHUP
# changes the rate; sequence numbers must continue.
#
# The sf_* helpers are shared with test_sflow_tun.sh and test_sflow_map.sh,
# which source this file (main runs only when it is executed).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SF_IF_INTERNAL=1073741823

# sf_capture_start NS PORT FILE [IFACE]: tshark on IFACE (lo) for udp PORT,
# writing FILE and printing the sequence numbers of counter samples live to
# FILE.live; a sink socket is bound to PORT so that the daemon's connected
# socket sees no ICMP port unreachable. Waits until tshark captures.
sf_capture_start() {
	local ns=$1 port=$2 file=$3 ifc=${4:-lo} addr=127.0.0.1
	[[ $ifc != lo ]] && addr=::
	sf_sink "$ns" "$addr" "$port"
	SF_CAPTURE_PIDS+=("$HF_LAST_PID")
	hf_bg "$ns" "$file.log" sh -c 'exec tshark -i "$1" -f "udp port $2" -w "$3" -P -l \
		-d "udp.port==$2,sflow" -o sflow.enable_dissection:FALSE \
		-T fields -e sflow.counters_sample.sequence_number \
		>"$3.live"' sh "$ifc" "$port" "$file"
	SF_CAPTURE_PIDS+=("$HF_LAST_PID")
	hf_wait_for 15 grep -q "Capturing on" "$file.log"
}

# sf_sink NS ADDR PORT...: UDP sockets bound to the ports, never read, so
# that no ICMP port unreachable answers (and pollutes the samples).
sf_sink() {
	local ns=$1 addr=$2 log=$HF_DIR/sink-$1-$3.log
	shift 2
	hf_bg "$ns" "$log" python3 -c '
import signal, socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
keep = [socket.socket(fam, socket.SOCK_DGRAM) for _ in sys.argv[2:]]
for s, port in zip(keep, sys.argv[2:]):
    s.bind((sys.argv[1], int(port)))
print("ready", flush=True)
signal.pause()' "$addr" "$@"
	# Bound before anything is sent there: else the first datagrams meet
	# ICMP port unreachable (a slow python start on a loaded machine).
	hf_wait_for 10 grep -q '^ready' "$log"
}

# Stops every capture (tshark finishes its file on SIGTERM).
sf_capture_stop() {
	local p
	for p in "${SF_CAPTURE_PIDS[@]}"; do
		hf_kill "$p"
	done
	SF_CAPTURE_PIDS=()
}
SF_CAPTURE_PIDS=()

# sf_decode FILE PORT: one line per datagram and per sample, from tshark's JSON:
#   D udp_payload_len agent sub_agent_id seq uptime nsamples
#   F dgram_seq seq source rate pool drops input output proto frame_len stripped hdr_len sport dport ip_len
#   C dgram_seq seq source ifindex iftype speed direction admin oper in_octets out_octets promisc
sf_decode() {
	tshark -r "$1" -d "udp.port==$2,sflow" -T json 2>/dev/null | python3 -c '
import json, sys

def get(pairs, key, default=None):
    for k, v in pairs or []:
        if k == key:
            return v
    return default

def deep(pairs, key):
    """First value of key anywhere below pairs (depth first)."""
    for k, v in pairs or []:
        if k == key:
            return v
        if isinstance(v, list):
            r = deep(v, key)
            if r is not None:
                return r
    return None

def num(x):
    return int(x, 0) if x is not None else -1

for pkt in json.load(sys.stdin, object_pairs_hook=lambda p: p):
    layers = get(get(pkt, "_source"), "layers")
    sf = get(layers, "sflow")
    if sf is None:
        print("X undecoded")
        continue
    seq = get(sf, "sflow_245.sequence_number")
    print("D", num(get(get(layers, "udp"), "udp.length")) - 8, get(sf, "sflow_245.agent"),
          get(sf, "sflow_245.sub_agent_id"), seq, get(sf, "sflow_245.sysuptime"),
          get(sf, "sflow_245.numsamples"))
    for k, v in sf:
        if k.startswith(("Flow sample", "Expanded flow sample")):
            raw = get(v, "Raw packet header")
            tree = get(raw, "sflow_245.header_tree")
            p = "sflow.flow_sample."
            print("F", seq, *(num(get(v, p + f)) for f in (
                "sequence_number", "index", "sampling_rate", "sample_pool",
                "dropped_packets", "input_interface", "output_interface")),
                *(num(get(raw, "sflow_245.header" + f)) for f in (
                    "_protocol", ".frame_length", ".payload_stripped",
                    ".sampled_header_length")),
                num(deep(tree, "udp.srcport")), num(deep(tree, "udp.dstport")),
                num(deep(tree, "ip.len")))
        elif k.startswith(("Counters sample", "Expanded counters sample")):
            g = get(v, "Generic interface counters")
            p = "sflow.counters_sample."
            print("C", seq, num(get(v, p + "sequence_number")),
                  num(get(v, p + "source_id_index")),
                  *(num(get(g, "sflow_245." + f)) for f in (
                      "ifindex", "iftype", "ifspeed", "ifdirection", "ifadmin_status",
                      "ifoper_status", "ifinoct", "ifoutoct", "ifpromisc")))
'
}

# sf_blast NS SRC DST SPORT DPORT COUNT [SIZE [CMD ARG...]]: COUNT UDP packets
# of SIZE (20) bytes of payload; then CMD, exec'd at once in NS (a change that
# must meet frames still in the sampler's ring).
sf_blast() {
	ip netns exec "$1" python3 -c '
import os, socket, sys
src, dst, sport, dport, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((src, sport))
for _ in range(n):
    try:
        s.sendto(b"x" * size, (dst, dport))
    except OSError:
        pass
if len(sys.argv) > 7:
    os.execvp(sys.argv[7], sys.argv[7:])' "$2" "$3" "$4" "$5" "$6" "${7:-20}" "${@:8}"
}

# rx+tx packets of IF in NS (the sample pool's definition).
sf_pkts() {
	local d=/sys/class/net/$2/statistics
	ip netns exec "$1" sh -c "echo \$((\$(cat $d/rx_packets) + \$(cat $d/tx_packets)))"
}

# The ifIndex SNMP serves for interface NAME (ifXTable ifName walk).
sf_served() {
	hf_snmp_col "$1" .1.3.6.1.2.1.31.1.1.1.1 | awk -v n="$2" '$2 == n { print $1; exit }'
}

# sf_binomial OBSERVED N RATE: OBSERVED within 5 sigma of N/RATE.
sf_binomial() {
	awk -v k="$1" -v n="$2" -v r="$3" 'BEGIN {
		p = 1 / r; m = n * p; s = sqrt(n * p * (1 - p)); d = k - m
		if (d < 0) d = -d
		printf "# %d samples of %d packets at 1/%d: expected %.1f +- %.1f (5 sigma)\n", k, n, r, m, 5 * s
		exit !(d <= 5 * s && k > 0)
	}'
}

# sf_counters_stable NS IF: the interface's counters stopped moving.
sf_counters_stable() {
	local a b
	a=$(sf_pkts "$1" "$2")
	sleep 0.2
	b=$(sf_pkts "$1" "$2")
	[[ $a == "$b" ]]
}

# sf_snmp_caught_up NS IF IDX: SNMP serves IF's ifHCInOctets and
# ifHCOutOctets (at IDX) equal to the kernel's rx/tx bytes now.
sf_snmp_caught_up() {
	[[ $(hf_snmp_val "$1" .1.3.6.1.2.1.31.1.1.1.6."$3") == \
		$(ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_bytes") &&
		$(hf_snmp_val "$1" .1.3.6.1.2.1.31.1.1.1.10."$3") == \
		$(ip netns exec "$1" cat "/sys/class/net/$2/statistics/tx_bytes") ]]
}

# The number of counter samples tshark printed so far in FILE.live.
sf_live_counters() {
	tr ',' '\n' <"$1.live" | grep -c '[0-9]'
}

sf_more_counters() {
	(($(sf_live_counters "$1") > $2))
}

# --- the veth test ----------------------------------------------------------

main() {
	hf_init sflow_veth
	local A=${HF_NS}a B=${HF_NS}b C=${HF_NS}c
	local P1=6343 P2=6344 P3=6345 N=20000 conf=$HF_DIR/hostflowd.conf
	local cap=$HF_DIR/lo.pcap out dec idx n0 n1 k

	hf_ns_add "$A" && hf_ns_add "$B" && hf_ns_add "$C" || hf_die "namespaces"
	hf_veth "$A" vethA "$B" vethB || hf_die "veth"
	# The 1280-MTU path to a collector in namespace C.
	hf_veth "$A" mtuA "$C" mtuC || hf_die "veth mtu"
	ip -n "$A" link set mtuA mtu 1280 && ip -n "$C" link set mtuC mtu 1280
	# Permanent neighbours: no ARP ever crosses vethA. A resolved one would
	# probe again ~5 s after the blast (a STALE entry used by A's blast goes
	# DELAY, then PROBE): 2 packets after the link's count was taken, in the
	# pool of phase 1's last samples, about 1 run in 20.
	hf_neigh "$A" vethA 198.18.0.1 "$B" vethB 198.18.0.2 || hf_die "addresses"
	ip -n "$A" addr add 198.19.0.1/24 dev mtuA && ip -n "$C" addr add 198.19.0.2/24 dev mtuC
	ip -n "$A" addr add fd09::1/64 dev mtuA nodad && ip -n "$C" addr add fd09::2/64 dev mtuC nodad
	# No IPv6 chatter on the sampled link: counters settle once traffic stops.
	ip netns exec "$A" sysctl -qw net.ipv6.conf.vethA.disable_ipv6=1
	ip netns exec "$B" sysctl -qw net.ipv6.conf.vethB.disable_ipv6=1

	hf_snmpd_start "$A" || hf_die "snmpd"
	sf_sink "$A" 198.18.0.1 5001 5003 5004
	sf_sink "$B" 198.18.0.2 5002
	sf_capture_start "$A" $P1 "$cap" || hf_die "tshark did not start"
	cat >"$HF_DIR/sfacctd.conf" <<-EOF
		daemonize: false
		sfacctd_ip: 127.0.0.1
		sfacctd_port: $P2
		plugins: print
		aggregate: in_iface, out_iface, src_port, dst_port, proto
		print_output: csv
		print_output_file: $HF_DIR/sfacctd.csv
		print_output_file_append: true
		print_refresh_time: 1
	EOF
	hf_bg "$A" "$HF_DIR/sfacctd.log" sfacctd -f "$HF_DIR/sfacctd.conf"
	local sfacctd_pid=$HF_LAST_PID

	local common=("sample vethA rate 50" "header_bytes 128" "polling_interval 2"
		"agent_address 192.0.2.7" "sub_agent_id 7"
		"collector 127.0.0.1 $P1" "collector 127.0.0.1 $P2")
	hf_conf "$conf" "${common[@]}"
	n0=$(sf_pkts "$A" vethA)
	hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd did not start"
	idx=$(sf_served "$A" vethA)
	t_check "SNMP serves vethA" test -n "$idx"
	t_diag "vethA: served ifIndex $idx"

	sf_blast "$B" 198.18.0.2 198.18.0.1 4001 5001 $N
	sf_blast "$A" 198.18.0.1 198.18.0.2 4002 5002 $N
	hf_wait_for 10 sf_counters_stable "$A" vethA
	n1=$(sf_pkts "$A" vethA)
	# Counters as SNMP serves them now that traffic stopped (a reading at
	# most 500 ms old, IFTABLE_COUNTER_MAX_AGE_MS: the sampler's pool reads
	# during the traffic may be younger than that, so wait until SNMP has
	# caught up with the kernel's), then one more counter sample, taken
	# after this moment.
	local hc_in hc_out seen
	t_check "SNMP's ifHCIn/OutOctets catch up with the kernel's within the staleness bound" \
		hf_wait_for 3 sf_snmp_caught_up "$A" vethA "$idx"
	hc_in=$(hf_snmp_val "$A" .1.3.6.1.2.1.31.1.1.1.6."$idx")
	hc_out=$(hf_snmp_val "$A" .1.3.6.1.2.1.31.1.1.1.10."$idx")
	# Two more counter samples (polling 2 s): one taken after this moment,
	# and every flow sample queued before (flushed after 1 s) is out.
	seen=$(sf_live_counters "$cap")
	hf_wait_for 10 sf_more_counters "$cap" $((seen + 1))

	# Phase 2: SIGHUP with rate 10 and a collector over the 1280-MTU path (IPv4).
	local cap4=$HF_DIR/mtu4.pcap cap6=$HF_DIR/mtu6.pcap
	sf_capture_start "$C" $P3 "$cap4" mtuC || hf_die "tshark (mtu v4)"
	hf_conf "$conf" "${common[@]/rate 50/rate 10}" "collector 198.19.0.2 $P3"
	kill -HUP "$HF_HOSTFLOWD_PID"
	# The new collector hears a counter sample: the reload is applied.
	hf_wait_for 10 sf_more_counters "$cap4" 0
	# 28 bytes of payload: 136-byte samples, 9 fill 1252 bytes exactly.
	sf_blast "$B" 198.18.0.2 198.18.0.1 4003 5003 $N 28
	hf_wait_for 10 sf_more_counters "$cap4" 2
	sf_capture_stop
	# Phase 3: the same path over IPv6.
	sf_capture_start "$C" $P3 "$cap6" mtuC || hf_die "tshark (mtu v6)"
	hf_conf "$conf" "${common[@]/rate 50/rate 10}" "collector fd09::2 $P3"
	kill -HUP "$HF_HOSTFLOWD_PID"
	hf_wait_for 10 sf_more_counters "$cap6" 0
	# 14 bytes: 120-byte samples; 9 fit under 1232 (1120), 10 would not (1240).
	sf_blast "$B" 198.18.0.2 198.18.0.1 4004 5004 $N 14
	hf_wait_for 10 sf_more_counters "$cap6" 2
	sf_capture_stop
	t_check "hostflowd exits cleanly on SIGTERM" hf_hostflowd_stop
	# sfacctd ignores SIGTERM (hf_kill's, then SIGKILL 5 s later); on SIGINT
	# it writes its cache to the CSV one last time and exits, in about 2 s.
	kill -INT "$sfacctd_pid"
	hf_wait_for 5 _hf_gone "$sfacctd_pid"
	hf_kill "$sfacctd_pid"

	dec=$HF_DIR/lo.txt
	sf_decode "$cap" $P1 >"$dec"
	sf_check_phase1 "$dec" "$idx" $((n1 - n0)) "$hc_in" "$hc_out"
	sf_check_sizes
	sf_check_reload "$dec" "$idx"
	sf_check_sfacctd "$idx"
	t_done
}

sf_check_phase1() {
	local dec=$1 idx=$2 n=$3 hc_in=$4 hc_out=$5 ph1 k
	t_check "every datagram decodes as sFlow" sh -c "! grep -q '^X' $dec && grep -q '^D' $dec"
	t_check "agent address 192.0.2.7, sub_agent_id 7" \
		awk '$1 == "D" && ($3 != "192.0.2.7" || $4 != 7) { print "offending record (line " NR "): " $0; bad = 1; exit 1 }' "$dec"
	# Phase 1 = the samples at rate 50 (phase 2 begins with the reload).
	ph1=$HF_DIR/ph1.txt
	awk '$1 == "F" && $5 == 50' "$dec" >"$ph1"
	t_check "source_id is the served ifIndex" awk -v i="$idx" '$4 != i { print "offending record (line " NR "): " $0; bad = 1; exit 1 }' "$ph1"
	t_check "inbound samples: input = ifIndex, output = internal" awk -v i="$idx" \
		-v x=$SF_IF_INTERNAL '$15 == 5001 { c++; if ($8 != i || $9 != x) { print "offending record (line " NR "): " $0; bad = 1; exit 1 } } END { if (!bad && !c) print "no record matched"; exit bad || !c }' "$ph1"
	t_check "outbound samples: input = internal, output = ifIndex" awk -v i="$idx" \
		-v x=$SF_IF_INTERNAL '$15 == 5002 { c++; if ($8 != x || $9 != i) { print "offending record (line " NR "): " $0; bad = 1; exit 1 } } END { if (!bad && !c) print "no record matched"; exit bad || !c }' "$ph1"
	t_check "never 0/0" awk '$1 == "F" && ($8 == 0 || $9 == 0) { print "offending record (line " NR "): " $0; bad = 1; exit 1 }' "$dec"
	k=$(wc -l <"$ph1")
	t_check "sample count within binomial bounds" sf_binomial "$k" "$n" 50
	t_check "sampled headers decode to the UDP ports sent (>= 95%)" awk -v k="$k" \
		'($14 == 4001 && $15 == 5001) || ($14 == 4002 && $15 == 5002) { c++ }
		END { if (!bad && !(c >= 0.95 * k)) print c + 0 " of " k " decode to the ports sent"; exit bad || !(c >= 0.95 * k) }' "$ph1"
	t_check "Ethernet: protocol 1, frame_length = 62 + 4 FCS, stripped 4, header 62" awk \
		'$15 == 5001 && ($10 != 1 || $11 != 66 || $12 != 4 || $13 != 62) { print "offending record (line " NR "): " $0; bad = 1; exit 1 }' "$ph1"
	t_check "flow sample sequence numbers 1, 2, 3, ... without gaps" awk \
		'$1 == "F" { if ($3 != ++s) { print "offending record (line " NR "): " $0; bad = 1; exit 1 } }' "$dec"
	t_check "datagram sequence numbers 1, 2, 3, ... without gaps" awk \
		'$1 == "D" { if ($5 != ++s) { print "offending record (line " NR "): " $0; bad = 1; exit 1 } }' "$dec"
	t_check "sample pool grows and stays within the link's packets" awk -v n="$n" \
		'{ if ($6 < p || $6 > n) { print "offending record (line " NR "): " $0; bad = 1; exit 1 }; p = $6 } END { if (!bad && !(p > n / 2)) print "last pool " p ", link packets " n; exit bad || !(p > n / 2) }' "$ph1"
	# ifDirection is the duplex the kernel reports (a veth: full, 1).
	dir=$(ip netns exec "$A" cat /sys/class/net/vethA/duplex 2>/dev/null)
	case $dir in full) dir=1 ;; half) dir=2 ;; *) dir=0 ;; esac
	t_check "counter samples: served ifIndex, ifType 6, up/up, direction $dir (the duplex)" \
		awk -v i="$idx" -v d="$dir" \
		'$1 == "C" { c++; if ($4 != i || $5 != i || $6 != 6 || $8 != d || $9 != 1 || $10 != 1) { print "offending record (line " NR "): " $0; bad = 1; exit 1 } }
		END { if (!bad && !c) print "no record matched"; exit bad || !c }' "$dec"
	t_diag "SNMP after traffic: ifHCInOctets $hc_in ifHCOutOctets $hc_out"
	t_check "a counter sample after traffic = ifHCIn/OutOctets" awk -v a="$hc_in" -v b="$hc_out" '
		$1 == "C" { last[++n] = "in " $11 " out " $12; if ($11 == a && $12 == b) ok = 1 }
		END { if (!ok) { print "want in " a " out " b "; last counter samples:"
				 for (i = n > 4 ? n - 4 : 1; i <= n; i++) print "  " last[i] }
		      exit !ok }' "$dec"
}

sf_check_sizes() {
	local d4=$HF_DIR/mtu4.txt d6=$HF_DIR/mtu6.txt
	# Full datagrams: within one sample (128 bytes) of the limit.
	t_check "loopback datagrams <= 1400 bytes, filled to within one sample" awk \
		'$1 == "D" { if ($2 > 1400) { print "offending record (line " NR "): " $0; bad = 1; exit 1 }; if ($2 > 1400 - 128) big = 1 } END { if (!bad && !big) print "no datagram filled to within one sample"; exit bad || !big }' "$HF_DIR/lo.txt"
	sf_decode "$HF_DIR/mtu4.pcap" $P3 >"$d4"
	sf_decode "$HF_DIR/mtu6.pcap" $P3 >"$d6"
	t_check "1280-MTU path, IPv4: datagrams <= 1252 bytes, some exactly 1252" awk \
		'$1 == "D" { n++; if ($2 > 1252) { print "offending record (line " NR "): " $0; bad = 1; exit 1 }; if ($2 == 1252) big = 1 } END { if (!bad && !(n && big)) print n + 0 " datagrams, none of the full size"; exit bad || !(n && big) }' "$d4"
	t_check "1280-MTU path, IPv6: datagrams <= 1232 bytes, filled to within one sample" awk \
		'$1 == "D" { n++; if ($2 > 1232) { print "offending record (line " NR "): " $0; bad = 1; exit 1 }; if ($2 > 1232 - 120) big = 1 } END { if (!bad && !(n && big)) print n + 0 " datagrams, none of the full size"; exit bad || !(n && big) }' "$d6"
}

sf_check_reload() {
	local dec=$1 idx=$2
	t_check "after SIGHUP: rate 10, same source, sequence continues" awk -v i="$idx" '
		$1 == "F" { if ($5 == 10) { r10++; if (prev != 50 && prev != 10) { print "offending record (line " NR "): " $0; bad = 1; exit 1 } }
			    if (prev == 10 && $5 == 50) { print "offending record (line " NR "): " $0; bad = 1; exit 1 }; prev = $5 }
		END { if (!bad && !r10) print "no sample at rate 10"; exit bad || !r10 }' "$dec"
	t_check "hostflowd was not restarted (one start in its log)" test \
		"$(grep -c ' running$' "$HF_DIR/hostflowd.log")" = 1
}

sf_check_sfacctd() {
	local idx=$1 csv=$HF_DIR/sfacctd.csv
	t_check "sfacctd decoded inbound flows on ifIndex $idx" awk -F, -v i="$idx" \
		'$0 ~ /5001/ && $1 == i { ok = 1 } END { if (!bad && !ok) print "no record matched"; exit bad || !ok }' "$csv"
	t_check "sfacctd decoded outbound flows on ifIndex $idx" awk -F, -v i="$idx" \
		'$0 ~ /5002/ && $2 == i { ok = 1 } END { if (!bad && !ok) print "no record matched"; exit bad || !ok }' "$csv"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	main "$@"
fi
