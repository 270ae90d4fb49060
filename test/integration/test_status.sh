#!/usr/bin/env bash
# What `systemctl status hostflowd` shows, read the way systemd reads it: a
# NOTIFY_SOCKET datagram listener. STATUS= says "not registered" before
# snmpd is up; "IF-MIB refused" (never "registered") while snmpd serves its
# own ifTable/ifXTable, with one clear error in the log (not four net-snmp
# lines) and a retry every 30 s (3 s here: the config's agentx_retry, which
# a SIGHUP leaves as it was, with a warning); "registered with" by itself
# once snmpd runs
# with -I -ifTable,ifXTable; the rows equal ifNumber; the sampled interfaces
# and rates; per-collector datagram counts growing with traffic; snmpd's
# stop reported within the limit; state changes never less than 1 s apart,
# counter-only changes never less than 10 s apart. SIGUSR1 logs the figures.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

hf_init status
hf_capture_init   # the capture the daemon picks here, named in STATUS=
A=${HF_NS}a
B=${HF_NS}b
PORT=6343
conf=$HF_DIR/hostflowd.conf
notes=$HF_DIR/notify.log
sock=$HF_DIR/notify.sock
log=$HF_DIR/hostflowd.log

hf_ns_add "$A" || hf_die "namespace"
hf_ns_add "$B" || hf_die "namespace"
{ hf_ns_quiet "$A" && hf_ns_quiet "$B"; } || hf_die "sysctl"
hf_veth "$A" up0 "$B" far0 || hf_die "veth"
hf_neigh "$A" up0 198.18.0.1 "$B" far0 198.18.0.2 || hf_die "addresses"

# systemd's side: every datagram, one line, with the receive time (seconds).
hf_notify_listen "$A" "$sock" "$notes" times || hf_die "notify socket"
# The collector: takes and drops every datagram (so none is refused).
hf_bg "$A" "$HF_DIR/collector.out" python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
while True:
    s.recv(65536)' $PORT
hf_wait_for 5 grep -q ready "$HF_DIR/collector.out" || hf_die "collector"

last_status() { grep ' STATUS=' "$notes" | tail -n 1 | sed 's/^[0-9.]* STATUS=//'; }
status_has() { last_status | grep -qF -- "$1"; }
log_count() { grep -cF -- "$1" "$log"; }

# snmpd is not up yet: hostflowd starts anyway and says so.
HF_AGENTX=$HF_DIR/agentx.sock
RETRY_S=3
conf_lines=('interface up0 alias "from-hostflowd"' "sample up0 rate 1" "sample nosuch0 rate 7"
	"polling_interval 0" "collector 127.0.0.1 $PORT")
hf_conf "$conf" "${conf_lines[@]}" "agentx_retry $RETRY_S"
hf_bg "$A" "$log" env NOTIFY_SOCKET="$sock" "$HF_BIN" -f -d -c "$conf"
HF_HOSTFLOWD_PID=$HF_LAST_PID
t_check "READY=1 without snmpd" hf_wait_for 10 grep -q " READY=1$" "$notes"
t_check "STATUS=not registered: AgentX master ... not reachable" \
	hf_wait_for 5 status_has "not registered: AgentX master $HF_AGENTX not reachable since "
# The sampler publishes its figures once its thread has synced the table.
t_check "STATUS= lists the sampled interface, its rate, the absent one, the capture" \
	hf_wait_for 5 status_has "sampling 1 (up0 1:1; waiting for nosuch0) by $HF_CAPTURE_KIND;"
t_check "STATUS= names the collector with its counts" status_has "127.0.0.1:$PORT sent 0 err 0"

# snmpd with its own IF-MIB: our registrations are refused.
hf_snmpd_builtin_start "$A" || hf_die "snmpd"
t_check "STATUS=IF-MIB refused once snmpd serves its own ifTable/ifXTable" \
	hf_wait_for 10 status_has "IF-MIB refused: snmpd serves its own ifTable/ifXTable"
