#!/usr/bin/env bash
# The tc eBPF capture (`capture ebpf`) against the packet sockets (`capture
# packet`) on the same packets: two daemons in one namespace sample a veth
# and a tun at rate 1 while UDP crosses both ways, and every sample of one
# must be a sample of the other (source, input/output ifIndex, header
# protocol, frame_length, stripped bytes and the header itself). Then the
# eBPF one alone: 1 in 10 within 5 sd on each interface and direction, a
# `filter` (run in user space on the drawn packets), `sample lo` at rate 1
# (never its own datagrams), an interface of ifindex 70000 (its rate in the
# hash map, not the array), an attach the kernel refuses in the steps after
# a reload (named in the log and the status), and a kill -9: the programs it left attached are
# detached by the next start, and a clean stop leaves none. SKIP where the
# kernel has no tcx (Linux 6.6).
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"
hf_init sflow_ebpf
command -v bpftool >/dev/null || hf_die "bpftool is missing (test/deps.sh check installs it)"

A=${HF_NS}a
B=${HF_NS}b
PE=6343
PP=6344
conf=$HF_DIR/ebpf.conf
pconf=$HF_DIR/packet.conf
flows_e=$HF_DIR/flows-ebpf.txt
flows_p=$HF_DIR/flows-packet.txt

hf_link_tun_host "$A" vA "$B" vB
sf_sink "$A" 198.18.0.1 5001
sf_sink "$B" 198.18.0.2 5002
sf_sink "$A" 100.64.0.1 9
for p in $PE $PP; do
	hf_bg "$A" "$HF_DIR/flows-$p.log" python3 "$HF_TOOLS/sflow_flows.py" 127.0.0.1 $p \
		"$HF_DIR/flows-$p.txt" "$HF_DIR/flows.stop" 600
done
hf_wait_for 5 grep -q READY "$HF_DIR/flows-$PE.txt" &&
	hf_wait_for 5 grep -q READY "$HF_DIR/flows-$PP.txt" || hf_die "collectors"
ln -sf "flows-$PE.txt" "$flows_e"
ln -sf "flows-$PP.txt" "$flows_p"

# nflows FILE [AWK-CONDITION]: flow samples in FILE (matching the condition).
nflows() {
	awk "\$1 == \"F\" ${2:+&& ($2)} { n++ } END { print n + 0 }" "$1"
}

# The ids of the loaded tc programs named NAME (bpftool's JSON).
prog_ids() {
	bpftool prog show name "$1" -j 2>/dev/null | python3 -c 'import json, sys
t = sys.stdin.read().strip()
v = json.loads(t) if t else []
print(" ".join(str(p["id"]) for p in (v if isinstance(v, list) else [v])))'
}

common=("sample vA rate 1" "sample tun0 rate 1" "sample lo off" "polling_interval 0"
	"header_bytes 128" "agent_address 192.0.2.7")
hf_conf "$conf" "${common[@]}" "collector 127.0.0.1 $PE" "capture ebpf"
if ! hf_hostflowd_start "$A" "$conf"; then
	if grep -q "no tcx" "$HF_DIR/hostflowd.log"; then
		t_skip "tc eBPF capture" "the kernel has no tcx (Linux 6.6): $(uname -r)"
		t_done
		exit
	fi
	hf_die "hostflowd (capture ebpf) did not start"
fi
epid=$HF_HOSTFLOWD_PID
t_check "the eBPF daemon says it captures with tc eBPF" grep -q "capture: tc eBPF" "$HF_DIR/hostflowd.log"
# The packet-socket daemon beside it: its own collector, no AgentX (the
# first one holds the registration), samples sent regardless.
{
	echo "agentx_socket $HF_DIR/no-agentx"
	printf '%s\n' "${common[@]}" "collector 127.0.0.1 $PP" "capture packet" "hold_samples off"
} >"$pconf"
hf_bg "$A" "$HF_DIR/packet.log" "$HF_BIN" -f -c "$pconf"
ppid=$HF_LAST_PID
hf_wait_for 10 grep -q "sampling 2 interfaces" "$HF_DIR/packet.log" &&
	hf_wait_for 10 grep -q "sampling 2 interfaces" "$HF_DIR/hostflowd.log" ||
	hf_die "both daemons sampling 2 interfaces"
