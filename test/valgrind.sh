#!/bin/bash
# make valgrind: every built unit test, then the daemon itself, under
# valgrind's memcheck. A test passes when valgrind reports no error and no
# definitely lost block ("still reachable" memory of net-snmp and libnl is
# theirs to keep until exit and is not counted).
#
#   test/valgrind.sh [unit|daemon|all]   (default all; VALGRIND_ARGS adds options)
#
# Logs: build/valgrind/ (one file per process, %p = pid).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/valgrind
SUPP=$ROOT/test/valgrind.supp
what=${1:-all}

VG=(valgrind --leak-check=full --errors-for-leak-kinds=definite
	--show-leak-kinds=definite --error-exitcode=1 --track-fds=no
	--num-callers=30)
[ -s "$SUPP" ] && VG+=(--suppressions="$SUPP")
# Extra options, e.g. VALGRIND_ARGS=--gen-suppressions=all to write a rule.
read -r -a extra <<<"${VALGRIND_ARGS:-}"
VG+=("${extra[@]}")

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# Errors valgrind found in the logs given. A log without a summary is a
# fork child that went on to exec (system(), popen()) outside valgrind's
# view; a child that crashes still writes its summary.
vg_clean() {
	local f bad=0
	for f in "$@"; do
		[ -e "$f" ] || continue
		if grep -q 'ERROR SUMMARY: [1-9]' "$f"; then
			grep -E 'ERROR SUMMARY|definitely lost|Invalid|uninitialised|by 0x|at 0x' \
				"$f" | head -n 25 | sed 's/^/#   /'
			bad=1
		fi
	done
	return $bad
}

# Unit tests. CK_FORK=no keeps each test in the process valgrind watches;
# check_netlink and parts of check_collector/check_config fork on purpose
# (each test unshares a namespace): memcheck follows fork() children without
# any option, each writes its own log and exits 1 on errors, which check
# reports as a failed test. --trace-children stays off so the shell, ip and
# tshark started by system()/popen() are not themselves checked.
run_unit() {
	local t name log rc
	for t in "$ROOT"/test/unit/check_*; do
		[[ $t == *.c ]] && continue
		[ -x "$t" ] && [ -f "$t.c" ] || continue
		name=${t##*/}
		rm -f "$OUT/$name".*.log
		log=$OUT/$name.%p.log
		# Valgrind runs code ~20-50x slower: stretch check's timeouts.
		(cd "$ROOT" && CK_FORK=no CK_TIMEOUT_MULTIPLIER=20 \
			"${VG[@]}" --log-file="$log" "$t") >"$OUT/$name.out" 2>&1
		rc=$?
		if ((rc == 0)) && vg_clean "$OUT/$name".*.log; then
			ok "$name: $(grep -Eo '[0-9]+%: Checks: [0-9]+' "$OUT/$name.out" | tail -n 1)"
		else
			bad "$name: exit $rc (logs $OUT/$name.*.log)"
			grep -E '^[^ ]+:[0-9]+:[EF]:' "$OUT/$name.out" | head -n 5 | sed 's/^/#   /'
			vg_clean "$OUT/$name".*.log >/dev/null || true
		fi
	done
}

# The daemon: a namespace pair joined by a veth, a private snmpd master
# (test/integration/lib.sh), hostflowd -f under valgrind serving IF-MIB and
# sampling the veth to a local collector; walks, a collector-style GET, a
# link added and deleted, a SIGHUP reload, then SIGTERM. Runs in a subshell: lib.sh's traps clean up when it ends.
daemon() (
	set -u
	# shellcheck source=integration/lib.sh
	source "$ROOT/test/integration/lib.sh"
	hf_init valgrind >/dev/null
	local vg=$HF_DIR/hostflowd-vg conf=$HF_DIR/hostflowd.conf pid rc ts
	rm -f "$OUT"/hostflowd.*.log
	printf '#!/bin/sh\nexec %s --log-file=%s "$@"\n' "${VG[*]}" \
		"$OUT/hostflowd.%p.log $ROOT/agent/hostflowd" >"$vg"
	chmod +x "$vg"

	hf_ns_add "${HF_NS}a" && hf_ns_add "${HF_NS}b" || hf_die "namespaces"
	A=${HF_NS}a B=${HF_NS}b
	hf_ns_quiet "$A"; hf_ns_quiet "$B"
	hf_veth "$A" veth0 "$B" veth0p || hf_die "veth"
	hf_neigh "$A" veth0 198.19.0.1 "$B" veth0p 198.19.0.2 || hf_die "addresses"
	hf_snmpd_start "$A" || hf_die "snmpd"
	hf_conf "$conf" 'interface veth0 alias "Transit: valgrind" speed 10G' \
		'collector 127.0.0.1 6343' 'agent_address 127.0.0.1' \
		'sample veth0 rate 1' 'polling_interval 1'
	# A collector that notes the sample formats it receives (1 flow,
	# 2 counters), so the test waits for both instead of a fixed time.
	hf_bg "$A" "$HF_DIR/sink.out" python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 6343))
