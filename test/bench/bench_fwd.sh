# shellcheck shell=bash
# shellcheck disable=SC2086 # lists of numbers are split on purpose
# Part C: the sampler on a router, and what a sample costs. Three namespaces:
# T (sender) -- in0/tx0 -- R (router, hostflowd, snmpd, collector) --
# out0/sx0 -- S (receiver). hostflowd samples R's ingress in0 only.
#
# C1: packets per second R forwards (S's rx_packets over the unpaced run)
#     with sampling on (1:100, with and without a filter) against the mean
#     of the same run unsampled just before and just after.
# C3: the same as C1 with no hostflowd but test/bench/tapdrop.py in R: one
#     unbound ETH_P_ALL socket with a drop-all program (the shape of
#     hostflowd's capture socket), and the same with PACKET_IGNORE_OUTGOING:
#     the kernel's cost of the tap itself, on the ingress and transmit paths.
# C2: the sampler's CPU per flow sample (schedstat of every thread over a
#     paced run, divided by the samples the collector counted), one case at a
#     time: host traffic (to R itself), host traffic with a `filter`,
#     forwarded traffic to one destination (one route lookup, then the
#     cache), forwarded traffic to 65536 destinations (the 4096-entry cache
#     misses: about one RTM_GETROUTE per sample).
#
#   BENCH_FWD_OLD=PATH   C1 also for another hostflowd binary (case "old":
#                        `sample in0 rate N` only, which every version
#                        reads), measured in the same repetitions: an A/B of
#                        two versions on the same machine at the same time.
#   BENCH_FWD_ONLY="sampled old tc pair"  these C1/C3/C4 cases only, no C2.
#   BENCH_PAIR_SECONDS=N  the length of one C4 run (5 s)
#
# C4: C1 with the machine's drift cancelled: two identical routers side by
#     side (T-R-S, and T2-R2-S2 with the same addresses in their own
#     namespaces), blasted at the same time for PAIR_SECONDS by two senders
#     sharing one CPU (taskset), so that whatever the other tenants take in
#     that moment they take from both. On veths each packet's forwarding
#     runs in its sender's context, and this kernel does not set softirq
#     time apart (no IRQ_TIME_ACCOUNTING): a sender's CPU time per packet
#     received is its path's whole cost. hostflowd (and the test collector)
#     run on the other CPU; hostflowd's CPU per packet R forwarded is added
#     to R's cost. Ratio = R2's cost / R's, against the mean of the same
#     ratio unsampled just before and just after; the senders' CPU swaps
#     every repetition. Case "pair"; "pairtap", "pairbound", "pairtc": the
#     references of C3 (and the drop-all socket bound to in0); "pairnone":
#     nothing started in the middle run (the A/A control).
#
# C3 tc: instead of a socket, a tc ingress classifier on in0 running the same
#     1-in-100 random draw in classic BPF (tc's `bpf bytecode`), matching
#     nothing: what the kernel's cheapest per-packet hook costs, for
#     comparison with a packet socket's tap.

FWD_T_IP=198.19.1.1
FWD_R_IN=198.19.1.2
FWD_R_OUT=198.19.2.1
FWD_S_IP=198.19.2.2
# Forwarded destinations: S's address, or 65536 addresses routed to S
# (S does not forward: it counts them in rx_packets and drops them).
FWD_MANY=198.19.128.0
FWD_RATE=${BENCH_FWD_RATE:-100}
FWD_FILTER='not udp port 41641'

fwd_rx() {
	ip netns exec "$FWD_S" cat /sys/class/net/sx0/statistics/rx_packets
}

# fwd_blast DST COUNT PPS [NDST]: "SENT ELAPSED_NS"
fwd_blast() {
	blast_from "$FWD_T" "$1" "$2" "$3" 18 "${4:-1}"
}

# Forwarded packets per second (S's rx_packets) of one unpaced run.
fwd_pps() {
	local r0 r1 sent ns
	r0=$(fwd_rx)
	read -r sent ns <<<"$(fwd_blast "$FWD_S_IP" "$MAX_PKTS" 0)"
	r1=$(fwd_rx)
	awk -v p=$((r1 - r0)) -v ns="$ns" 'BEGIN {printf "%.0f", p / (ns / 1e9)}'
}