t_check "the other daemon uses packet sockets" grep -q "capture: packet sockets" "$HF_DIR/packet.log"
vidx=$(sf_served "$A" vA)
tidx=$(sf_served "$A" tun0)
t_diag "vA ifIndex $vidx, tun0 ifIndex $tidx"

N1=300
sf_blast "$B" 198.18.0.2 198.18.0.1 4001 5001 $N1 20
sf_blast "$B" 198.18.0.2 198.18.0.1 4003 5001 $N1 700
sf_blast "$A" 198.18.0.1 198.18.0.2 4002 5002 $N1 20
hf_tun_inject "$A" tun0 v4 $N1 64 || t_fail "inject into tun0"
sf_blast "$A" 100.64.0.1 100.64.0.2 4010 5010 $N1 40
want=$((5 * N1))
hf_wait_for 15 eval '(($(nflows "$flows_e") >= want && $(nflows "$flows_p") >= want))'
t_check "rate 1: the eBPF capture sampled all $want packets ($(nflows "$flows_e"))" \
	test "$(nflows "$flows_e")" = $want
t_check "rate 1: the packet sockets sampled all $want packets ($(nflows "$flows_p"))" \
	test "$(nflows "$flows_p")" = $want
# Pool and drops are read at other moments; everything else must be equal.
same() {
	awk '$1 == "F" { $4 = $5 = ""; print }' "$1" | sort
}
t_check "every sample equal in both (ifIndex, direction, frame_length, stripped, header bytes)" \
	diff <(same "$flows_e") <(same "$flows_p")
x=$SF_IF_INTERNAL
t_check "veth in: input vA, frame_length 62 + 4 FCS, stripped 4, 62 bytes (sport 4001)" \
	test "$(nflows "$flows_e" "\$2 == $vidx && \$6 == $vidx && \$7 == $x && \$9 == 66 && \$10 == 4 && length(\$11) == 124")" = $N1
t_check "veth in, 700-byte payloads: frame_length 742 + 4, header cut at 128" \
	test "$(nflows "$flows_e" "\$6 == $vidx && \$9 == 746 && length(\$11) == 256")" = $N1
t_check "veth out: output vA" test "$(nflows "$flows_e" "\$6 == $x && \$7 == $vidx && \$9 == 66")" = $N1
t_check "tun in: input tun0, IPv4 (11), frame_length 92, nothing stripped" \
	test "$(nflows "$flows_e" "\$6 == $tidx && \$8 == 11 && \$9 == 92 && \$10 == 0")" = $N1
t_check "tun out: output tun0, IPv4, frame_length 68" \
	test "$(nflows "$flows_e" "\$7 == $tidx && \$8 == 11 && \$9 == 68")" = $N1
hf_kill "$ppid"

