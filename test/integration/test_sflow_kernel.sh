#!/usr/bin/env bash
# The kernel always takes what -t accepts (issue 15, item 2). hostflowd's
# namespace A holds six veths v1..v6 (peers p1..p6 in B, 198.18.N.1/.2) and
# a tun.
#  - -t builds the programs the daemon would for the interfaces present and
#    refuses with FILE:LINE what the kernel would not take: filters too long
#    for one program, a filter that does not compile for a tun's bare IP;
#  - with Debian 12's net.core.optmem_max (20480; set in A's namespace when
#    the kernel keeps it per namespace, else saved and restored): six 5-term
#    filters are refused by -t (FILE:LINE, optmem_max), and the daemon samples
#    what fits and names the rest in the log and STATUS=; three filters and
#    `sample v*`, a program of more than 10240 bytes (-t at 10240 refuses
#    it), is accepted and samples every interface, and still does when a new
#    interface appears: a replaced program never needs old and new at once.
# Under tc eBPF (run.sh runs it under both) the kernel only draws and the
# programs run in user space: -t accepts the long filters and the daemon
# samples them; at 20480 the six filters are all sampled; the kernel's
# refusal there is a tcx hook that is full (test/tools/tcxfill: 63 programs
# on v5's ingress), named in the log and STATUS=, and a reload once it has
# room samples v5 again.
# hf-captures: ebpf packet
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init sflow_kernel
hf_capture_init
A=${HF_NS}a
B=${HF_NS}b
PORT=6343
DEBIAN12_OPTMEM=20480
conf=$HF_DIR/hostflowd.conf
log=$HF_DIR/hostflowd.log
got=$HF_DIR/recv.jsonl
notes=$HF_DIR/notify.log
# No snmpd: samples are not held (hold_samples off), AgentX never answers.
HF_AGENTX=$HF_DIR/agentx.sock

hf_ns_add "$A" && hf_ns_add "$B" || hf_die "namespaces"
hf_ns_quiet "$A" && hf_ns_quiet "$B" || hf_die "quiet"
for i in 1 2 3 4 5 6; do
	hf_veth "$A" "v$i" "$B" "p$i" || hf_die "veth v$i"
	hf_neigh "$A" "v$i" "198.18.$i.1" "$B" "p$i" "198.18.$i.2" || hf_die "addresses v$i"
done
hf_tun "$A" tun0 || hf_die "tun"

# filt K TERMS: a filter of TERMS "(net 198.18.N.0/24 and port K*100+N)"
# terms (net N matches vN's traffic when K = N and the port K*100+N).
filt() {
	python3 -c 'import sys; k, n = int(sys.argv[1]), int(sys.argv[2]); print(" or ".join(
	    "(net 198.18.%d.0/24 and port %d)" % (t + 1, k * 100 + t + 1) for t in range(n)))' "$1" "$2"
}
# big K: 36 IPv6 hosts with ports, ~920 instructions in 989 bytes.
big() {
	python3 -c 'import sys; k = int(sys.argv[1]); print(" or ".join(
	    "(host ::%x and port %d)" % (t + 1, k * 100 + t + 1) for t in range(36)))' "$1"
}
# check_t CONF: -t's output and status in T_OUT, T_RC.
check_t() {
	T_OUT=$(ip netns exec "$A" "$HF_BIN" -t -c "$1" 2>&1)
	T_RC=$?
}
# samples_of IFNAME DPORT: flow samples of IFNAME's served ifIndex whose
# sampled UDP datagram went to DPORT.
samples_of() {
	local idx
	idx=$(ip netns exec "$A" cat "/sys/class/net/$1/ifindex")
	jq -r --argjson i "$idx" --arg p "$(printf '%04x' "$2")" \
		'select(.t == "flow" and .source == $i and .header[72:76] == $p) | .seq' "$got" | wc -l
}
# traffic N DPORT: 20 datagrams from pN to 198.18.N.1:DPORT (into vN).
traffic() {
	sf_blast "$B" "198.18.$1.2" "198.18.$1.1" 4000 "$2" 20
}
# sampled N DPORT: vN's traffic to DPORT is sampled (all 20, rate 1).
sampled() {
	(($(samples_of "v$1" "$2") >= 20))
}
last_status() { grep '^STATUS=' "$notes" | tail -n 1; }

# --- net.core.optmem_max in A only, or the host's saved and restored --------
host_optmem=$(sysctl -n net.core.optmem_max)
ip netns exec "$A" sysctl -qw net.core.optmem_max=$DEBIAN12_OPTMEM || hf_die "optmem_max"
if [[ $(sysctl -n net.core.optmem_max) == "$host_optmem" ||
	$host_optmem == "$DEBIAN12_OPTMEM" ]]; then
	t_diag "net.core.optmem_max is per network namespace on this kernel: set in $A only"
	optmem_in() { ip netns exec "$A" sysctl -qw "net.core.optmem_max=$1"; }