# _fwd_router T R S: sender T -- tx0/in0 -- router R -- out0/sx0 -- S, the
# addresses and routes above, and a never-read socket in S.
_fwd_router() {
	local t=$1 r=$2 s=$3
	hf_ns_add "$t" && hf_ns_add "$r" && hf_ns_add "$s" || return 1
	hf_ns_quiet "$t" && hf_ns_quiet "$r" && hf_ns_quiet "$s" || return 1
	hf_veth "$t" tx0 "$r" in0 && hf_veth "$r" out0 "$s" sx0 || return 1
	hf_neigh "$t" tx0 "$FWD_T_IP" "$r" in0 "$FWD_R_IN" || return 1
	hf_neigh "$r" out0 "$FWD_R_OUT" "$s" sx0 "$FWD_S_IP" || return 1
	ip -n "$t" route add default via "$FWD_R_IN" || return 1
	ip -n "$s" route add default via "$FWD_R_OUT" || return 1
	ip -n "$r" route add "$FWD_MANY/17" via "$FWD_S_IP" || return 1
	# No ICMP back from R or S: redirects off, unreachables rate-limited anyway.
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.in0.send_redirects=0 || return 1
	_fwd_sink "$s" "$FWD_S_IP"
}

# A socket never read: what arrives ends in its full receive buffer.
_fwd_sink() {
	hf_bg "$1" "$HF_DIR/sink-$1.log" python3 -c \
		"import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,4096); s.bind(('$2',$SINK_PORT)); time.sleep(3600)"
}

fwd_setup() {
	FWD_T=${HF_NS}ft
	FWD_R=${HF_NS}fr
	FWD_S=${HF_NS}fs
	_fwd_router "$FWD_T" "$FWD_R" "$FWD_S" || return 1
	hf_snmpd_start "$FWD_R" || return 1
	SFLOW_PORT=$((HF_SNMP_PORT + 3))
	SFLOW_STATE=$HF_DIR/sflow-fwd-state.json
	hf_bg "$FWD_R" "$HF_DIR/sflowcount-fwd.log" python3 "$BENCH_DIR/sflowcount.py" \
		127.0.0.1 "$SFLOW_PORT" "$SFLOW_STATE" 3600
	FWD_COLLECTOR_PID=$HF_LAST_PID
	# The host case's traffic ends in R's never-read socket.
	_fwd_sink "$FWD_R" "$FWD_R_IN"
	hf_wait_for 5 test -s "$SFLOW_STATE"
}

# fwd_start CASE: hostflowd in R sampling in0 as CASE needs; ready when a
# warm-up burst gives flow samples.
fwd_start() {
	local case=$1 conf=$HF_DIR/hostflowd-fwd.conf sample="sample in0 rate $FWD_RATE"
	local bin=$HF_BIN lo="sample lo off"
	[[ $case == *filter* ]] && sample+=" filter \"$FWD_FILTER\""
	[[ $case == old ]] && bin=$BENCH_FWD_OLD lo="# no patterns in every version"
	hf_conf "$conf" "collector 127.0.0.1 $SFLOW_PORT" "agent_address $FWD_R_IN" \
		"$lo" "$sample" "polling_interval 0"
	HF_BIN=$bin hf_hostflowd_start "$FWD_R" "$conf" || return 1
	SAMPLER_PID=$HF_HOSTFLOWD_PID
	warm_up "C: hostflowd ($case)" $((FWD_RATE * 30)) fwd_blast "$FWD_S_IP" $((FWD_RATE * 30)) 100000
}

# C1 for one case (sampled or sampled+filter): the ratio to the mean of the
# unsampled runs just before and just after (the load drifts both ways).
fwd_measure_pps() {
	local case=$1 before after pps
	before=$(fwd_pps)
	fwd_start "$case" || {
		hf_hostflowd_stop
		return 1
	}
	pps=$(fwd_pps)
	hf_hostflowd_stop || note "C: hostflowd ($case) did not stop cleanly"
	after=$(fwd_pps)
	_fwd_record "$case" "$pps" "$before" "$after"
	echo "  C1 $case: forwarded pkt/s $pps vs unsampled $before before, $after after (load $(cut -d' ' -f1 /proc/loadavg))"
}

