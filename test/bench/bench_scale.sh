# shellcheck shell=bash
# shellcheck disable=SC2086 # lists of numbers are split on purpose
# Part D: hostflowd at 1, 100 and 1000 sampled interfaces (`sample ctr* rate
# 100` over N container-style veths ctrNNNN, peers peNNNN in a second
# namespace, made with ip -batch as test_sflow_many.sh does). Per size: fds,
# VmRSS (anon / file-backed), CPU while idle over CPU_WINDOW s (counter
# polls every 20 s, the default, included), and CPU per 10⁶ packets offered
# on one of the veths. CPU is split into the sampler thread (every thread
# but the main one) and the whole process.

SCALE_SIZES=${BENCH_SCALE_SIZES:-1 100 1000}
SCALE_A_IP=198.19.50.1
SCALE_B_IP=198.19.50.2

# CPU ns of every thread of PID except the main (agent) thread.
_thread_ns() {
	local pid=$1 t total=0
	for t in /proc/"$pid"/task/*; do
		[[ ${t##*/} == "$pid" ]] && continue
		total=$((total + $(awk '{print $1}' "$t/schedstat" 2>/dev/null || echo 0)))
	done
	echo "$total"
}

_scale_serving() {
	grep -q "sampling $1 interface" "$HF_DIR/hostflowd.log"
}

