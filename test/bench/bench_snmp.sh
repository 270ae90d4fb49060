# shellcheck shell=bash
# shellcheck disable=SC2086,SC2046 # lists of numbers are split on purpose
# Part A: IF-MIB through hostflowd, through net-snmp's own IF-MIB running as
# an AgentX subagent, and through snmpd's built-in IF-MIB, in one namespace
# holding PAIRS veth pairs (2 * PAIRS + 1 interfaces with lo).
#
# Two snmpds run side by side: the AgentX master (lib.sh's hf_snmpd_start,
# own ifTable/ifXTable disabled) on $HF_SNMP_PORT, which serves hostflowd or
# the net-snmp subagent, one at a time (both registering IF-MIB would collide),
# and the built-in on $BUILTIN_PORT.

BULK_REPS=25     # snmpbulkwalk -Cr25: 25 repetitions per GETBULK, 0 non-repeaters
WALKS=5          # measured walks per agent, after one warm-up walk

BUILTIN_PORT=
BUILTIN_PID=
SUB_PID=

# Runs inside the namespace (no `ip netns exec` per walk): one line
# "MICROSECONDS ROWS" per walk, ROWS = ifName instances seen.
_walk_loop() {
	local port=$1 n=$2 reps=$3 i t0 t1 rows
	for ((i = 0; i < n; i++)); do
		t0=${EPOCHREALTIME/./}
		rows=$(MIBS='' snmpbulkwalk -v2c -c public -Cr"$reps" -On -Oq -t 5 -r 0 \
			"127.0.0.1:$port" .1.3.6.1.2.1.31.1.1 2>/dev/null |
			grep -c '^\.1\.3\.6\.1\.2\.1\.31\.1\.1\.1\.1\.')
		t1=${EPOCHREALTIME/./}
		echo "$((t1 - t0)) $rows"
	done
}

# The same for one snmpget of sysName.0: what starting the client costs.
_get_loop() {
	local port=$1 n=$2 i t0 t1
	for ((i = 0; i < n; i++)); do
		t0=${EPOCHREALTIME/./}
		MIBS='' snmpget -v2c -c public -On -t 5 -r 0 "127.0.0.1:$port" .1.3.6.1.2.1.1.5.0 >/dev/null
		t1=${EPOCHREALTIME/./}
		echo "$((t1 - t0)) 0"
	done
}

_in_ns() {
	local ns=$1 fn=$2
	shift 2
	ip netns exec "$ns" bash -c "$(declare -f "$fn"); $fn $*"
}

# walk_median NS PORT: one warm-up walk (net-snmp's if-mib fills its cache on
# the first request), then $WALKS timed ones. Prints "MEDIAN_MS MIN_ROWS".
walk_median() {
	local ns=$1 port=$2 us rows min_rows=999999
	local -a ms=()
	_in_ns "$ns" _walk_loop "$port" 1 "$BULK_REPS" >/dev/null
	while read -r us rows; do
		ms+=("$(awk -v u="$us" 'BEGIN {printf "%.1f", u / 1000}')")
		((rows < min_rows)) && min_rows=$rows
	done < <(_in_ns "$ns" _walk_loop "$port" "$WALKS" "$BULK_REPS")
	echo "$(median "${ms[@]}") $min_rows"
}

client_overhead_ms() {
	local ns=$1 port=$2 us rows
	local -a ms=()
	while read -r us rows; do
		ms+=("$(awk -v u="$us" 'BEGIN {printf "%.1f", u / 1000}')")
	done < <(_in_ns "$ns" _get_loop "$port" 5)
	median "${ms[@]}"
}

# Adds veth pairs FROM..TO (both ends up) with one `ip -batch`.
add_pairs() {
	local ns=$1 from=$2 to=$3 i batch
	batch=$HF_DIR/pairs-$from-$to.batch
	((from <= to)) || return 0
	for ((i = from; i <= to; i++)); do
		echo "link add hfbA$i type veth peer name hfbB$i"
		echo "link set hfbA$i up"
		echo "link set hfbB$i up"
	done >"$batch"
	ip -n "$ns" -batch "$batch"
}

# Kernel ifindex of every link in the namespace, one per line.
kernel_indexes() {
	ip -n "$1" -o link show | cut -d: -f1
}

_ifnumber_is() {
	local ns=$1 port=$2 want=$3 got
	got=$(MIBS='' ip netns exec "$ns" snmpget -v2c -c public -Oqv -t 1 -r 0 \
		"127.0.0.1:$port" .1.3.6.1.2.1.2.1.0 2>/dev/null)
	[[ $got == "$want" ]]
}

