# shellcheck shell=bash
# shellcheck disable=SC2086 # lists of numbers are split on purpose
# Part W: what SNMP pollers cost at WALK_PAIRS veth pairs (2 * WALK_PAIRS + 1
# interfaces with lo, 1001 by default), no link changing. Every agent runs
# at once over the same interfaces, each behind an AgentX master of its own
# (so none shadows another's IF-MIB), and they are walked in turn, round
# after round: whatever the machine's other tenants take, they take from
# all of them alike.
#   hostflowd      agent/hostflowd (HF_BIN), master on $HF_SNMP_PORT
#   old            BENCH_WALK_OLD=PATH, another hostflowd (an older tree), optional
#   subagent       net-snmp's IF-MIB as an AgentX subagent (snmpd -X)
#   built-in       snmpd's own IF-MIB, no AgentX
# Figures:
#   W1 full link dumps a hostflowd runs while 20 bulk walks of one counter
#      column (ifHCInOctets) go by back to back (its -d log: one line a dump);
#   W2 a hostflowd's CPU per bulk walk of a counter column against a name
#      column (ifName), the two walked alternately;
#   W3 CPU per bulk walk of ifXTable, each agent (and its master) alone;
#   W4 CPU over IDLE_WINDOW s while a poller walks ifXTable every 60 s.
# Reuses part A's helpers (bench_snmp.sh): add_pairs, builtin_start,
# _agent_complete.

WALK_PAIRS=${BENCH_WALK_PAIRS:-500}
WALK_REPS=25        # snmpbulkwalk -Cr25, as part A
COL_WALKS=20        # W2: walks of each column
TABLE_ROUNDS=8      # W3: rounds of one ifXTable walk per agent
DUMP_WALKS=20       # W1
IDLE_WINDOW=${BENCH_IDLE_WINDOW:-120}
POLL_EVERY=60

OID_COL_NAME=.1.3.6.1.2.1.31.1.1.1.1
OID_COL_HCIN=.1.3.6.1.2.1.31.1.1.1.6
OID_XTABLE=.1.3.6.1.2.1.31.1.1

declare -A W_PORT W_PIDS W_MASTER W_LOG WR

# One bulk walk of OID through PORT, inside NS; prints the instances seen.
_bulk() {
	local ns=$1 port=$2 oid=$3
	MIBS='' ip netns exec "$ns" snmpbulkwalk -v2c -c public -Cr"$WALK_REPS" -On -Oq -t 5 -r 0 \
		"127.0.0.1:$port" "$oid" 2>/dev/null | grep -c "^$oid\."
}

_ms() {
	awk -v n="$1" -v k="$2" 'BEGIN {printf "%.1f", n / 1e6 / k}'
}

# CPU ns of an agent (its own processes) and of its master during one walk
# of OID: "AGENT_NS MASTER_NS".
_walk_cost() {
	local ns=$1 agent=$2 oid=$3 a0 m0=0 m1=0
	a0=$(proc_ns ${W_PIDS[$agent]})
	[[ -n ${W_MASTER[$agent]:-} ]] && m0=$(proc_ns "${W_MASTER[$agent]}")
	_bulk "$ns" "${W_PORT[$agent]}" "$oid" >/dev/null
	[[ -n ${W_MASTER[$agent]:-} ]] && m1=$(proc_ns "${W_MASTER[$agent]}")
	echo "$(($(proc_ns ${W_PIDS[$agent]}) - a0)) $((m1 - m0))"
}

# An AgentX master of our own for NAME on PORT (its IF-MIB off); sets
# W_MASTER[NAME] and prints nothing. The socket is $HF_DIR/NAME.agentx.
_master_start() {
	local ns=$1 name=$2 port=$3 conf=$HF_DIR/$2-master.conf
	cat >"$conf" <<-EOF
		master agentx
		agentXSocket unix:$HF_DIR/$name.agentx
		agentXTimeout 1
		agentXRetries 1
		agentAddress udp:127.0.0.1:$port
		rocommunity public 127.0.0.1
		sysName hostflow-test
	EOF
	mkdir -p "$HF_DIR/$name-persist"
	hf_bg "$ns" "$HF_DIR/$name-master.out" env SNMP_PERSISTENT_DIR="$HF_DIR/$name-persist" \
		snmpd -f -C -c "$conf" -I -ifTable,ifXTable -Lf "$HF_DIR/$name-master.log" \
		-p "$HF_DIR/$name-master.pid"
	W_MASTER[$name]=$HF_LAST_PID
	W_PORT[$name]=$port
}

# A hostflowd (binary BIN) behind its own master, -d (one log line a dump).
_hostflowd_start() {
	local ns=$1 name=$2 port=$3 bin=$4 conf=$HF_DIR/$2.conf
	_master_start "$ns" "$name" "$port"
	hf_wait_for 10 test -S "$HF_DIR/$name.agentx" || return 1
	printf 'agentx_socket %s\npolling_interval 0\n' "$HF_DIR/$name.agentx" >"$conf"
	W_LOG[$name]=$HF_DIR/$name.log
	hf_bg "$ns" "${W_LOG[$name]}" "$bin" -f -d -c "$conf"
	W_PIDS[$name]=$HF_LAST_PID
}