# tapdrop.py's log LOG says its program is attached.
_tap_ready() {
	grep -q '^ready' "$1"
}

# ld random; mod #rate; jeq #0 ? match : no match (a match has no action).
_tc_random() {
	echo "5,32 0 0 4294963256,148 0 0 $FWD_RATE,21 0 1 0,6 0 0 4294967295,6 0 0 0"
}

# A reference in R in place of hostflowd (C3, C4): tapdrop.py unbound (tap),
# with PACKET_IGNORE_OUTGOING (tapnoout), bound to in0 (bound), on CPUS; or
# the tc classifier (tc). Sets REF_PID.
_ref_start() {
	local log=$HF_DIR/tapdrop.log arg=()
	REF_PID=
	if [[ $1 == tc ]]; then
		ip netns exec "$FWD_R" tc qdisc add dev in0 clsact &&
			ip netns exec "$FWD_R" tc filter add dev in0 ingress bpf bytecode "$(_tc_random)" || {
			ip netns exec "$FWD_R" tc qdisc del dev in0 clsact 2>/dev/null
			return 1
		}
		return 0
	fi
	[[ $1 == tapnoout ]] && arg=(ignore-outgoing)
	[[ $1 == bound ]] && arg=(bind=in0)
	: >"$log"
	hf_bg "$FWD_R" "$log" taskset -c "$2" python3 "$BENCH_DIR/tapdrop.py" "${arg[@]}" 300
	REF_PID=$HF_LAST_PID
	hf_wait_for 5 _tap_ready "$log" || {
		hf_kill "$REF_PID"
		return 1
	}
}

_ref_stop() {
	if [[ $1 == tc ]]; then
		ip netns exec "$FWD_R" tc qdisc del dev in0 clsact
	else
		hf_kill "$REF_PID"
	fi
}

# _fwd_record CASE VALUE BEFORE AFTER: VALUE against the mean of the runs
# just before and just after (the load drifts both ways).
_fwd_record() {
	local base
	base=$(awk -v a="$3" -v b="$4" 'BEGIN {printf "%.6g", (a + b) / 2}')
	FWD_PPS[$1]+=" $2"
	FWD_BASE[$1]+=" $base"
	FWD_PPSR[$1]+=" $(ratio "$2" "$base")"
	FWD_LOAD[$1]+=" $(cut -d' ' -f1 /proc/loadavg)"
}

fwd_measure_tap() {
	local mode=$1 before after pps
	before=$(fwd_pps)
	_ref_start "$mode" 0,1 || return 1
	pps=$(fwd_pps)
	_ref_stop "$mode"
	after=$(fwd_pps)
	_fwd_record "$mode" "$pps" "$before" "$after"
	echo "  C3 $mode: forwarded pkt/s $pps vs no socket $before before, $after after (load $(cut -d' ' -f1 /proc/loadavg))"
}

# The second router for C4: the same addresses and routes as fwd_setup's,
# no snmpd, no hostflowd, no collector.
fwd_setup_pair() {
	FWD_T2=${HF_NS}gt
	FWD_R2=${HF_NS}gr
	FWD_S2=${HF_NS}gs
	_fwd_router "$FWD_T2" "$FWD_R2" "$FWD_S2"
}

# _pair_blast NS CPU OUT: one of C4's senders, in the background, on CPU.
_pair_blast() {
	taskset -c "$2" ip netns exec "$1" "$BLAST" "$FWD_S_IP" "$SINK_PORT" 1000000000 \
		"$PAIR_SECONDS" >"$3" &
}

_cpu_ns_of() {
	sed -n 's/.* cpu_ns=\([0-9]*\).*/\1/p' "$1"
}

