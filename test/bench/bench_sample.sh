# shellcheck shell=bash
# shellcheck disable=SC2086 # lists of numbers are split on purpose
# Part S: the sampler's work per sample (issue 16), on a router of its own:
# T (sender) -- tx0/in0 -- R (router: hostflowd, snmpd, collector) --
# out0/sx0 -- S (receiver), hostflowd sampling R's ingress in0.
#
# S1: sampler CPU per flow sample, forwarded traffic at 1:$SAMPLE_RATE,
#     paced: to one destination, and cycling over 50,000 destinations of one
#     route (198.18.0.0/16 via S). The ratio of the two is what the route
#     lookups cost per destination (target: within 1.3x).
# S2: the drain rate. hostflowd samples in0 at rate 1 (every packet), pinned
#     to one CPU; the sender and the collector run on the other, unpaced, so
#     the ring never empties. Samples drained = packets in0 received less the
#     ring's drops (the drops field of the last flow sample: exact, and not
#     hurt if the collector falls behind). Per second of the sampler
#     threads' CPU time: what one core drains (target: 200,000 or more);
#     per second of wall time, with the share the ring dropped.
#
# The sampler's CPU is every thread but the main (agent) one (schedstat).
#
#   BENCH_SAMPLE_OLD=PATH   S1 and S2 for another hostflowd binary too, in
#                           the same repetitions (case "old"): before and
#                           after a change, measured side by side.

SAMPLE_RATE=${BENCH_SAMPLE_RATE:-10}
SAMPLE_NDST=50000
SAMPLE_DST_MANY=198.18.0.1    # .. 198.18.195.80, all in 198.18.0.0/16
SMP_T_IP=198.19.1.1
SMP_R_IN=198.19.1.2
SMP_S_IP=198.19.2.2

# Nanoseconds the sampler threads (every thread of PID but the main one)
# spent runnable but waiting for a CPU (schedstat's second field).
_smp_wait_ns() {
	local pid=$1 t total=0
	for t in /proc/"$pid"/task/*; do
		[[ ${t##*/} == "$pid" ]] && continue
		total=$((total + $(awk '{print $2}' "$t/schedstat" 2>/dev/null || echo 0)))
	done
	echo "$total"
}

smp_rx() {
	ip netns exec "$SMP_R" cat /sys/class/net/in0/statistics/rx_packets
}

# The drops field of the last flow sample the collector saw.
smp_drops() {
	jq -r '.last_drops' "$SFLOW_STATE" 2>/dev/null || echo 0
}

# smp_blast DST COUNT PPS [NDST]: "SENT ELAPSED_NS", the sender on CPU 0.
smp_blast() {
	blast_from -c 0 "$SMP_T" "$1" "$2" "$3" 18 "${4:-1}"
}

smp_setup() {
	SMP_T=${HF_NS}st
	SMP_R=${HF_NS}sr
	SMP_S=${HF_NS}ss
	_fwd_router "$SMP_T" "$SMP_R" "$SMP_S" || return 1
	ip -n "$SMP_R" route add 198.18.0.0/16 via "$SMP_S_IP" || return 1
	hf_snmpd_start "$SMP_R" || return 1
	SFLOW_PORT=$((HF_SNMP_PORT + 5))
	SFLOW_STATE=$HF_DIR/sflow-sample-state.json
	hf_bg "$SMP_R" "$HF_DIR/sflowcount-sample.log" taskset -c 0 python3 \
		"$BENCH_DIR/sflowcount.py" 127.0.0.1 "$SFLOW_PORT" "$SFLOW_STATE" 3600
	# Host traffic (S2) ends in R's never-read socket.
	_fwd_sink "$SMP_R" "$SMP_R_IN"
	hf_wait_for 5 test -s "$SFLOW_STATE"
}