# Both ifNumber and the last row's ifName answer: the agent has every row.
_agent_complete() {
	local ns=$1 port=$2 want=$3 last=$4
	_ifnumber_is "$ns" "$port" "$want" &&
		MIBS='' ip netns exec "$ns" snmpget -v2c -c public -Oqv -t 1 -r 0 \
			"127.0.0.1:$port" ".1.3.6.1.2.1.31.1.1.1.1.$last" 2>/dev/null |
		grep -qv '^No Such'
}

builtin_start() {
	local ns=$1 conf=$HF_DIR/builtin.conf
	BUILTIN_PORT=$((HF_SNMP_PORT + 1))
	cat >"$conf" <<-EOF
		# snmpd with its own IF-MIB, for comparison; no AgentX
		agentAddress udp:127.0.0.1:$BUILTIN_PORT
		rocommunity public 127.0.0.1
		sysName hostflow-test
	EOF
	mkdir -p "$HF_DIR/builtin-persist"
	hf_bg "$ns" "$HF_DIR/builtin.out" env SNMP_PERSISTENT_DIR="$HF_DIR/builtin-persist" \
		snmpd -f -C -c "$conf" -Lf "$HF_DIR/builtin.log" -p "$HF_DIR/builtin.pid"
	BUILTIN_PID=$HF_LAST_PID
}

# net-snmp's if-mib (ifTable and ifXTable modules only) as an AgentX subagent
# of the same master hostflowd uses: the same AgentX path.
subagent_start() {
	local ns=$1 conf=$HF_DIR/subagent.conf
	echo "agentXSocket unix:$HF_AGENTX" >"$conf"
	mkdir -p "$HF_DIR/sub-persist"
	hf_bg "$ns" "$HF_DIR/subagent.out" env SNMP_PERSISTENT_DIR="$HF_DIR/sub-persist" \
		snmpd -X -f -C -c "$conf" -I ifTable,ifXTable -Lf "$HF_DIR/subagent.log" \
		-p "$HF_DIR/subagent.pid"
	SUB_PID=$HF_LAST_PID
}

# get_latency NS PORT LABEL: 5-varbind GETs over every row; sets LAT_MED,
# LAT_P99 (ms) and reports failures as notes.
get_latency() {
	local ns=$1 port=$2 label=$3 out
	out=$(ip netns exec "$ns" python3 "$BENCH_DIR/snmplat.py" 127.0.0.1 "$port" public \
		"$GETS" $(kernel_indexes "$ns")) || out='{}'
	LAT_MED=$(jq -r '(.median_us // empty) / 1000 | . * 1000 | round / 1000' <<<"$out")
	LAT_P99=$(jq -r '(.p99_us // empty) / 1000 | . * 1000 | round / 1000' <<<"$out")
	echo "  GET latency $label: $out"
	if [[ $(jq -r '(.bad // 1) + (.timeouts // 1)' <<<"$out") != 0 ]]; then
		note "5-varbind GET through $label: $(jq -c '{count, ok, bad, timeouts}' <<<"$out") — failed GETs are excluded from the latency"
	fi
}

# cpu_phase LABEL WALKED: CPU seconds of hostflowd, its master and the
# built-in over $CPU_WINDOW s, walking each agent once a second when WALKED=1.
cpu_phase() {
	local ns=$1 walked=$2 hf0 m0 b0 i start
	hf0=$(proc_ticks "$HF_HOSTFLOWD_PID")
	m0=$(proc_ticks "$HF_SNMPD_PID")
	b0=$(proc_ticks "$BUILTIN_PID")
	start=${EPOCHREALTIME/./}
	for ((i = 1; i <= CPU_WINDOW; i++)); do
		if ((walked)); then
			_in_ns "$ns" _walk_loop "$HF_SNMP_PORT" 1 "$BULK_REPS" >/dev/null
			_in_ns "$ns" _walk_loop "$BUILTIN_PORT" 1 "$BULK_REPS" >/dev/null
		fi
		# Sleep to the next whole second of the window (a fixed schedule).
		local due=$((start + i * 1000000)) now=${EPOCHREALTIME/./}
		((due > now)) && sleep "$(awk -v d=$((due - now)) 'BEGIN {printf "%.6f", d / 1e6}')"
	done
	CPU_HF=$(ticks_to_s $(($(proc_ticks "$HF_HOSTFLOWD_PID") - hf0)))
	CPU_MASTER=$(ticks_to_s $(($(proc_ticks "$HF_SNMPD_PID") - m0)))
	CPU_BUILTIN=$(ticks_to_s $(($(proc_ticks "$BUILTIN_PID") - b0)))
	CPU_HFM=$(awk -v a="$CPU_HF" -v b="$CPU_MASTER" 'BEGIN {printf "%.2f", a + b}')
}