# 1 in 10 on each interface and direction, within 5 sd of the packets sent.
hf_conf "$conf" "${common[@]/rate 1/rate 10}" "collector 127.0.0.1 $PE" "capture ebpf"
kill -HUP "$epid"
hf_wait_for 5 grep -q "vA now 1 in 10" "$HF_DIR/hostflowd.log" || hf_die "reload to 1 in 10"
before=$HF_DIR/before.txt
cp "$flows_e" "$before"
N2=5000
sf_blast "$B" 198.18.0.2 198.18.0.1 4001 5001 $N2 20
sf_blast "$A" 198.18.0.1 198.18.0.2 4002 5002 $N2 20
hf_tun_inject "$A" tun0 v4 $N2 64 || t_fail "inject into tun0"
sf_blast "$A" 100.64.0.1 100.64.0.2 4010 5010 $N2 40
# Samples stop arriving: the last datagram is out within 1 s.
settled() {
	local a
	a=$(nflows "$flows_e")
	sleep 0.5
	[[ $a == "$(nflows "$flows_e")" ]]
}
hf_wait_for 10 settled
# new RATE COND: flow samples at RATE matching COND since $before was taken.
new() {
	tail -n +"$(($(wc -l <"$before") + 1))" "$flows_e" |
		awk '$1 == "F" && $3 == '"$1"' && '"$2"' { n++ } END { print n + 0 }'
}
t_check "1 in 10, veth in" sf_binomial "$(new 10 "\$6 == $vidx")" $N2 10
t_check "1 in 10, veth out" sf_binomial "$(new 10 "\$7 == $vidx")" $N2 10
t_check "1 in 10, tun in" sf_binomial "$(new 10 "\$6 == $tidx")" $N2 10
t_check "1 in 10, tun out" sf_binomial "$(new 10 "\$7 == $tidx")" $N2 10

# A filter: only the packets it matches, still drawn first.
hf_conf "$conf" "sample vA rate 1 filter \"udp dst port 5001\"" "sample lo off" \
	"polling_interval 0" "collector 127.0.0.1 $PE" "capture ebpf"
kill -HUP "$epid"
hf_wait_for 5 grep -q "sampling 1 interface$" "$HF_DIR/hostflowd.log" || hf_die "reload with a filter"
cp "$flows_e" "$before"
sf_blast "$B" 198.18.0.2 198.18.0.1 4001 5001 $N1 20
sf_blast "$A" 198.18.0.1 198.18.0.2 4002 5002 $N1 20
hf_wait_for 10 eval '(($(new 1 "\$6 == $vidx") >= N1))'
hf_wait_for 10 settled
t_check "filter \"udp dst port 5001\": every packet to 5001 ($(new 1 "\$6 == $vidx"))" \
	test "$(new 1 "\$6 == $vidx")" = $N1
t_check "filter: none of the packets to 5002 ($(new 1 "\$7 == $vidx"))" test "$(new 1 "\$7 == $vidx")" = 0

# `sample lo` at rate 1 with the collector on lo: the daemon's own datagrams
# are excluded in user space, so without traffic the samples stop.
hf_conf "$conf" "sample lo rate 1" "polling_interval 0" "collector 127.0.0.1 $PE" \
	"capture ebpf"
kill -HUP "$epid"
hf_wait_for 5 grep -q "sampling lo (ifIndex 1) 1 in 1" "$HF_DIR/hostflowd.log" || hf_die "reload to lo"
cp "$flows_e" "$before"
ip netns exec "$A" python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5): s.sendto(b"x", ("127.0.0.1", 9))'
hf_wait_for 10 eval '(($(new 1 "\$2 == 1") > 0))'
hf_wait_for 10 settled
# Sampled traffic goes out within 1 s; a datagram sampling itself would
# keep one going every second after that.
hf_wait_for 2 false
quiet=$(new 1 "\$2 == 1")
hf_wait_for 4 false
t_check "sample lo at rate 1: no sample of our own datagrams ($quiet, then $(new 1 "\$2 == 1"))" \
	test "$(new 1 "\$2 == 1")" = "$quiet"
hf_conf "$conf" "sample vA rate 1 filter \"udp dst port 5001\"" "sample lo off" \
	"polling_interval 0" "collector 127.0.0.1 $PE" "capture ebpf"
kill -HUP "$epid"
hf_wait_for 5 grep -q "lo no longer sampled" "$HF_DIR/hostflowd.log" || hf_die "reload from lo"

