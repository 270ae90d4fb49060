#!/usr/bin/env bash
# The sFlow face on a tun device (no link header, like tailscale0 or a
# WireGuard interface): samples carry raw IPv4/IPv6 headers (header protocol
# 11/12, nothing stripped), the direction comes from the packet socket
# (never 0/0), and the ifIndex is the one SNMP serves.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init sflow_tun
A=${HF_NS}a
P1=6343
N=20000
conf=$HF_DIR/hostflowd.conf
cap=$HF_DIR/lo.pcap
dec=$HF_DIR/lo.txt

# The packets the capture saw on tun0: tun counts a packet sent out only
# once its reader takes it, and one its queue had no room for as tx_dropped,
# both after the capture saw it (beside a CPU hog, rx + tx fell 10,000 short
# of the samples' count once). Received ones are counted as they go up.
tun_dropped() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/tx_dropped"; }
tun_seen() { echo $(($(sf_pkts "$1" "$2") + $(tun_dropped "$1" "$2"))); }

hf_ns_add "$A" || hf_die "namespace"
hf_tun "$A" tun0 || hf_die "tun"
ip -n "$A" addr add 100.64.0.1/24 dev tun0
ip -n "$A" addr add fd7a:115c:a1e0::1/64 dev tun0 nodad
hf_snmpd_start "$A" || hf_die "snmpd"
# tunhold injects to port 9: a bound socket keeps ICMP errors out of the samples.
sf_sink "$A" 100.64.0.1 9
sf_sink "$A" fd7a:115c:a1e0::1 9
sf_capture_start "$A" $P1 "$cap" || hf_die "tshark did not start"
hf_conf "$conf" "sample tun0 rate 50" "polling_interval 2" "agent_address 100.64.0.1" \
	"sub_agent_id 3" "collector 127.0.0.1 $P1"
n0=$(tun_seen "$A" tun0)
d0=$(tun_dropped "$A" tun0)
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd did not start"
idx=$(sf_served "$A" tun0)
t_check "SNMP serves tun0" test -n "$idx"
t_diag "tun0: served ifIndex $idx"

hf_tun_inject "$A" tun0 v4 $N 64 || t_fail "inject v4"
hf_tun_inject "$A" tun0 v6 $N 64 || t_fail "inject v6"
# Out through the tun: the helper reads and discards it.
sf_blast "$A" 100.64.0.1 100.64.0.2 4010 5010 $N
hf_wait_for 10 sf_counters_stable "$A" tun0
n1=$(tun_seen "$A" tun0)
t_diag "tun0: $((n1 - n0)) packets, $(($(tun_dropped "$A" tun0) - d0)) of them dropped by its queue"
seen=$(sf_live_counters "$cap")
hf_wait_for 10 sf_more_counters "$cap" $((seen + 1))
oper=$(hf_snmp_val "$A" .1.3.6.1.2.1.2.2.1.8."$idx")
sf_capture_stop
t_check "hostflowd exits cleanly on SIGTERM" hf_hostflowd_stop

sf_decode "$cap" $P1 >"$dec"
t_check "every datagram decodes as sFlow" sh -c "! grep -q '^X' $dec && grep -q '^F' $dec"
t_check "agent address 100.64.0.1, sub_agent_id 3" \
	awk '$1 == "D" && ($3 != "100.64.0.1" || $4 != 3) { bad = 1; exit 1 }' "$dec"
t_check "source_id is the served ifIndex" awk -v i="$idx" '$1 == "F" && $4 != i { bad = 1; exit 1 }' "$dec"
t_check "inbound IPv4: protocol 11, input = ifIndex, output = internal, frame 92, stripped 0" \
	awk -v i="$idx" -v x=$SF_IF_INTERNAL '$1 == "F" && $10 == 11 && $15 == 9 { c++
		if ($8 != i || $9 != x || $11 != 92 || $12 != 0) { bad = 1; exit 1 } } END { exit bad || !c }' "$dec"
t_check "inbound IPv6: protocol 12, input = ifIndex, output = internal, frame 112" \
	awk -v i="$idx" -v x=$SF_IF_INTERNAL '$1 == "F" && $10 == 12 && $15 == 9 { c++
		if ($8 != i || $9 != x || $11 != 112 || $12 != 0) { bad = 1; exit 1 } } END { exit bad || !c }' "$dec"
t_check "outbound IPv4: protocol 11, input = internal, output = ifIndex" \
	awk -v i="$idx" -v x=$SF_IF_INTERNAL '$1 == "F" && $15 == 5010 { c++
		if ($10 != 11 || $8 != x || $9 != i) { bad = 1; exit 1 } } END { exit bad || !c }' "$dec"
t_check "never 0/0, only protocols 11 and 12" \
	awk '$1 == "F" && ($8 == 0 || $9 == 0 || ($10 != 11 && $10 != 12)) { bad = 1; exit 1 }' "$dec"
k=$(awk '$1 == "F"' "$dec" | wc -l)
t_check "sample count within binomial bounds" sf_binomial "$k" $((n1 - n0)) 50
# A tun held by its reader reports operstate UNKNOWN with carrier: up(1) in
# IF-MIB and in the counter samples' oper bit (was unknown(4) and 0).
t_check "tun0 with a reader: ifOperStatus 1 (kernel: $(ip netns exec "$A" cat /sys/class/net/tun0/operstate 2>/dev/null || echo gone))" \
	test "$oper" = 1
t_check "counter samples: served ifIndex, admin up, oper bit as SNMP's ifOperStatus" \
	awk -v i="$idx" -v o=$((oper == 1)) '$1 == "C" { c++
		if ($5 != i || $9 != 1 || $10 != o) { bad = 1; exit 1 } } END { exit bad || !c }' "$dec"
t_done