# The full set of measurements at the largest size, hostflowd attached.
snmp_at_max() {
	local ns=$1 ifs=$2 mem
	get_latency "$ns" "$HF_SNMP_PORT" hostflowd
	HF_LAT_MED=$LAT_MED HF_LAT_P99=$LAT_P99
	get_latency "$ns" "$BUILTIN_PORT" "snmpd built-in"
	row "A2 5-varbind GET, median, $ifs if (ms)" "$HF_LAT_MED" "built-in" "$LAT_MED" \
		"$(ratio "$HF_LAT_MED" "$LAT_MED")" "≤ 1.5" "$(verdict "$(ratio "$HF_LAT_MED" "$LAT_MED")" le 1.5)"
	row "A2 5-varbind GET, p99, $ifs if (ms)" "$HF_LAT_P99" "built-in" "$LAT_P99" \
		"$(ratio "$HF_LAT_P99" "$LAT_P99")" "" ""
	echo "  CPU: idle ${CPU_WINDOW} s"
	cpu_phase "$ns" 0
	row "A4 CPU idle ${CPU_WINDOW} s, $ifs if (s)" "$CPU_HF" "built-in" "$CPU_BUILTIN" \
		"$(ratio "$CPU_HF" "$CPU_BUILTIN")" "" ""
	row "A4 CPU idle, hostflowd + its master (s)" "$CPU_HFM" "built-in" "$CPU_BUILTIN" \
		"$(ratio "$CPU_HFM" "$CPU_BUILTIN")" "" ""
	echo "  CPU: walked once a second for ${CPU_WINDOW} s"
	cpu_phase "$ns" 1
	row "A4 CPU walked 1/s for ${CPU_WINDOW} s, $ifs if (s)" "$CPU_HF" "built-in" "$CPU_BUILTIN" \
		"$(ratio "$CPU_HF" "$CPU_BUILTIN")" "" ""
	row "A4 CPU walked, hostflowd + its master (s)" "$CPU_HFM" "built-in" "$CPU_BUILTIN" \
		"$(ratio "$CPU_HFM" "$CPU_BUILTIN")" "" ""
	read -r HF_RSS HF_HWM <<<"$(proc_mem "$HF_HOSTFLOWD_PID")"
	note "A3 hostflowd VmRSS at $ifs interfaces: $(proc_mem_split "$HF_HOSTFLOWD_PID"); built-in snmpd: $(proc_mem_split "$BUILTIN_PID")"
	read -r B_RSS B_HWM <<<"$(proc_mem "$BUILTIN_PID")"
	mem=$(awk -v k="$HF_RSS" 'BEGIN {printf "%.2f", k / 1024}')
	row "A3 VmRSS after walks, $ifs if (MiB)" "$mem" "built-in" \
		"$(awk -v k="$B_RSS" 'BEGIN {printf "%.2f", k / 1024}')" \
		"$(ratio "$HF_RSS" "$B_RSS")" "hostflowd ≤ 8 MiB" "$(verdict "$mem" le 8)"
	row "A3 VmHWM, $ifs if (MiB)" "$(awk -v k="$HF_HWM" 'BEGIN {printf "%.2f", k / 1024}')" \
		"built-in" "$(awk -v k="$B_HWM" 'BEGIN {printf "%.2f", k / 1024}')" \
		"$(ratio "$HF_HWM" "$B_HWM")" "" ""
}