# One C4 run, both senders on CPU $1: "RATIO R_NS R2_NS HF_NS", RATIO the
# cost per packet of R2's path over R's, R's with hostflowd's CPU in it, the
# costs the senders' CPU time per packet S received (the forwarding runs in
# their context), HF_NS hostflowd's CPU per packet R forwarded.
fwd_pair_run() {
	local a0 a1 b0 b1 h0=0 h1=0 pa pb oa=$HF_DIR/pair-a.out ob=$HF_DIR/pair-b.out
	a0=$(fwd_rx)
	b0=$(ip netns exec "$FWD_S2" cat /sys/class/net/sx0/statistics/rx_packets)
	[[ -n ${HF_HOSTFLOWD_PID:-} ]] && h0=$(proc_ns "$HF_HOSTFLOWD_PID")
	_pair_blast "$FWD_T" "$1" "$oa"
	pa=$!
	_pair_blast "$FWD_T2" "$1" "$ob"
	pb=$!
	wait "$pa" "$pb"
	[[ -n ${HF_HOSTFLOWD_PID:-} ]] && h1=$(proc_ns "$HF_HOSTFLOWD_PID")
	a1=$(fwd_rx)
	b1=$(ip netns exec "$FWD_S2" cat /sys/class/net/sx0/statistics/rx_packets)
	awk -v ca="$(_cpu_ns_of "$oa")" -v cb="$(_cpu_ns_of "$ob")" -v pa=$((a1 - a0)) \
		-v pb=$((b1 - b0)) -v h=$((h1 - h0)) 'BEGIN {
		if (pa <= 0 || pb <= 0 || ca <= 0 || cb <= 0) { print "n/a"; exit }
		r = ca / pa; r2 = cb / pb; hf = h / pa
		printf "%.4f %.1f %.1f %.1f\n", r2 / (r + hf), r, r2, hf }'
}

# What C4's middle run has in R, started on CPU $2: hostflowd (pair), C3's
# references (pairtap: the unbound drop-all socket; pairbound: the same
# bound to in0, the shape of hostflowd's socket when it samples up to
# CAPTURE_BOUND_MAX interfaces; pairtc: the tc classifier), or nothing.
_pair_start() {
	case $1 in
	pair)
		fwd_start sampled || {
			hf_hostflowd_stop
			return 1
		}
		{ taskset -a -p -c "$2" "$HF_HOSTFLOWD_PID" &&
			taskset -a -p -c "$2" "$FWD_COLLECTOR_PID"; } >/dev/null || note "C4: taskset failed"
		;;
	pairtap | pairbound | pairtc) _ref_start "${1#pair}" "$2" ;;
	esac
}

_pair_stop() {
	case $1 in
	pair)
		hf_hostflowd_stop || note "C4: hostflowd did not stop cleanly"
		taskset -a -p -c 0,1 "$FWD_COLLECTOR_PID" >/dev/null
		;;
	pairtap | pairbound | pairtc) _ref_stop "${1#pair}" ;;
	esac
}

# C4 for one case in one repetition: hostflowd, a reference or nothing (see
# _pair_start) in R during the middle run; both senders on CPU $2, hostflowd and the test
# collector on the other.
fwd_measure_pair() {
	local case=$1 cpu=$2 other=$((1 - $2)) before after mid
	before=$(fwd_pair_run "$cpu")
	_pair_start "$case" "$other" || return 1
	mid=$(fwd_pair_run "$cpu")
	_pair_stop "$case"
	after=$(fwd_pair_run "$cpu")
	_fwd_record "$case" "${mid%% *}" "${before%% *}" "${after%% *}"
	FWD_HF[$case]+=" $(echo "$mid" | cut -d' ' -f4)"
	echo "  C4 $case (senders on CPU $cpu): R2/R cost $mid (R ns, R2 ns, hostflowd ns per packet) vs ${before%% *} before, ${after%% *} after (load $(cut -d' ' -f1 /proc/loadavg))"
}

