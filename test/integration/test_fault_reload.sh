#!/usr/bin/env bash
# SIGHUP with a broken configuration, five ways (unterminated quote, missing
# value, unknown directive, missing ifindex_map file, broken map file): each
# time hostflowd logs where the error is and keeps running on the old
# configuration entirely (the broken file's new alias and rate, written
# before the error, must not leak in): old alias served, samples still at
# the old rate. Then a good file: new alias served within 1 s of the HUP, new
# rate in the samples, sequence numbers continue, no restart.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"
# shellcheck source=../tools/fault_lib.sh
. "$HF_TOOLS/fault_lib.sh"
hf_init fault_reload

P1=6343
cap=$HF_DIR/lo.pcap
conf=$HF_DIR/hostflowd.conf
log=$HF_DIR/hostflowd.log
fl_sampled_pair || hf_die "namespaces"
A=$FL_A
hf_snmpd_start "$A" || hf_die "snmpd"
fl_capture_start "$A" lo "$cap" $P1 || hf_die "tshark"
sf_sink "$A" 127.0.0.1 $P1
hf_conf "$conf" 'interface vethA alias "old alias"' "sample vethA rate 10" \
	"polling_interval 2" "collector 127.0.0.1 $P1"
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd"
pid=$HF_HOSTFLOWD_PID
idx=$(sf_served "$A" vethA)
t_check "SNMP serves vethA" test -n "$idx"
alias_is() { [[ $(hf_snmp_val "$A" $OID_IFXENTRY.18."$idx") == "$1" ]]; }
alias_not() { ! alias_is "$1"; }
t_check "old alias served" alias_is "old alias"

fl_traffic_start 1000 120
# rates_since T: the sampling_rate of every flow sample captured after T.
rates_since() {
	awk -v t="$1" '$1 >= t && $6 != "" { n = split($6, r, ","); for (i = 1; i <= n; i++) print r[i] }' "$cap.live"
}
more_since() { (($(rates_since "$1" | wc -l) >= $2)); }
hf_wait_for 10 more_since 0 1 || hf_die "no flow samples"

# The new values come before the error line (line 7), so a parser that
# applied lines as it read them would show them.
new=('interface vethA alias "bad alias"' "sample vethA rate 20" "polling_interval 2"
	"collector 127.0.0.1 $P1")
printf 'ifindex=abc ifname=vethA\n' >"$HF_DIR/broken.map"
kinds=(
	"unterminated quote|interface vethB alias \"no end|$conf:7: "
	"missing value|header_bytes|$conf:7: "
	"unknown directive|frobnicate 1|$conf:7: "
	"missing ifindex_map file|ifindex_map $HF_DIR/none.map|$HF_DIR/none.map: cannot read"
	"broken ifindex_map file|ifindex_map $HF_DIR/broken.map|$HF_DIR/broken.map:1: "
)
keeping() { grep -c "keeping the running configuration" "$log"; }
for k in "${kinds[@]}"; do
	IFS='|' read -r what line want <<<"$k"
	hf_conf "$conf" "${new[@]}" "$line"
	n0=$(keeping)
	th=$(fl_now)
	kill -HUP "$pid"
	if hf_wait_for 5 eval '(($(keeping) > n0))'; then
		msg=$(grep "keeping the running configuration" "$log" | tail -n 1)
		t_diag "$what: $msg"
		if [[ $msg == *"$want"* ]]; then
			t_ok "$what: error logged with '$want'"
		else
			t_fail "$what: error logged with '$want'" "got: $msg"
		fi
	else
		t_fail "$what: error logged" "no 'keeping the running configuration' within 5 s"
	fi
	[[ $what == "missing ifindex_map file" ]] && map_msg=$msg
	t_check "$what: hostflowd still running" kill -0 "$pid"
	# Not one poll in 1 s shows the broken file's alias.
	t_check "$what: old alias still served (1 s)" eval '! hf_wait_for 1 alias_not "old alias"'
	# 30 samples taken after the HUP (~0.3 s of traffic, flushed within 1 s).
	hf_wait_for 5 more_since "$th" 30
	t_check "$what: new samples keep the old rate 10" eval \
		'[[ $(rates_since "$th" | sort -u | tr "\n" " ") == "10 " ]]'
done
# The map is named by hostflowd.conf line 7: the error names that line.
t_check "missing ifindex_map file: error also names $conf:7" \
	eval '[[ ${map_msg:-} == *"$conf:7: ifindex_map: "* ]]'


# A good file: applied without restart.
hf_conf "$conf" 'interface vethA alias "new alias"' "sample vethA rate 20" \
	"polling_interval 2" "collector 127.0.0.1 $P1"
tg=$(fl_now)
t0=$(_hf_now_us)
kill -HUP "$pid"
if hf_wait_for 1 alias_is "new alias"; then
	t_ok "good file: new alias served $((($(_hf_now_us) - t0) / 1000)) ms after the HUP (<= 1 s)"
else
	t_fail "good file: new alias served within 1 s of the HUP" \
		"ifAlias: $(hf_snmp_val "$A" $OID_IFXENTRY.18."$idx")"
fi
has20() { rates_since "$tg" | grep -qx 20; }
t_check "good file: samples at the new rate 20 within 3 s" hf_wait_for 3 has20
hf_wait_for 5 eval '(($(rates_since "$tg" | grep -cx 20) >= 50))'
fl_traffic_stop
sf_capture_stop

t_check "rate 10 until the good HUP, 20 after, never back" awk -v t="$tg" '
	$6 != "" { n = split($6, r, ",")
		for (i = 1; i <= n; i++) {
			if ($1 < t && r[i] != 10) { bad = 1; exit 1 }
			if (r[i] == 20) seen = 1
			else if (seen || r[i] != 10) { bad = 1; exit 1 }
		} }
	END { exit bad || !seen }' "$cap.live"
t_check "datagram sequence numbers 1, 2, 3, ... across six reloads" awk \
	'$4 != "" { if ($4 != ++s) { bad = 1; exit 1 } } END { exit bad || !s }' "$cap.live"
t_check "flow sample sequence numbers 1, 2, 3, ... across six reloads" awk \
	'$7 != "" { n = split($7, q, ","); for (i = 1; i <= n; i++) if (q[i] != ++s) { bad = 1; exit 1 } }
	END { exit bad || !s }' "$cap.live"
t_check "log: ${#kinds[@]} refused reloads, one applied" test \
	"$(keeping)/$(grep -c 'configuration reloaded from' "$log")" = "${#kinds[@]}/1"
t_check "log: the sampler changed vethA's rate once (to 20)" test \
	"$(grep -c 'sampler: vethA now 1 in' "$log")/$(grep -c 'sampler: vethA now 1 in 20' "$log")" = 1/1
t_check "same hostflowd process, started once" fl_one_start
t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done
