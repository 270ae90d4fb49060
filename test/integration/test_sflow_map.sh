#!/usr/bin/env bash
# The sFlow face with `ifindex_map` (pmacct's interfaces.map): samples and
# counter samples carry the map's number, the same one SNMP serves, and not
# the kernel ifindex. When the sampled veth is deleted and re-created under
# the same name (a new kernel ifindex), sampling resumes on the next table
# change under the same number, and its flow sample sequence starts again at
# 1 (the new link's pool is not the old one's continuation). The address
# goes first, the moment the traffic ends: frames still in the ring are the
# host's own, labelled with the routing they were sent under.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init sflow_map
A=${HF_NS}a
B=${HF_NS}b
P1=6343
N=10000
MAPPED=1000
conf=$HF_DIR/hostflowd.conf
cap=$HF_DIR/lo.pcap
dec=$HF_DIR/lo.txt

mkveth() {
	hf_veth "$A" vethA "$B" vethB || return 1
	ip -n "$A" addr add 198.18.0.1/24 dev vethA && ip -n "$B" addr add 198.18.0.2/24 dev vethB
}

hf_ns_add "$A" && hf_ns_add "$B" || hf_die "namespaces"
mkveth || hf_die "veth"
k1=$(ip netns exec "$A" cat /sys/class/net/vethA/ifindex)
printf '! written by %s\nifindex=%s ifname=vethA direction=in\n' "$HF_NAME" $MAPPED >"$HF_DIR/interfaces.map"
hf_snmpd_start "$A" || hf_die "snmpd"
sf_sink "$B" 198.18.0.2 5002
sf_capture_start "$A" $P1 "$cap" || hf_die "tshark did not start"
hf_conf "$conf" "ifindex_map $HF_DIR/interfaces.map" "sample vethA rate 10" \
	"polling_interval 1" "agent_address 192.0.2.9" "collector 127.0.0.1 $P1"
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd did not start"
t_check "SNMP serves vethA as $MAPPED (kernel ifindex $k1)" \
	test "$(sf_served "$A" vethA)" = $MAPPED

# The address goes the moment the traffic ends, while the sampler's ring
# still holds frames the host sent from it: they are the host's own (input
# internal), not forwarded from an unknown interface. Then the link is
# re-created: a new kernel ifindex under the same name.
sf_blast "$A" 198.18.0.1 198.18.0.2 4002 5002 $N 20 ip addr del 198.18.0.1/24 dev vethA
ip -n "$A" link del vethA
mkveth || hf_die "veth again"
k2=$(ip netns exec "$A" cat /sys/class/net/vethA/ifindex)
t_diag "vethA re-created: kernel ifindex $k1 -> $k2"
# The sampler lets the old link go and takes the new one.
t_check "the sampler takes the re-created link" hf_wait_for 10 \
	eval '[[ $(grep -c "sampling vethA (ifIndex $MAPPED)" "$HF_DIR/hostflowd.log") -ge 2 ]]'
t_check "SNMP still serves vethA as $MAPPED" test "$(sf_served "$A" vethA)" = $MAPPED
sf_blast "$A" 198.18.0.1 198.18.0.2 4003 5002 $N
seen=$(sf_live_counters "$cap")
hf_wait_for 10 sf_more_counters "$cap" $((seen + 2))
sf_capture_stop
t_check "hostflowd exits cleanly on SIGTERM" hf_hostflowd_stop

sf_decode "$cap" $P1 >"$dec"
t_check "flow samples before the re-creation carry $MAPPED" awk -v m=$MAPPED \
	'$1 == "F" && $14 == 4002 { c++; if ($4 != m || $9 != m || $8 == 0) { print "line " NR ": " $0; bad = 1; exit 1 } }
	 END { if (!c) print "none"; exit bad || !c }' "$dec"
t_check "flow samples after the re-creation carry $MAPPED" awk -v m=$MAPPED \
	'$1 == "F" && $14 == 4003 { c++; if ($4 != m || $9 != m || $8 == 0) { print "line " NR ": " $0; bad = 1; exit 1 } }
	 END { if (!c) print "none"; exit bad || !c }' "$dec"
t_check "no sample carries the kernel ifindex" awk -v a="$k1" -v b="$k2" \
	'($1 == "F" && ($4 == a || $4 == b || $8 == a || $9 == a || $8 == b || $9 == b)) ||
	 ($1 == "C" && ($4 == a || $5 == a || $4 == b || $5 == b)) { print "line " NR ": " $0; bad = 1; exit 1 }' "$dec"
t_check "counter samples carry $MAPPED" awk -v m=$MAPPED \
	'$1 == "C" { c++; if ($4 != m || $5 != m) { print "line " NR ": " $0; bad = 1; exit 1 } }
	 END { if (!c) print "none"; exit bad || !c }' "$dec"
# Same ifIndex, new kernel link: its sample pool is not the old one's
# continuation, so the source's sequence starts again (as hsflowd does).
t_check "flow sample sequence numbers count up, then restart at 1 with the re-created link" awk \
	'$1 == "F" { if ($3 == s + 1) s++
		else if ($3 == 1 && !restarted) { restarted = 1; s = 1 }
		else { print "line " NR " after sequence " s ": " $0; bad = 1; exit }
		# every sample of the traffic after the re-creation comes after the restart
		if ($14 == 4003 && !restarted) { print "line " NR " before the restart: " $0; bad = 1; exit } }
	END { if (!restarted) print "no restart"; exit bad || !restarted }' "$dec"
t_done