_subagent_start() {
	local ns=$1 port=$2 conf=$HF_DIR/subagent.conf
	_master_start "$ns" subagent "$port"
	hf_wait_for 10 test -S "$HF_DIR/subagent.agentx" || return 1
	echo "agentXSocket unix:$HF_DIR/subagent.agentx" >"$conf"
	mkdir -p "$HF_DIR/sub-persist"
	hf_bg "$ns" "$HF_DIR/subagent.out" env SNMP_PERSISTENT_DIR="$HF_DIR/sub-persist" \
		snmpd -X -f -C -c "$conf" -I ifTable,ifXTable -Lf "$HF_DIR/subagent.log" \
		-p "$HF_DIR/subagent.pid"
	W_PIDS[subagent]=$HF_LAST_PID
}

_dumps() {
	grep -c 'netlink: dumped' "${W_LOG[$1]}"
}

# W1 and W2 for one hostflowd.
_hostflowd_walks() {
	local ns=$1 ifs=$2 name=$3 d0 d1 t0 t1 i rows x y name_ns=0 ctr_ns=0
	d0=$(_dumps "$name")
	t0=$(_hf_now_us)
	for ((i = 0; i < DUMP_WALKS; i++)); do
		rows=$(_bulk "$ns" "${W_PORT[$name]}" "$OID_COL_HCIN")
		((rows == ifs)) || note "W1 $name: a walk of ifHCInOctets returned $rows rows of $ifs"
	done
	t1=$(_hf_now_us)
	d1=$(_dumps "$name")
	WR[$name:dumps]=$((d1 - d0))
	note "W1 $name: the $DUMP_WALKS walks took $(((t1 - t0) / 1000)) ms"
	for ((i = 0; i < COL_WALKS; i++)); do
		read -r x y <<<"$(_walk_cost "$ns" "$name" "$OID_COL_NAME")"
		name_ns=$((name_ns + x))
		read -r x y <<<"$(_walk_cost "$ns" "$name" "$OID_COL_HCIN")"
		ctr_ns=$((ctr_ns + x))
	done
	WR[$name:name]=$(_ms $name_ns $COL_WALKS)
	WR[$name:ctr]=$(_ms $ctr_ns $COL_WALKS)
	WR[$name:ctr_ratio]=$(ratio "$ctr_ns" "$name_ns")
}

# W4: every agent's CPU over IDLE_WINDOW s, each walked (in turn) at 0, 60, ... s.
_idle_polled() {
	local ns=$1 a start i due now
	local -A c0
	for a in "${W_AGENTS[@]}"; do
		c0[$a]=$(proc_ns ${W_PIDS[$a]} ${W_MASTER[$a]:-})
	done
	start=$(_hf_now_us)
	for ((i = 0; i * POLL_EVERY < IDLE_WINDOW; i++)); do
		due=$((start + i * POLL_EVERY * 1000000))
		now=$(_hf_now_us)
		((due > now)) && sleep "$(awk -v d=$((due - now)) 'BEGIN {printf "%.6f", d / 1e6}')"
		for a in "${W_AGENTS[@]}"; do
			_bulk "$ns" "${W_PORT[$a]}" "$OID_XTABLE" >/dev/null
		done
	done
	due=$((start + IDLE_WINDOW * 1000000))
	now=$(_hf_now_us)
	# The rest of the measurement window, not a wait for a condition.
	((due > now)) && sleep "$(awk -v d=$((due - now)) 'BEGIN {printf "%.6f", d / 1e6}')"
	for a in "${W_AGENTS[@]}"; do
		WR[$a:idle]=$(awk -v n=$(($(proc_ns ${W_PIDS[$a]} ${W_MASTER[$a]:-}) - c0[$a])) \
			'BEGIN {printf "%.2f", n / 1e9}')
	done
}

_label() {
	case $1 in
	hostflowd) echo hostflowd ;;
	old) echo "hostflowd (BENCH_WALK_OLD)" ;;
	subagent) echo "net-snmp subagent" ;;
	*) echo "$1" ;;
	esac
}