t_check "STATUS= does not claim registered while refused" sh -c "! grep -q ' STATUS=registered' '$notes'"
t_check "one error in the log naming the drop-in and the fix" \
	test "$(log_count "error: agentx: IF-MIB refused by the AgentX master")" -eq 1
t_check "the error names the drop-in, the copy and the restart" sh -c \
	"grep 'error: agentx: IF-MIB refused' '$log' | grep -F '/etc/systemd/system/snmpd.service.d/hostflow.conf' |
	 grep -F 'systemctl daemon-reload && systemctl restart snmpd' | grep -q 'cp '"
t_check "the error names the retry interval it was given ($RETRY_S s)" \
	grep -q "error: agentx: IF-MIB refused.*Retrying every $RETRY_S s" "$log"
t_check "net-snmp's own refusal lines are not errors" \
	test "$(log_count "error: net-snmp: registering pdu failed")" -eq 0
t_check "no 'registered with AgentX master' while refused" \
	test "$(log_count "registered with AgentX master")" -eq 0
t_check "it retries within $((RETRY_S + 5)) s" hf_wait_for $((RETRY_S + 5)) grep -q "registering [0-9]* refused IF-MIB subtrees\{0,1\} again" "$log"
t_check "the retry is refused too, quietly: still one error" sh -c \
	"[ $(log_count 'error: agentx: IF-MIB refused') -eq 1 ] && ! grep -q 'cannot register the IF-MIB' '$log'"
t_check "still refused after the retry" status_has "IF-MIB refused"
# A reload does not change the interval (read at start, like agentx_socket):
# it says so, and the retries keep the running one.
hf_conf "$conf" "${conf_lines[@]}" "agentx_retry 3600"
retries() { grep -c "registering [0-9]* refused IF-MIB subtrees\{0,1\} again" "$log"; }
before_hup=$(retries)
kill -HUP "$HF_HOSTFLOWD_PID"
t_check "SIGHUP with agentx_retry changed: a warning that it takes a restart" \
	hf_wait_for 5 grep -q "warning: reload: agentx_retry changed to 3600 s: takes effect after a restart" "$log"