# One size: walks through the three agents (and everything else at the top size).
snmp_size() {
	local ns=$1 pairs=$2 is_max=$3 ifs last hf sub bi conf=$HF_DIR/hostflowd-snmp.conf
	ifs=$((2 * pairs + 1))
	last=$(kernel_indexes "$ns" | sort -n | tail -n 1)
	echo "== A: $ifs interfaces ($pairs veth pairs)"
	hf_wait_for 30 _agent_complete "$ns" "$BUILTIN_PORT" "$ifs" "$last" ||
		note "built-in snmpd did not show $ifs interfaces within 30 s"
	hf_conf "$conf" "polling_interval 0"
	if hf_hostflowd_start "$ns" "$conf" &&
		hf_wait_for 30 _agent_complete "$ns" "$HF_SNMP_PORT" "$ifs" "$last"; then
		hf=$(walk_median "$ns" "$HF_SNMP_PORT")
		((is_max)) && snmp_at_max "$ns" "$ifs"
	else
		note "hostflowd did not serve $ifs interfaces (see its log)"
		hf="n/a 0"
	fi
	hf_hostflowd_stop || note "hostflowd did not stop cleanly at $ifs interfaces"
	subagent_start "$ns"
	if hf_wait_for 30 _agent_complete "$ns" "$HF_SNMP_PORT" "$ifs" "$last"; then
		sub=$(walk_median "$ns" "$HF_SNMP_PORT")
		if ((is_max)); then
			get_latency "$ns" "$HF_SNMP_PORT" "net-snmp subagent"
			row "A2 5-varbind GET, median, $ifs if (ms)" "${HF_LAT_MED:-n/a}" \
				"net-snmp subagent" "$LAT_MED" "$(ratio "${HF_LAT_MED:-}" "$LAT_MED")" "" ""
			read -r S_RSS _ <<<"$(proc_mem "$SUB_PID")"
			row "A3 VmRSS after walks, $ifs if (MiB)" \
				"$(awk -v k="${HF_RSS:-0}" 'BEGIN {printf "%.2f", k / 1024}')" \
				"net-snmp subagent" "$(awk -v k="$S_RSS" 'BEGIN {printf "%.2f", k / 1024}')" \
				"$(ratio "${HF_RSS:-}" "$S_RSS")" "" ""
		fi
	else
		note "net-snmp subagent did not serve $ifs interfaces within 30 s"
		sub="n/a 0"
	fi
	hf_kill "$SUB_PID"
	bi=$(walk_median "$ns" "$BUILTIN_PORT")
	_walk_rows "$ifs" hostflowd "$hf" "net-snmp subagent" "$sub" built-in "$bi"
}

# Table rows for the walks of one size; row counts are checked, not assumed.
_walk_rows() {
	local ifs=$1 hfms hfrows subms subrows bims birows name val
	read -r hfms hfrows <<<"$3"
	read -r subms subrows <<<"$5"
	read -r bims birows <<<"$7"
	for name in hostflowd:$hfrows subagent:$subrows built-in:$birows; do
		val=${name#*:}
		((val == ifs)) || note "$ifs interfaces: a walk through ${name%%:*} returned $val ifName rows"
	done
	row "A1 bulkwalk ifXTable, $ifs if (ms)" "$hfms" "net-snmp subagent" "$subms" \
		"$(ratio "$hfms" "$subms")" "≤ 0.5" "$(verdict "$(ratio "$hfms" "$subms")" le 0.5)"
	row "A1 bulkwalk ifXTable, $ifs if (ms)" "$hfms" "built-in" "$bims" \
		"$(ratio "$hfms" "$bims")" "" ""
}

bench_snmp() {
	local ns=${HF_NS}s pairs have=0 max
	max=${SNMP_PAIRS##* }
	hf_ns_add "$ns" || return 1
	hf_snmpd_start "$ns" || {
		note "the AgentX master snmpd did not start: part A skipped"
		return 1
	}
	builtin_start "$ns"
	for pairs in $SNMP_PAIRS; do
		add_pairs "$ns" $((have + 1)) "$pairs" || {
			note "creating $pairs veth pairs failed"
			return 1
		}
		have=$pairs
		snmp_size "$ns" "$pairs" $((pairs == max))
	done
	note "A1: snmpbulkwalk -v2c -Cr$BULK_REPS (non-repeaters 0, max-repetitions $BULK_REPS) of ifXTable 1.3.6.1.2.1.31.1.1, median of $WALKS after one warm-up walk per agent (net-snmp's if-mib fills its cache on first use); wall time includes starting snmpbulkwalk, about $(client_overhead_ms "$ns" "$BUILTIN_PORT") ms (median snmpget of sysName.0)"
	note "A2: $GETS GETs of sysName.0, ifDescr.N, ifName.N, ifAlias.N, ifHighSpeed.N, N cycling over every ifIndex, one UDP socket (test/bench/snmplat.py, hand-encoded BER; the time includes Python's send/recv, the same for every agent)"
	hf_kill "$BUILTIN_PID"
	hf_snmpd_stop
	ip netns del "$ns" 2>/dev/null
	return 0
}
