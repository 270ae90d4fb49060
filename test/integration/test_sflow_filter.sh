#!/usr/bin/env bash
# Underlay filters (issue 9, item 4): `sample vethA rate 20 filter "not udp
# port 41641"` while UDP to WireGuard's port 41641 and to other ports crosses
# the veth both ways, interleaved: no sample of 41641 may appear, and the
# other packets are sampled within 5 sigma of offered/20 (the filter makes
# them the only candidates: the random 1-in-N is drawn among them). The same
# filter on a tun (bare IP, DLT_RAW): UDP to 41641 out through it excluded,
# the rest sampled. Then a SIGHUP with a bad expression (and another rate):
# refused with FILE:LINE and libpcap's message, and the old rate and filter
# stay in force.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init sflow_filter
A=${HF_NS}a
B=${HF_NS}b
PORT=6343
RATE=20
N=10000
WG=41641
conf=$HF_DIR/hostflowd.conf
cap=$HF_DIR/lo.pcap
dec=$HF_DIR/lo.txt

# fl_pair NS SRC SPORT DST DPORT1 DPORT2 COUNT: COUNT datagrams to each
# port, alternating, so that whatever the kernel drops hits both alike. The
# source port names the round in the samples. A short pause every 100
# keeps a tun's queue (500 packets, read by a Python helper) from overflowing.
fl_pair() {
	ip netns exec "$1" python3 -c '
import socket, sys, time
src, sport, dst, p1, p2, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, sport))
for i in range(n):
    if i % 50 == 49:
        time.sleep(0.0005)
    for p in (p1, p2):
        try:
            s.sendto(b"x" * 20, (dst, p))
        except OSError:
            pass' "$2" "$3" "$4" "$5" "$6" "$7"
}

# fl_tun_seen NS IF: packets the packet socket saw on a tun: those received
# and sent, and those the tun's queue dropped after the capture tap.
fl_tun_seen() {
	local d=/sys/class/net/$2/statistics
	ip netns exec "$1" sh -c "echo \$((\$(cat $d/rx_packets) + \$(cat $d/tx_packets) + \$(cat $d/tx_dropped)))"
}

# fl_flushed: two more counter samples (polling 1 s) than now: every flow
# sample queued before has been sent and captured.
fl_flushed() {
	local seen
	seen=$(sf_live_counters "$cap")
	hf_wait_for 10 sf_more_counters "$cap" $((seen + 2))
}

# fl_count SOURCE SPORTS_REGEX: flow samples of SOURCE whose UDP source port
# matches, whatever the destination: with the filter ignored, 41641 counts too.
fl_count() {
	awk -v s="$1" -v re="^($2)\$" '$1 == "F" && $4 == s && $14 ~ re' "$dec" | wc -l
}

# fl_none_wg SOURCE: SOURCE has samples, none of them of udp port 41641.
fl_none_wg() {
	awk -v s="$1" -v p=$WG '$1 == "F" && $4 == s { c++; if ($14 == p || $15 == p) { print "offending record (line " NR "): " $0; bad = 1; exit 1 } }
		END { printf "# %d samples\n", c; exit bad || !c }' "$dec"
}

hf_link_tun_host "$A" vethA "$B" vethB
# Bound sinks: no ICMP port unreachable joins the sampled traffic.
sf_sink "$A" 198.18.0.1 $WG 5001 5003
sf_sink "$B" 198.18.0.2 $WG 5002
sf_sink "$A" 100.64.0.1 9
sf_capture_start "$A" $PORT "$cap" || hf_die "tshark did not start"

good=("sample vethA rate $RATE filter \"not udp port $WG\""
	"sample tun0 rate $RATE filter \"not udp port $WG\""
	"polling_interval 1" "agent_address 192.0.2.9" "collector 127.0.0.1 $PORT")
hf_conf "$conf" "${good[@]}"
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd did not start"
vidx=$(sf_served "$A" vethA)
tidx=$(sf_served "$A" tun0)
t_check "SNMP serves vethA and tun0" test -n "$vidx" -a -n "$tidx"
t_diag "vethA: ifIndex $vidx, tun0: ifIndex $tidx"
# The filter is installed once the first counter sample of tun0 is out.
hf_wait_for 10 sf_more_counters "$cap" 1

