#!/usr/bin/env bash
# Counters apart from the table's structure, at a few hundred interfaces
# (300 veth pairs beside the measured link vethA, ~600 rows):
#  1. bulk walks of counter columns (ifHCInOctets ten times, then ifTable)
#     while no link changes cost no full link dump but the 30 s safety
#     re-read (at most one in a span under 30 s) (hostflowd -d logs a line per dump): counters are read apart,
#     never by rebuilding the table (it used to dump once per 500 ms of
#     walking);
#  2. the staleness bound: a GET made 500 ms after traffic stopped serves the
#     kernel's count exactly, though SNMP had read the link just before the
#     traffic (hostflowd(8): counters at most 500 ms old);
#  3. the faces agree in time: with traffic flowing, a GET sent the moment
#     a counter sample arrives (test/tools/ctr_agree.py, the collector
#     itself) serves at least the sample's ifInOctets: the sampler's reading
#     is the table's. SNMP's own reading is kept warm (a walk, then GETs, so
#     it is always under 500 ms old) and every packet is sampled, so
#     datagrams fill and leave within milliseconds of the counters' reading
#     (a partial one waits up to 1 s, and SNMP would catch up meanwhile).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hf_init snmp_counters

PAIRS=300
WALKS=10
PORT=6373
A=${HF_NS}a
B=${HF_NS}b
hf_ns_add "$A" && hf_ns_add "$B" || hf_die "namespaces"
hf_ns_quiet "$A" && hf_ns_quiet "$B" || hf_die "namespaces quiet"
hf_veth "$A" vethA "$B" vethB || hf_die "veth"
hf_neigh "$A" vethA 198.18.0.1 "$B" vethB 198.18.0.2 || hf_die "addresses"
for ((i = 1; i <= PAIRS; i++)); do
	echo "link add cnt$i type veth peer name cntp$i"
	echo "link set cnt$i up"
	echo "link set cntp$i up"
done >"$HF_DIR/pairs.batch"
ip -n "$A" -batch "$HF_DIR/pairs.batch" || hf_die "veth pairs"
ROWS=$(ip -n "$A" -o link show | wc -l)

hf_snmpd_start "$A" || hf_die "snmpd"
# The collector (part 3): compares each counter sample with SNMP as it
# arrives, once told to; until then it only keeps the port bound.
agree=$HF_DIR/agree.out
go=$HF_DIR/agree.go
hf_bg "$A" "$agree" python3 "$HF_TOOLS/ctr_agree.py" "$PORT" "$HF_SNMP_PORT" 5 20 "$go"
agree_pid=$HF_LAST_PID
hf_wait_for 10 grep -q '^ready' "$agree" || hf_die "ctr_agree.py did not start"
conf=$HF_DIR/hostflowd.conf
hf_conf "$conf" "sample vethA rate 1" "polling_interval 1" "collector 127.0.0.1 $PORT"
hf_hostflowd_start "$A" "$conf" -d || hf_die "hostflowd"
_all_rows() {
	[[ $(hf_snmp_val "$A" "$OID_IFNUMBER") == "$ROWS" ]]
}
hf_wait_for 10 _all_rows || hf_die "hostflowd does not serve $ROWS rows"
idx=$(hf_row "$A" vethA) || hf_die "vethA not served"
t_diag "$ROWS rows; vethA is ifIndex $idx"

dumps() {
	grep -c 'netlink: dumped' "$HF_DIR/hostflowd.log"
}

# --- 1. walks of counter columns: no full dump ------------------------------
d0=$(dumps)
t0=$SECONDS
short=0
for ((w = 1; w <= WALKS; w++)); do
	n=$(hf_snmp "$A" bulkwalk -Cr25 -Oq "$OID_IFXENTRY.6" 2>/dev/null | grep -c "^$OID_IFXENTRY.6.")
	((n == ROWS)) || short=$((short + 1))
done
n=$(hf_snmp "$A" bulkwalk -Cr25 -Oq "$OID_IFTABLE" 2>/dev/null | grep -c "^$OID_IFENTRY.10.")
((n == ROWS)) || short=$((short + 1))
took=$((SECONDS - t0))
d1=$(dumps)
t_diag "$WALKS walks of ifHCInOctets and one of ifTable: ${took} s, $((d1 - d0)) full link dumps"
t_check "every walk returned every row" test "$short" -eq 0
# The safety re-read comes every 30 s: one may fall in any span, one more
# per 30 s (a loaded machine walks slower).
allowed=$((1 + took / 30))
t_check "the walks cost no full link dump but the safety re-read (at most $allowed)" \
	test $((d1 - d0)) -le "$allowed"

# --- 2. the staleness bound -------------------------------------------------
kernel_rx_bytes() {
	ip netns exec "$A" cat /sys/class/net/vethA/statistics/rx_bytes
}
_past() {
	(($(_hf_now_us) >= $1))
}
# The kernel's count has settled (two reads 100 ms apart agree).
_settled() {
	local a
	a=$(kernel_rx_bytes)
	sleep 0.1
	[[ $(kernel_rx_bytes) == "$a" ]]
}
hf_snmp_val "$A" "$OID_IFXENTRY.6.$idx" >/dev/null   # SNMP reads vethA now
hf_udp "$B" 198.18.0.1 200 100
hf_wait_for 5 _settled
t_end=$(_hf_now_us)
want=$(kernel_rx_bytes)
hf_wait_for 2 _past $((t_end + 510000))
got=$(hf_snmp_val "$A" "$OID_IFXENTRY.6.$idx")
t_check "500 ms after the traffic, ifHCInOctets is the kernel's ($got = $want)" test "$got" = "$want"

# --- 3. a counter sample is never ahead of SNMP -----------------------------
stop=$HF_DIR/pace.stop
hf_bg "$B" "$HF_DIR/pace.log" python3 "$HF_TOOLS/udp_pace.py" 198.18.0.2 198.18.0.1 9 2000 20 "$stop"
pace=$HF_LAST_PID
echo "$idx" >"$go.tmp" && mv "$go.tmp" "$go"
# Until it is done, a poller (every 50 ms) keeps SNMP's reading of vethA
# under 500 ms old.
_agree_done() {
	hf_snmp_val "$A" "$OID_IFXENTRY.6.$idx" >/dev/null
	grep -q '^checked' "$agree"
}
hf_wait_for 25 _agree_done || t_diag "ctr_agree.py did not finish"
touch "$stop"
hf_kill "$pace"
hf_kill "$agree_pid"
sed 's/^/# /' "$agree"
t_check "5 counter samples compared with SNMP as they arrived" grep -q '^checked 5 ' "$agree"
t_check "SNMP never served less than a counter sample sent before" grep -q ' behind 0$' "$agree"

t_check "hostflowd exits cleanly on SIGTERM" hf_hostflowd_stop
t_done
