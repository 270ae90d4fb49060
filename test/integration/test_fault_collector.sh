#!/usr/bin/env bash
# Three collectors: one stays alive; two die together for 20 s, each its own
# way: a port on 127.0.0.1 whose socket goes away (the kernel answers ICMP
# port unreachable) and 198.51.100.1, whose route becomes a blackhole inside
# hostflowd's namespace (which has no default route: nothing leaves it).
# Meanwhile the live collector gets datagrams at the rate of the window
# before, sampling goes on, SNMP answers fast, and each dead collector is
# logged once, not per datagram. Then both come back and receive again.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"
# shellcheck source=../tools/fault_lib.sh
. "$HF_TOOLS/fault_lib.sh"
hf_init fault_collector

# The rates compared below are of samples taken 1 in RATE of 1000 packets/s.
# A count's sd is sqrt(n p (1 - p)) for n packets (p = 1 / RATE): at RATE 5,
# 10 s before (2000 +- 40, 2.0%) and 20 s dead (4000 +- 57, 1.4%) give their
# ratio an sd of 2.5%, less than 1 in 10 over 15 s and 60 s did (1500 +- 37,
# 2.4%; 6000 +- 73, 1.2%: 2.7%): the 20% bounds are 8 sd away, were 7.3.
# 20 s still hold 4 timed GETs and 4 path MTU re-reads (every 5 s); the
# collector has no timer a longer window would wait out.
RATE=5
BEFORE_S=10
DEAD_S=20
P1=6343
P2=6399
BH=198.51.100.1
cap=$HF_DIR/lo.pcap
capc=$HF_DIR/c.pcap
conf=$HF_DIR/hostflowd.conf

fl_sampled_pair || hf_die "namespaces"
A=$FL_A
C=${HF_NS}c
hf_ns_add "$C" && hf_ns_quiet "$C" || hf_die "namespace C"
hf_veth "$A" hcA "$C" hcC && hf_neigh "$A" hcA 198.19.8.1 "$C" hcC 198.19.8.2 || hf_die "veth to C"
ip -n "$C" addr add $BH/32 dev hcC || hf_die "address $BH"
ip -n "$A" route add 198.51.100.0/24 via 198.19.8.2 || hf_die "route to $BH"
t_check "no default route in hostflowd's namespace" \
	eval '[[ -z $(ip -n "$A" route show default; ip -n "$A" -6 route show default) ]]'

hf_snmpd_start "$A" || hf_die "snmpd"
fl_capture_start "$A" lo "$cap" $P1 $P2 || hf_die "tshark lo"
fl_capture_start "$C" hcC "$capc" $P1 || hf_die "tshark hcC"
sf_sink "$A" 127.0.0.1 $P1
sf_sink "$C" $BH $P1
fl_receiver "$A" 127.0.0.1 $P2 "$HF_DIR/p2.recv"
p2pid=$HF_LAST_PID
hf_conf "$conf" "sample vethA rate $RATE" "polling_interval 2" \
	"collector 127.0.0.1 $P1" "collector 127.0.0.1 $P2" "collector $BH $P1"
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd"
pid=$HF_HOSTFLOWD_PID
idx=$(sf_served "$A" vethA)
t_check "SNMP serves vethA" test -n "$idx"

received() { [[ $(wc -l <"$2" 2>/dev/null || echo 0) -ge $1 ]]; }
fl_traffic_start 1000 $((BEFORE_S + DEAD_S + 40))
hf_wait_for 10 eval '(($(fl_flows "$cap" 0 9e9 127.0.0.1 $P1) > 0))' || hf_die "no samples"
hf_wait_for 5 received 1 "$HF_DIR/p2.recv" || hf_die "port $P2 receives nothing"

# The window before: the rate to compare with. A fixed span: we measure a rate.
tb0=$(fl_now)
hf_wait_for $BEFORE_S false
tb1=$(fl_now)

# Both die at once.
hf_kill "$p2pid"
ip -n "$A" route replace blackhole 198.51.100.0/24 || hf_die "blackhole"
td0=$(fl_now)
t0=$(_hf_now_us)
# Stay dead for DEAD_S seconds (the condition is time); every 5 s, a
# collector's 5-varbind GET is timed and hostflowd checked alive.
worst=0
gets=0
getfail=0
while (($(_hf_now_us) - t0 < DEAD_S * 1000000)); do
	ms=$(fl_get_ms "$A" $OID_SYSNAME $OID_IFENTRY.2."$idx" $OID_IFXENTRY.1."$idx" \
		$OID_IFXENTRY.18."$idx" $OID_IFXENTRY.15."$idx") || getfail=$((getfail + 1))
	gets=$((gets + 1))
	((ms > worst)) && worst=$ms
	kill -0 "$pid" 2>/dev/null || break
	hf_wait_for 5 false
