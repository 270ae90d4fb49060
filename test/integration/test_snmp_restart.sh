#!/usr/bin/env bash
# snmpd goes away and comes back (SIGTERM, SIGKILL), or hangs (SIGSTOP) and
# resumes: hostflowd, never restarted, is served again within 15 s, and picks
# up interface changes made while the master was gone.
source "$(dirname "$0")/lib.sh"
hf_init snmp_restart

HF_A=${HF_NS}a
HF_B=${HF_NS}b
hf_ns_add "$HF_A" && hf_ns_add "$HF_B" || hf_die "namespaces"
hf_veth "$HF_A" veth0 "$HF_B" veth0p || hf_die "veth"
hf_tun "$HF_A" tailscale0 || hf_die "tun"
hf_snmpd_start "$HF_A" || hf_die "snmpd"
conf=$HF_DIR/hostflowd.conf
hf_conf "$conf"
hf_hostflowd_start "$HF_A" "$conf" || hf_die "hostflowd"
pid=$HF_HOSTFLOWD_PID

served() { hf_row "$HF_A" "$1" >/dev/null; }
serving() {
	[[ $(hf_snmp_val "$HF_A" $OID_IFNUMBER) == "$(ip -n "$HF_A" -o link show | wc -l)" ]]
}

# back NAME: hostflowd re-registered within 15 s, same process; then the
# interface added while the master was away is served too.
back() {
	local name=$1 t0=$(_hf_now_us)
	if hf_wait_for 15 serving; then
		t_ok "$name: served again after $((($(_hf_now_us) - t0) / 1000)) ms"
	else
		t_fail "$name: served again within 15 s" "ifNumber: $(hf_snmp_val "$HF_A" $OID_IFNUMBER 2>&1)"
		tail -n 5 "$HF_DIR/hostflowd.log" | sed 's/^/#   /'
	fi
	t_check "$name: same hostflowd process" kill -0 "$pid"
}

for sig in TERM KILL; do
	kill -"$sig" "$HF_SNMPD_PID"
	hf_kill "$HF_SNMPD_PID"
	t_check "snmpd SIG$sig: SNMP is down" eval '! _hf_snmpd_ready "$HF_A"'
	ip -n "$HF_A" link add "new$sig" type veth peer name "new${sig}p" netns "$HF_B"
	hf_snmpd_restart || hf_die "snmpd restart"
	back "snmpd SIG$sig and restart"
	t_check "snmpd SIG$sig: new$sig (added meanwhile) served" hf_wait_for 1 served "new$sig"
done

# A hung master: every AgentX request times out while it is stopped.
kill -STOP "$HF_SNMPD_PID"
t0=$(_hf_now_us)
ip -n "$HF_A" link add newSTOP type veth peer name newSTOPp netns "$HF_B"
# Stay stopped for 4 s: long enough for hostflowd's AgentX ping or a request
# to time out. The only fixed wait here: the condition is time itself.
while (($(_hf_now_us) - t0 < 4000000)); do
	kill -0 "$pid" || break
	sleep 0.2
done
kill -CONT "$HF_SNMPD_PID"
back "snmpd SIGSTOP 4 s, SIGCONT"
t_check "snmpd SIGSTOP: newSTOP (added meanwhile) served" hf_wait_for 2 served newSTOP

HF_CHECK_PREFIX="after restarts: " hf_ifmib_check "$HF_A" --deadline 2 \
	--only "ifNumber = number of links" \
	--only "ifIndex column unique and equal to the row index" \
	--only "one row per link, at the expected ifIndex"

t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done