else
	t_diag "net.core.optmem_max is the host's on this kernel: $host_optmem saved, restored at exit"
	trap 'sysctl -qw net.core.optmem_max=$host_optmem; hf_cleanup' EXIT
	optmem_in() { sysctl -qw "net.core.optmem_max=$1"; }
fi
optmem_in "$host_optmem"

# --- -t refuses what the kernel would not take ----------------------------------
lines=("collector 127.0.0.1 $PORT")
for i in 1 2 3 4 5 6; do lines+=("sample v$i rate 1 filter \"$(big "$i")\""); done
hf_conf "$HF_DIR/big.conf" "${lines[@]}"
check_t "$HF_DIR/big.conf"
t_diag "-t, six filters of ~920 instructions: $T_OUT"
if [[ $HF_CAPTURE_KIND == "packet sockets" ]]; then
	t_check "-t: six filters of ~920 instructions refused, FILE:LINE of the last line" \
		eval '((T_RC == 1)) && [[ $T_OUT == "$HF_DIR/big.conf:9: sample v6: v6"*"program too large: "* ]]'
else
	t_check "-t: six filters of ~920 instructions taken by tc eBPF (judged in user space)" \
		eval '((T_RC == 0)) && [[ $T_OUT == *"capture: tc eBPF"* ]]'
fi
hf_conf "$HF_DIR/tun.conf" "collector 127.0.0.1 $PORT" 'sample tun0 filter "ether host 02:00:00:00:00:01"'
check_t "$HF_DIR/tun.conf"
t_check "-t: an Ethernet filter on a tun refused for bare IP ($T_OUT)" \
	eval '((T_RC == 1)) && [[ $T_OUT == "$HF_DIR/tun.conf:4: sample tun0: tun0 cannot be sampled"*"for raw IP"* ]]'

# start_refused LOG_RE STATUS_RE [MORE]: the daemon started with an interface
# the kernel refuses: READY=1 all the same, and the log (LOG_RE) and STATUS=
# (STATUS_RE, which MORE names in the check) say what is not sampled and why.
start_refused() {
	# shellcheck disable=SC2034 # status_re: read by the eval below, in hf_wait_for
	local log_re=$1 status_re=$2
	hf_bg "$A" "$log" env NOTIFY_SOCKET="$sock" "$HF_BIN" -f -c "$conf"
	HF_HOSTFLOWD_PID=$HF_LAST_PID
	t_check "the daemon starts all the same (READY=1)" hf_wait_for 10 grep -q '^READY=1' "$notes"
	t_check "the log names what is not sampled, and why" \
		hf_wait_for 5 grep -q "warning: sampler: not sampled: $log_re" "$log"
	# shellcheck disable=SC2016 # expanded by eval, each try
	t_check "STATUS= names what is not sampled, and why${3:-}" \
		hf_wait_for 5 eval 'last_status | grep -q "$status_re"'
	t_diag "$(last_status)"
	t_diag "$(grep 'not sampled' "$log")"
}

# --- Debian 12's optmem_max ----------------------------------------------------------
optmem_in $DEBIAN12_OPTMEM
sock=$HF_DIR/notify.sock
hf_notify_listen "$A" "$sock" "$notes" || hf_die "notify socket"
hf_bg "$A" "$HF_DIR/recv.out" python3 -u "$HF_TOOLS/sflow_recv.py" 127.0.0.1 "$got" $PORT
hf_wait_for 10 grep -q '^ready' "$HF_DIR/recv.out" || hf_die "receiver"
for i in 1 2 3 4 5 6; do sf_sink "$A" "198.18.$i.1" $((i * 100 + i)) 9; done

# The issue's six interfaces with 5-term filters: more than 20480 allows.
lines=("collector 127.0.0.1 $PORT" "polling_interval 0" "hold_samples off")
for i in 1 2 3 4 5 6; do lines+=("sample v$i rate 1 filter \"$(filt "$i" 5)\""); done
hf_conf "$conf" "${lines[@]}"
check_t "$conf"
t_diag "-t, six 5-term filters at optmem_max $DEBIAN12_OPTMEM: $T_OUT"
if [[ $HF_CAPTURE_KIND == "packet sockets" ]]; then
	t_check "-t at optmem_max $DEBIAN12_OPTMEM: six 5-term filters refused, FILE:LINE, optmem_max" \
		eval '((T_RC == 1)) && [[ $T_OUT == "$HF_DIR/hostflowd.conf:"*": sample v"*"net.core.optmem_max ($DEBIAN12_OPTMEM bytes)"* ]]'
	start_refused 'v[0-9] (optmem_max).*net.core.optmem_max' '; not sampled: v[0-9].* (optmem_max)'
	traffic 1 101
	t_check "what fits is sampled (v1)" hf_wait_for 5 sampled 1 101
	# The limit raised, a reload asks the kernel again.
	optmem_in 131072
	kill -HUP "$HF_HOSTFLOWD_PID"
	t_check "after optmem_max is raised, a reload samples every interface" \
		hf_wait_for 10 grep -q 'sampler: the kernel takes every sampled interface again' "$log"
	traffic 5 505
	t_check "v5, refused before, sampled" hf_wait_for 5 sampled 5 505
	t_check "the daemon exits 0 on SIGTERM" hf_hostflowd_stop
