# shellcheck shell=bash
# shellcheck disable=SC2086 # lists of numbers are split on purpose
# Part W: what SNMP pollers cost at WALK_PAIRS veth pairs (2 * WALK_PAIRS + 1
# interfaces with lo, 1001 by default), no link changing:
#   W1 full link dumps hostflowd runs while 20 bulk walks of one counter
#      column (ifHCInOctets) go by back to back (its -d log: one line a dump);
#   W2 hostflowd's CPU per bulk walk of a counter column against a name
#      column (ifName), the two walked alternately;
#   W3 CPU per bulk walk of ifXTable: hostflowd (and its AgentX master),
#      net-snmp's IF-MIB as an AgentX subagent of the same master, snmpd's
#      built-in IF-MIB;
#   W4 CPU over IDLE_WINDOW s with a poller walking ifXTable every 60 s.
# BENCH_WALK_OLD=PATH measures another hostflowd binary (an older tree) the
# same way in the same run, for a before/after ratio.
# Reuses part A's helpers (bench_snmp.sh): add_pairs, builtin_start,
# subagent_start, _agent_complete, _in_ns.

WALK_PAIRS=${BENCH_WALK_PAIRS:-500}
WALK_REPS=25        # snmpbulkwalk -Cr25, as part A
COL_WALKS=20        # W2: walks of each column
TABLE_WALKS=8       # W3: walks of ifXTable per agent
DUMP_WALKS=20       # W1
IDLE_WINDOW=${BENCH_IDLE_WINDOW:-120}
POLL_EVERY=60

OID_COL_NAME=.1.3.6.1.2.1.31.1.1.1.1
OID_COL_HCIN=.1.3.6.1.2.1.31.1.1.1.6
OID_XTABLE=.1.3.6.1.2.1.31.1.1

# One bulk walk of OID through PORT, inside NS; prints the instances seen.
_bulk() {
	local ns=$1 port=$2 oid=$3
	MIBS='' ip netns exec "$ns" snmpbulkwalk -v2c -c public -Cr"$WALK_REPS" -On -Oq -t 5 -r 0 \
		"127.0.0.1:$port" "$oid" 2>/dev/null | grep -c "^$oid\."
}

_dumps() {
	grep -c 'netlink: dumped' "$HF_DIR/hostflowd.log"
}

_s() {
	awk -v n="$1" -v k="${2:-1}" 'BEGIN {printf "%.4f", n / 1e9 / k}'
}

# CPU ns of PIDS during one walk of OID.
_walk_cost() {
	local ns=$1 port=$2 oid=$3 c0
	shift 3
	c0=$(proc_ns "$@")
	_bulk "$ns" "$port" "$oid" >/dev/null
	echo $(($(proc_ns "$@") - c0))
}

# The same for two processes apart: "NS_OF_P NS_OF_Q".
_walk_cost2() {
	local ns=$1 port=$2 oid=$3 p=$4 q=$5 p0 q0
	p0=$(proc_ns "$p")
	q0=$(proc_ns "$q")
	_bulk "$ns" "$port" "$oid" >/dev/null
	echo "$(($(proc_ns "$p") - p0)) $(($(proc_ns "$q") - q0))"
}

# W4 for one agent: CPU of PIDS over IDLE_WINDOW s, a walk of ifXTable at
# 0, 60, ... s through PORT. Prints seconds.
_idle_polled() {
	local ns=$1 port=$2 c0 start i due now
	shift 2
	c0=$(proc_ns "$@")
	start=$(_hf_now_us)
	for ((i = 0; i * POLL_EVERY < IDLE_WINDOW; i++)); do
		due=$((start + i * POLL_EVERY * 1000000))
		now=$(_hf_now_us)
		((due > now)) && sleep "$(awk -v d=$((due - now)) 'BEGIN {printf "%.6f", d / 1e6}')"
		_bulk "$ns" "$port" "$OID_XTABLE" >/dev/null
	done
	due=$((start + IDLE_WINDOW * 1000000))
	now=$(_hf_now_us)
	# The rest of the measurement window, not a wait for a condition.
	((due > now)) && sleep "$(awk -v d=$((due - now)) 'BEGIN {printf "%.6f", d / 1e6}')"
	_s $(($(proc_ns "$@") - c0))
}

declare -A WR    # results: WR[LABEL:KEY]

_ms() {
	awk -v n="$1" -v k="$2" 'BEGIN {printf "%.1f", n / 1e6 / k}'
}

