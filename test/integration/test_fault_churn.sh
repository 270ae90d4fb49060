#!/usr/bin/env bash
# 1000 interface add/remove operations (veth pairs, `ip -batch` in chunks of
# 50 adds and 50 removes) while a walker bulk-walks ifTable and ifXTable
# without pause: hostflowd never crashes, no walk shows an ifIndex twice (or
# out of order) in any column, and 1 s after the last operation the served
# rows are exactly the kernel's links. Then 500 veth pairs added and deleted
# in one `ip -batch` each: rows = kernel 1 s after each batch, and the
# deletions cost hostflowd at most 2 link dumps (its -d log has one line per
# dump; it used to dump once per event read, hundreds of times), because
# link events are applied as they come, not answered with a dump.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hf_init fault_churn

ROUNDS=10   # x 50 adds + 50 removes = 1000 operations
CHUNK=50
A=${HF_NS}a
B=${HF_NS}b
hf_ns_add "$A" && hf_ns_add "$B" || hf_die "namespaces"
hf_ns_quiet "$A" && hf_ns_quiet "$B" || hf_die "namespaces quiet"
hf_veth "$A" veth0 "$B" veth0p || hf_die "veth"
# Five that stay through the churn, so the final comparison has rows to match.
for i in 1 2 3 4 5; do
	ip -n "$A" link add "stay$i" type veth peer name "stay${i}p" netns "$B" || hf_die "stay$i"
done
hf_snmpd_start "$A" || hf_die "snmpd"
conf=$HF_DIR/hostflowd.conf
hf_conf "$conf"
hf_hostflowd_start "$A" "$conf" -d || hf_die "hostflowd"
pid=$HF_HOSTFLOWD_PID

# check_walk FILE: every column's indexes strictly increase; in ifTable's
# ifIndex column the value equals the index. Prints the first problem.
check_walk() {
	awk -v ifindex="$OID_IFENTRY.1" '
		/ = / {
			oid = $1; n = split(oid, p, "."); idx = p[n] + 0
			col = substr(oid, 1, length(oid) - length(p[n]) - 1)
			if ((col in last) && idx <= last[col]) {
				printf "%s: index %d after %d (duplicate or out of order)\n", col, idx, last[col]
				bad = 1; exit 1
			}
			last[col] = idx
			if (col == ifindex && $NF + 0 != idx) {
				printf "ifIndex.%d = %s\n", idx, $NF; bad = 1; exit 1
			}
			rows++
		}
		END { if (!bad && !rows) { print "empty walk"; exit 1 }; exit bad }' "$1"
}

# The walker: whole ifTable and ifXTable in turn until the stop file appears
# (or 240 s pass); each walk checked, a bad one kept.
walker() {
	local n=0 rc table out deadline=$((SECONDS + 240))
	while [[ ! -e $HF_DIR/walk.stop ]] && ((SECONDS < deadline)); do
		n=$((n + 1))
		((n % 2)) && table=$OID_IFTABLE || table=$OID_IFXTABLE
		out=$HF_DIR/walk.out
		hf_snmp "$A" bulkwalk -Cr25 "$table" >"$out" 2>&1
		rc=$?
		grep -q "No Such\|No more variables\|Timeout" "$out" && ((rc == 0)) && rc=1
		if ((rc != 0)); then
			echo "walk $n of $table: status $rc: $(tail -n 1 "$out")" >>"$HF_DIR/walk.errors"
			cp "$out" "$HF_DIR/walk-failed-$n"
		elif ! check_walk "$out" >>"$HF_DIR/walk.bad"; then
			cp "$out" "$HF_DIR/walk-bad-$n"
		fi
		grep -c "^$table.1.1.[0-9]* " "$out" >>"$HF_DIR/walk.rows"
		echo "$n" >"$HF_DIR/walk.count"
	done
}
: >"$HF_DIR/walk.errors"
: >"$HF_DIR/walk.bad"
walker &
walk_pid=$!
_hf_track $walk_pid

# batch R: adds chunk R (every fifth one set up, for oper changes), removes chunk R-1.
batch() {
	local r=$1 i
	for ((i = 1; i <= CHUNK; i++)); do
		if ((r <= ROUNDS)); then
			echo "link add c${r}x$i type veth peer name c${r}x${i}p netns $B"
			((i % 5 == 0)) && echo "link set c${r}x$i up"
		fi
		((r > 1)) && echo "link del c$((r - 1))x$i"
	done
}
ops=0
fails=0
t0=$(_hf_now_us)
for ((r = 1; r <= ROUNDS + 1; r++)); do
	batch "$r" >"$HF_DIR/batch"
	ops=$((ops + $(grep -c '^link \(add\|del\)' "$HF_DIR/batch")))
	ip -n "$A" -force -batch "$HF_DIR/batch" >>"$HF_DIR/batch.log" 2>&1 || fails=$((fails + 1))
	kill -0 "$pid" 2>/dev/null || break
done
t_last=$(_hf_now_us)
t_diag "$ops add/remove operations in $(((t_last - t0) / 1000)) ms"
t_check "1000 operations issued, every ip -batch succeeded" test "$ops/$fails" = "1000/0"
t_check "hostflowd alive after the churn" kill -0 "$pid"

