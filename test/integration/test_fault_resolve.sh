#!/usr/bin/env bash
# Reload never stops SNMP:
#  - a resolver that never answers: during a SIGHUP whose file names
#    collectors by host name, every SNMP probe (one every 100 ms) answers
#    within 1 s; the failure is then logged with FILE:LINE and the running
#    configuration kept;
#  - a second SIGHUP while resolving is queued: once the first resolution
#    ends, the files are read again and the newest one applies;
#  - SIGTERM while a resolution hangs stops at once, status 0;
#  - a FIFO named as ifindex_map is refused ("not a regular file") while
#    SNMP keeps answering, and SIGTERM still works.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hf_init fault_resolve
A=${HF_NS}a
conf=$HF_DIR/hostflowd.conf
log=$HF_DIR/hostflowd.log
dns=$HF_DIR/dns.log

hf_ns_add "$A" || hf_die "namespace"
# Names starting with "never" are never answered.
hf_slowdns "$A" 0 || hf_die "slowdns did not start"
hf_snmpd_start "$A" || hf_die "snmpd"
hf_conf "$conf" "polling_interval 0" "collector 127.0.0.1 6343"
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd"
pid=$HF_HOSTFLOWD_PID

# probe_for SECONDS: one GET of ifNumber.0 every 100 ms (1 s timeout, no
# retry); fails naming the first probe that did not answer within 1 s.
probe_for() {
	local end=$(($(_hf_now_us) + $(_hf_s_to_us "$1"))) t0 ms v n=0 worst=0
	while (($(_hf_now_us) < end)); do
		t0=$(_hf_now_us)
		v=$(hf_snmp "$A" get -t 1 -r 0 -Oqv $OID_IFNUMBER 2>&1)
		ms=$((($(_hf_now_us) - t0) / 1000))
		n=$((n + 1))
		((ms > worst)) && worst=$ms
		if ! [[ $v =~ ^[0-9]+$ ]] || ((ms >= 1000)); then
			echo "probe $n: '$v' after $ms ms"
			return 1
		fi
		sleep 0.1
	done
	t_diag "$n probes answered, slowest $worst ms"
}
logged() { grep -c -- "$1" "$log"; }

# --- a resolver that never answers ------------------------------------------------
hf_conf "$conf" "polling_interval 0" "collector never-1.hf.test" "collector never-2.hf.test 6344"
k0=$(logged "keeping the running configuration")
kill -HUP "$pid"
t_check "while a collector name does not resolve, SNMP answers every probe within 1 s" \
	probe_for 2.5
t_check "the failure is logged with FILE:LINE (within 10 s)" hf_wait_for 10 grep -q \
	"$conf:4: collector never-1.hf.test: cannot resolve: .*; keeping the running configuration" "$log"
t_check "the resolver was asked (the test did wait on DNS)" grep -q "^q never-1.hf.test" "$dns"
t_check "hostflowd still runs" kill -0 "$pid"

# --- a second SIGHUP while resolving is queued; the newest file wins ----------------
k0=$(logged "keeping the running configuration")
r0=$(logged "configuration reloaded from")
kill -HUP "$pid"
hf_wait_for 5 grep -q "^q never-1.hf.test" "$dns"
hf_conf "$conf" "polling_interval 0" "collector localhost 6345"
kill -HUP "$pid"
t_check "the second SIGHUP is queued" hf_wait_for 2 grep -q "SIGHUP while resolving" "$log"
t_check "SNMP answers meanwhile" probe_for 1
queued_applied() { (($(logged "configuration reloaded from") > r0)); }
t_check "once the first resolution ends, the newest file is applied (within 10 s)" \
	hf_wait_for 10 queued_applied
t_check "and the first one's failure is not reported" test "$(logged "keeping the running configuration")" = "$k0"

# --- SIGTERM while a resolution hangs ----------------------------------------------
hf_conf "$conf" "polling_interval 0" "collector never-3.hf.test"
kill -HUP "$pid"
hf_wait_for 5 grep -q "^q never-3.hf.test" "$dns"
# hf_hostflowd_stop sends the SIGTERM: sent here too, a daemon that exits at
# once was gone before hf_hostflowd_stop looked, which it reports as a crash.
t0=$(_hf_now_us)
HF_HOSTFLOWD_PID=$pid
if hf_hostflowd_stop; then
	ms=$((($(_hf_now_us) - t0) / 1000))
	if ((ms < 1000)); then t_ok "SIGTERM during a hanging resolution: exit 0 in $ms ms"
	else t_fail "SIGTERM during a hanging resolution: exit 0 within 1 s" "took $ms ms"; fi
else
	t_fail "SIGTERM during a hanging resolution: exit 0" "see above"
fi

# --- a FIFO as ifindex_map -----------------------------------------------------------
hf_conf "$conf" "polling_interval 0" "collector 127.0.0.1 6343"
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd"
pid=$HF_HOSTFLOWD_PID
mkfifo "$HF_DIR/fifo.map"
hf_conf "$conf" "polling_interval 0" "ifindex_map $HF_DIR/fifo.map"
kill -HUP "$pid"
t_check "a FIFO ifindex_map is refused: FILE:LINE and 'not a regular file'" hf_wait_for 5 grep -q \
	"$conf:4: ifindex_map: $HF_DIR/fifo.map: not a regular file; keeping the running configuration" "$log"
t_check "SNMP answers after it" probe_for 1
t_check "SIGTERM then exits 0" hf_hostflowd_stop
t_done