# An interface whose ifindex is past the program's array (65536) finds its
# rate in the hash map: sampled the same.
ip -n "$A" link add vC index 70000 type veth peer name vD netns "$B" &&
	ip -n "$A" link set vC up && ip -n "$B" link set vD up || hf_die "veth with ifindex 70000"
hf_conf "$conf" "sample vA rate 1 filter \"udp dst port 5001\"" "sample vC rate 1" \
	"sample lo off" "polling_interval 0" "collector 127.0.0.1 $PE" "capture ebpf"
kill -HUP "$epid"
hf_wait_for 5 grep -q "sampling vC (ifIndex 70000) 1 in 1" "$HF_DIR/hostflowd.log" ||
	hf_die "reload with vC"
cp "$flows_e" "$before"
ip netns exec "$B" python3 "$HF_TOOLS/ethsend.py" 50 vD || hf_die "frames into vC"
hf_wait_for 10 eval '(($(new 1 "\$2 == 70000") >= 50))'
hf_wait_for 10 settled
t_check "ifindex 70000 (the hash map): every one of 50 frames ($(new 1 "\$2 == 70000 && \$6 == 70000"))" \
	test "$(new 1 "\$2 == 70000 && \$6 == 70000")" = 50
hf_conf "$conf" "sample vA rate 1 filter \"udp dst port 5001\"" "sample lo off" \
	"polling_interval 0" "collector 127.0.0.1 $PE" "capture ebpf"
kill -HUP "$epid"
hf_wait_for 5 grep -q "vC no longer sampled" "$HF_DIR/hostflowd.log" || hf_die "reload without vC"

# The kernel refuses an attach made in steps (more than 8 new interfaces
# are attached between drains, after the reload returned): w07's ingress
# hook is full (63 programs of test/tools/tcxfill). The interface is named
# in the log and the status, with why; the others are sampled.
for i in $(seq -w 1 12); do
	echo "link add w$i type veth peer name x$i netns $B"
	echo "link set w$i up"
done >"$HF_DIR/w.batch"
ip -n "$A" -batch "$HF_DIR/w.batch" || hf_die "12 veths"
for i in $(seq -w 1 12); do ip -n "$B" link set "x$i" up; done
hf_bg "$A" "$HF_DIR/tcxfill.log" "$HF_ROOT/test/tools/tcxfill" w07 ingress 63 120
fill_pid=$HF_LAST_PID
hf_wait_for 10 grep -q '^ready' "$HF_DIR/tcxfill.log" || hf_die "tcxfill: $(cat "$HF_DIR/tcxfill.log")"
hf_conf "$conf" "sample vA rate 1 filter \"udp dst port 5001\"" "sample w* rate 1" \
	"sample lo off" "polling_interval 0" "collector 127.0.0.1 $PE" "capture ebpf"
kill -HUP "$epid"
t_check "12 interfaces attached in steps: the log names w07, refused, and why" \
	hf_wait_for 10 grep -q "warning: sampler: not sampled: w07 (tcx attach refused)" \
	"$HF_DIR/hostflowd.log"
t_check "the capture's own line says what the kernel answered" \
	grep -q "capture: w07 (kindex [0-9]*): tcx attach (ingress): .*: not sampled" "$HF_DIR/hostflowd.log"
kill -USR1 "$epid"
t_check "the status names it too: sampling 12, not sampled: w07" \
	hf_wait_for 5 grep -q "status: .*sampling 12 (.*not sampled: w07 (tcx attach refused)) by tc eBPF" \
	"$HF_DIR/hostflowd.log"
cp "$flows_e" "$before"
ip netns exec "$B" python3 "$HF_TOOLS/ethsend.py" 20 x03 x07 x12 || hf_die "frames into w03 w07 w12"
w03=$(sf_served "$A" w03) w07=$(sf_served "$A" w07) w12=$(sf_served "$A" w12)
hf_wait_for 10 eval '(($(new 1 "\$2 == $w03 || \$2 == $w12") >= 40))'
hf_wait_for 10 settled
t_check "the others are sampled (w03, w12: $(new 1 "\$2 == $w03 || \$2 == $w12") of 40), w07 not" \
	eval '(($(new 1 "\$2 == $w03 || \$2 == $w12") == 40 && $(new 1 "\$2 == $w07") == 0))'