done
td1=$(fl_now)
t_check "hostflowd alive through the ${DEAD_S} s" kill -0 "$pid"
t_check "SNMP during the window: $gets GETs of 5 varbinds answered" test $getfail = 0
t_check "SNMP during the window: slowest GET $worst ms (< 500 ms)" test "$worst" -lt 500

# Both come back.
fl_receiver "$A" 127.0.0.1 $P2 "$HF_DIR/p2.after"
ip -n "$A" route replace 198.51.100.0/24 via 198.19.8.2 || hf_die "route back"
ta0=$(fl_now)
t_check "revived port $P2 receives datagrams again" hf_wait_for 10 received 3 "$HF_DIR/p2.after"
t_check "$BH receives datagrams again (route restored)" \
	hf_wait_for 10 eval '(($(fl_dgrams "$capc" "$ta0" 9e9) >= 3))'
# "works again" needs 3 s without an error after the last one.
log=$HF_DIR/hostflowd.log
t_check "127.0.0.1:$P2 logged as working again" \
	hf_wait_for 10 grep -q "collector 127.0.0.1:$P2: sending works again" "$log"
t_check "$BH:$P1 logged as working again" \
	hf_wait_for 10 grep -q "collector $BH:$P1: sending works again" "$log"
fl_traffic_stop
sf_capture_stop

# Rates at the live collector: the dead window against the window before.
r0=$(fl_dgrams "$cap" "$tb0" "$tb1" 127.0.0.1 $P1)
r1=$(fl_dgrams "$cap" "$td0" "$td1" 127.0.0.1 $P1)
f0=$(fl_flows "$cap" "$tb0" "$tb1" 127.0.0.1 $P1)
f1=$(fl_flows "$cap" "$td0" "$td1" 127.0.0.1 $P1)
t_diag "live collector: before $r0 datagrams / $f0 flow samples in ${BEFORE_S} s;" \
	"dead window $r1 / $f1 in ${DEAD_S} s"
# Rates per second, compared as r1/DEAD_S >= 0.8 * r0/BEFORE_S in integers.
t_check "live collector: datagram rate in the dead window >= 80% of before" \
	test $((r1 * BEFORE_S * 10)) -ge $((r0 * DEAD_S * 8))
t_check "live collector: flow sample rate in the dead window >= 80% of before" \
	test $((f1 * BEFORE_S * 10)) -ge $((f0 * DEAD_S * 8))
t_check "live collector: datagram rate in the dead window <= 120% of before" \
	test $((r1 * BEFORE_S * 10)) -le $((r0 * DEAD_S * 12))
t_check "live collector: datagram sequence numbers without gap" awk -v p=$P1 \
	'{ sub(/,.*/, "", $2); sub(/,.*/, "", $3) }
	$2 == "127.0.0.1" && $3 == p && $4 != "" { if (s && $4 != s + 1) { bad = 1; exit 1 }; s = $4 }
	END { exit bad || !s }' "$cap.live"
n=$(fl_dgrams "$capc" "$tb0" "$tb1")
t_check "$BH got datagrams before ($n)" test "$n" -gt 0
late=$(awk -v t="$td0" 'BEGIN { printf "%.6f", t + 0.5 }')
n=$(fl_dgrams "$capc" "$late" "$td1")
t_check "blackhole: nothing reached $BH during the window ($n)" test "$n" = 0

# The log: one warning per dead collector, not one per datagram.
nw2=$(grep -c "collector 127.0.0.1:$P2: .*further errors not logged" "$log")
nwb=$(grep -c "collector $BH:$P1: .*further errors not logged" "$log")
nw1=$(grep -c "collector 127.0.0.1:$P1: " "$log")
t_diag "log: $(grep "collector 127.0.0.1:$P2: .*further" "$log" | head -n 1)"
t_diag "log: $(grep "collector $BH:$P1: .*further" "$log" | head -n 1)"
t_check "127.0.0.1:$P2 (port unreachable) logged once ($nw2)" test "$nw2" = 1
t_check "$BH:$P1 (blackhole) logged once ($nwb)" test "$nwb" = 1
t_check "live collector never logged ($nw1)" test "$nw1" = 0
t_check "same hostflowd process, started once" fl_one_start
t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done