else
	t_check "-t at optmem_max $DEBIAN12_OPTMEM: six 5-term filters taken by tc eBPF" \
		eval '((T_RC == 0))'
	# The kernel's refusal on this path: v5's ingress hook full.
	hf_bg "$A" "$HF_DIR/tcxfill.log" "$HF_ROOT/test/tools/tcxfill" v5 ingress 63 120
	fill_pid=$HF_LAST_PID
	hf_wait_for 10 grep -q '^ready' "$HF_DIR/tcxfill.log" || hf_die "tcxfill: $(cat "$HF_DIR/tcxfill.log")"
	start_refused 'v5 (tcx attach refused)' '; not sampled: v5 (tcx attach refused)) by tc eBPF' \
		", and the capture"
	for i in 1 4; do
		traffic "$i" $((i * 100 + i))
		t_check "the other five are sampled at optmem_max $DEBIAN12_OPTMEM (v$i)" \
			hf_wait_for 5 sampled "$i" $((i * 100 + i))
	done
	# Room again on the hook, a reload asks the kernel again.
	hf_kill "$fill_pid"
	kill -HUP "$HF_HOSTFLOWD_PID"
	t_check "once the hook has room, a reload samples every interface" \
		hf_wait_for 10 grep -q 'sampler: the kernel takes every sampled interface again' "$log"
	traffic 5 505
	t_check "v5, refused before, sampled" hf_wait_for 5 sampled 5 505
	t_check "the daemon exits 0 on SIGTERM" hf_hostflowd_stop
fi

# A config that fits 20480, with one program of more than half of it.
lines=("collector 127.0.0.1 $PORT" "polling_interval 0" "hold_samples off")
for i in 1 2 3; do lines+=("sample v$i rate 1 filter \"$(filt "$i" 5)\""); done
lines+=("sample v* rate 1")
hf_conf "$conf" "${lines[@]}"
optmem_in $((DEBIAN12_OPTMEM / 2))
check_t "$conf"
if [[ $HF_CAPTURE_KIND == "packet sockets" ]]; then
	t_check "-t at optmem_max $((DEBIAN12_OPTMEM / 2)): refused (its program is more than half of $DEBIAN12_OPTMEM)" \
		eval '((T_RC == 1))'
else
	t_check "-t at optmem_max $((DEBIAN12_OPTMEM / 2)): tc eBPF is not bound by it" eval '((T_RC == 0))'
fi
optmem_in $DEBIAN12_OPTMEM
check_t "$conf"
t_check "-t at optmem_max $DEBIAN12_OPTMEM: configuration OK ($T_OUT)" eval '((T_RC == 0))'
: >"$log"
hf_bg "$A" "$log" env NOTIFY_SOCKET="$sock" "$HF_BIN" -f -c "$conf"
HF_HOSTFLOWD_PID=$HF_LAST_PID
hf_wait_for 10 grep -q 'sampler: sampling 6 interfaces' "$log" || hf_die "hostflowd did not sample 6"
for i in 1 2 3; do
	traffic "$i" $((i * 100 + i))
	t_check "v$i (its own filter) sampled" hf_wait_for 5 sampled "$i" $((i * 100 + i))
done
for i in 4 5 6; do
	traffic "$i" 9
	t_check "v$i (sample v*) sampled" hf_wait_for 5 sampled "$i" 9
done
# A new interface under `sample v*`: the program is replaced.
hf_veth "$A" v7 "$B" p7 && hf_neigh "$A" v7 198.18.7.1 "$B" p7 198.18.7.2 || hf_die "veth v7"
sf_sink "$A" 198.18.7.1 9
t_check "a new interface is taken (the log: sampling v7)" \
	hf_wait_for 5 grep -q 'sampler: sampling v7 ' "$log"
traffic 7 9
t_check "v7 sampled" hf_wait_for 5 sampled 7 9
: >"$got"
traffic 1 101
t_check "v1 still sampled after the replacement" hf_wait_for 5 sampled 1 101
t_check "nothing refused: no 'not sampled' in the log" sh -c "! grep -q 'not sampled' '$log'"
t_check "nothing refused: STATUS= names nothing" eval '! last_status | grep -q "not sampled"'
t_check "the daemon exits 0 on SIGTERM" hf_hostflowd_stop
t_done
