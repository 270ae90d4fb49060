#!/usr/bin/env bash
# samplePool on a router (issue 15, item 4). sFlow's sample pool is the
# packets that could have been sampled, so pool / samples estimates the
# rate. hostflowd's namespace R routes between P (r1) and Q (r2), both
# sampled 1 in 5; counted UDP is forwarded both ways and sent to and from R
# itself, interleaved. A forwarded packet is sampled once, at ingress: its
# copy leaving by the other sampled interface is skipped there, and must
# not be in that interface's pool (the interface counters alone made it grow
# 9.6-10.8 per sample on the egress veth). On each interface, the samples
# between its first and last sample are within 5 sd of (pool growth) / 5,
# where sd counts both draws: the samples', and the skipped copies' the pool
# is corrected by (sd^2 = 0.16 x the interface's packets).
#
#   P (p1 198.18.1.2) --- r1 198.18.1.1  [R]  r2 198.18.2.1 --- (q2 198.18.2.2) Q
# hf-captures: ebpf packet
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init sflow_pool
hf_capture_init
R=${HF_NS}r
P=${HF_NS}p
Q=${HF_NS}q
PORT=6343
RATE=5
N=4000             # datagrams per flow and round
ROUNDS=3
TRICKLE=60         # spaced packets first and last: those samples read fresh counters
conf=$HF_DIR/hostflowd.conf
log=$HF_DIR/hostflowd.log
got=$HF_DIR/recv.jsonl
HF_AGENTX=$HF_DIR/agentx.sock   # no snmpd: hold_samples off

hf_ns_add "$R" && hf_ns_add "$P" && hf_ns_add "$Q" || hf_die "namespaces"
hf_ns_quiet "$R" && hf_ns_quiet "$P" && hf_ns_quiet "$Q" || hf_die "quiet"
hf_veth "$R" r1 "$P" p1 || hf_die "veth r1"
hf_veth "$R" r2 "$Q" q2 || hf_die "veth r2"
hf_neigh "$R" r1 198.18.1.1 "$P" p1 198.18.1.2 || hf_die "addresses r1"
hf_neigh "$R" r2 198.18.2.1 "$Q" q2 198.18.2.2 || hf_die "addresses r2"
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 || hf_die "forwarding"
ip -n "$P" route add default via 198.18.1.1 && ip -n "$Q" route add default via 198.18.2.1 ||
	hf_die "routes"
sf_sink "$Q" 198.18.2.2 5001
sf_sink "$P" 198.18.1.2 5002 5004
sf_sink "$R" 198.18.1.1 5003
sf_sink "$R" 198.18.2.1 5005

# link_packets IF: rx + tx packets of R's IF.
link_packets() {
	ip netns exec "$R" sh -c "echo \$((\$(cat /sys/class/net/$1/statistics/rx_packets) + \$(cat /sys/class/net/$1/statistics/tx_packets)))"
}

hf_bg "$R" "$HF_DIR/recv.out" python3 -u "$HF_TOOLS/sflow_recv.py" 127.0.0.1 "$got" $PORT
hf_wait_for 10 grep -q '^ready' "$HF_DIR/recv.out" || hf_die "receiver"
hf_conf "$conf" "sample r1 rate $RATE" "sample r2 rate $RATE" "polling_interval 0" \
	"hold_samples off" "agent_address 198.18.1.1" "collector 127.0.0.1 $PORT"
hf_bg "$R" "$log" "$HF_BIN" -f -c "$conf"
HF_HOSTFLOWD_PID=$HF_LAST_PID
hf_wait_for 10 grep -q 'sampler: sampling 2 interfaces' "$log" || hf_die "hostflowd"
R1=$(ip netns exec "$R" cat /sys/class/net/r1/ifindex)
R2=$(ip netns exec "$R" cat /sys/class/net/r2/ifindex)

# A trickle both ways, 150 ms apart: the pool is read when a sample is
# handled, at most every 100 ms, so the first and the last samples (whose
# pools the check compares) must come while packets are few, else their pool
# counts the packets that crossed while the sampler caught up. The first
# trickle comes before any other traffic: it ends once both interfaces sent
# two samples of it (its payload is "t", the blasts' "x": 0x74 in the sampled
# header). The last one runs its whole TRICKLE packets (9 s): the sampler
# catches up on the blasts meanwhile (their rejected draws too, which correct
# the pool and reach no collector to wait for).
trickle() {
	ip netns exec "$1" python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[3])))