more_retries() { (($(retries) > before_hup)); }
t_check "and the retries go on every $RETRY_S s" hf_wait_for $((RETRY_S + 5)) more_retries
# A retry sends Register only: an Unregister would remove snmpd's own
# registration (the master matches it by OID, not session) and take over.
up0=$(ip -n "$A" -j link show dev up0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
t_check "the retry leaves snmpd's own IF-MIB alone (ifAlias is still snmpd's)" \
	test "$(hf_snmp_val "$A" $OID_IFXENTRY.18."$up0")" = ""

# The same snmpd again: a short warning, not the whole error again.
hf_snmpd_restart || hf_die "snmpd"
t_check "back on a master that still refuses: one short warning" \
	hf_wait_for 10 grep -q "warning: agentx: AgentX master at $HF_AGENTX still refuses IF-MIB" "$log"
t_check "and still one error" test "$(log_count "error: agentx: IF-MIB refused by the AgentX master")" -eq 1
t_check "STATUS= refused again after the reconnect" hf_wait_for 5 status_has "IF-MIB refused"

# snmpd as the drop-in runs it: hostflowd registers by itself.
hf_snmpd_stop
hf_snmpd_start "$A" || hf_die "snmpd"
t_check "STATUS=registered with ... since, after snmpd restarts with -I -ifTable,ifXTable" \
	hf_wait_for 10 status_has "registered with $HF_AGENTX since "
t_check "the log says it is accepted" hf_wait_for 2 grep -q "IF-MIB accepted by the AgentX master" "$log"
not_holding() { ! status_has "holding samples"; }
t_check "'holding samples' leaves STATUS= within 4 s of the registration" hf_wait_for 4 not_holding
t_check "and hostflowd serves IF-MIB (ifAlias from its config)" \
	hf_wait_for 5 sh -c "[ \"\$(MIBS= ip netns exec $A snmpget -v2c -c public -On -Oqv \
	127.0.0.1:$HF_SNMP_PORT $OID_IFXENTRY.18.$up0)\" = '\"from-hostflowd\"' ]"
ifnum=$(hf_snmp_val "$A" $OID_IFNUMBER)
rows=$(last_status | sed -n 's/.*; \([0-9]*\) rows\{0,1\};.*/\1/p')
t_check "STATUS rows ($rows) = ifNumber ($ifnum)" test "${rows:-x}" = "${ifnum:-y}"

# Each STATUS= text from line FROM of the notes on, against the one before
# it: "state GAP" or "counters GAP" (only sent/err figures differ).
gap_kinds() {
	grep ' STATUS=' "$notes" | python3 -c '
import re, sys
prev, first, n = None, int(sys.argv[1]), 0
for line in sys.stdin:
    n += 1
    t, text = line.rstrip("\n").split(" ", 1)
    key = re.sub(r"(sent|err) [0-9]+", r"\1 #", text)
    if prev and n >= first:
        kind = "counters" if key == prev[1] else "state"
        print(kind, "%.3f" % (float(t) - prev[0]))
    prev = (float(t), key)' "$1"
}

# Traffic: the counts grow, counter-only updates at most every 10 s.
sent_now() { last_status | sed -n "s/.*127\.0\.0\.1:$PORT sent \([0-9]*\) err.*/\1/p"; }
before=$(sent_now)
t_diag "datagrams sent before traffic: $before"
mark=$(grep -c ' STATUS=' "$notes")
counter_updates() { gap_kinds "$((mark + 1))" | grep -c '^counters'; }
# Traffic until two counter-only updates (10 s apart at best) have come, at
# most 45 bursts a second apart.
for _ in $(seq 1 45); do
	hf_udp "$B" 198.18.0.1 20
	(($(counter_updates) >= 2)) && break
	sleep 1   # paces the bounded traffic loop, not a wait for a result
done
grown() { (($(sent_now) > before)); }
t_check "STATUS= datagram count grows with traffic" hf_wait_for 12 grown
t_diag "datagrams sent after traffic: $(sent_now)"
t_check "err stays 0 with a listening collector" status_has "127.0.0.1:$PORT sent $(sent_now) err 0"

# snmpd stops: reported within 1 s of its detection (allow 3 s in all).
hf_snmpd_stop
t_check "STATUS=not registered within 3 s of snmpd's stop" \
	hf_wait_for 3 status_has "not registered: AgentX master"

# The rate limit, over every STATUS= seen: a state change never sooner than
# 1 s after the previous text, a counter-only change never sooner than 10 s;
# receive times jitter by a few ms.
gaps=$HF_DIR/gaps.txt
gap_kinds 1 >"$gaps"
t_diag "gaps between STATUS= texts: $(sort "$gaps" | uniq -c | tr '\n' ' ' | head -c 400)"
t_check "counter-only updates happened during traffic (at least 2)" \
	test "$(counter_updates)" -ge 2
t_check "no counter-only update sooner than 10 s after the previous text" \
	awk '$1 == "counters" && $2 < 9.9 { bad = 1 } END { exit bad }' "$gaps"
t_check "no state update sooner than 1 s after the previous text" \
	awk '$2 < 0.95 { bad = 1 } END { exit bad }' "$gaps"
t_check "no STATUS= repeats the previous text" sh -c \
	"grep ' STATUS=' '$notes' | cut -d' ' -f2- | uniq -d | grep -q . && exit 1 || exit 0"
t_diag "STATUS= texts since the traffic began: $(($(grep -c ' STATUS=' "$notes") - mark))"

# SIGUSR1: the same figures in the log, at once.
kill -USR1 "$HF_HOSTFLOWD_PID"
t_check "SIGUSR1 logs the status at info" hf_wait_for 2 sh -c \
	"grep 'info: status: ' '$log' | grep -q 'sampling 1 (up0 1:1; waiting for nosuch0) by $HF_CAPTURE_KIND; 127.0.0.1:$PORT sent '"
t_check "hostflowd is still running after SIGUSR1" kill -0 "$HF_HOSTFLOWD_PID"
t_check "-d logs the status line" grep -q "debug: status: " "$log"
t_check "hostflowd exits cleanly on SIGTERM" hf_hostflowd_stop
t_done
