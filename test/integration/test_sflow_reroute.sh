#!/usr/bin/env bash
# A route that changes under traffic (issue 16): a sample is labelled with
# the routing it was captured under, as far as the sampler can tell.
# hostflowd in R samples r1 at rate 1 (every packet); R forwards P's traffic
# to 198.19.0.0/16 out r2 to Q, then the route is replaced by one out r3.
#
#   P (p1 198.18.1.2) --- r1 198.18.1.1 [R] r2 198.18.2.1 --- q2 198.18.2.2 (Q)
#                                            r3 198.18.3.1 --- q3 198.18.3.2 (Q)
#
# hostflowd is stopped (SIGSTOP) while burst A crosses R to 1,000
# destinations it has never seen: A's frames wait in its ring, as frames
# wait whenever the sampler is busy or off a CPU. The route is replaced,
# then hostflowd continues. Every sample of A must name r2, the route it was
# forwarded by (a sampler asking the kernel at classification time would
# name r3: the lookup happens after the change). Bursts B follow until the
# samples name r3; in sequence order the label changes once, never back.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init sflow_reroute
R=${HF_NS}r
P=${HF_NS}p
Q=${HF_NS}q
PORT=6343
NA=1000
conf=$HF_DIR/hostflowd.conf
cap=$HF_DIR/reroute.pcap

# rr_send NS SRC FIRST COUNT: one UDP datagram to each of COUNT addresses
# from 198.19.0.0 + FIRST on, port 5001.
rr_send() {
	ip netns exec "$1" python3 -c '
import ipaddress, socket, sys
src, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = int(ipaddress.IPv4Address("198.19.0.0"))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 4001))
for i in range(first, first + n):
    try:
        s.sendto(b"x" * 20, (str(ipaddress.IPv4Address(base + i)), 5001))
    except OSError:
        pass' "$2" "$3" "$4"
}

rr_rx() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_packets"
}

rr_grew() {
	(($(rr_rx "$1" "$2") - $3 >= $4))
}

# The flow samples of the capture so far: "output destination" per line, in
# the order they were sent (one source: sequence order).
rr_samples() {
	python3 "$HF_TOOLS/sflow_summary.py" --samples "$cap" $PORT |
		awk '$1 == "S" && $9 == 5001 { print $4, $7 }'
}

# The last sample names OUT (the change has been applied).
rr_last_is() {
	[[ $(rr_samples | tail -n 1 | cut -d' ' -f1) == "$1" ]]
}

hf_ns_add "$R" && hf_ns_add "$P" && hf_ns_add "$Q" || hf_die "namespaces"
hf_ns_quiet "$R" && hf_ns_quiet "$P" && hf_ns_quiet "$Q" || hf_die "quiet"
hf_veth "$R" r1 "$P" p1 && hf_veth "$R" r2 "$Q" q2 && hf_veth "$R" r3 "$Q" q3 || hf_die "veths"
hf_neigh "$R" r1 198.18.1.1 "$P" p1 198.18.1.2 &&
	hf_neigh "$R" r2 198.18.2.1 "$Q" q2 198.18.2.2 &&
	hf_neigh "$R" r3 198.18.3.1 "$Q" q3 198.18.3.2 || hf_die "addresses"
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 ||
	hf_die "forwarding"
ip -n "$P" route add default via 198.18.1.1 || hf_die "P route"
ip -n "$R" route add 198.19.0.0/16 via 198.18.2.2 || hf_die "R route"
# Q takes every destination as its own (AnyIP) and never answers.
ip -n "$Q" route add local 198.19.0.0/16 dev lo || hf_die "Q AnyIP"
sf_sink "$Q" 0.0.0.0 5001

hf_snmpd_start "$R" || hf_die "snmpd"
sf_capture_start "$R" $PORT "$cap" || hf_die "tshark did not start"
hf_conf "$conf" "sample r1 rate 1" "polling_interval 1" "agent_address 198.18.1.1" \
	"collector 127.0.0.1 $PORT"
hf_hostflowd_start "$R" "$conf" || hf_die "hostflowd did not start"
R2=$(hf_row "$R" r2) R3=$(hf_row "$R" r3)
t_diag "served ifIndex r2 $R2, r3 $R3"

# Sampling works, and the route is r2's: a warm-up to destinations A never uses.
rr_send "$P" 198.18.1.2 60000 20
t_check "warm-up sampled out r2" hf_wait_for 10 rr_last_is "$R2"

# A: while hostflowd cannot run, through r2; then the route moves to r3.
kill -STOP "$HF_HOSTFLOWD_PID" || hf_die "SIGSTOP"
q2=$(rr_rx "$Q" q2)
rr_send "$P" 198.18.1.2 0 $NA
t_check "burst A crossed R out r2 ($NA packets)" hf_wait_for 5 rr_grew "$Q" q2 "$q2" $NA
ip -n "$R" route replace 198.19.0.0/16 via 198.18.3.2 || hf_die "route replace"
t_check "the kernel routes out r3 now" sh -c \
	"ip -n $R route get 198.19.0.9 from 198.18.1.2 iif r1 | grep -q 'dev r3'"
kill -CONT "$HF_HOSTFLOWD_PID" || hf_die "SIGCONT"

# B: new destinations, burst after burst (at most 20), until the samples
# say r3.
for ((i = 0; i < 20; i++)); do
	rr_send "$P" 198.18.1.2 $((NA + 100 * i)) 100
	hf_wait_for 2 rr_last_is "$R3" && break
done
rt_wait=$(sf_live_counters "$cap")
hf_wait_for 10 sf_more_counters "$cap" $((rt_wait + 2)) || t_diag "fewer counter samples than expected"
sf_capture_stop
rr_samples >"$HF_DIR/samples.txt"

na=$(awk -v n=$NA '{ split($2, a, "."); i = a[3] * 256 + a[4] } i < n' "$HF_DIR/samples.txt" | wc -l)
t_check "every frame of A sampled ($na of $NA)" test "$na" -eq $NA
t_check "every sample of A names r2, the route it was forwarded by" awk -v n=$NA -v r2="$R2" '
	{ split($2, a, "."); i = a[3] * 256 + a[4] }
	i < n && $1 != r2 { print "# " $0; bad = 1 } END { exit bad }' "$HF_DIR/samples.txt"
t_check "the samples name r3 once the change is read" rr_last_is "$R3"
t_check "in sequence order the label changes once, r2 to r3, never back" awk -v r2="$R2" -v r3="$R3" '
	$1 == r3 { seen = 1 } $1 == r2 && seen { print "# " NR ": " $0; bad = 1 }
	$1 != r2 && $1 != r3 { print "# " NR ": " $0; bad = 1 } END { exit bad }' "$HF_DIR/samples.txt"
t_check "hostflowd exits cleanly" hf_hostflowd_stop
t_done