# _walks_hostflowd NS IFS LABEL BIN: W1-W4 for one hostflowd binary.
_walks_hostflowd() {
	local ns=$1 ifs=$2 label=$3 bin=$4 conf=$HF_DIR/hostflowd-walks.conf d0 d1 t0 t1 i
	local name_ns=0 ctr_ns=0 x y hf_ns=0 m_ns=0 rows
	local -a per=()
	hf_conf "$conf" "polling_interval 0"
	: >"$HF_DIR/hostflowd.log"
	HF_BIN=$bin hf_hostflowd_start "$ns" "$conf" -d || return 1
	hf_wait_for 30 _agent_complete "$ns" "$HF_SNMP_PORT" "$ifs" "$LAST" || return 1
	_bulk "$ns" "$HF_SNMP_PORT" "$OID_XTABLE" >/dev/null # warm-up
	# W1: the start dump is behind us; count those the walks cause.
	d0=$(_dumps)
	t0=$(_hf_now_us)
	for ((i = 0; i < DUMP_WALKS; i++)); do
		rows=$(_bulk "$ns" "$HF_SNMP_PORT" "$OID_COL_HCIN")
		((rows == ifs)) || note "W1 $label: a walk of ifHCInOctets returned $rows rows of $ifs"
	done
	t1=$(_hf_now_us)
	d1=$(_dumps)
	WR[$label:dumps]=$((d1 - d0))
	WR[$label:dumpwalk_ms]=$(((t1 - t0) / 1000))
	# W2: a name column and a counter column, alternately.
	for ((i = 0; i < COL_WALKS; i++)); do
		x=$(_walk_cost "$ns" "$HF_SNMP_PORT" "$OID_COL_NAME" "$HF_HOSTFLOWD_PID")
		name_ns=$((name_ns + x))
		x=$(_walk_cost "$ns" "$HF_SNMP_PORT" "$OID_COL_HCIN" "$HF_HOSTFLOWD_PID")
		ctr_ns=$((ctr_ns + x))
	done
	WR[$label:name]=$(_ms $name_ns $COL_WALKS)
	WR[$label:ctr]=$(_ms $ctr_ns $COL_WALKS)
	WR[$label:ctr_ratio]=$(ratio "$ctr_ns" "$name_ns")
	# W3: ifXTable, hostflowd's CPU and its master's in the same walks.
	for ((i = 0; i < TABLE_WALKS; i++)); do
		read -r x y <<<"$(_walk_cost2 "$ns" "$HF_SNMP_PORT" "$OID_XTABLE" "$HF_HOSTFLOWD_PID" "$HF_SNMPD_PID")"
		hf_ns=$((hf_ns + x))
		m_ns=$((m_ns + x + y))
		per+=("$x")
	done
	WR[$label:table]=$(_ms $hf_ns $TABLE_WALKS)
	WR[$label:table_master]=$(_ms $m_ns $TABLE_WALKS)
	note "W3 $label: CPU per ifXTable walk, each: $(printf '%s ' "${per[@]}" | awk '{for (i = 1; i <= NF; i++) printf "%.0f ", $i / 1e6}')ms"
	WR[$label:idle]=$(_idle_polled "$ns" "$HF_SNMP_PORT" "$HF_HOSTFLOWD_PID")
	WR[$label:all_dumps]=$(($(_dumps) - d0))
	note "W $label: $(((t1 - t0) / 1000)) ms for the $DUMP_WALKS walks of W1; ${WR[$label:all_dumps]} full link dumps from W1 to the end of W4 (one every 30 s is the safety re-read)"
	hf_hostflowd_stop || note "W $label: hostflowd did not stop cleanly"
}

_walks_subagent() {
	local ns=$1 ifs=$2 i x s_ns=0
	subagent_start "$ns"
	hf_wait_for 60 _agent_complete "$ns" "$HF_SNMP_PORT" "$ifs" "$LAST" || return 1
	_bulk "$ns" "$HF_SNMP_PORT" "$OID_XTABLE" >/dev/null # its cache fills
	for ((i = 0; i < TABLE_WALKS; i++)); do
		x=$(_walk_cost "$ns" "$HF_SNMP_PORT" "$OID_XTABLE" "$SUB_PID" "$HF_SNMPD_PID")
		s_ns=$((s_ns + x))
	done
	W_SUB=$(awk -v n=$s_ns -v k=$TABLE_WALKS 'BEGIN {printf "%.1f", n / 1e6 / k}')
	W4_SUB=$(_idle_polled "$ns" "$HF_SNMP_PORT" "$SUB_PID" "$HF_SNMPD_PID")
	hf_kill "$SUB_PID"
}