# scale_one N: one size, one hostflowd; appends rows.
scale_one() {
	local n=$1 a=${HF_NS}d$1 b=${HF_NS}e$1 i w conf=$HF_DIR/hostflowd-scale.conf pid
	local fds rss split s0 s1 p0 p1 f0 f1 sent idle_s idle_p tr_s tr_p la t0 t1
	hf_ns_add "$a" && hf_ns_add "$b" || return 1
	hf_ns_quiet "$a" && hf_ns_quiet "$b" || return 1
	w=${#n}
	((w < 4)) && w=4
	for i in $(seq 1 "$n"); do
		printf -v i "%0${w}d" "$i"
		echo "link add ctr$i type veth peer name pe$i netns $b"
		echo "link set ctr$i up"
	done >"$HF_DIR/scale-add.batch"
	for i in $(seq 1 "$n"); do
		printf -v i "%0${w}d" "$i"
		echo "link set pe$i up"
	done >"$HF_DIR/scale-up.batch"
	ip -n "$a" -batch "$HF_DIR/scale-add.batch" && ip -n "$b" -batch "$HF_DIR/scale-up.batch" || return 1
	printf -v i "%0${w}d" 1
	hf_neigh "$a" "ctr$i" "$SCALE_A_IP" "$b" "pe$i" "$SCALE_B_IP" || return 1
	hf_snmpd_start "$a" || return 1
	SFLOW_PORT=$((HF_SNMP_PORT + 4))
	SFLOW_STATE=$HF_DIR/sflow-scale-$n.json
	hf_bg "$a" "$HF_DIR/sflowcount-scale.log" python3 "$BENCH_DIR/sflowcount.py" \
		127.0.0.1 "$SFLOW_PORT" "$SFLOW_STATE" 3600
	local countpid=$HF_LAST_PID
	hf_bg "$a" "$HF_DIR/sink-scale.log" python3 -c \
		"import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,4096); s.bind(('$SCALE_A_IP',$SINK_PORT)); time.sleep(3600)"
	local sinkpid=$HF_LAST_PID
	hf_wait_for 5 test -s "$SFLOW_STATE" || return 1
	hf_conf "$conf" "collector 127.0.0.1 $SFLOW_PORT" "agent_address $SCALE_A_IP" \
		"sample lo off" "sample ctr* rate 100"
	: >"$HF_DIR/hostflowd.log"
	hf_hostflowd_start "$a" "$conf" || return 1
	pid=$HF_HOSTFLOWD_PID
	hf_wait_for 20 _scale_serving "$n" && bench_attached "$n" || {
		note "D $n: hostflowd did not log 'sampling $n interfaces' (or attach to them)"
		bench_hostflowd_stop
		return 1
	}
	# Warm-up: the capture is attached when a burst yields samples.
	f0=$(flows_seen)
	ip netns exec "$b" "$BLAST" "$SCALE_A_IP" "$SINK_PORT" 3000 "$BLAST_SECONDS" 100000 >/dev/null
	hf_wait_for 10 _flows_above "$f0" || note "D $n: no flow sample for the warm-up"
	wait_flush
	fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
	# Idle: nothing offered, counter polls of every interface every 20 s.
	la=$(cut -d' ' -f1 /proc/loadavg)
	s0=$(_thread_ns "$pid")
	p0=$(proc_ns "$pid")
	sleep "$CPU_WINDOW" # a measurement window, not a wait for a condition
	s1=$(_thread_ns "$pid")
	p1=$(proc_ns "$pid")
	idle_s=$(awk -v t=$((s1 - s0)) 'BEGIN {printf "%.3f", t / 1e9}')
	idle_p=$(awk -v t=$((p1 - p0)) 'BEGIN {printf "%.3f", t / 1e9}')
	# Traffic on one of the N interfaces, paced as in part B; the idle rate
	# (counter polls) over the same wall time is taken off.
	f0=$(flows_seen)
	t0=$(_hf_now_us)
	s0=$(_thread_ns "$pid")
	p0=$(proc_ns "$pid")
	read -r sent _ <<<"$(ip netns exec "$b" "$BLAST" "$SCALE_A_IP" "$SINK_PORT" "$PACED_PKTS" \
		"$BLAST_SECONDS" "$PACED_PPS" | sed 's/sent=//; s/elapsed_ns=//')"
	wait_flush
	s1=$(_thread_ns "$pid")
	p1=$(proc_ns "$pid")
	t1=$(_hf_now_us)
	f1=$(flows_seen)
	tr_s=$(awk -v t=$((s1 - s0)) -v s="$sent" -v i="$idle_s" -v w=$((t1 - t0)) -v c="$CPU_WINDOW" \
		'BEGIN {printf "%.3f", (t / 1e9 - i * (w / 1e6) / c) / (s / 1e6)}')
	tr_p=$(awk -v t=$((p1 - p0)) -v s="$sent" -v i="$idle_p" -v w=$((t1 - t0)) -v c="$CPU_WINDOW" \
		'BEGIN {printf "%.3f", (t / 1e9 - i * (w / 1e6) / c) / (s / 1e6)}')
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
	split=$(proc_mem_split "$pid")
	row "D $n sampled if: fds" "$fds" "" "" "" "" ""
	row "D $n sampled if: VmRSS after traffic (MiB)" "$(awk -v r="$rss" 'BEGIN {printf "%.2f", r / 1024}')" "" "" "" "" "$split"
	row "D $n sampled if: CPU idle ${CPU_WINDOW} s, sampler / process (s)" "$idle_s / $idle_p" "" "" "" "" "load $la"
	row "D $n sampled if: CPU per 10⁶ packets on one, 1:100, above idle, sampler / process (s)" "$tr_s / $tr_p" "" "" "" "" \
		"$((f1 - f0)) samples of $sent; load $(cut -d' ' -f1 /proc/loadavg)"
	echo "  D $n: $fds fds, VmRSS $rss kB ($split), idle $idle_s/$idle_p s, traffic $tr_s/$tr_p s/Mpkt"
	bench_hostflowd_stop || note "D $n: hostflowd did not stop cleanly"
	hf_kill "$sinkpid"
	hf_kill "$countpid"
	hf_snmpd_stop
	# Deleting a namespace removes its veths; the trap would too.
	ip netns del "$a"
	ip netns del "$b"
	return 0
}

bench_scale() {
	local n
	blast_build || return 1
	for n in $SCALE_SIZES; do
		echo "== D: $n sampled interfaces (load $(cut -d' ' -f1-3 /proc/loadavg))"
		scale_one "$n" || note "D $n sampled interfaces: not measured"
	done
	note "D: sample ctr* rate 100 over N veths (sample lo off, polling_interval 20, the default); fds from /proc/PID/fd; idle CPU over $CPU_WINDOW s with no traffic; traffic: $PACED_PKTS UDP packets at $PACED_PPS pkt/s through one of the N veths, CPU from the start of the burst until samples stop arriving, less the idle rate over that wall time; sampler = every thread but the main one; one run per size"
	return 0
}
