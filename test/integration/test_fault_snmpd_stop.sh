#!/usr/bin/env bash
# A hung AgentX master (snmpd SIGSTOPped for 15 s) must not stall the sFlow
# face, and no sample may leave while SNMP cannot answer for it: once
# hostflowd sees the master hang (a missed AgentX ping, within 5 s) samples
# are held, sampling goes on, and after SIGCONT every held sample arrives,
# numbered without a gap. hostflowd lives; SNMP answers again within 15 s
# from the same process. The agent thread is not stalled either: a link
# created during the stop (named by a `sample` line) is picked up from
# netlink and taken by the sampler within 5 s, while the master hangs.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"
# shellcheck source=../tools/fault_lib.sh
. "$HF_TOOLS/fault_lib.sh"
hf_init fault_snmpd_stop

# The hang is seen within 5 s (AgentX pings every SNMPAGENT_PING_S = 2 s):
# 15 s leave 10 s of holding, several pings and reconnects missed in it.
STOP_S=15
BUCKET_S=5
P1=6343
cap=$HF_DIR/lo.pcap
conf=$HF_DIR/hostflowd.conf

fl_sampled_pair || hf_die "namespaces"
A=$FL_A
hf_snmpd_start "$A" || hf_die "snmpd"
fl_capture_start "$A" lo "$cap" $P1 || hf_die "tshark"
sf_sink "$A" 127.0.0.1 $P1
hf_conf "$conf" "sample vethA rate 10" "sample late0 rate 1" "polling_interval 2" \
	"collector 127.0.0.1 $P1"
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd"
pid=$HF_HOSTFLOWD_PID
idx=$(sf_served "$A" vethA)
t_check "SNMP serves vethA" test -n "$idx"

# 1000 packets/s: ~100 samples/s at 1 in 10, several datagrams a second.
fl_traffic_start 1000 $((STOP_S + 40))
hf_wait_for 10 eval '(($(fl_flows "$cap" 0 9e9) > 0))' || hf_die "no flow samples before the stop"

kill -STOP "$HF_SNMPD_PID"
t_stop=$(fl_now)
t0=$(_hf_now_us)
# A new link while the master hangs: only the agent thread can publish it.
hf_veth "$A" late0 "$FL_B" late1 && hf_neigh "$A" late0 198.18.7.1 "$FL_B" late1 198.18.7.2 ||
	hf_die "late0"
sf_sink "$A" 198.18.7.1 5002
t_late=$(fl_now)
hf_bg "$FL_B" "$HF_DIR/late.log" python3 "$HF_TOOLS/udp_pace.py" 198.18.7.2 198.18.7.1 5002 \
	100 $STOP_S "$HF_DIR/late.stop"
t_check "a link created during the stop is taken by the sampler within 5 s (agent thread not stalled)" \
	hf_wait_for 5 grep -q "sampler: sampling late0 (ifIndex" "$HF_DIR/hostflowd.log"
died=
# Keep snmpd stopped for STOP_S seconds: the condition under test is time
# itself. Checked every 0.5 s meanwhile: hostflowd is alive.
while (($(_hf_now_us) - t0 < STOP_S * 1000000)); do
	if ! kill -0 "$pid" 2>/dev/null; then
		died=$(fl_now)
		break
	fi
	sleep 0.5
done
t_cont=$(fl_now)
kill -CONT "$HF_SNMPD_PID"
t1=$(_hf_now_us)
if [[ -z $died ]]; then
	t_ok "hostflowd alive during the whole ${STOP_S} s stop"
else
	t_fail "hostflowd alive during the whole ${STOP_S} s stop" "gone at $died"
fi

answers() {
	[[ $(hf_snmp_val "$A" $OID_IFNUMBER) == "$(ip -n "$A" -o link show | wc -l)" ]] &&
		[[ $(hf_snmp_val "$A" $OID_IFXENTRY.1."$idx") == vethA ]]
}
if hf_wait_for 15 answers; then
	t_ok "after SIGCONT: ifNumber.0 and ifName.$idx answer within 15 s ($((($(_hf_now_us) - t1) / 1000)) ms)"
else
	t_fail "after SIGCONT: ifNumber.0 and ifName.$idx answer within 15 s" \
		"ifNumber: $(hf_snmp_val "$A" $OID_IFNUMBER 2>&1)"
	tail -n 5 "$HF_DIR/hostflowd.log" | sed 's/^/#   /'
fi
# One more datagram after SIGCONT: everything of the stop window was flushed.
t_after=$(fl_now)
hf_wait_for 5 eval '(($(fl_dgrams "$cap" "$t_after" 9e9) > 0))'
fl_traffic_stop
sf_capture_stop

t_check "same hostflowd process (pid $pid)" kill -0 "$pid"
t_check "hostflowd started once (one 'running' in its log)" fl_one_start

t_check "the hang was seen: samples held" grep -q "holding samples" "$HF_DIR/hostflowd.log"
# Traffic into late0: samples whose input is late0's ifIndex.
lidx=$(sf_served "$A" late0)
first=$(awk -v t0="$t_late" -v i="${lidx:-none}" '$1 >= t0 && index("," $8 ",", "," i ",") { print $1; exit }' "$cap.live")
t_diag "late0 (ifIndex ${lidx:-not served}) created at $t_late, first sample of it at ${first:-never} (SIGCONT at $t_cont)"
t_check "late0's samples arrive (held until snmpd answers)" test -n "$first"

# From 5 s into the stop until SIGCONT nothing leaves: the master cannot
# answer a collector's poll for any ifIndex.
held_from=$(awk -v t="$t_stop" 'BEGIN { printf "%.6f", t + 5 }')
d=$(fl_dgrams "$cap" "$held_from" "$t_cont")
t_check "no datagram while the master hangs (from 5 s into the stop): $d" test "$d" = 0
n=$(fl_flows "$cap" "$t_stop" 9e9)
# 1000 pkt/s for STOP_S s at 1 in 10: 100 a second expected; a stalled sampler gives far fewer.
t_check "flow samples of the stop, delivered after it: $n (expected >= $((STOP_S * 100 * 7 / 10)))" \
	test "$n" -ge $((STOP_S * 100 * 7 / 10))
# Two sources (vethA, late0), each numbered 1, 2, ...: as a multiset every
# number from 1 up appears, never more often than the number before it.
seqs_ok() {
	awk '$7 != "" { n = split($7, s, ","); for (i = 1; i <= n; i++) print s[i] }' "$cap.live" |
		sort -n | uniq -c | awk '{ if ($2 != ++w || $1 > 2 || (w > 1 && $1 > last)) { bad = 1; exit }
			last = $1 } END { exit bad || !w }'
}
t_check "flow sample sequence numbers without a gap across the stop, per source" seqs_ok
t_check "datagram sequence numbers without gap or reset across the stop" \
	awk '$4 != "" { if (s && $4 != s + 1) { bad = 1; exit 1 }; s = $4 } END { exit bad || !s }' "$cap.live"
t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done