# Rows for one hostflowd binary.
_walk_rows_of() {
	local label=$1 ifs=$2 name=hostflowd
	[[ $label == old ]] && name="hostflowd (BENCH_WALK_OLD)"
	row "W1 full link dumps during $DUMP_WALKS bulk walks of ifHCInOctets, $ifs if: $name" \
		"${WR[$label:dumps]:-n/a}" "" "" "" "≤ 1" "$(verdict "${WR[$label:dumps]:-}" le 1)"
	row "W2 CPU per bulk walk of ifHCInOctets, $ifs if: $name (ms)" "${WR[$label:ctr]:-n/a}" \
		"ifName column" "${WR[$label:name]:-n/a}" "${WR[$label:ctr_ratio]:-n/a}" "≤ 1" \
		"$(verdict "${WR[$label:ctr_ratio]:-}" le 1)"
	row "W3 CPU per bulk walk of ifXTable, $ifs if: $name (ms)" "${WR[$label:table]:-n/a}" \
		"built-in" "$W_BI" "$(ratio "${WR[$label:table]:-}" "$W_BI")" "" ""
	row "W3 CPU per bulk walk of ifXTable, $ifs if: $name + master (ms)" \
		"${WR[$label:table_master]:-n/a}" "net-snmp subagent + master" "$W_SUB" \
		"$(ratio "${WR[$label:table_master]:-}" "$W_SUB")" "" ""
	row "W3 CPU per bulk walk of ifXTable, $ifs if: $name + master (ms)" \
		"${WR[$label:table_master]:-n/a}" "built-in" "$W_BI" \
		"$(ratio "${WR[$label:table_master]:-}" "$W_BI")" "" ""
	row "W4 CPU over $IDLE_WINDOW s, ifXTable walked every $POLL_EVERY s, $ifs if: $name (s)" \
		"${WR[$label:idle]:-n/a}" "built-in" "$W4_BI" "$(ratio "${WR[$label:idle]:-}" "$W4_BI")" "" ""
	row "W4 CPU over $IDLE_WINDOW s, ifXTable walked every $POLL_EVERY s, $ifs if: $name (s)" \
		"${WR[$label:idle]:-n/a}" "net-snmp subagent + master" "$W4_SUB" \
		"$(ratio "${WR[$label:idle]:-}" "$W4_SUB")" "" ""
}

bench_walks() {
	local ns=${HF_NS}w ifs i x b_ns=0
	ifs=$((2 * WALK_PAIRS + 1))
	W_SUB=n/a W4_SUB=n/a W_BI=n/a W4_BI=n/a
	hf_ns_add "$ns" || return 1
	hf_ns_quiet "$ns"
	add_pairs "$ns" 1 "$WALK_PAIRS" || return 1
	LAST=$(kernel_indexes "$ns" | sort -n | tail -n 1)
	hf_snmpd_start "$ns" || return 1
	builtin_start "$ns"
	echo "== W: $ifs interfaces, pollers walking, no link changing"
	hf_wait_for 30 _agent_complete "$ns" "$BUILTIN_PORT" "$ifs" "$LAST" ||
		note "W: built-in snmpd did not show $ifs interfaces within 30 s"
	_walks_hostflowd "$ns" "$ifs" new "$HF_BIN" || note "W: hostflowd not measured"
	if [[ -n ${BENCH_WALK_OLD:-} ]]; then
		_walks_hostflowd "$ns" "$ifs" old "$BENCH_WALK_OLD" ||
			note "W: BENCH_WALK_OLD not measured"
	fi
	_walks_subagent "$ns" "$ifs" || note "W: net-snmp subagent not measured"
	for ((i = 0; i < TABLE_WALKS; i++)); do
		x=$(_walk_cost "$ns" "$BUILTIN_PORT" "$OID_XTABLE" "$BUILTIN_PID")
		b_ns=$((b_ns + x))
	done
	W_BI=$(_ms $b_ns $TABLE_WALKS)
	W4_BI=$(_idle_polled "$ns" "$BUILTIN_PORT" "$BUILTIN_PID")
	_walk_rows_of new "$ifs"
	if [[ -n ${BENCH_WALK_OLD:-} ]]; then
		_walk_rows_of old "$ifs"
		note "W: BENCH_WALK_OLD=$BENCH_WALK_OLD, measured after the hostflowd under test, in the same namespace"
		row "W2 CPU per bulk walk of ifHCInOctets, $ifs if: hostflowd (ms)" "${WR[new:ctr]:-n/a}" \
			"hostflowd (BENCH_WALK_OLD)" "${WR[old:ctr]:-n/a}" \
			"$(ratio "${WR[new:ctr]:-}" "${WR[old:ctr]:-}")" "" ""
		row "W3 CPU per bulk walk of ifXTable, $ifs if: hostflowd (ms)" "${WR[new:table]:-n/a}" \
			"hostflowd (BENCH_WALK_OLD)" "${WR[old:table]:-n/a}" \
			"$(ratio "${WR[new:table]:-}" "${WR[old:table]:-}")" "" ""
		row "W4 CPU over $IDLE_WINDOW s, ifXTable walked every $POLL_EVERY s, $ifs if: hostflowd (s)" \
			"${WR[new:idle]:-n/a}" "hostflowd (BENCH_WALK_OLD)" "${WR[old:idle]:-n/a}" \
			"$(ratio "${WR[new:idle]:-}" "${WR[old:idle]:-}")" "" ""
	fi
	note "W: snmpbulkwalk -Cr$WALK_REPS; CPU from /proc/PID/task/*/schedstat before and after each walk (hostflowd's own, or with the AgentX master it answers through); W2 $COL_WALKS walks of each column, alternating; W3 mean of $TABLE_WALKS walks after a warm-up walk; W4 one agent at a time"
	hf_kill "$BUILTIN_PID"
	hf_snmpd_stop
	ip netns del "$ns" 2>/dev/null
	return 0
}