# Round 1: both ways on the veth; in (port 9) and out (41641, 5010) on the tun.
v0=$(sf_pkts "$A" vethA)
t0=$(fl_tun_seen "$A" tun0)
fl_pair "$B" 198.18.0.2 4001 198.18.0.1 $WG 5001 $N
fl_pair "$A" 198.18.0.1 4002 198.18.0.2 $WG 5002 $N
hf_tun_inject "$A" tun0 v4 $N 20 || t_fail "inject into tun0"
fl_pair "$A" 100.64.0.1 4010 100.64.0.2 $WG 5010 $N
hf_wait_for 10 sf_counters_stable "$A" vethA
hf_wait_for 10 sf_counters_stable "$A" tun0
v1=$(sf_pkts "$A" vethA)
t1=$(fl_tun_seen "$A" tun0)

# A bad expression with another rate: refused, the running one kept.
bad=("sample vethA rate 10 filter \"not udp port\"" "${good[@]:1}")
hf_conf "$conf" "${bad[@]}"
kill -HUP "$HF_HOSTFLOWD_PID"
# hf_conf: line 1 a comment, line 2 agentx_socket, line 3 the sample line.
want="$conf:3: filter \"not udp port\": can't parse filter expression: syntax error"
t_check "SIGHUP with a bad filter: FILE:LINE and libpcap's message" \
	hf_wait_for 10 grep -qF "$want; keeping the running configuration" "$HF_DIR/hostflowd.log"
t_check "hostflowd still runs" kill -0 "$HF_HOSTFLOWD_PID"

# Round 2: in on the veth, 41641 and 5003.
v2=$(sf_pkts "$A" vethA)
fl_pair "$B" 198.18.0.2 4003 198.18.0.1 $WG 5003 $N
hf_wait_for 10 sf_counters_stable "$A" vethA
v3=$(sf_pkts "$A" vethA)
fl_flushed || t_fail "counter samples after the traffic" "none in 10 s"
sf_capture_stop
t_check "hostflowd exits cleanly on SIGTERM" hf_hostflowd_stop

sf_decode "$cap" $PORT >"$dec"
t_check "every datagram decodes as sFlow" sh -c "! grep -q '^X' $dec && grep -q '^F' $dec"
t_diag "$(awk '$1 == "F"' "$dec" | wc -l) flow samples"
t_check "vethA: no sample of udp port $WG" fl_none_wg "$vidx"
t_check "tun0: no sample of udp port $WG" fl_none_wg "$tidx"

# Offered candidates: every packet of the link but the 41641 ones.
k=$(fl_count "$vidx" "4001|4002")
n=$((v1 - v0 - 2 * N))
t_check "vethA, round 1: the rest sampled 1 in $RATE ($k of $n)" sf_binomial "$k" $n $RATE
k=$(fl_count "$tidx" "40000|4010")
n=$((t1 - t0 - N))
t_check "tun0 (bare IP): the rest sampled 1 in $RATE ($k of $n)" sf_binomial "$k" $n $RATE
t_check "tun0: inbound and outbound samples, header protocol 11" awk -v s="$tidx" \
	'$1 == "F" && $4 == s { if ($10 != 11) { print "offending record (line " NR "): " $0; bad = 1; exit 1 }; if ($15 == 9) i++; if ($15 == 5010) o++ }
	END { exit bad || !(i && o) }' "$dec"
k=$(fl_count "$vidx" 4003)
n=$((v3 - v2 - N))
t_check "after the refused reload: the old filter and rate, 1 in $RATE ($k of $n)" \
	sf_binomial "$k" $n $RATE
t_check "after the refused reload: every sample says rate $RATE" \
	awk -v r=$RATE '$1 == "F" { c++; if ($5 != r) { print "offending record (line " NR "): " $0; bad = 1; exit 1 } } END { exit bad || !c }' "$dec"
t_done