# C2 for one case: CPU ns per flow sample over a paced run.
fwd_measure_cpu() {
	local case=$1 dst=$FWD_S_IP ndst=1 f0 f1 c0 c1 sent ns per
	case $case in
	host*) dst=$FWD_R_IN ;;
	many) dst=$FWD_MANY ndst=65536 ;;
	esac
	fwd_start "$case" || {
		hf_hostflowd_stop
		return 1
	}
	f0=$(flows_seen)
	c0=$(proc_ns "$SAMPLER_PID")
	read -r sent ns <<<"$(fwd_blast "$dst" "$PACED_PKTS" "$PACED_PPS" "$ndst")"
	wait_flush
	c1=$(proc_ns "$SAMPLER_PID")
	f1=$(flows_seen)
	hf_hostflowd_stop || note "C: hostflowd ($case) did not stop cleanly"
	((f1 > f0)) || return 1
	per=$(awk -v t=$((c1 - c0)) -v f=$((f1 - f0)) 'BEGIN {printf "%.2f", t / 1e3 / f}')
	FWD_CPU[$case]+=" $per"
	FWD_FLOWS[$case]+=" $((f1 - f0))"
	FWD_LOAD[$case]+=" $(cut -d' ' -f1 /proc/loadavg)"
	echo "  C2 $case: $per µs per sample ($((f1 - f0)) samples of $sent packets, load $(cut -d' ' -f1 /proc/loadavg))"
}

_fwd_rows() {
	local c m base what
	for c in $FWD_C1_CASES; do
		m=$(median ${FWD_PPSR[$c]:-})
		what=
		[[ $c == filter ]] && what=" + filter"
		[[ $c == old ]] && what=", hostflowd $BENCH_FWD_OLD"
		row "C1 forwarded pkt/s, in0 sampled 1:$FWD_RATE$what (ratio: to unsampled)" \
			"$(median ${FWD_PPS[$c]:-})" "unsampled before+after" "$(median ${FWD_BASE[$c]:-})" \
			"$m" "≥ 0.97" "$(verdict "$m" ge 0.97)"
		note "C1 $c per-repetition ratios to the mean of the unsampled runs just before and after:${FWD_PPSR[$c]:- none} (load${FWD_LOAD[$c]:- none})"
	done
	for c in $FWD_C3_CASES; do
		m=$(median ${FWD_PPSR[$c]:-})
		what="a bare ETH_P_ALL drop-all socket, no hostflowd"
		[[ $c == tapnoout ]] && what+=", PACKET_IGNORE_OUTGOING"
		[[ $c == tc ]] && what="no socket: a tc ingress classic-BPF 1-in-$FWD_RATE draw on in0"
		row "C3 forwarded pkt/s, $what (ratio: to none)" "$(median ${FWD_PPS[$c]:-})" \
			"no socket before+after" "$(median ${FWD_BASE[$c]:-})" "$m" "" ""
		note "C3 $c per-repetition ratios:${FWD_PPSR[$c]:- none} (load${FWD_LOAD[$c]:- none})"
	done
	for c in $FWD_C4_CASES; do
		m=$(median ${FWD_PPSR[$c]:-})
		if [[ $c == pair ]]; then
			row "C4 two routers at once on one CPU: cost per packet R2/R, R's in0 sampled 1:$FWD_RATE, hostflowd's CPU counted in R's (ratio: to unsampled = the forwarding rate ratio)" \
				"$(median ${FWD_PPS[$c]:-})" "unsampled before+after" "$(median ${FWD_BASE[$c]:-})" \
				"$m" "≥ 0.97" "$(verdict "$m" ge 0.97)"
		else
			what="nothing started in the middle run (A/A control)"
			[[ $c == pairtap ]] && what="a bare unbound ETH_P_ALL drop-all socket, no hostflowd"
			[[ $c == pairbound ]] && what="the same socket bound to in0"
			[[ $c == pairtc ]] && what="no socket: the tc ingress classic-BPF 1-in-$FWD_RATE draw on in0"
			row "C4 the same, $what" "$(median ${FWD_PPS[$c]:-})" "before+after" \
				"$(median ${FWD_BASE[$c]:-})" "$m" "" ""
		fi
		note "C4 $c per-repetition ratios:${FWD_PPSR[$c]:- none} (hostflowd ns per forwarded packet:${FWD_HF[$c]:- none}; load${FWD_LOAD[$c]:- none})"
	done
	[[ -n ${BENCH_FWD_ONLY:-} ]] && return
	base=$(median ${FWD_CPU[host]:-})
	row "C2 sampler CPU per sample, host traffic (µs)" "$base" "" "" "" "" ""
	row "C2 sampler CPU per sample, host traffic + filter (µs)" "$(median ${FWD_CPU[hostfilter]:-})" \
		"host traffic" "$base" "$(ratio "$(median ${FWD_CPU[hostfilter]:-})" "$base")" "" ""
	row "C2 sampler CPU per sample, forwarded, 1 destination (cached) (µs)" \
		"$(median ${FWD_CPU[fwd]:-})" "host traffic" "$base" \
		"$(ratio "$(median ${FWD_CPU[fwd]:-})" "$base")" "" ""
	row "C2 sampler CPU per sample, forwarded, 65536 destinations (cache misses) (µs)" \
		"$(median ${FWD_CPU[many]:-})" "host traffic" "$base" \
		"$(ratio "$(median ${FWD_CPU[many]:-})" "$base")" "" ""
	for c in host hostfilter fwd many; do
		note "C2 $c µs per sample per repetition:${FWD_CPU[$c]:- none} (samples:${FWD_FLOWS[$c]:- none}; load${FWD_LOAD[$c]:- none})"
	done
}

