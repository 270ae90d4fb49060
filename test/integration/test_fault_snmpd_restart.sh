#!/usr/bin/env bash
# The AgentX master dies ten times in a row (SIGTERM and SIGKILL in turn) and
# is started again each time: the same hostflowd process registers again
# within 15 s of each new master (the worst time is printed), and serves
# correct data after the last one.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hf_init fault_snmpd_restart

ROUNDS=${FAULT_ROUNDS:-10}
LIMIT_MS=15000
A=${HF_NS}a
B=${HF_NS}b
hf_ns_add "$A" && hf_ns_add "$B" || hf_die "namespaces"
hf_veth "$A" veth0 "$B" veth0p || hf_die "veth"
hf_veth "$A" veth1 "$B" veth1p || hf_die "veth"
hf_snmpd_start "$A" || hf_die "snmpd"
conf=$HF_DIR/hostflowd.conf
hf_conf "$conf" 'interface veth1 alias "IX: restart"'
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd"
pid=$HF_HOSTFLOWD_PID

nlinks() { ip -n "$A" -o link show | wc -l; }
serving() { [[ $(hf_snmp_val "$A" $OID_IFNUMBER) == "$(nlinks)" ]]; }

worst=0
late=0
for i in $(seq "$ROUNDS"); do
	((i % 2)) && sig=TERM || sig=KILL
	kill -"$sig" "$HF_SNMPD_PID"
	hf_kill "$HF_SNMPD_PID"
	# Proves the master really went: otherwise "served again" means nothing.
	if _hf_snmpd_ready "$A"; then
		t_fail "round $i: snmpd SIG$sig: SNMP is down" "still answering"
	fi
	# From the new master's launch (its own start-up time included) until
	# hostflowd's ifNumber.0 is served through it.
	t0=$(_hf_now_us)
	hf_snmpd_restart || hf_die "snmpd restart $i"
	if hf_wait_for $((LIMIT_MS / 1000)) serving; then
		ms=$((($(_hf_now_us) - t0) / 1000))
	else
		ms=$((($(_hf_now_us) - t0) / 1000))
		late=$((late + 1))
		t_diag "round $i: not served after $ms ms; log tail:"
		tail -n 5 "$HF_DIR/hostflowd.log" | sed 's/^/#   /'
	fi
	((ms > worst)) && worst=$ms
	t_diag "round $i: snmpd SIG$sig, restarted; hostflowd served again after $ms ms"
	if ! kill -0 "$pid" 2>/dev/null; then
		t_fail "round $i: hostflowd still running" "pid $pid gone"
		break
	fi
done

t_diag "worst time to be served again: $worst ms (limit $LIMIT_MS ms)"
if ((late == 0 && worst <= LIMIT_MS)); then
	t_ok "$ROUNDS restarts: served again within 15 s every time (worst $worst ms)"
else
	t_fail "$ROUNDS restarts: served again within 15 s every time" \
		"$late late, worst $worst ms"
fi
t_check "same hostflowd process throughout (pid $pid)" kill -0 "$pid"
t_check "hostflowd started once (one 'running' in its log)" \
	test "$(grep -c ' running$' "$HF_DIR/hostflowd.log")" = 1
regs=$(grep -c 'registered with AgentX master' "$HF_DIR/hostflowd.log")
t_check "registered $((ROUNDS + 1)) times (at start and after each restart)" \
	test "$regs" = $((ROUNDS + 1))

# Data after the last restart: the row set and the columns a collector asks for.
t_check "ifNumber.0 = $(nlinks) links" serving
k1=$(ip netns exec "$A" cat /sys/class/net/veth1/ifindex)
t_check "ifName.$k1 = veth1" eval '[[ $(hf_snmp_val "$A" $OID_IFXENTRY.1.$k1) == veth1 ]]'
t_check "ifAlias.$k1 = config alias" \
	eval '[[ $(hf_snmp_val "$A" $OID_IFXENTRY.18.$k1) == "IX: restart" ]]'
HF_CHECK_PREFIX="after $ROUNDS restarts: " hf_ifmib_check "$A" --deadline 2 \
	--override veth1 "alias=IX: restart" \
	--only "ifNumber = number of links" \
	--only "ifIndex column unique and equal to the row index" \
	--only "one row per link, at the expected ifIndex" \
	--only ifDescr --only ifName --only ifAlias --only ifAdminStatus --only ifOperStatus

t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done
