# shellcheck shell=bash
# shellcheck disable=SC2086 # lists of numbers and cases are split on purpose
# Part E: the big host. A container host samples many veths (`sample ctr*`),
# and forwards between two interfaces: in0 (sampled, the packets' way in)
# and out0 (the uplink, sampled or not). How much of the forwarding rate
# does sampling cost, against the kernel's cheapest taps and no sampler, as
# the number of sampled interfaces grows (BENCH_BIG_SIZES, 1 10 100 1000:
# in0 and N-1 idle veths ctrNNNN, peers in a namespace of their own; "up"
# cases sample out0 as well)?
#
# Measured as C4 (bench_fwd.sh) does, so that the machine's drift cancels:
# two identical routers R and R2 blasted at the same moment by two senders
# pinned to one CPU, each path's cost its sender's CPU per packet S
# received, hostflowd's CPU per packet R forwarded added to R's. One
# repetition of one size is a chain: nothing, case 1, nothing, case 2, ...,
# nothing; each case's ratio is its R2/R cost ratio over the mean of the
# runs with nothing just before and just after it.
#
# Cases (BENCH_BIG_CASES; "up": out0 sampled too):
#   none            nothing in R in the middle run either (the A/A control)
#   pkt, pktup      hostflowd, `capture packet` (bound sockets up to 4
#                   sampled interfaces, one unbound socket beyond)
#   ebpf, ebpfup    hostflowd, `capture ebpf` (tc programs on every sampled
#                   interface, one ring buffer)
#   tap, tapup      no hostflowd: drop-all packet sockets bound to in0 (and
#                   out0), the kernel's cheapest packet-socket tap
#   bare, bareup    no hostflowd: a tc program returning at once on in0's
#                   (and out0's) ingress and egress, clsact (the floor of a
#                   tc capture); draw, drawup: the same drawing 1 in 100
#   look, lookup    the same finding the interface's rate in a hash map first
#                   (as hostflowd's program does), then drawing
#   xbare, xbareup, xdraw, xdrawup, xlook, xlookup   the same attached to tcx
#                   (kernel 6.6+)
#
#   BENCH_BIG_SIZES="1 10 100 1000"   BENCH_BIG_CASES="..."   BENCH_PAIR_SECONDS=5
#   BENCH_BIG_FLOOR_SIZES="1"   the sizes at which the floors (bare, draw, look)
#                               are measured: they sit on in0 and out0 only

BIG_RATE=100

# The namespaces of part E: a router pair as C4's, and P for the far ends
# of the idle veths.
big_setup() {
	FWD_T=${HF_NS}et FWD_R=${HF_NS}er FWD_S=${HF_NS}es
	FWD_T2=${HF_NS}eu FWD_R2=${HF_NS}ev FWD_S2=${HF_NS}ew
	BIG_P=${HF_NS}ep
	BIG_NOW=1
	_fwd_router "$FWD_T" "$FWD_R" "$FWD_S" || return 1
	_fwd_router "$FWD_T2" "$FWD_R2" "$FWD_S2" || return 1
	hf_ns_add "$BIG_P" || return 1
	hf_snmpd_start "$FWD_R" || return 1
	SFLOW_PORT=$((HF_SNMP_PORT + 4))
	SFLOW_STATE=$HF_DIR/sflow-big-state.json
	hf_bg "$FWD_R" "$HF_DIR/sflowcount-big.log" python3 "$BENCH_DIR/sflowcount.py" \
		127.0.0.1 "$SFLOW_PORT" "$SFLOW_STATE" 7200
	hf_wait_for 5 test -s "$SFLOW_STATE"
}

# big_grow N: in0 and N-1 idle veths ctrNNNN in R (all up, peers up in P).
big_grow() {
	local want=$1 i
	((want > BIG_NOW)) || return 0
	for ((i = BIG_NOW; i < want; i++)); do
		printf 'link add ctr%04d type veth peer name pe%04d netns %s\nlink set ctr%04d up\n' \
			"$i" "$i" "$BIG_P" "$i"
	done >"$HF_DIR/big-add.batch"
	for ((i = BIG_NOW; i < want; i++)); do printf 'link set pe%04d up\n' "$i"; done \
		>"$HF_DIR/big-up.batch"
	ip -n "$FWD_R" -batch "$HF_DIR/big-add.batch" && ip -n "$BIG_P" -batch "$HF_DIR/big-up.batch" ||
		return 1
	BIG_NOW=$want
}

_big_sampling() {
	grep -q "sampling $1 interfaces\?$" "$HF_DIR/hostflowd.log"
}