# smp_start BIN RATE: hostflowd BIN in R sampling in0 1 in RATE; ready when
# a warm-up burst gives flow samples.
smp_start() {
	local bin=$1 rate=$2 conf=$HF_DIR/hostflowd-sample.conf
	hf_conf "$conf" "collector 127.0.0.1 $SFLOW_PORT" "agent_address $SMP_R_IN" \
		"sample lo off" "sample in0 rate $rate" "polling_interval 0"
	HF_BIN=$bin hf_hostflowd_start "$SMP_R" "$conf" || return 1
	warm_up "S: hostflowd $bin" $((rate * 30 + 100)) smp_blast "$SMP_S_IP" $((rate * 30 + 100)) 100000
}

# S1 for one binary and one kind of traffic (1 or many destinations).
smp_measure_cpu() {
	local case=$1 bin=$2 kind=$3 dst=$SMP_S_IP ndst=1 f0 f1 c0 c1 sent ns per
	[[ $kind == many ]] && dst=$SAMPLE_DST_MANY ndst=$SAMPLE_NDST
	smp_start "$bin" "$SAMPLE_RATE" || {
		hf_hostflowd_stop
		return 1
	}
	f0=$(flows_seen)
	c0=$(_thread_ns "$HF_HOSTFLOWD_PID")
	read -r sent ns <<<"$(smp_blast "$dst" "$PACED_PKTS" "$PACED_PPS" "$ndst")"
	wait_flush
	c1=$(_thread_ns "$HF_HOSTFLOWD_PID")
	f1=$(flows_seen)
	hf_hostflowd_stop || note "S1: hostflowd ($case $kind) did not stop cleanly"
	((f1 > f0)) || return 1
	per=$(awk -v t=$((c1 - c0)) -v f=$((f1 - f0)) 'BEGIN {printf "%.3f", t / 1e3 / f}')
	SMP_CPU[$case@$kind]+=" $per"
	SMP_FLOWS[$case@$kind]+=" $((f1 - f0))"
	SMP_LOAD[$case@$kind]+=" $(cut -d' ' -f1 /proc/loadavg)"
	echo "  S1 $case $kind: $per µs per sample ($((f1 - f0)) samples of $sent packets, load $(cut -d' ' -f1 /proc/loadavg))"
}

# S2 for one binary: rate 1, unpaced, hostflowd alone on CPU 1.
smp_measure_drain() {
	local case=$1 bin=$2 r0 r1 d0 d1 c0 c1 w0 w1 sent ns drained cpu_rate wall_rate lost
	smp_start "$bin" 1 || {
		hf_hostflowd_stop
		return 1
	}
	taskset -a -p -c 1 "$HF_HOSTFLOWD_PID" >/dev/null || note "S2: taskset failed"
	d0=$(smp_drops)
	r0=$(smp_rx)
	c0=$(_thread_ns "$HF_HOSTFLOWD_PID")
	w0=$(_smp_wait_ns "$HF_HOSTFLOWD_PID")
	read -r sent ns <<<"$(smp_blast "$SMP_R_IN" "$MAX_PKTS" 0)"
	w1=$(_smp_wait_ns "$HF_HOSTFLOWD_PID")
	wait_flush
	c1=$(_thread_ns "$HF_HOSTFLOWD_PID")
	r1=$(smp_rx)
	d1=$(smp_drops)
	hf_hostflowd_stop || note "S2: hostflowd ($case) did not stop cleanly"
	drained=$((r1 - r0 - (d1 - d0)))
	((drained > 0 && c1 > c0)) || return 1
	cpu_rate=$(awk -v d="$drained" -v t=$((c1 - c0)) 'BEGIN {printf "%.0f", d / (t / 1e9)}')
	wall_rate=$(awk -v d="$drained" -v t="$ns" 'BEGIN {printf "%.0f", d / (t / 1e9)}')
	lost=$(awk -v l=$((d1 - d0)) -v r=$((r1 - r0)) 'BEGIN {printf "%.3f", l / r}')
	SMP_DRAIN[$case]+=" $cpu_rate"
	SMP_WALL[$case]+=" $wall_rate"
	SMP_LOST[$case]+=" $lost"
	SMP_WAITED[$case]+=" $(awk -v w=$((w1 - w0)) -v t="$ns" 'BEGIN {printf "%.2f", w / t}')"
	SMP_LOAD[$case@drain]+=" $(cut -d' ' -f1 /proc/loadavg)"
	echo "  S2 $case: $drained samples drained of $((r1 - r0)) received in $((ns / 1000000)) ms; $cpu_rate per CPU-second, $wall_rate per second, ring dropped $lost, the sampler waited for a CPU $(((w1 - w0) / 1000000)) ms (load $(cut -d' ' -f1 /proc/loadavg))"
}

