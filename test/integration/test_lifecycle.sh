#!/usr/bin/env bash
# The daemon's life as systemd and an operator see it: sd_notify messages
# (READY=1 once serving, RELOADING=1/READY=1 around a reload, STOPPING=1),
# detaching without -f (the parent returns only once the child is up; a bad
# config fails in the foreground with nothing left running), -h and -V, and
# the sFlow agent address following agent_interface: when its address
# changes, datagrams carry the new one and their sequence and uptime restart;
# a reload moves sampling to another interface and the datagrams to another
# collector without a restart, their sequence continuing.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init lifecycle
A=${HF_NS}a
B=${HF_NS}b
PORT=6343
cap=$HF_DIR/sflow.pcap
dec=$HF_DIR/sflow.txt
conf=$HF_DIR/hostflowd.conf
notes=$HF_DIR/notify.log
sock=$HF_DIR/notify.sock

t_check "-V prints a version and exits 0" sh -c "'$HF_BIN' -V | grep -qE '[0-9]+\.[0-9]+'"
t_check "-h prints usage and exits 0" sh -c "'$HF_BIN' -h | grep -q -- '-c'"
t_check "an unknown option exits 1" sh -c "'$HF_BIN' -Z >/dev/null 2>&1; [ \$? -eq 1 ]"

hf_ns_add "$A" || hf_die "namespace"
hf_ns_add "$B" || hf_die "namespace"
hf_veth "$A" up0 "$B" far0 || hf_die "veth"
ip -n "$A" addr add 198.18.0.1/24 dev up0
ip -n "$B" addr add 198.18.0.2/24 dev far0
hf_snmpd_start "$A" || hf_die "snmpd"

# --- sd_notify --------------------------------------------------------------
# STATUS= left out: test_status.sh checks those; here only the life cycle.
hf_notify_listen "$A" "$sock" "$notes" nostatus || hf_die "notify socket"
hf_conf "$conf" "agent_interface up0" "sample up0 rate 1" "polling_interval 0" \
	"collector 127.0.0.1 $PORT"
sf_capture_start "$A" $PORT "$cap" || hf_die "tshark did not start"
hf_bg "$A" "$HF_DIR/hostflowd.log" env NOTIFY_SOCKET="$sock" "$HF_BIN" -f -c "$conf"
HF_HOSTFLOWD_PID=$HF_LAST_PID
t_check "READY=1 once it serves" hf_wait_for 10 grep -qx "READY=1" "$notes"
t_check "ifNumber.0 answers after READY=1" hf_snmp_val "$A" $OID_IFNUMBER
kill -HUP "$HF_HOSTFLOWD_PID"
t_check "RELOADING=1 then READY=1 around a reload" \
	hf_wait_for 5 sh -c "tr '\n' ' ' <'$notes' | grep -q 'READY=1 RELOADING=1 READY=1'"

# --- the agent address follows agent_interface --------------------------------
dst=198.18.0.1
traffic() { sf_blast "$B" 198.18.0.2 $dst 4000 9 "$1"; }
dgrams_from() { # dgrams_from ADDR: datagrams with that agent address so far
	sf_decode "$cap" $PORT | awk -v a="$1" '$1 == "D" && $3 == a' | wc -l
}
traffic 20
at_least() { (($(dgrams_from "$1") >= $2)); }
t_check "datagrams carry up0's address 198.18.0.1" hf_wait_for 5 at_least 198.18.0.1 1
traffic 20
hf_wait_for 5 at_least 198.18.0.1 2
ip -n "$A" addr del 198.18.0.1/24 dev up0
ip -n "$A" addr add 198.18.0.9/24 dev up0
dst=198.18.0.9
# The sampler re-reads a derived address every 5 s: keep a few packets coming.
got_new() { traffic 5; (($(dgrams_from 198.18.0.9) >= 2)); }
t_check "after the address change, datagrams carry 198.18.0.9 (within 10 s)" hf_wait_for 10 got_new
sf_capture_stop
sf_decode "$cap" $PORT >"$dec"
t_check "the old address's datagrams counted up from 1" \
	awk '$1 == "D" && $3 == "198.18.0.1" { if ($5 != ++n) { bad = 1; exit } } END { exit bad || !(n >= 2) }' "$dec"
t_check "with the new address, the sequence restarts at 1 and counts up" \
	awk '$1 == "D" && $3 == "198.18.0.9" { if ($5 != ++n) { bad = 1; exit } } END { exit bad || !(n >= 2) }' "$dec"
old_up=$(awk '$1 == "D" && $3 == "198.18.0.1" { u = $6 } END { print u }' "$dec")
new_up=$(awk '$1 == "D" && $3 == "198.18.0.9" { print $6; exit }' "$dec")
t_diag "uptime: last with the old address $old_up ms, first with the new $new_up ms"
t_check "uptime restarts with the new address" test "$new_up" -lt "$old_up"

# --- a reload changes the collectors and the sampled interfaces ---------------
# New collector port, up0 no longer sampled, lo sampled instead.
got=$HF_DIR/p2.txt
hf_bg "$A" "$HF_DIR/p2.log" python3 -u -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "a") as f:
    while True:
        d = s.recv(65536)
        f.write("%d\n" % struct.unpack(">I", d[16:20])[0])  # datagram seq (IPv4 agent)
        f.flush()' 6344 "$got"
hf_conf "$conf" "agent_interface up0" "sample lo rate 1" "polling_interval 0" \
	"collector 127.0.0.1 6344"
before=$(wc -l <"$HF_DIR/notify.log")
kill -HUP "$HF_HOSTFLOWD_PID"
hf_wait_for 5 sh -c "[ \$(wc -l <'$notes') -ge $((before + 2)) ]"

sf_blast "$A" 127.0.0.1 127.0.0.1 4000 9 10
t_check "after the reload, datagrams reach the new collector" hf_wait_for 5 test -s "$got"
t_check "and their sequence continues (not restarted at 1)" \
	awk 'NR == 1 { ok = $1 > 1 } END { exit !ok }' "$got"
t_check "hostflowd was not restarted" kill -0 "$HF_HOSTFLOWD_PID"
t_check "hostflowd exits cleanly on SIGTERM" hf_hostflowd_stop
t_check "STOPPING=1 on SIGTERM" grep -qx "STOPPING=1" "$notes"

# --- detaching -----------------------------------------------------------------
pid_of() { pgrep -f -x "$HF_BIN -c $1"; }
ip netns exec "$A" "$HF_BIN" -c "$conf" >"$HF_DIR/daemon.out" 2>&1
rc=$?
t_check "without -f the parent exits 0" test $rc -eq 0
pid=$(pid_of "$conf")
t_check "the detached daemon is running" test -n "$pid"
t_check "and serves ifNumber.0" hf_wait_for 5 hf_snmp_val "$A" $OID_IFNUMBER
[[ -n $pid ]] && kill "$pid"
t_check "the detached daemon stops on SIGTERM" hf_wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
printf 'agentx_socket %s\nsampling_rate 0\n' "$HF_AGENTX" >"$HF_DIR/bad.conf"
ip netns exec "$A" "$HF_BIN" -c "$HF_DIR/bad.conf" >"$HF_DIR/bad.out" 2>&1
rc=$?
t_check "a bad config without -f exits 1 with FILE:LINE" \
	sh -c "[ $rc -eq 1 ] && grep -q '$HF_DIR/bad.conf:2: ' '$HF_DIR/bad.out'"
t_check "and leaves no daemon behind" sh -c "! pgrep -f -x '$HF_BIN -c $HF_DIR/bad.conf'"
t_done
