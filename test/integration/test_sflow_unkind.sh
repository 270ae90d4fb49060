#!/usr/bin/env bash
# A capture-only collector: nothing listens on the collector's port, so its
# host answers every datagram with ICMP port unreachable, which a connected
# UDP socket reports on the next send(). Every datagram must still reach the
# wire: a capture there sees every datagram sequence number, and the flow
# samples estimate the traffic (20,001 packets at 1:50).
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"
# shellcheck source=../tools/fault_lib.sh
. "$HF_TOOLS/fault_lib.sh"
hf_init sflow_unkind

N=20001
RATE=50
PORT=6343
cap=$HF_DIR/b.pcap
conf=$HF_DIR/hostflowd.conf

fl_sampled_pair || hf_die "namespaces"
A=$FL_A
B=$FL_B
hf_snmpd_start "$A" || hf_die "snmpd"
# Datagrams go out of vethA to 198.18.0.2, where no socket is bound.
fl_capture_start "$B" vethB "$cap" $PORT || hf_die "tshark"
hf_conf "$conf" "sample vethA rate $RATE" "polling_interval 0" \
	"agent_address 198.18.0.1" "collector 198.18.0.2 $PORT"
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd"
idx=$(sf_served "$A" vethA)

n0=$(sf_pkts "$A" vethA)
sf_blast "$B" 198.18.0.2 198.18.0.1 4001 5001 $N
hf_wait_for 10 sf_counters_stable "$A" vethA
n1=$(sf_pkts "$A" vethA)
# Everything queued is flushed within a second of the last sample.
hf_wait_for 5 eval '(($(fl_dgrams "$cap" 0 9e9) > 0))'
last=0
settled() {
	local n
	n=$(fl_dgrams "$cap" 0 9e9)
	[[ $n == "$last" ]] && return 0
	last=$n
	return 1
}
hf_wait_for 5 eval 'sleep 1.2; settled'
sf_capture_stop
t_check "ICMP port unreachable came back (the collector was really absent)" \
	eval 'ip netns exec "$B" nstat -az IcmpOutDestUnreachs 2>/dev/null | awk "/IcmpOutDestUnreachs/ { exit !(\$2 > 0) }"'
seqs=$HF_DIR/seqs.txt
awk '$4 != "" { print $4 }' "$cap.live" | sort -n >"$seqs"
ndg=$(wc -l <"$seqs")
maxseq=$(tail -n 1 "$seqs")
t_diag "$ndg datagrams captured, highest sequence number ${maxseq:-none}"
t_check "every datagram sequence number 1..$maxseq reached the wire" \
	eval '[[ $ndg -gt 0 && $(uniq "$seqs" | wc -l) == "$maxseq" && $(head -n 1 "$seqs") == 1 ]]'
flows=$(fl_flows "$cap" 0 9e9)
t_check "flow samples within 5 sd of offered/N ($flows)" sf_binomial "$flows" $((n1 - n0)) $RATE
t_check "flow sample sequence numbers without a gap" eval '
	awk "\$7 != \"\" { n = split(\$7, s, \",\"); for (i = 1; i <= n; i++) print s[i] }" "$cap.live" |
	sort -n | awk "{ if (\$1 != ++w) { bad = 1; exit } } END { exit bad || !w }"'
t_check "the log names the refusing collector once" \
	test "$(grep -c 'collector 198.18.0.2:6343: Connection refused' "$HF_DIR/hostflowd.log")" = 1
t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_check "the totals: no datagram lost" grep -q ' 0 lost' "$HF_DIR/hostflowd.log"
t_done