bench_walks() {
	local ns=${HF_NS}w ifs last i a x y
	local -A own tot
	ifs=$((2 * WALK_PAIRS + 1))
	W_AGENTS=(hostflowd)
	[[ -n ${BENCH_WALK_OLD:-} ]] && W_AGENTS+=(old)
	W_AGENTS+=(subagent built-in)
	hf_ns_add "$ns" || return 1
	hf_ns_quiet "$ns"
	add_pairs "$ns" 1 "$WALK_PAIRS" || return 1
	last=$(kernel_indexes "$ns" | sort -n | tail -n 1)
	echo "== W: $ifs interfaces, pollers walking, no link changing (agents: ${W_AGENTS[*]})"
	_hostflowd_start "$ns" hostflowd $((HF_SNMP_PORT + 10)) "$HF_BIN" || return 1
	if [[ -n ${BENCH_WALK_OLD:-} ]]; then
		_hostflowd_start "$ns" old $((HF_SNMP_PORT + 11)) "$BENCH_WALK_OLD" || return 1
	fi
	_subagent_start "$ns" $((HF_SNMP_PORT + 12)) || return 1
	builtin_start "$ns"
	W_PIDS[built-in]=$BUILTIN_PID
	W_PORT[built-in]=$BUILTIN_PORT
	for a in "${W_AGENTS[@]}"; do
		hf_wait_for 60 _agent_complete "$ns" "${W_PORT[$a]}" "$ifs" "$last" || {
			note "W: $(_label "$a") did not serve $ifs interfaces within 60 s"
			return 1
		}
		# net-snmp's if-mib fills its cache on the first walk.
		_bulk "$ns" "${W_PORT[$a]}" "$OID_XTABLE" >/dev/null
	done
	for a in hostflowd old; do
		[[ -n ${W_PIDS[$a]:-} ]] && _hostflowd_walks "$ns" "$ifs" "$a"
	done
	for ((i = 0; i < TABLE_ROUNDS; i++)); do
		for a in "${W_AGENTS[@]}"; do
			read -r x y <<<"$(_walk_cost "$ns" "$a" "$OID_XTABLE")"
			own[$a]=$((${own[$a]:-0} + x))
			tot[$a]=$((${tot[$a]:-0} + x + y))
		done
	done
	_idle_polled "$ns"
	for a in hostflowd old; do
		[[ -n ${W_PIDS[$a]:-} ]] || continue
		row "W1 full link dumps during $DUMP_WALKS bulk walks of ifHCInOctets, $ifs if: $(_label $a)" \
			"${WR[$a:dumps]}" "" "" "" "≤ 1" "$(verdict "${WR[$a:dumps]}" le 1)"
		row "W2 CPU per bulk walk of ifHCInOctets, $ifs if: $(_label $a) (ms)" "${WR[$a:ctr]}" \
			"ifName column" "${WR[$a:name]}" "${WR[$a:ctr_ratio]}" "≤ 1" \
			"$(verdict "${WR[$a:ctr_ratio]}" le 1)"
		note "W $(_label $a): $(($(_dumps $a))) full link dumps in its log, the start's included (one every 30 s is the safety re-read)"
	done
	for a in "${W_AGENTS[@]}"; do
		[[ $a == hostflowd ]] && continue
		row "W3 CPU per bulk walk of ifXTable, $ifs if: hostflowd (ms)" "$(_ms ${own[hostflowd]} $TABLE_ROUNDS)" \
			"$(_label $a)" "$(_ms ${own[$a]} $TABLE_ROUNDS)" "$(ratio ${own[hostflowd]} ${own[$a]})" "" ""
		if [[ $a == built-in ]]; then
			row "W3 CPU per bulk walk of ifXTable, $ifs if: hostflowd + master (ms)" \
				"$(_ms ${tot[hostflowd]} $TABLE_ROUNDS)" "built-in (no master)" \
				"$(_ms ${own[$a]} $TABLE_ROUNDS)" "$(ratio ${tot[hostflowd]} ${own[$a]})" "" ""
		else
			row "W3 CPU per bulk walk of ifXTable, $ifs if: hostflowd + master (ms)" \
				"$(_ms ${tot[hostflowd]} $TABLE_ROUNDS)" "$(_label $a) + master" \
				"$(_ms ${tot[$a]} $TABLE_ROUNDS)" "$(ratio ${tot[hostflowd]} ${tot[$a]})" "" ""
		fi
		row "W4 CPU over $IDLE_WINDOW s, ifXTable walked every $POLL_EVERY s, $ifs if, with masters (s)" \
			"${WR[hostflowd:idle]}" "$(_label $a)" "${WR[$a:idle]}" \
			"$(ratio "${WR[hostflowd:idle]}" "${WR[$a:idle]}")" "" ""
	done
	note "W: every agent at once over the same $ifs interfaces, each behind its own AgentX master; snmpbulkwalk -Cr$WALK_REPS; CPU from /proc/PID/task/*/schedstat before and after each walk; W2 $COL_WALKS walks of each column, alternating; W3 $TABLE_ROUNDS rounds of one walk per agent in turn, after a warm-up walk each; W4 the agents walked one after the other at each poll"
	for a in "${W_AGENTS[@]}"; do
		hf_kill "${W_PIDS[$a]}"
		[[ -n ${W_MASTER[$a]:-} ]] && hf_kill "${W_MASTER[$a]}"
	done
	ip netns del "$ns" 2>/dev/null
	return 0
}
