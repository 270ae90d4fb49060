#!/usr/bin/env bash
# Half-started is not started (issue 15, item 5). Under `ulimit -n 30` with 16
# collectors hostflowd used to skip collectors, miss AgentX, have no capture,
# never send READY=1, and stay up until SIGTERM, then exit 0. Now, whatever
# RLIMIT_NOFILE it gets, it either stops at start (non-zero, STATUS= and the
# log say why and name the limit) or runs whole: READY=1, registered with
# snmpd, sampling, every collector open. Never silent, never half. Under
# both captures: tc eBPF opens its object, maps and ring at start and
# nothing later; packet sockets keep room for a swap's fresh sockets.
# hf-captures: ebpf packet
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hf_init fault_fds
hf_capture_init
A=${HF_NS}a
conf=$HF_DIR/hostflowd.conf
log=$HF_DIR/hostflowd.log
notes=$HF_DIR/notify.log
sock=$HF_DIR/notify.sock

hf_ns_add "$A" || hf_die "namespace"
hf_snmpd_start "$A" || hf_die "snmpd"
lines=("polling_interval 0" "sample lo rate 100")
for p in $(seq 7001 7016); do lines+=("collector 127.0.0.1 $p"); done
hf_conf "$conf" "${lines[@]}"
hf_notify_listen "$A" "$sock" "$notes" || hf_die "notify socket"

# run_with LIMIT: hostflowd under `ulimit -n LIMIT`; sets OUTCOME to
# "stopped STATUS" (gone, non-zero), "whole" (READY=1, registered, sampling,
# 16 collectors in STATUS=), or what else it saw.
status_has() { grep '^STATUS=' "$notes" | tail -n 1 | grep -qF -- "$1"; }
whole() {
	grep -q '^READY=1' "$notes" && status_has "registered with" && status_has "sampling 1 (lo" &&
		(($(grep '^STATUS=' "$notes" | tail -n 1 | grep -o 'sent [0-9]* err' | wc -l) == 16))
}
run_with() {
	local pid rc
	: >"$notes"
	: >"$log"
	hf_bg "$A" "$log" env NOTIFY_SOCKET="$sock" sh -c 'ulimit -n "$1" && exec "$2" -f -c "$3"' \
		sh "$1" "$HF_BIN" "$conf"
	pid=$HF_LAST_PID
	if ! hf_wait_for 10 eval '! kill -0 $pid 2>/dev/null || whole'; then
		OUTCOME="neither stopped nor whole in 10 s: $(grep '^STATUS=' "$notes" | tail -n 1)"
		hf_kill "$pid"
		return
	fi
	if kill -0 "$pid" 2>/dev/null; then
		OUTCOME=whole
		kill -TERM "$pid"
		hf_wait_for 10 eval '! kill -0 $pid 2>/dev/null'
		wait "$pid"
		rc=$?
		((rc == 0)) || OUTCOME="whole, but exit status $rc on SIGTERM"
		return
	fi
	wait "$pid"
	rc=$?
	OUTCOME="stopped $rc $(grep '^STATUS=cannot start' "$notes" | tail -n 1)"
}

# The issue's case: 30 descriptors, 16 collectors.
run_with 30
t_diag "ulimit -n 30: $OUTCOME"
t_check "ulimit -n 30, 16 collectors: exits non-zero" eval '[[ $OUTCOME == "stopped "[1-9]* ]]'
t_check "STATUS= says it cannot start, and why" eval '[[ $OUTCOME == *"STATUS=cannot start: "*"Too many open files"* ]]'
t_check "STATUS= names the limit to raise" eval '[[ $OUTCOME == *"RLIMIT_NOFILE 30: raise LimitNOFILE="* ]]'
t_check "the log says it too" grep -q "error: daemon: .*RLIMIT_NOFILE 30" "$log"
t_check "no READY=1" sh -c "! grep -q '^READY=1' '$notes'"

# Every limit from too few to enough: stopped and saying so, or whole.
seen_stop=0 seen_whole=0 bad=()
for n in $(seq 26 2 70); do
	run_with "$n"
	case $OUTCOME in
	"stopped "[1-9]*"STATUS=cannot start: "*) seen_stop=1 ;;
	whole) seen_whole=1 ;;
	*) bad+=("ulimit -n $n: $OUTCOME") ;;
	esac
	t_diag "ulimit -n $n: ${OUTCOME:0:160}"
done
t_check "under every limit from 26 to 70: stopped with STATUS=, or whole" eval '((${#bad[@]} == 0))'
for b in "${bad[@]}"; do t_diag "$b"; done
t_check "both outcomes were seen (the sweep crosses the need)" eval '((seen_stop && seen_whole))'
t_done
