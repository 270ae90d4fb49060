#!/usr/bin/env bash
# A container host: 1000 veths matched by one pattern (`sample ctr*`), more
# created after start, hostflowd under `ulimit -n 128` with packet sockets
# (`capture packet`; test_sflow_ebpf_many.sh does the same with tc eBPF): one
# packet socket for all, so neither fds nor memory grow per interface; every sampled
# interface's frames come back under the ifIndex SNMP serves for it. Then
# `sample lo` with a collector on lo at rate 1: hostflowd never samples its
# own datagrams, so without traffic the datagrams stop.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"
hf_init sflow_many

N=${MANY_IFACES:-1000}
FRAMES=20
PORT=6343
A=${HF_NS}a
B=${HF_NS}b
recv=$HF_DIR/recv.txt
conf=$HF_DIR/hostflowd.conf
hf_many_host "$A" "$B" "$N"
hf_bg "$A" "$HF_DIR/recv.log" python3 "$HF_TOOLS/akvorado_poll.py" 127.0.0.1 $PORT 0 \
	"$recv" "$HF_DIR/recv.stop" 300
hf_wait_for 5 grep -q READY "$recv" || hf_die "receiver"
hf_conf "$conf" "sample lo off" "sample ctr* rate 1" "polling_interval 0" \
	"agent_address 198.18.0.1" "collector 127.0.0.1 $PORT" "capture packet"
# The fd limit a unit without LimitNOFILE would have, and far less.
HF_BIN=$(hf_bin_limited 128) hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd"
pid=$HF_HOSTFLOWD_PID
hf_wait_for 10 grep -q "sampling $N interfaces" "$HF_DIR/hostflowd.log"
t_check "samples all $N interfaces matched by ctr*" grep -q "sampling $N interfaces" "$HF_DIR/hostflowd.log"

# Interfaces created after start join through the same pattern.
hf_veth_batch "$A" ctrnew "$B" pn 3 || hf_die "new veths"
hf_wait_for 5 grep -q "sampling $((N + 3)) interfaces" "$HF_DIR/hostflowd.log"
t_check "3 interfaces created after start are sampled too" \
	grep -q "sampling $((N + 3)) interfaces" "$HF_DIR/hostflowd.log"

# Frames from the far ends of 40 veths spread over the range, and the new ones.
picked=()
for i in $(seq 1 $((N / 40)) "$N"); do picked+=("$(printf "%0${#N}d" "$i")"); done
peers=()
for i in "${picked[@]}"; do peers+=("pe$i"); done
ip netns exec "$B" python3 "$HF_TOOLS/ethsend.py" $FRAMES "${peers[@]}" pn1 pn2 pn3 || hf_die "frames"
names=()
for i in "${picked[@]}"; do names+=("ctr$i"); done
names+=(ctrnew1 ctrnew2 ctrnew3)
want=$((${#names[@]} * FRAMES))
nflows() { awk '$1 == "D" && $5 != "-" { n += split($5, f, ",") } END { print n + 0 }' "$recv"; }
hf_wait_for 10 eval '(($(nflows) >= want))'
t_check "rate 1: every one of $want frames sampled ($(nflows))" test "$(nflows)" = "$want"
hf_snmp_col "$A" .1.3.6.1.2.1.31.1.1.1.1 >"$HF_DIR/ifname.txt"
bad=0
for n in "${names[@]}"; do
	idx=$(awk -v n="$n" '$2 == n { print $1; exit }' "$HF_DIR/ifname.txt")
	got=$(awk -v i="$idx" '$1 == "D" && $5 != "-" { m = split($5, f, ",")
		for (k = 1; k <= m; k++) { split(f[k], x, ":"); if (x[1] == i) c++ } } END { print c + 0 }' "$recv")
	if [[ -z $idx || $got != "$FRAMES" ]]; then
		t_diag "$n (ifIndex ${idx:-none}): $got samples, want $FRAMES"
		bad=1
	fi
done
t_check "each interface's samples carry the ifIndex SNMP serves for it" test $bad = 0
fds=$(ls "/proc/$pid/fd" | wc -l)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
t_diag "hostflowd with $((N + 3)) sampled interfaces: $fds fds, VmRSS $rss kB"
t_check "fds do not grow per interface ($fds < 32)" test "$fds" -lt 32
# The packet rings are the memory that once grew per interface (256 KiB
# each): mappings of packet sockets, whatever the allocator or sanitizer.
# One shared ring of 2 MiB serves them all (sized for the host's sampled
# rate, capture.c).
rings=$(hf_mapped_kib "$pid" socket:)
t_check "packet rings do not grow per interface ($rings KiB <= 2048)" test "$rings" -le 2048
# ASan's shadow and quarantine make RSS meaningless there.
if hf_bin_asan; then
	t_diag "AddressSanitizer build: VmRSS ($rss kB) not compared"
else
	t_check "memory does not grow per interface (VmRSS $rss kB < 64 MiB)" test "$rss" -lt 65536
fi

# Our own datagrams on lo are never sampled.
hf_conf "$conf" "sample lo rate 1" "polling_interval 0" \
	"agent_address 198.18.0.1" "collector 127.0.0.1 $PORT" "capture packet"
kill -HUP "$pid"
hf_wait_for 5 grep -q "sampling 1 interface$" "$HF_DIR/hostflowd.log" || hf_die "reload"
ndg() { grep -c '^D ' "$recv"; }
before=$(ndg)
ip netns exec "$A" python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5): s.sendto(b"x", ("127.0.0.1", 9))'
hf_wait_for 5 eval '(($(ndg) > before))'
# Sampled traffic is flushed within 1 s; a datagram sampling itself would
# keep one going every second after that.
hf_wait_for 2 false
settled=$(ndg)
hf_wait_for 4 false
t_check "sample lo at rate 1: no datagram samples the one before (quiet after the burst)" \
	test "$(ndg)" = "$settled"
t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
touch "$HF_DIR/recv.stop"
t_done
