#!/usr/bin/env bash
# Never its own traffic (issue 15, item 3). hostflowd samples lo at rate 1
# and sends to 16 collectors on lo (8 on 127.0.0.1, 8 on ::1, the config's
# most), so every datagram it sends crosses the interface it samples. Its own
# datagrams must never be sampled, nor the ICMP port unreachable a collector
# that is not listening sends back: without traffic there is no datagram at
# all, listening or not, and one packet of traffic gives one flush of samples
# and then silence (the pcap expression that used to exclude them overflowed
# its 1024-byte buffer at 15 collectors: 7.3 million datagrams in 20 s; and a
# silent collector's ICMP error fed a datagram a second, forever). Equal
# collectors in any spelling are refused by -t with FILE:LINE.
# hf-captures: ebpf packet
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init sflow_self
hf_capture_init
A=${HF_NS}a
conf=$HF_DIR/hostflowd.conf
log=$HF_DIR/hostflowd.log
got4=$HF_DIR/recv4.jsonl
got6=$HF_DIR/recv6.jsonl
QUIET_S=3          # a silent collector's ICMP fed a datagram every second
V4_PORTS=$(seq 7001 7008)
V6_PORTS=$(seq 7009 7016)

hf_ns_add "$A" || hf_die "namespace"
# IPv6 stays on (::1); lo is the namespace's only interface, so nothing
# else speaks on it. No snmpd (a query would be traffic on lo): samples are
# not held, and the AgentX socket is never there.
HF_AGENTX=$HF_DIR/agentx.sock

lines=("polling_interval 0" "hold_samples off" "agent_address 127.0.0.1" "sample lo rate 1")
for p in $V4_PORTS; do lines+=("collector 127.0.0.1 $p"); done
for p in $V6_PORTS; do lines+=("collector ::1 $p"); done
hf_conf "$conf" "${lines[@]}"

# --- equal collectors in another spelling ---------------------------------------
hf_conf "$HF_DIR/twins.conf" "collector 127.0.0.1 7001" "collector ::ffff:127.0.0.1 7001"
twins=$(ip netns exec "$A" "$HF_BIN" -t -c "$HF_DIR/twins.conf" 2>&1)
twins_rc=$?
t_check "-t: 127.0.0.1 and ::ffff:127.0.0.1 are one collector: refused ($twins)" \
	eval '((twins_rc == 1)) && [[ $twins == "$HF_DIR/twins.conf:4: collector ::ffff:127.0.0.1 port 7001: already defined on line 3" ]]'
t_check "-t: the 16 collectors and sample lo are OK" \
	ip netns exec "$A" "$HF_BIN" -t -c "$conf"

# dgrams FILE: datagrams a receiver got; flows FILE: flow samples in them.
dgrams() { grep -c '"t": "dgram"' "$1" 2>/dev/null || true; }
flows() { grep -c '"t": "flow"' "$1" 2>/dev/null || true; }
all_dgrams() { echo $(($(dgrams "$got4") + $(dgrams "$got6"))); }
# ports_got N: every one of the 16 ports got at least N datagrams.
ports_got() {
	local p n
	for p in $V4_PORTS; do
		n=$(grep -c "\"t\": \"dgram\", \"port\": $p," "$got4")
		((n >= $1)) || return 1
	done
	for p in $V6_PORTS; do
		n=$(grep -c "\"t\": \"dgram\", \"port\": $p," "$got6")
		((n >= $1)) || return 1
	done
}
# still COUNT_CMD: the count stays what it is for QUIET_S seconds.
still() {
	local before
	before=$("$@")
	sleep "$QUIET_S"
	[[ $("$@") == "$before" ]]
}