# hostflowd in R for CASE with N sampled veths (N+1 with the uplink), on CPU.
_big_hostflowd() {
	local case=$1 n=$2 cpu=$3 conf=$HF_DIR/hostflowd-big.conf capture=packet out="sample out0 off"
	[[ $case == ebpf* ]] && capture=ebpf
	[[ $case == *up ]] && out="sample out0 rate $BIG_RATE" n=$((n + 1))
	hf_conf "$conf" "collector 127.0.0.1 $SFLOW_PORT" "agent_address $FWD_R_IN" "sample lo off" \
		"$out" "sample in0 rate $BIG_RATE" "sample ctr* rate $BIG_RATE" "polling_interval 0" \
		"capture $capture"
	: >"$HF_DIR/hostflowd.log"
	hf_hostflowd_start "$FWD_R" "$conf" || return 1
	if ! hf_wait_for 60 _big_sampling "$n"; then
		note "E: hostflowd ($case) did not say 'sampling $n interfaces' within 60 s"
		return 1
	fi
	if [[ $capture == ebpf ]] && ! bench_attached "$n"; then
		note "E: hostflowd ($case) did not attach to $n interfaces within 300 s"
		return 1
	fi
	taskset -a -p -c "$cpu" "$HF_HOSTFLOWD_PID" >/dev/null || note "E: taskset failed"
	warm_up "E: hostflowd ($case)" $((BIG_RATE * 30)) fwd_blast "$FWD_S_IP" $((BIG_RATE * 30)) 100000
}

# What the middle run has in R (see the header); CPU: the one the senders
# do not use.
big_start() {
	local case=$1 n=$2 cpu=$3 ifs=(in0) hook=clsact mode log=$HF_DIR/bigref.log
	BIG_REF=
	[[ $case == *up ]] && ifs+=(out0)
	case $case in
	none) return 0 ;;
	pkt* | ebpf*)
		_big_hostflowd "$case" "$n" "$cpu" || {
			hf_hostflowd_stop
			return 1
		}
		return 0
		;;
	tap*)
		: >"$log"
		hf_bg "$FWD_R" "$log" taskset -c "$cpu" python3 "$BENCH_DIR/tapdrop.py" \
			"${ifs[@]/#/bind=}" 600
		;;
	*bare* | *draw* | *look*)
		[[ $case == x* ]] && hook=tcx
		mode=bare
		[[ $case == *draw* ]] && mode=draw
		[[ $case == *look* ]] && mode=lookup
		: >"$log"
		hf_bg "$FWD_R" "$log" "$BENCH_OUT/tcfloor" "$mode" "$hook" 600 "${ifs[@]}"
		;;
	*)
		note "E: unknown case $case"
		return 1
		;;
	esac
	BIG_REF=$HF_LAST_PID
	hf_wait_for 5 _tap_ready "$log" || {
		note "E: $case did not start: $(tail -n 1 "$log")"
		hf_kill "$BIG_REF"
		BIG_REF=
		return 1
	}
}

big_stop() {
	case $1 in
	pkt* | ebpf*) bench_hostflowd_stop || note "E: hostflowd ($1) did not stop cleanly" ;;
	none) ;;
	*) [[ -n $BIG_REF ]] && hf_kill "$BIG_REF" ;;
	esac
	BIG_REF=
}

# One repetition at N sampled veths: the chain of the header, senders on
# CPU $2.
big_measure() {
	local n=$1 cpu=$2 other=$((1 - $2)) c prev mid next
	prev=$(fwd_pair_run "$cpu")
	for c in $BIG_CASES; do
		# A floor is a program on in0 (and out0) alone: the idle veths
		# do not change it, so it is measured at BIG_FLOOR_SIZES only.
		if [[ $c =~ bare|draw|look ]] && [[ " $BIG_FLOOR_SIZES " != *" $n "* ]]; then
			continue
		fi
		if ! big_start "$c" "$n" "$other"; then
			note "E $n $c: not measured (start failed)"
			continue
		fi
		mid=$(fwd_pair_run "$cpu")
		big_stop "$c"
		next=$(fwd_pair_run "$cpu")
		BIG_R["$n $c"]+=" $(awk -v m="${mid%% *}" -v a="${prev%% *}" -v b="${next%% *}" \
			'BEGIN {printf "%.4f", m / ((a + b) / 2)}')"
		BIG_HF["$n $c"]+=" $(echo "$mid" | cut -d' ' -f4)"
		# The kernel's share alone: R2's cost over R's without
		# hostflowd's CPU, against the same before and after.
		BIG_K["$n $c"]+=" $(awk -v m="$mid" -v a="${prev%% *}" -v b="${next%% *}" \
			'BEGIN {split(m, f, " "); printf "%.4f", (f[3] / f[2]) / ((a + b) / 2)}')"
		BIG_LOAD["$n $c"]+=" $(cut -d' ' -f1 /proc/loadavg)"
		echo "  E $n $c (senders on CPU $cpu): R2/R $mid vs ${prev%% *} before, ${next%% *} after (load $(cut -d' ' -f1 /proc/loadavg))"
		prev=$next
	done
}