_smp_rows() {
	local c k one many r what
	for c in $SMP_CASES; do
		what=
		[[ $c == old ]] && what=", hostflowd $BENCH_SAMPLE_OLD"
		one=$(median ${SMP_CPU[$c@one]:-})
		many=$(median ${SMP_CPU[$c@many]:-})
		row "S1 sampler CPU per sample, forwarded, 1 destination, 1:$SAMPLE_RATE$what (µs)" \
			"$one" "" "" "" "" ""
		r=$(ratio "$many" "$one")
		row "S1 sampler CPU per sample, forwarded, $SAMPLE_NDST destinations, 1:$SAMPLE_RATE$what (µs)" \
			"$many" "1 destination" "$one" "$r" "≤ 1.3" "$(verdict "$r" le 1.3)"
		for k in one many; do
			note "S1 $c $k µs per sample per repetition:${SMP_CPU[$c@$k]:- none} (samples:${SMP_FLOWS[$c@$k]:- none}; load${SMP_LOAD[$c@$k]:- none})"
		done
		r=$(median ${SMP_DRAIN[$c]:-})
		row "S2 drain rate at rate 1, samples per second of the sampler's CPU$what" \
			"$r" "" "" "" "≥ 200000" "$(verdict "$r" ge 200000)"
		row "S2 drain rate at rate 1, samples per second of wall time (ring dropped: share of received)$what" \
			"$(median ${SMP_WALL[$c]:-})" "" "" "$(median ${SMP_LOST[$c]:-})" "" ""
		note "S2 $c per repetition: per CPU-second${SMP_DRAIN[$c]:- none}; per second${SMP_WALL[$c]:- none}; ring dropped${SMP_LOST[$c]:- none}; share of the blast the sampler was runnable but waiting for its CPU${SMP_WAITED[$c]:- none} (load${SMP_LOAD[$c@drain]:- none})"
	done
}

bench_sample() {
	local rep c bin
	SMP_CASES="new${BENCH_SAMPLE_OLD:+ old}"
	declare -gA SMP_CPU=() SMP_FLOWS=() SMP_LOAD=() SMP_DRAIN=() SMP_WALL=() SMP_LOST=() SMP_WAITED=()
	blast_build || return 1
	smp_setup || {
		note "part S setup failed (namespaces, routes, master snmpd or collector)"
		return 1
	}
	for ((rep = 1; rep <= REPS; rep++)); do
		echo "== S: repetition $rep of $REPS (load $(cut -d' ' -f1-3 /proc/loadavg))"
		for c in $SMP_CASES; do
			bin=$HF_BIN
			[[ $c == old ]] && bin=$BENCH_SAMPLE_OLD
			smp_measure_cpu "$c" "$bin" one || note "S1 $c one, repetition $rep: not measured"
			smp_measure_cpu "$c" "$bin" many || note "S1 $c many, repetition $rep: not measured"
			smp_measure_drain "$c" "$bin" || note "S2 $c, repetition $rep: not measured"
		done
	done
	_smp_rows
	note "S: router R forwards T→S, hostflowd samples R's ingress in0; S1 $PACED_PKTS UDP packets at $PACED_PPS pkt/s, 1 in $SAMPLE_RATE sampled, to $SMP_S_IP or cycling over $SAMPLE_NDST addresses from $SAMPLE_DST_MANY (one route); S2 $MAX_PKTS unpaced to R itself, every packet sampled, hostflowd on CPU 1, sender and collector on CPU 0; sampler CPU = every thread but the main one (schedstat); medians of $REPS repetitions; load average at the end of part S: $(cut -d' ' -f1-3 /proc/loadavg)"
	hf_snmpd_stop
	return 0
}