nlinks() { ip -n "$A" -o link show | wc -l; }
knames() { ip -n "$A" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort; }
snames() { hf_snmp_col "$A" $OID_IFXENTRY.1 | awk '{ print $2 }' | sort; }
settled() {
	[[ $(hf_snmp_val "$A" $OID_IFNUMBER) == "$(nlinks)" && "$(snames)" == "$(knames)" ]]
}
# The deadline counts from the last operation, not from now.
left=$((1000000 - ($(_hf_now_us) - t_last)))
((left < 0)) && left=0
if hf_wait_for "$(awk -v u=$left 'BEGIN { printf "%.3f", u / 1e6 }')" settled; then
	t_ok "1 s after the last operation: served names and ifNumber = the kernel's links ($(nlinks))"
else
	t_fail "1 s after the last operation: served names and ifNumber = the kernel's links" \
		"ifNumber $(hf_snmp_val "$A" $OID_IFNUMBER), kernel $(nlinks); diff: $(diff <(snames) <(knames) | grep '^[<>]' | head -n 5 | tr '\n' ' ')"
fi

touch "$HF_DIR/walk.stop"
hf_wait_for 20 _hf_gone $walk_pid
hf_kill $walk_pid
walks=$(cat "$HF_DIR/walk.count" 2>/dev/null || echo 0)
t_diag "$walks walks of ifTable/ifXTable during the churn"
t_check "the walker walked the tables many times (>= 10)" test "$walks" -ge 10
maxrows=$(sort -n "$HF_DIR/walk.rows" | tail -n 1)
t_check "walks saw the churn (up to $maxrows rows, > 20)" test "${maxrows:-0}" -gt 20
if [[ -s $HF_DIR/walk.bad ]]; then
	t_fail "no walk showed an ifIndex twice or out of order" "$(head -n 3 "$HF_DIR/walk.bad" | tr '\n' ' ')"
else
	t_ok "no walk showed an ifIndex twice or out of order ($walks walks)"
fi
if [[ -s $HF_DIR/walk.errors ]]; then
	t_fail "every walk completed" "$(wc -l <"$HF_DIR/walk.errors") failed: $(head -n 2 "$HF_DIR/walk.errors" | tr '\n' ' ')"
else
	t_ok "every walk completed"
fi

HF_CHECK_PREFIX="after churn: " hf_ifmib_check "$A" --deadline 2 \
	--only "ifNumber = number of links" \
	--only "ifIndex column unique and equal to the row index" \
	--only "one row per link, at the expected ifIndex" \
	--only ifDescr --only ifName --only ifAdminStatus --only ifOperStatus \
	--only "time columns: <= sysUpTime, 0 before start, set after" \
	--before-start stay1 --before-start stay5

# settled_within_1s T_US WHAT: rows = kernel within 1 s of time T_US.
settled_within_1s() {
	local t=$1 what=$2 left
	left=$((1000000 - ($(_hf_now_us) - t)))
	((left < 0)) && left=0
	if hf_wait_for "$(awk -v u=$left 'BEGIN { printf "%.3f", u / 1e6 }')" settled; then
		t_ok "1 s after $what: served names and ifNumber = the kernel's links ($(nlinks))"
	else
		t_fail "1 s after $what: served names and ifNumber = the kernel's links" \
			"ifNumber $(hf_snmp_val "$A" $OID_IFNUMBER), kernel $(nlinks)"
	fi
}
dumps() { grep -c 'netlink: dumped' "$HF_DIR/hostflowd.log"; }
BIG=500
for ((i = 1; i <= BIG; i++)); do
	echo "link add big$i type veth peer name big${i}p netns $B"
	((i % 2)) && echo "link set big$i up"
done >"$HF_DIR/big-add"
for ((i = 1; i <= BIG; i++)); do
	echo "link del big$i"
done >"$HF_DIR/big-del"
ip -n "$A" -batch "$HF_DIR/big-add" >>"$HF_DIR/batch.log" 2>&1 || t_fail "adding $BIG veth pairs" "ip -batch failed"
settled_within_1s "$(_hf_now_us)" "adding $BIG veth pairs in one batch"
# The kernel settles 250 new links' operstates asynchronously (linkwatch):
# the checker retries until its two readings agree.
HF_CHECK_PREFIX="after $BIG adds: " hf_ifmib_check "$A" --deadline 6 \
	--only "one row per link, at the expected ifIndex" --only ifOperStatus \
	--only "time columns: <= sysUpTime, 0 before start, set after" \
	--before-start stay1 --new big1 --new big2 --new "big$BIG"
d0=$(dumps)
t0=$(_hf_now_us)
ip -n "$A" -batch "$HF_DIR/big-del" >>"$HF_DIR/batch.log" 2>&1 || t_fail "deleting $BIG veths" "ip -batch failed"
t1=$(_hf_now_us)
settled_within_1s "$t1" "deleting $BIG veths in one batch ($(((t1 - t0) / 1000)) ms)"
d1=$(dumps)
t_check "$BIG deletions cost at most 2 link dumps ($((d1 - d0)))" test $((d1 - d0)) -le 2
t_check "same hostflowd process, started once" \
	test "$(grep -c ' running$' "$HF_DIR/hostflowd.log")" = 1
t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done