bench_fwd() {
	local rep c
	FWD_C1_CASES="sampled filter${BENCH_FWD_OLD:+ old}"
	FWD_C3_CASES="tap tapnoout tc"
	FWD_C4_CASES="pair pairtap pairbound pairtc pairnone"
	PAIR_SECONDS=${BENCH_PAIR_SECONDS:-5}
	if [[ -n ${BENCH_FWD_ONLY:-} ]]; then
		FWD_C4_CASES=$(printf '%s\n' $BENCH_FWD_ONLY | grep -xE 'pair|pairtap|pairbound|pairtc|pairnone' | xargs)
		FWD_C1_CASES=$(printf '%s\n' $BENCH_FWD_ONLY | grep -xE 'sampled|filter|old' | xargs)
		FWD_C3_CASES=$(printf '%s\n' $BENCH_FWD_ONLY | grep -xE 'tap|tapnoout|tc' | xargs)
	fi
	declare -gA FWD_PPS=() FWD_BASE=() FWD_PPSR=() FWD_CPU=() FWD_FLOWS=() FWD_LOAD=() FWD_HF=()
	blast_build || return 1
	fwd_setup || {
		note "part C setup failed (namespaces, routes, master snmpd or collector)"
		return 1
	}
	if [[ -n $FWD_C4_CASES ]] && ! fwd_setup_pair; then
		note "C4: the second router could not be set up; C4 not measured"
		FWD_C4_CASES=
	fi
	for ((rep = 1; rep <= REPS; rep++)); do
		echo "== C: repetition $rep of $REPS (load $(cut -d' ' -f1-3 /proc/loadavg))"
		for c in $FWD_C1_CASES; do
			fwd_measure_pps "$c" || note "C1 $c, repetition $rep: not measured"
		done
		for c in $FWD_C3_CASES; do
			fwd_measure_tap "$c" || note "C3 $c, repetition $rep: not measured"
		done
		for c in $FWD_C4_CASES; do
			fwd_measure_pair "$c" $((rep % 2)) || note "C4 $c, repetition $rep: not measured"
		done
		[[ -n ${BENCH_FWD_ONLY:-} ]] && continue
		for c in host hostfilter fwd many; do
			fwd_measure_cpu "$c" || note "C2 $c, repetition $rep: not measured"
		done
	done
	_fwd_rows
	note "C: router R forwards T→S between two veths, hostflowd samples R's ingress in0 at 1:$FWD_RATE (filter \"$FWD_FILTER\" where named; no packet matches port 41641, so the filter only adds its cost); C1 $MAX_PKTS unpaced packets, C2 $PACED_PKTS at $PACED_PPS pkt/s; medians of $REPS repetitions; load average at the end of part C: $(cut -d' ' -f1-3 /proc/loadavg)"
	hf_snmpd_stop
	return 0
}