for _ in range(int(sys.argv[5])):
    if os.path.exists(sys.argv[6]):
        break
    s.sendto(b"t" * 20, (sys.argv[2], int(sys.argv[4])))
    time.sleep(0.15)' "$2" "$3" "$4" "$5" $TRICKLE "$HF_DIR/trickle.stop"
}
# trickle_samples IFINDEX: the samples of trickle packets on IFINDEX so far.
trickle_samples() {
	jq -r --argjson i "$1" 'select(.t == "flow" and .source == $i and
		(.header // "" | contains("74747474747474747474747474747474"))) | .seq' "$got" 2>/dev/null | wc -l
}
# trickled K1 K2: two trickle samples more than K1 on r1 and K2 on r2.
trickled() {
	(($(trickle_samples "$R1") >= $1 + 2 && $(trickle_samples "$R2") >= $2 + 2))
}
# trickles [early]: both ways at once; "early": until trickled.
trickles() {
	local pid1 pid2 k1 k2
	k1=$(trickle_samples "$R1") k2=$(trickle_samples "$R2")
	rm -f "$HF_DIR/trickle.stop"
	trickle "$P" 198.18.1.2 198.18.2.2 4001 5001 &
	pid1=$!
	trickle "$Q" 198.18.2.2 198.18.1.2 4002 5002 &
	pid2=$!
	if [[ ${1:-} == early ]]; then
		hf_wait_for 12 trickled "$k1" "$k2"
		touch "$HF_DIR/trickle.stop"
	fi
	wait "$pid1" "$pid2"
}

t1=$(link_packets r1) t2=$(link_packets r2)
trickles early
for ((round = 0; round < ROUNDS; round++)); do
	sf_blast "$P" 198.18.1.2 198.18.2.2 4001 5001 $N   # forwarded: in r1, out r2
	sf_blast "$Q" 198.18.2.2 198.18.1.2 4002 5002 $N   # forwarded: in r2, out r1
	sf_blast "$P" 198.18.1.2 198.18.1.1 4003 5003 $N   # to R on r1
	sf_blast "$R" 198.18.1.1 198.18.1.2 4004 5004 $N   # from R on r1
	sf_blast "$Q" 198.18.2.2 198.18.2.1 4005 5005 $N   # to R on r2
done
trickles
t1=$(($(link_packets r1) - t1)) t2=$(($(link_packets r2) - t2))
sleep 1.5   # the queue is flushed within a second of the last sample
t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop

# pool_check IFINDEX LINK_PACKETS: samples after the first against the
# pool's growth from the first sample to the last.
pool_check() {
	jq -r --argjson i "$1" 'select(.t == "flow" and .source == $i) | "\(.seq) \(.pool)"' "$got" |
		sort -n | awk -v rate=$RATE -v t="$2" '
		NR == 1 { p0 = $2 } { p1 = $2; n = NR - 1 }
		END {
			pool = p1 - p0; want = pool / rate; sd = sqrt(t * (1 / rate) * (1 - 1 / rate))
			printf "%d samples after the first, pool grew %d (%.3f a sample), %d link packets; %.1f sd\n",
				n, pool, n ? pool / n : 0, t, sd ? (n - want) / sd : 0
			exit !(n > 0 && (n - want) < 5 * sd && (want - n) < 5 * sd)
		}'
}
t_diag "r1: $(pool_check "$R1" "$t1")"
t_diag "r2: $(pool_check "$R2" "$t2")"
t_check "r1 (ingress of P -> Q, egress of Q -> P): pool / samples estimates 1 in $RATE" \
	pool_check "$R1" "$t1"
t_check "r2 (egress of P -> Q, ingress of Q -> P): pool / samples estimates 1 in $RATE" \
	pool_check "$R2" "$t2"
t_check "samples of both, none with another rate" \
	eval '[[ $(jq -r "select(.t == \"flow\") | .rate" "$got" | sort -u) == "$RATE" ]]'
t_done
