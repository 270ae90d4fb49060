#!/usr/bin/env bash
# A container host with the tc eBPF capture: 1000 veths matched by one
# pattern (`sample ctr*`, `capture ebpf`) under `ulimit -n 128`, traffic on
# a few of them: every one of their frames is sampled at rate 1 under the
# ifIndex SNMP serves, fds and memory do not grow per interface (one ring
# buffer, a map entry each), interfaces created later are sampled, half of
# them deleted at once are let go, and the daemon stops cleanly. SKIP where
# the kernel has no tcx (Linux 6.6).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hf_init sflow_ebpf_many

N=${MANY_IFACES:-1000}
FRAMES=20
PORT=6343
A=${HF_NS}a
B=${HF_NS}b
flows=$HF_DIR/flows.txt
conf=$HF_DIR/hostflowd.conf
hf_many_host "$A" "$B" "$N"
hf_bg "$A" "$HF_DIR/flows.log" python3 "$HF_TOOLS/sflow_flows.py" 127.0.0.1 $PORT "$flows" \
	"$HF_DIR/flows.stop" 600
hf_wait_for 5 grep -q READY "$flows" || hf_die "collector"
hf_conf "$conf" "sample lo off" "sample ctr* rate 1" "polling_interval 0" \
	"agent_address 198.18.0.1" "collector 127.0.0.1 $PORT" "capture ebpf"
t0=$(date +%s%N)
if ! HF_BIN=$(hf_bin_limited 128) hf_hostflowd_start "$A" "$conf"; then
	if grep -q "no tcx" "$HF_DIR/hostflowd.log"; then
		t_skip "tc eBPF capture on $N veths" "the kernel has no tcx (Linux 6.6): $(uname -r)"
		t_done
		exit
	fi
	hf_die "hostflowd"
fi
pid=$HF_HOSTFLOWD_PID
hf_wait_for 60 grep -q "sampling $N interfaces" "$HF_DIR/hostflowd.log"
hf_wait_for 120 grep -q "tc programs attached to $N interfaces" "$HF_DIR/hostflowd.log"
t_check "samples all $N interfaces matched by ctr*, with tc eBPF" \
	grep -q "sampling $N interfaces" "$HF_DIR/hostflowd.log"
# Each tcx attach waits for an RCU grace period: done in steps, the
# sampler serving its ring in between.
t_check "tc programs attached to all $N (in the background)" \
	grep -q "tc programs attached to $N interfaces" "$HF_DIR/hostflowd.log"
t_diag "started and attached to $N interfaces in $((($(date +%s%N) - t0) / 1000000)) ms"

hf_veth_batch "$A" ctrnew "$B" pn 3 || hf_die "new veths"
hf_wait_for 10 grep -q "sampling $((N + 3)) interfaces" "$HF_DIR/hostflowd.log"
t_check "3 interfaces created after start are sampled too" \
	grep -q "sampling $((N + 3)) interfaces" "$HF_DIR/hostflowd.log"

# Frames from the far ends of a few veths spread over the range, and the new ones.
picked=()
for i in $(seq 1 $((N / 8)) "$N"); do picked+=("$(printf "%0${#N}d" "$i")"); done
peers=()
names=()
for i in "${picked[@]}"; do
	peers+=("pe$i")
	names+=("ctr$i")
done
names+=(ctrnew1 ctrnew2 ctrnew3)
ip netns exec "$B" python3 "$HF_TOOLS/ethsend.py" $FRAMES "${peers[@]}" pn1 pn2 pn3 || hf_die "frames"
want=$((${#names[@]} * FRAMES))
nflows() { awk '$1 == "F" { n++ } END { print n + 0 }' "$flows"; }
hf_wait_for 15 eval '(($(nflows) >= want))'
t_check "rate 1: every one of $want frames sampled ($(nflows))" test "$(nflows)" = "$want"
hf_snmp_col "$A" .1.3.6.1.2.1.31.1.1.1.1 >"$HF_DIR/ifname.txt"
bad=0
for n in "${names[@]}"; do
	idx=$(awk -v n="$n" '$2 == n { print $1; exit }' "$HF_DIR/ifname.txt")
	got=$(awk -v i="$idx" '$1 == "F" && $2 == i && $6 == i { c++ } END { print c + 0 }' "$flows")
	if [[ -z $idx || $got != "$FRAMES" ]]; then
		t_diag "$n (ifIndex ${idx:-none}): $got samples, want $FRAMES"
		bad=1
	fi
done
t_check "each interface's samples carry the ifIndex SNMP serves for it, as input" test $bad = 0
t_check "64-byte frames: frame_length 68, 64 header bytes" \
	awk '$1 == "F" && ($9 != 68 || length($11) != 128) { bad = 1; exit 1 } END { exit bad }' "$flows"

fds=$(ls "/proc/$pid/fd" | wc -l)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
t_diag "hostflowd with $((N + 3)) sampled interfaces: $fds fds, VmRSS $rss kB"
# The daemon's own (24 with packet sockets, test_sflow_many) and the
# capture's fixed ten (4 maps, 2 programs, the object's BTF, the ring's
# epoll, the work eventfd, the record) less the packet socket and its epoll.
t_check "fds do not grow per interface ($fds < 36)" test "$fds" -lt 36
# The ring buffer is the capture's memory: mapped as its control pages and
# its 2 MiB twice over (the kernel maps the data pages twice so a record
# never wraps), whatever the number of interfaces.
rings=$(hf_mapped_kib "$pid" socket: anon_inode:bpf)
t_check "ring mappings do not grow per interface ($rings KiB <= 2 x 2048 + 8)" test "$rings" -le 4104
if hf_bin_asan; then
	t_diag "AddressSanitizer build: VmRSS ($rss kB) not compared"
else
	t_check "memory does not grow per interface (VmRSS $rss kB < 64 MiB)" test "$rss" -lt 65536
fi

# Half of them go in one batch: let go, the rest still sampled.
for i in $(seq -w 1 2 "$N"); do echo "link del ctr$i"; done >"$HF_DIR/del.batch"
ip -n "$A" -batch "$HF_DIR/del.batch" || hf_die "delete"
left=$((N + 3 - (N + 1) / 2))
hf_wait_for 20 grep -q "sampling $left interfaces" "$HF_DIR/hostflowd.log"
t_check "$((N - left + 3)) deleted at once: sampling $left" grep -q "sampling $left interfaces" "$HF_DIR/hostflowd.log"
before=$(nflows)
ip netns exec "$B" python3 "$HF_TOOLS/ethsend.py" $FRAMES pe0002 || hf_die "frames after the delete"
hf_wait_for 10 eval '(($(nflows) >= before + FRAMES))'
t_check "a remaining veth is still sampled ($(($(nflows) - before)) of $FRAMES)" \
	test "$(($(nflows) - before))" = $FRAMES
# A clean stop detaches every program, one grace period each: longer
# than lib.sh's 10 s at this size.
t1=$(date +%s%N)
kill -TERM "$pid"
hf_wait_for 120 eval '! kill -0 "$pid" 2>/dev/null'
wait "$pid"
rc=$?
HF_HOSTFLOWD_PID=
t_check "hostflowd exits 0 on SIGTERM ($rc)" test $rc = 0
t_check "having detached its programs from the $left interfaces" \
	grep -q "tc programs detached from $left interfaces" "$HF_DIR/hostflowd.log"
t_diag "stopped in $((($(date +%s%N) - t1) / 1000000)) ms"
touch "$HF_DIR/flows.stop"
t_done