_big_what() {
	case $1 in
	none) echo "nothing started (A/A control)" ;;
	pkt) echo "hostflowd, packet sockets" ;;
	ebpf) echo "hostflowd, tc eBPF capture" ;;
	tap) echo "drop-all packet sockets bound to the sampled interfaces crossed" ;;
	bare) echo "floor: a bare tc program (clsact) on the interfaces crossed" ;;
	draw) echo "floor: a tc program (clsact) that only draws 1 in $BIG_RATE" ;;
	xbare) echo "floor: a bare tc program (tcx)" ;;
	xdraw) echo "floor: a tcx program that only draws 1 in $BIG_RATE" ;;
	look) echo "floor: a tc program (clsact) that finds the rate in a hash map and draws" ;;
	xlook) echo "floor: a tcx program that finds the rate in a hash map and draws" ;;
	*) echo "$1" ;;
	esac
}

_big_rows() {
	local n c m up base what tgt v gap
	for n in $BIG_SIZES; do
		for c in $BIG_CASES; do
			[[ -n ${BIG_R["$n $c"]:-} ]] || continue
			m=$(median ${BIG_R["$n $c"]:-})
			up="uplink not sampled"
			base=${c%up}
			[[ $c == *up ]] && up="uplink sampled"
			what=$(_big_what "$base")
			tgt="" v=""
			if [[ $c == ebpfup ]]; then
				tgt="≥ 0.93 (b)" v=$(verdict "$m" ge 0.93)
			elif [[ $c == ebpf || $c == pkt ]]; then
				gap=$(awk -v t="$(median ${BIG_R["$n tap"]:-})" -v h="$m" \
					'BEGIN {if (t == "n/a" || h == "n/a") print "n/a"; else printf "%.1f", (t - h) * 100}')
				tgt="taps - this ≤ 1.5 points (a): $gap"
				[[ $c == ebpf ]] && v=$(verdict "$gap" le 1.5)
			fi
			row "E $n sampled veths, $up: $what (cost ratio R2/R, to nothing before+after)" \
				"$m" "" "" "$m" "$tgt" "$v"
			note "E $n $c per-repetition ratios:${BIG_R["$n $c"]:- none} (kernel path only, without hostflowd's CPU:${BIG_K["$n $c"]:- none}, median $(median ${BIG_K["$n $c"]:-}); hostflowd ns per forwarded packet:${BIG_HF["$n $c"]:- none}; load${BIG_LOAD["$n $c"]:- none})"
		done
	done
}

bench_bighost() {
	local rep n
	BIG_SIZES=${BENCH_BIG_SIZES:-1 10 100 1000}
	[[ -n ${BENCH_QUICK:-} && -z ${BENCH_BIG_SIZES:-} ]] && BIG_SIZES="1 100"
	BIG_CASES=${BENCH_BIG_CASES:-none pkt pktup ebpf ebpfup tap tapup xbare xbareup xdraw xdrawup bare bareup}
	BIG_FLOOR_SIZES=${BENCH_BIG_FLOOR_SIZES:-${BIG_SIZES%% *}}
	PAIR_SECONDS=${BENCH_PAIR_SECONDS:-5}
	declare -gA BIG_R=() BIG_HF=() BIG_LOAD=() BIG_K=()
	blast_build || return 1
	cc -O2 -Wall -Wextra -o "$BENCH_OUT/tcfloor" "$BENCH_DIR/tcfloor.c" -lbpf || return 1
	big_setup || {
		note "part E setup failed (namespaces, routes, master snmpd or collector)"
		return 1
	}
	for n in $BIG_SIZES; do
		big_grow "$n" || {
			note "E: cannot make $n veths"
			return 1
		}
		for ((rep = 1; rep <= REPS; rep++)); do
			echo "== E: $n sampled veths, repetition $rep of $REPS (load $(cut -d' ' -f1-3 /proc/loadavg))"
			big_measure "$n" $((rep % 2))
		done
	done
	_big_rows
	note "E: router R forwards T→S (in0 → out0) with N-1 idle veths in R matched by the same \`sample ctr*\`, hostflowd at 1:$BIG_RATE; C4's design: two routers blasted at once for $PAIR_SECONDS s by senders pinned to one CPU, hostflowd and the references on the other, hostflowd's CPU per forwarded packet counted in R's cost; medians of $REPS repetitions; load average at the end of part E: $(cut -d' ' -f1-3 /proc/loadavg)"
	hf_snmpd_stop
	return 0
}
