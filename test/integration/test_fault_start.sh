#!/usr/bin/env bash
# The daemon's life under faults at its edges:
#  - signals in the first milliseconds: a SIGHUP 0-50 ms after exec (to the
#    foreground daemon, and to the waiting parent of a detaching one) is a
#    reload, never a death; a SIGTERM then stops it cleanly with status 0,
#    also while start waits on a resolver that never answers (within 1 s);
#  - a sampler thread that ends on its own (poll() of more fds than
#    RLIMIT_NOFILE) ends the daemon with status 2 and says why.
# (Reload faults: test_fault_resolve.sh.)
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hf_init fault_start
A=${HF_NS}a
conf=$HF_DIR/hostflowd.conf
log=$HF_DIR/hostflowd.log
dns=$HF_DIR/dns.log

hf_ns_add "$A" || hf_die "namespace"
# Names answer after 300 ms; names starting with "never" are never answered.
hf_slowdns "$A" 300 || hf_die "slowdns did not start"
hf_snmpd_start "$A" || hf_die "snmpd"
# Start resolves this name (300 ms): a window in which signals used to kill.
hf_conf "$conf" "polling_interval 0" "collector slow.hf.test 6343"

# The pid runs hostflowd itself (ip netns exec has exec'd it).
_is_hostflowd() { [[ /proc/$1/exe -ef $HF_BIN ]]; }
_blocks_hup() {
	local k v
	while read -r k v; do
		[[ $k == SigBlk: ]] && { ((16#$v & 1)); return; }
	done <"/proc/$1/status"
	return 1
}
# exited_with PID STATUS: PID (our child) is gone with that exit status.
exited_with() {
	hf_wait_for 5 _hf_gone "$1" || return 1
	wait "$1"
	(($? == $2))
}
# start_then SIG OFFSET_S: starts hostflowd -f, spins (no fork) until its
# main() has blocked SIGHUP (what runs before main, the dynamic loader or an
# ASan runtime, is out of any program's reach: a signal then kills it), then
# sleeps OFFSET_S and sends SIG. The spin waits for that condition, 5 s at
# most: on a loaded machine main may come late, and a daemon that never
# blocks is still caught (the signal then kills it and the check fails).
main_by_us=5000000
start_then() {
	local sig=$1 off=$2 t pid
	hf_bg "$A" "$log" "$HF_BIN" -f -d -c "$conf"
	pid=$HF_LAST_PID
	HF_HOSTFLOWD_PID=$pid
	t=$(($(_hf_now_us) + 2000000))
	until _is_hostflowd "$pid" || (($(_hf_now_us) > t)); do :; done
	t=$(($(_hf_now_us) + main_by_us))
	until _blocks_hup "$pid" 2>/dev/null || (($(_hf_now_us) > t)); do :; done
	[[ $off == 0 ]] || sleep "$off"
	kill "-$sig" "$pid"
}

# --- SIGHUP during start: a reload, not a death ----------------------------------
for off in 0 0.005 0.010 0.020 0.035 0.050; do
	: >"$log"
	start_then HUP "$off"
	if hf_wait_for 10 _hf_hostflowd_serving; then
		t_ok "SIGHUP ${off}s after exec: alive and serving ifNumber.0"
	else
		t_fail "SIGHUP ${off}s after exec: alive and serving ifNumber.0" \
			"$(kill -0 "$HF_HOSTFLOWD_PID" 2>/dev/null && echo "not serving" ||
				{ wait "$HF_HOSTFLOWD_PID"; echo "exited with status $?"; })"
		HF_HOSTFLOWD_PID=
		continue
	fi
	t_check "SIGHUP ${off}s after exec: taken as a reload" \
		hf_wait_for 5 grep -q "configuration reloaded from" "$log"
	t_check "SIGHUP ${off}s after exec: SIGTERM then exits 0" hf_hostflowd_stop
done

# --- SIGTERM during start: a clean, quick stop -------------------------------------
for off in 0 0.005 0.010 0.025; do
	start_then TERM "$off"
	pid=$HF_HOSTFLOWD_PID
	HF_HOSTFLOWD_PID=
	t_check "SIGTERM ${off}s after exec: exits 0 within 5 s" exited_with "$pid" 0
done

# --- SIGTERM while start waits on a resolver that never answers ------------------------
hf_conf "$HF_DIR/never.conf" "polling_interval 0" "collector never-start.hf.test"
hf_bg "$A" "$log" "$HF_BIN" -f -c "$HF_DIR/never.conf"
pid=$HF_LAST_PID
hf_wait_for 5 grep -q "^q never-start.hf.test" "$dns"
t0=$(_hf_now_us)
kill -TERM "$pid"
if exited_with "$pid" 0; then
	ms=$((($(_hf_now_us) - t0) / 1000))
	t_check "SIGTERM while start waits on DNS: exit 0 within 1 s (took $ms ms)" test $ms -lt 1000
else
	t_fail "SIGTERM while start waits on DNS: exit 0" "not gone with status 0 within 5 s"
	hf_kill "$pid"
fi

# --- the detaching parent passes a SIGHUP on -----------------------------------------
# The signal goes to the parent once its main() has blocked SIGHUP, while it
# resolves (300 ms) before it forks the daemon and waits for its "OK": it
# stays pending and the waiting parent passes it on. A reload resolves the
# collector's name again, and each resolution asks slowdns for the name's A
# record once: the log counts the start and the reload.
pid_of() { pgrep -f -x "$HF_BIN -c $conf"; }
a_queries() { grep -c '^q slow.hf.test 1$' "$dns"; }
_queries_at_least() { (($(a_queries) >= $1)); }
q0=$(a_queries)
ip netns exec "$A" "$HF_BIN" -c "$conf" >"$HF_DIR/daemon.out" 2>&1 &
parent=$!
t=$(($(_hf_now_us) + 5000000))
until { _is_hostflowd "$parent" && _blocks_hup "$parent"; } 2>/dev/null || (($(_hf_now_us) > t)); do :; done
kill -HUP "$parent" 2>/dev/null
t_check "SIGHUP to the detaching parent during start: it exits 0" exited_with "$parent" 0
child=$(pid_of)
t_check "the detached daemon runs" sh -c "[ -n '$child' ] && kill -0 '$child'"
t_check "the detached daemon serves ifNumber.0" hf_wait_for 5 hf_snmp_val "$A" $OID_IFNUMBER
t_check "the parent passed the SIGHUP on: the daemon reloaded (resolved again)" \
	hf_wait_for 5 _queries_at_least $((q0 + 2))
if [[ -n $child ]]; then
	kill -TERM "$child"
	t_check "the detached daemon stops on SIGTERM" hf_wait_for 10 sh -c "! kill -0 $child 2>/dev/null"
fi

# --- a sampler thread that stops is not ignored ---------------------------------------
# 1100 sample lines under systemd's default soft limit of 1024 fds once made
# poll() fail (EINVAL) and the sampler's loop end; with one packet socket
# for every interface that cannot happen (test_sflow_many), so the thread's
# end is injected: HOSTFLOWD_FAULT=sampler-exit.
lines=("polling_interval 0" "collector 127.0.0.1 6343")
for i in $(seq 1100); do lines+=("sample nx$i"); done
hf_conf "$HF_DIR/many.conf" "${lines[@]}"
: >"$log"
hf_bg "$A" "$log" sh -c 'ulimit -n 1024 && exec "$0" -f -c "$1"' "$HF_BIN" "$HF_DIR/many.conf"
pid=$HF_LAST_PID
t_check "1100 sample lines under ulimit -n 1024: serves and keeps running" \
	eval 'hf_wait_for 5 hf_snmp_val "$A" $OID_IFNUMBER && kill -0 $pid'
hf_kill "$pid"
: >"$log"
hf_bg "$A" "$log" env HOSTFLOWD_FAULT=sampler-exit "$HF_BIN" -f -c "$HF_DIR/many.conf"
pid=$HF_LAST_PID
if t_check "the sampler thread stopping ends the daemon (within 10 s)" \
	hf_wait_for 10 _hf_gone "$pid"; then
	wait "$pid"
	rc=$?
else
	hf_kill "$pid"
	rc=alive
fi
t_check "exit status 2, so that systemd restarts it" test "$rc" = 2
t_check "the log says why" grep -q "sampler: thread stopped: fault injected (HOSTFLOWD_FAULT): Operation canceled; exiting" "$log"

t_done