hf_kill "$fill_pid"
hf_conf "$conf" "sample vA rate 1 filter \"udp dst port 5001\"" "sample lo off" \
	"polling_interval 0" "collector 127.0.0.1 $PE" "capture ebpf"
kill -HUP "$epid"
last_count() { grep 'sampler: sampling [0-9]* interface' "$HF_DIR/hostflowd.log" | tail -n 1; }
hf_wait_for 5 eval '[[ $(last_count) == *"sampling 1 interface" ]]' || hf_die "reload without w*"
# Gone with their programs, whatever the steps detached by now.
for i in $(seq -w 1 12); do echo "link del w$i"; done >"$HF_DIR/wdel.batch"
ip -n "$A" -batch "$HF_DIR/wdel.batch" || hf_die "delete the 12 veths"

# kill -9 (vA sampled, tun0 not since the last reload): the programs stay attached (tcx without a link holds no fd) and
# stay loaded; the next start detaches them, a clean stop leaves nothing.
old_in=$(prog_ids hf_sample_in)
recorded=$(ip netns exec "$A" sh -c 'cat /run/hostflow/tcx-$(stat -L -c %i /proc/self/ns/net)' 2>/dev/null)
t_diag "loaded hf_sample_in: $old_in; record: ${recorded//$'\n'/ | }"
mine=$(echo "$recorded" | awk '/^ids/ { print $2, $3 }')
t_check "the running daemon recorded its two programs" test -n "$mine"
kill -KILL "$epid"
wait "$epid" 2>/dev/null
HF_HOSTFLOWD_PID=
loaded() {
	local id live
	live=" $(prog_ids hf_sample_in) $(prog_ids hf_sample_out) "
	for id in $1; do
		[[ $live == *" $id "* ]] || return 1
	done
}
gone() {
	local id live
	live=" $(prog_ids hf_sample_in) $(prog_ids hf_sample_out) "
	for id in $1; do
		[[ $live == *" $id "* ]] && return 1
	done
	return 0
}
t_check "after kill -9 its programs stay loaded ($mine)" loaded "$mine"
hf_conf "$conf" "${common[@]}" "collector 127.0.0.1 $PE" "capture ebpf"
: >"$HF_DIR/hostflowd.log"
hf_hostflowd_start "$A" "$conf" || hf_die "restart"
t_check "the restart says it detached the killed daemon's programs" \
	grep -q "detached 2 tc programs a killed hostflowd left (1 ingress hooks)" "$HF_DIR/hostflowd.log"
t_check "the killed daemon's programs are gone ($mine)" hf_wait_for 5 gone "$mine"
cp "$flows_e" "$before"
sf_blast "$B" 198.18.0.2 198.18.0.1 4001 5001 $N1 20
hf_wait_for 10 eval '(($(new 1 "\$6 == $vidx") >= N1))'
hf_wait_for 10 settled
t_check "after the restart: rate 1 samples each packet once ($(new 1 "\$6 == $vidx") of $N1)" \
	test "$(new 1 "\$6 == $vidx")" = $N1
mine2=$(ip netns exec "$A" sh -c 'cat /run/hostflow/tcx-$(stat -L -c %i /proc/self/ns/net)' |
	awk '/^ids/ { print $2, $3 }')
t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_check "a clean stop unloads its programs ($mine2)" hf_wait_for 5 gone "$mine2"
t_check "and removes its record" \
	ip netns exec "$A" sh -c '! test -e /run/hostflow/tcx-$(stat -L -c %i /proc/self/ns/net)'
touch "$HF_DIR/flows.stop"
t_done