# --- listening ---------------------------------------------------------------------
hf_bg "$A" "$HF_DIR/recv4.out" python3 -u "$HF_TOOLS/sflow_recv.py" 127.0.0.1 "$got4" $V4_PORTS
hf_bg "$A" "$HF_DIR/recv6.out" python3 -u "$HF_TOOLS/sflow_recv.py" ::1 "$got6" $V6_PORTS
hf_wait_for 10 grep -q '^ready' "$HF_DIR/recv4.out" && hf_wait_for 10 grep -q '^ready' "$HF_DIR/recv6.out" ||
	hf_die "receivers"
# Traffic of our own making, to a bound port (no ICMP): one datagram.
sf_sink "$A" 127.0.0.1 9
hf_bg "$A" "$log" "$HF_BIN" -f -c "$conf"
HF_HOSTFLOWD_PID=$HF_LAST_PID
hf_wait_for 10 grep -q "sampling 1 interface" "$log" || hf_die "hostflowd did not sample lo"
t_check "listening: no datagram without traffic (${QUIET_S} s)" \
	eval 'still all_dgrams && [[ $(all_dgrams) == 0 ]]'
hf_udp "$A" 127.0.0.1 1
t_check "listening: one packet of traffic reaches every collector" hf_wait_for 5 ports_got 1
t_check "listening: then silence (${QUIET_S} s)" still all_dgrams
n=$(all_dgrams)
t_diag "listening: $n datagrams, $(($(flows "$got4") + $(flows "$got6"))) flow samples in all"
# The packet crossed lo twice (sent, received): two samples per collector.
t_check "listening: 2 flow samples per collector (the packet, out and in)" \
	test $(($(flows "$got4") + $(flows "$got6"))) -eq 32
t_check "listening: nothing the receivers could not parse" \
	sh -c "! grep -q '\"t\": \"bad\"' '$got4' '$got6'"

# --- not listening: every datagram provokes an ICMP port unreachable ------------
for pid in "${_hf_pids[@]}"; do
	[[ $(ps -o args= -p "$pid" 2>/dev/null) == *sflow_recv.py* ]] && hf_kill "$pid"
done
live=$HF_DIR/lo.live
hf_bg "$A" "$HF_DIR/tshark.log" sh -c 'exec tshark -i lo -f "udp dst portrange 7001-7016" -l \
	-T fields -e udp.dstport >"$1"' sh "$live"
tshark_pid=$HF_LAST_PID
hf_wait_for 15 grep -q "Capturing on" "$HF_DIR/tshark.log" || hf_die "tshark"
captured() { wc -l <"$live"; }
icmp0=$(ip netns exec "$A" nstat -az IcmpOutDestUnreachs | awk '/IcmpOutDestUnreachs/ { print $2 }')
icmp6_0=$(ip netns exec "$A" nstat -az Icmp6OutDestUnreachs | awk '/Icmp6OutDestUnreachs/ { print $2 }')
t_check "not listening: no datagram without traffic (${QUIET_S} s)" \
	eval 'still captured && [[ $(captured) == 0 ]]'
hf_udp "$A" 127.0.0.1 1
t_check "not listening: one packet of traffic is sent to every collector" \
	hf_wait_for 5 eval '(($(sort -u "$live" | wc -l) == 16))'
t_check "not listening: then silence (${QUIET_S} s), the ICMP errors not sampled" still captured
icmp1=$(ip netns exec "$A" nstat -az IcmpOutDestUnreachs | awk '/IcmpOutDestUnreachs/ { print $2 }')
icmp6_1=$(ip netns exec "$A" nstat -az Icmp6OutDestUnreachs | awk '/Icmp6OutDestUnreachs/ { print $2 }')
t_diag "not listening: $(captured) datagrams; ICMP port unreachable sent: $((icmp1 - icmp0)) IPv4, $((icmp6_1 - icmp6_0)) IPv6"
t_check "not listening: ICMP and ICMPv6 errors came back (the collectors were really absent)" \
	eval '((icmp1 > icmp0 && icmp6_1 > icmp6_0))'
hf_kill "$tshark_pid"
t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done
