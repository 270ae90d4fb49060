#!/usr/bin/env bash
# What one big interface churn costs hostflowd: PAIRS veth pairs (peers in a
# second namespace) exist when it starts; one `ip -batch` deletes them all.
# Measures hostflowd's CPU (utime+stime from /proc/PID/stat) from just before
# the batch until ifNumber has dropped to the kernel's count, the netlink
# dumps it made (its -d log has one "netlink: dumped N links" line per dump),
# and with BENCH_STRACE=1 its recvmsg calls (strace -c; slows it down, so the
# CPU figure of that run is not the one to quote). Not a timed test: it
# prints figures for docs/PERFORMANCE.md.
#
#   bash test/bench/bench_churn.sh [PAIRS]     # default 2000
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../integration/lib.sh
. "$BENCH_DIR/../integration/lib.sh"
. "$BENCH_DIR/bench_lib.sh"
HF_SNMP_PORT=${BENCH_SNMP_PORT:-17162}
PAIRS=${1:-2000}
[[ -x $HF_BIN ]] || hf_die "$HF_BIN is not built (make all)"
if [[ -n ${BENCH_STRACE:-} ]] && ! command -v strace >/dev/null; then
	hf_die "BENCH_STRACE=1 needs strace (apt-get install strace)"
fi

hf_init bench_churn
A=${HF_NS}a
B=${HF_NS}b
hf_ns_add "$A" && hf_ns_add "$B" || hf_die "namespaces"
for ((i = 1; i <= PAIRS; i++)); do
	echo "link add ch$i type veth peer name ch${i}p netns $B"
done >"$HF_DIR/add.batch"
for ((i = 1; i <= PAIRS; i++)); do
	echo "link del ch$i"
done >"$HF_DIR/del.batch"
ip -n "$A" -batch "$HF_DIR/add.batch" || hf_die "adding $PAIRS veth pairs"

hf_snmpd_start "$A" || hf_die "snmpd"
conf=$HF_DIR/hostflowd.conf
hf_conf "$conf"
hf_hostflowd_start "$A" "$conf" -d || hf_die "hostflowd"
pid=$HF_HOSTFLOWD_PID
ifnumber_is() { [[ $(hf_snmp_val "$A" $OID_IFNUMBER) == "$1" ]]; }
hf_wait_for 30 ifnumber_is $((PAIRS + 1)) || hf_die "ifNumber never reached $((PAIRS + 1))"

dumps() { grep -c 'netlink: dumped' "$HF_DIR/hostflowd.log"; }
# utime+stime of the agent (main) thread alone; the rest is the sampler's.
main_ticks() {
	local stat
	stat=$(cat "/proc/$pid/task/$pid/stat" 2>/dev/null) || { echo 0; return; }
	stat=${stat##*) }
	awk '{print $12 + $13}' <<<"$stat"
}
if [[ -n ${BENCH_STRACE:-} ]]; then
	strace -f -c -e trace=recvmsg,recvfrom,recvmmsg -o "$HF_DIR/strace.out" -p "$pid" &
	strace_pid=$!
	sleep 1
fi
d0=$(dumps)
c0=$(proc_ticks "$pid")
m0=$(main_ticks)
t0=$(_hf_now_us)
ip -n "$A" -batch "$HF_DIR/del.batch" || echo "# some deletions failed"
t1=$(_hf_now_us)
hf_wait_for 120 ifnumber_is 1 || echo "# ifNumber did not drop to 1 within 120 s"
t2=$(_hf_now_us)
c1=$(proc_ticks "$pid")
m1=$(main_ticks)
d1=$(dumps)
if [[ -n ${BENCH_STRACE:-} ]]; then
	kill -INT "$strace_pid"
	wait "$strace_pid"
	recv=$(awk '$NF ~ /^recv/ { n += $4 } END { print n + 0 }' "$HF_DIR/strace.out")
fi
echo "# command: bash test/bench/bench_churn.sh $PAIRS${BENCH_STRACE:+ (BENCH_STRACE=1)}"
echo "# hostflowd $(git -C "$HF_ROOT" rev-parse --short HEAD)$(git -C "$HF_ROOT" diff --quiet HEAD -- agent || echo ' (agent/ modified)'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "deleting $PAIRS veths in one ip -batch: batch $(((t1 - t0) / 1000)) ms," \
	"ifNumber = 1 after $(((t2 - t0) / 1000)) ms"
echo "hostflowd CPU: $(ticks_to_s $((c1 - c0))) s (agent thread $(ticks_to_s $((m1 - m0))) s," \
	"sampler $(ticks_to_s $((c1 - c0 - m1 + m0))) s); netlink dumps: $((d1 - d0))${recv:+; recvmsg calls: $recv}"
hf_hostflowd_stop || echo "# hostflowd did not exit cleanly"