while True:
    d = s.recv(65536)
    off = 28 if struct.unpack(">I", d[4:8])[0] == 1 else 40
    fmt = set()
    for _ in range(struct.unpack(">I", d[off - 4:off])[0]):
        tag, ln = struct.unpack(">II", d[off:off + 8])
        fmt.add(tag)
        off += 8 + ln
    print(" ".join("format%d" % f for f in sorted(fmt)), flush=True)
'
	# has OID walk|bulkwalk REGEX: the walk's output has a matching line.
	has() { hf_snmp "$A" "$2" "$1" 2>/dev/null | grep -q -- "$3"; }
	# gone NAME: a walk that answers (veth0 is there) without NAME.
	gone() {
		local out
		out=$(hf_snmp "$A" walk "$OID_IFXTABLE" 2>/dev/null) &&
			grep -q '"veth0"' <<<"$out" && ! grep -q "\"$1\"" <<<"$out"
	}
	# Akvorado's poll: sysName, ifDescr, ifName, ifAlias, ifHighSpeed.
	get5() {
		local out
		out=$(hf_snmp "$A" get $OID_SYSNAME "$OID_IFENTRY.2.$1" \
			"$OID_IFXENTRY.1.$1" "$OID_IFXENTRY.18.$1" "$OID_IFXENTRY.15.$1") &&
			[ "$(grep -c ' = ' <<<"$out")" -eq 5 ] && ! grep -q 'No Such' <<<"$out"
	}

	# Own start and stop with long deadlines: valgrind is slow to start
	# and to check leaks at exit.
	hf_bg "$A" "$HF_DIR/hostflowd.log" "$vg" -f -c "$conf"
	pid=$HF_LAST_PID
	hf_wait_for 60 hf_snmp_val "$A" "$OID_IFNUMBER" || t_fail "serves ifNumber" "60 s"
	# Retried until a deadline: snmpd gives a subagent 1 s (lib.sh's
	# agentXTimeout), which valgrind's first pass through a handler may miss.
	t_check "walk ifTable" hf_wait_for 30 has "$OID_IFTABLE" walk "^$OID_IFENTRY\.2\..*veth0"
	t_check "walk ifXTable" hf_wait_for 30 has "$OID_IFXTABLE" walk "Transit: valgrind"
	t_check "bulkwalk ifXTable" hf_wait_for 30 has "$OID_IFXTABLE" bulkwalk \
		"^$OID_IFXENTRY\.15\..* = Gauge32: 10000\$"
	ts=$(hf_row "$A" veth0)
	t_check "collector GET of 5 varbinds" hf_wait_for 30 get5 "$ts"
	hf_udp "$B" 198.19.0.1 200 100
	hf_udp "$A" 198.19.0.2 200 100
	t_check "collector got flow samples" hf_wait_for 30 grep -q format1 "$HF_DIR/sink.out"
	t_check "collector got counter samples" hf_wait_for 30 grep -q format2 "$HF_DIR/sink.out"
	# Churn and reload: the paths where snapshots, captures and configs
	# are replaced and the old ones must be freed.
	ip -n "$A" link add vtmp0 type veth peer name vtmp0p && ip -n "$A" link set vtmp0 up
	t_check "a new link is served" hf_wait_for 30 has "$OID_IFXTABLE" walk '"vtmp0"'
	ip -n "$A" link del vtmp0
	t_check "a deleted link is gone" hf_wait_for 30 gone vtmp0
	hf_conf "$conf" 'interface veth0 alias "Transit: reloaded"' \
		'collector 127.0.0.1 6343' 'agent_address 127.0.0.1' \
		'sample veth0 rate 2' 'polling_interval 1'
	kill -HUP "$pid"
	t_check "SIGHUP reloads the alias" hf_wait_for 30 has "$OID_IFXTABLE" walk "Transit: reloaded"
	hf_udp "$B" 198.19.0.1 200 100
	t_check "still alive after traffic and reload" kill -0 "$pid"

	kill -TERM "$pid"
	hf_wait_for 60 eval '! kill -0 '"$pid"' 2>/dev/null' || t_fail "SIGTERM" "still running after 60 s"
	wait "$pid"
	rc=$?
	if ((rc == 0)); then
		t_ok "exit status 0 under valgrind (no errors, no definite leaks)"
	else
		t_fail "exit status" "$rc; hostflowd log tail:"
		tail -n 5 "$HF_DIR/hostflowd.log" | sed 's/^/#   /'
	fi
	t_check "valgrind summaries clean" vg_clean "$OUT"/hostflowd.*.log
	t_done
)

mkdir -p "$OUT"
case $what in
unit | all) run_unit ;;
esac
case $what in
daemon | all)
	if daemon >"$OUT/daemon.out" 2>&1; then
		ok "hostflowd under valgrind: $(tail -n 1 "$OUT/daemon.out")"
	else
		bad "hostflowd under valgrind (log $OUT/daemon.out)"
		grep -E '^not ok|^#' "$OUT/daemon.out" | head -n 30
	fi
	;;
esac
echo "$passed passed, $failed failed"
((failed == 0))
