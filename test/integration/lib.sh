# shellcheck shell=bash
# Integration test library: sourced by every test/integration/test_*.sh.
# Needs root (network namespaces). Everything a test creates is removed on
# exit, even on failure or Ctrl-C. Keep this API stable: other rooms use it.
#
# Setup and cleanup
#   hf_init NAME              work dir $HF_DIR, namespace prefix $HF_NS (short,
#                             pid-based: name namespaces "${HF_NS}a" etc.),
#                             traps EXIT/INT/TERM to hf_cleanup. Call first.
#   hf_ns_add NS              create namespace NS (lo up); removed at exit.
#   hf_veth NS1 IF1 NS2 IF2   veth pair IF1 in NS1, IF2 in NS2 (may be equal), both up.
#   hf_bridge NS BR IF...     bridge BR in NS with ports IF..., all up.
#   hf_tun NS NAME            tun NAME in NS held open (carrier) by
#                             test/tools/tunhold.py, up.
#   hf_tun_inject NS NAME v4|v6 COUNT [PAYLOAD]
#                             the helper writes COUNT UDP packets into the tun
#                             (the kernel receives them on NAME); returns when done.
#   hf_bg NS LOG CMD...       start CMD in NS in the background (stdout+stderr to
#                             LOG), killed at exit; its pid is in $HF_LAST_PID.
#   hf_kill PID               SIGTERM PID, wait (deadline 5 s, then SIGKILL).
#   hf_hog_start / hf_hog_stop
#                             one busy process per CPU (a loaded machine), at
#                             most 120 s; stopped at exit too.
#   hf_starve PID             every thread of PID at nice 19: beside the hogs it
#                             waits for a CPU as on a busy machine.
#   hf_cleanup                what the trap runs.
#   hf_ns_quiet NS            IPv6 off in NS: counters rest between a test's bursts.
#   hf_neigh NS1 IF1 IP1 NS2 IF2 IP2
#                             /24 addresses and permanent neighbours (no ARP).
#   hf_std_topology           $HF_A (served) and $HF_B (far ends): veth0, br0 with
#                             port vport0, vdown0 (admin down), vlow0 (no carrier),
#                             tailscale0 (tun); see the function for addresses.
#   hf_udp NS DST COUNT [PAYLOAD]   COUNT UDP datagrams from NS to DST:9.
#   hf_veth_batch NS1 PFX1 NS2 PFX2 N
#                             N veth pairs PFX1<i> in NS1 <-> PFX2<i> in NS2, i
#                             from 1 to N zero-padded to N's width, all up (a
#                             container host: ip -batch, seconds for 1000).
#   hf_link_tun_host NS_A IF_A NS_B IF_B
#                             both quiet, veth IF_A 198.18.0.1 <-> IF_B
#                             198.18.0.2 (hf_neigh), tun0 100.64.0.1/24 in NS_A
#                             (the tailnet), snmpd in NS_A; dies on failure.
#   hf_many_host NS_A NS_B N  a container host: NS_A and NS_B quiet, N veth
#                             pairs ctr<i> in NS_A <-> pe<i> in NS_B (as
#                             hf_veth_batch), snmpd in NS_A; dies on failure.
#   hf_bin_limited N          prints a wrapper that runs $HF_BIN under
#                             `ulimit -n N` (use as HF_BIN=$(hf_bin_limited N)).
#   hf_mapped_kib PID PREFIX...
#                             KiB of PID's mappings whose path starts with a
#                             PREFIX (e.g. socket: for packet rings).
#   hf_notify_listen NS SOCK LOG [times|nostatus]
#                             systemd's side of NOTIFY_SOCKET=SOCK in NS: each
#                             message one line of LOG (times: after its receive
#                             time in s; nostatus: STATUS= ones left out);
#                             returns once SOCK exists.
# snmpd (one private master per test, in one namespace)
#   hf_snmpd_start NS         snmpd master in NS on udp 127.0.0.1:$HF_SNMP_PORT,
#                             own ifTable/ifXTable disabled (-I -ifTable,ifXTable),
#                             AgentX at $HF_AGENTX; waits until sysName.0 answers.
#                             $HF_SNMPD_CONF_EXTRA (lines) ends its snmpd.conf.
#   hf_snmpd_builtin_start NS the same without -I: snmpd's own IF-MIB, no AgentX use.
#   hf_snmpd_stop / hf_snmpd_restart
#                             $HF_SNMPD_PID, $HF_SNMPD_NS, $HF_DIR/snmpd.log.
# hostflowd
#   hf_hostflowd_start NS CONF [ARGS...]
#                             agent/hostflowd -f -c CONF ARGS in NS, stderr to
#                             $HF_DIR/hostflowd.log; waits (10 s) until
#                             ifNumber.0 answers through snmpd. $HF_HOSTFLOWD_PID.
#   hf_hostflowd_stop         SIGTERM, wait; fails unless it exits with status 0.
#   hf_conf FILE [LINES...]   writes a hostflowd config with agentx_socket
#                             $HF_AGENTX followed by LINES (one per argument),
#                             and `capture $HF_CAPTURE` when HF_CAPTURE is set
#                             and no LINE names a capture.
#   hf_capture_init           for a test run under each capture kind (run.sh
#                             runs a script whose header has a line
#                             "# hf-captures: ebpf packet" once per kind, with
#                             HF_CAPTURE set): says which in the output,
#                             $HF_CAPTURE_KIND is "tc eBPF" or "packet sockets"
#                             (the daemon's words), and SKIPs the whole test
#                             (t_done, exit) where the kernel has no tcx for ebpf.
#   hf_bin_asan               $HF_BIN is an AddressSanitizer build.
# SNMP queries (numeric OIDs, -On, SNMPv2c community public, private port)
#   hf_snmp NS get|getnext|walk|bulkwalk|bulkget ARGS...
#                             snmpget/... output, e.g. ".1.3.6.1.2.1.2.1.0 = INTEGER: 4".
#   hf_snmp_val NS OID        the value of one GET, without type ("-Oqv"; strings
#                             unquoted); non-zero when missing (noSuch*).
#   hf_snmp_col NS COLUMN_OID "INDEX VALUE" per row of a walk, values as -Oqv.
#   hf_row NS NAME            the ifIndex served for NAME (by ifName); 1 if none.
#   hf_ifmib_check NS [OPTS]  t_ok/t_fail per check of test/tools/ifmib_check.py:
#                             every column of every row against the kernel.
# Waiting and results
#   hf_wait_for TIMEOUT_S CMD...   re-runs CMD (every 50 ms) until it succeeds;
#                                  non-zero when TIMEOUT_S (may be fractional) passes.
#   t_ok NAME / t_fail NAME WHY / t_skip NAME WHY / t_check NAME CMD...
#                             t_skip fails instead under CI=true.
#   t_done                    prints "N passed, M failed"; non-zero if any failed.
#   t_diag TEXT...            a "# " comment line in the output.
# Variables: HF_ROOT (repo root), HF_BIN (agent/hostflowd), HF_TOOLS,
#   HF_CAPTURE (auto|packet|ebpf, unset: the config's default, auto).

HF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HF_BIN=${HF_BIN:-$HF_ROOT/agent/hostflowd}
HF_TOOLS=$HF_ROOT/test/tools
HF_SNMP_PORT=${HF_SNMP_PORT:-1161}

# IF-MIB, numeric (Debian ships no MIB text).
OID_SYSNAME=.1.3.6.1.2.1.1.5.0
OID_IFNUMBER=.1.3.6.1.2.1.2.1.0
OID_IFTABLE=.1.3.6.1.2.1.2.2
OID_IFENTRY=.1.3.6.1.2.1.2.2.1
OID_IFXTABLE=.1.3.6.1.2.1.31.1.1
OID_IFXENTRY=.1.3.6.1.2.1.31.1.1.1
OID_IFTABLELASTCHANGE=.1.3.6.1.2.1.31.1.5.0

_hf_t_n=0
_hf_t_pass=0
_hf_t_fail=0
_hf_t_skip=0
_hf_pids=()
_hf_nss=()
_hf_hogs=()
_hf_etcs=()
_hf_cleaned=0

hf_die() {
	echo "Bail out! $*" >&2
	exit 1
}

hf_init() {
	local name=${1:?hf_init NAME}
	((EUID == 0)) || hf_die "$name: must run as root (network namespaces)"
	HF_NAME=$name
	HF_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hf-$name.XXXXXX") || hf_die "mktemp failed"
	# Namespace names must be short and unique between concurrent tests.
	HF_NS="hf$$"
	trap 'hf_cleanup' EXIT
	trap 'hf_cleanup; trap - INT; kill -INT $$' INT
	trap 'hf_cleanup; exit 143' TERM
	echo "# $name: work dir $HF_DIR, namespaces ${HF_NS}*"
}

# --- time and waiting -------------------------------------------------------

# hf_bin_asan: the hostflowd under test is an AddressSanitizer build (slower
# to start, RSS meaningless).
hf_bin_asan() {
	ldd "$HF_BIN" 2>/dev/null | grep -q libasan
}

# Microseconds of wall time (bash 5 EPOCHREALTIME, no fork).
_hf_now_us() {
	local t=${EPOCHREALTIME}
	echo $((10#${t%.*} * 1000000 + 10#${t#*.}))
}

# Seconds (may be fractional) as microseconds.
_hf_s_to_us() {
	local s=$1 int frac
	int=${s%.*}
	frac=0
	[[ $s == *.* ]] && frac=${s#*.}
	frac=${frac}000000
	frac=${frac:0:6}
	echo $((10#${int:-0} * 1000000 + 10#$frac))
}

hf_wait_for() {
	local timeout=$1
	shift
	local deadline=$(($(_hf_now_us) + $(_hf_s_to_us "$timeout")))
	while true; do
		"$@" >/dev/null 2>&1 && return 0
		(($(_hf_now_us) >= deadline)) && break
		sleep 0.05
	done
	# One last try after the deadline, so a slow first try still counts.
	"$@" >/dev/null 2>&1
}

# --- processes --------------------------------------------------------------

_hf_track() {
	_hf_pids+=("$1")
}

hf_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >>"$log" 2>&1 </dev/null &
	HF_LAST_PID=$!
	_hf_track "$HF_LAST_PID"
}

_hf_alive() {
	kill -0 "$1" 2>/dev/null
}

_hf_gone() {
	! _hf_alive "$1"
}

# SIGTERM, then SIGKILL after 5 s; reaps the child if it is ours.
hf_kill() {
	local pid=$1
	_hf_alive "$pid" || {
		{ wait "$pid"; } 2>/dev/null
		return 0
	}
	kill -TERM "$pid" 2>/dev/null
	if ! hf_wait_for 5 _hf_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		hf_wait_for 2 _hf_gone "$pid"
	fi
	{ wait "$pid"; } 2>/dev/null
	return 0
}

hf_hog_start() {
	local i
	for ((i = 0; i < $(nproc); i++)); do
		timeout 120 sh -c 'while :; do :; done' &
		_hf_hogs+=("$!")
		_hf_track "$!"
	done
}

hf_hog_stop() {
	local pid
	for pid in "${_hf_hogs[@]}"; do
		hf_kill "$pid"
	done
	_hf_hogs=()
}

hf_starve() {
	local t
	for t in /proc/"$1"/task/*; do
		renice -n 19 -p "${t##*/}" >/dev/null || return 1
	done
}

hf_cleanup() {
	((_hf_cleaned)) && return 0
	_hf_cleaned=1
	local pid ns p
	for pid in "${_hf_pids[@]}"; do
		_hf_alive "$pid" && kill -CONT "$pid" 2>/dev/null
		hf_kill "$pid"
	done
	for ns in "${_hf_nss[@]}"; do
		# Anything still running in our namespaces was started by this test.
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	for p in "${_hf_etcs[@]}"; do
		rm -rf "$p"
	done
	if [[ -n ${HF_KEEP:-} ]]; then
		echo "# kept $HF_DIR (HF_KEEP set)"
	elif [[ -n ${HF_DIR:-} && -d $HF_DIR ]]; then
		rm -rf "$HF_DIR"
	fi
	return 0
}

# --- links ------------------------------------------------------------------

# hf_slowdns NS DELAY_MS: a resolver of NS's own (ip netns exec bind-mounts
# /etc/netns/NS/resolv.conf over /etc/resolv.conf, removed at cleanup).
# Names answer 127.0.0.1 after DELAY_MS; names starting with "never" are never
# answered, and a lookup gives up after 3 s. It logs each query ("q NAME") to
# $HF_DIR/dns.log. NS must exist.
hf_slowdns() {
	local etc=/etc/netns/$1
	mkdir -p "$etc" || return 1
	_hf_etcs+=("$etc")
	printf 'nameserver 127.0.0.1\noptions timeout:3 attempts:1\n' >"$etc/resolv.conf"
	hf_bg "$1" "$HF_DIR/dns.log" python3 -u "$HF_TOOLS/slowdns.py" 127.0.0.1 53 "$2" 127.0.0.1
	hf_wait_for 5 grep -q '^ready' "$HF_DIR/dns.log"
}

hf_ns_add() {
	local ns=$1
	ip netns add "$ns" || return 1
	_hf_nss+=("$ns")
	ip -n "$ns" link set lo up
}

hf_veth() {
	local ns1=$1 if1=$2 ns2=$3 if2=$4
	ip -n "$ns1" link add "$if1" type veth peer name "$if2" netns "$ns2" || return 1
	ip -n "$ns1" link set "$if1" up && ip -n "$ns2" link set "$if2" up
}

hf_bridge() {
	local ns=$1 br=$2 port
	shift 2
	ip -n "$ns" link add "$br" type bridge || return 1
	for port in "$@"; do
		ip -n "$ns" link set "$port" master "$br" || return 1
		ip -n "$ns" link set "$port" up || return 1
	done
	ip -n "$ns" link set "$br" up
}

_hf_file_has() {
	grep -q "$2" "$1" 2>/dev/null
}

hf_tun() {
	local ns=$1 name=$2
	local out=$HF_DIR/tun-$ns-$name.out
	hf_bg "$ns" "$out" python3 "$HF_TOOLS/tunhold.py" serve "$name" \
		"$HF_DIR/tun-$ns-$name.sock"
	if ! hf_wait_for 10 _hf_file_has "$out" '^ready'; then
		echo "# hf_tun: helper did not start:" >&2
		sed 's/^/#   /' "$out" >&2
		return 1
	fi
	ip -n "$ns" link set "$name" up
}

hf_tun_inject() {
	local ns=$1 name=$2
	shift 2
	python3 "$HF_TOOLS/tunhold.py" send "$HF_DIR/tun-$ns-$name.sock" inject "$@" >/dev/null
}

# --- snmpd ------------------------------------------------------------------

HF_AGENTX=
HF_SNMPD_PID=
HF_SNMPD_NS=
_hf_snmpd_flags=()

_hf_snmpd_conf() {
	local conf=$HF_DIR/snmpd.conf
	cat >"$conf" <<-EOF
		# private master for hostflowd integration tests
		master agentx
		agentXSocket unix:$HF_AGENTX
		agentXTimeout 1
		agentXRetries 1
		agentAddress udp:127.0.0.1:$HF_SNMP_PORT
		rocommunity public 127.0.0.1
		sysName hostflow-test
		sysLocation test namespace
		sysContact nobody
	EOF
	[[ -n ${HF_SNMPD_CONF_EXTRA:-} ]] && printf '%s\n' "$HF_SNMPD_CONF_EXTRA" >>"$conf"
	echo "$conf"
}

# A short timeout: until snmpd binds its port, a query waits for all of it.
_hf_snmpd_ready() {
	hf_snmp "$1" get -Oqv -t 0.3 -r 0 $OID_SYSNAME 2>/dev/null | grep -q hostflow-test
}

_hf_snmpd_launch() {
	local ns=$1 conf
	shift
	_hf_snmpd_flags=("$@")
	HF_AGENTX=$HF_DIR/agentx.sock
	HF_SNMPD_NS=$ns
	conf=$(_hf_snmpd_conf)
	mkdir -p "$HF_DIR/snmp-persist"
	rm -f "$HF_AGENTX" "$HF_DIR/snmpd.pid"
	hf_bg "$ns" "$HF_DIR/snmpd.out" env SNMP_PERSISTENT_DIR="$HF_DIR/snmp-persist" \
		snmpd -f -C -c "$conf" "$@" -Lf "$HF_DIR/snmpd.log" -p "$HF_DIR/snmpd.pid"
	HF_SNMPD_PID=$HF_LAST_PID
	if ! hf_wait_for 10 _hf_snmpd_ready "$ns"; then
		echo "# snmpd did not answer in 10 s; its log:" >&2
		sed 's/^/#   /' "$HF_DIR/snmpd.log" "$HF_DIR/snmpd.out" >&2 2>/dev/null
		return 1
	fi
}

hf_snmpd_start() {
	_hf_snmpd_launch "$1" -I -ifTable,ifXTable
}

hf_snmpd_builtin_start() {
	_hf_snmpd_launch "$1"
}

hf_snmpd_stop() {
	[[ -n $HF_SNMPD_PID ]] || return 0
	hf_kill "$HF_SNMPD_PID"
	HF_SNMPD_PID=
}

hf_snmpd_restart() {
	local ns=$HF_SNMPD_NS
	hf_snmpd_stop
	_hf_snmpd_launch "$ns" "${_hf_snmpd_flags[@]}"
}

# --- SNMP queries -----------------------------------------------------------

hf_snmp() {
	local ns=$1 op=$2 tool
	shift 2
	case $op in
	get) tool=snmpget ;;
	getnext) tool=snmpgetnext ;;
	walk) tool=snmpwalk ;;
	bulkwalk) tool=snmpbulkwalk ;;
	bulkget) tool=snmpbulkget ;;
	*)
		echo "hf_snmp: unknown operation $op" >&2
		return 2
		;;
	esac
	# Options (words starting with -) go before the agent, OIDs after.
	local -a opts=() oids=()
	while (($#)); do
		case $1 in
		-C | -O | -t | -r | -m | -M) opts+=("$1" "$2"); shift 2 ;;
		-*) opts+=("$1"); shift ;;
		*) oids+=("$1"); shift ;;
		esac
	done
	MIBS= ip netns exec "$ns" "$tool" -v2c -c public -On -t 2 -r 1 "${opts[@]}" \
		"127.0.0.1:$HF_SNMP_PORT" "${oids[@]}"
}

hf_snmp_val() {
	local ns=$1 oid=$2 out
	out=$(hf_snmp "$ns" get -Oqv "$oid" 2>/dev/null) || return 1
	case $out in
	"No Such Object"* | "No Such Instance"* | "No more variables"*) return 1 ;;
	esac
	# -Oqv quotes strings; strip one pair.
	if [[ $out == \"*\" ]]; then
		out=${out#\"}
		out=${out%\"}
	fi
	printf '%s\n' "$out"
}

hf_snmp_col() {
	local ns=$1 col=$2 line idx val
	hf_snmp "$ns" walk -Oq "$col" 2>/dev/null | while IFS= read -r line; do
		[[ $line == "$col".* ]] || continue
		idx=${line%% *}
		idx=${idx#"$col".}
		val=${line#* }
		if [[ $val == \"*\" ]]; then
			val=${val#\"}
			val=${val%\"}
		fi
		printf '%s %s\n' "$idx" "$val"
	done
}

# --- hostflowd --------------------------------------------------------------

HF_HOSTFLOWD_PID=

hf_conf() {
	local file=$1 line named=0
	shift
	{
		echo "# written by $HF_NAME"
		echo "agentx_socket $HF_AGENTX"
		for line in "$@"; do
			echo "$line"
			[[ $line == "capture "* ]] && named=1
		done
		if [[ -n ${HF_CAPTURE:-} ]] && ((!named)); then
			echo "capture $HF_CAPTURE"
		fi
	} >"$file"
}

hf_capture_init() {
	local conf=$HF_DIR/capture-probe.conf out
	HF_CAPTURE_KIND="tc eBPF"
	case ${HF_CAPTURE:-auto} in
	packet) HF_CAPTURE_KIND="packet sockets" ;;
	ebpf) ;;
	auto)
		# What -t says the daemon would pick here.
		printf '%s\n' "sample lo rate 100" "collector 127.0.0.1 9" >"$conf"
		out=$("$HF_BIN" -t -c "$conf" 2>&1)
		[[ $out == *"capture: packet sockets"* ]] && HF_CAPTURE_KIND="packet sockets"
		;;
	*) hf_die "HF_CAPTURE=$HF_CAPTURE: none of auto, packet, ebpf" ;;
	esac
	t_diag "capture ${HF_CAPTURE:-auto}: $HF_CAPTURE_KIND"
	if [[ ${HF_CAPTURE:-} == ebpf ]]; then
		printf '%s\n' "sample lo rate 100" "collector 127.0.0.1 9" "capture ebpf" >"$conf"
		if ! out=$("$HF_BIN" -t -c "$conf" 2>&1) && [[ $out == *"no tcx"* ]]; then
			t_skip "$HF_NAME under capture ebpf" "the kernel has no tcx (Linux 6.6): $(uname -r)"
			t_done
			exit
		fi
	fi
}

_hf_hostflowd_serving() {
	_hf_alive "$HF_HOSTFLOWD_PID" || return 2
	hf_snmp_val "$HF_SNMPD_NS" $OID_IFNUMBER >/dev/null
}

hf_hostflowd_start() {
	local ns=$1 conf=$2
	shift 2
	[[ -x $HF_BIN ]] || {
		echo "# $HF_BIN is not built" >&2
		return 1
	}
	hf_bg "$ns" "$HF_DIR/hostflowd.log" "$HF_BIN" -f -c "$conf" "$@"
	HF_HOSTFLOWD_PID=$HF_LAST_PID
	if ! hf_wait_for 10 _hf_hostflowd_serving; then
		echo "# hostflowd did not serve ifNumber.0 within 10 s; its log:" >&2
		tail -n 30 "$HF_DIR/hostflowd.log" | sed 's/^/#   /' >&2
		return 1
	fi
}

hf_hostflowd_stop() {
	local pid=$HF_HOSTFLOWD_PID rc
	[[ -n $pid ]] || return 0
	HF_HOSTFLOWD_PID=
	if ! _hf_alive "$pid"; then
		wait "$pid"
		rc=$?
		echo "# hostflowd had already exited with status $rc" >&2
		return 1
	fi
	kill -TERM "$pid"
	if ! hf_wait_for 10 _hf_gone "$pid"; then
		echo "# hostflowd ignored SIGTERM for 10 s" >&2
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid"
	rc=$?
	if ((rc != 0)); then
		echo "# hostflowd exited with status $rc; log tail:" >&2
		tail -n 10 "$HF_DIR/hostflowd.log" | sed 's/^/#   /' >&2
		return 1
	fi
}

# --- results ----------------------------------------------------------------

t_diag() {
	echo "# $*"
}

t_ok() {
	_hf_t_n=$((_hf_t_n + 1))
	_hf_t_pass=$((_hf_t_pass + 1))
	echo "ok $_hf_t_n - $1"
}

t_fail() {
	_hf_t_n=$((_hf_t_n + 1))
	_hf_t_fail=$((_hf_t_fail + 1))
	echo "not ok $_hf_t_n - $1: ${2:-failed}"
}

# A check that cannot run here says SKIP; under CI=true, where everything
# the tests need is installed, not running is a failure (non-zero).
t_skip() {
	if [[ ${CI:-} == true ]]; then
		t_fail "$1" "cannot run under CI=true: ${2:-no reason given}"
		return 1
	fi
	_hf_t_n=$((_hf_t_n + 1))
	_hf_t_skip=$((_hf_t_skip + 1))
	echo "ok $_hf_t_n - $1 # SKIP ${2:-}"
}

# Runs CMD in this shell (so it may wait for our children and set variables);
# on failure shows the first lines of its output.
t_check() {
	local name=$1 out=${HF_DIR:-/tmp}/t_check.out rc
	shift
	"$@" >"$out" 2>&1
	rc=$?
	if ((rc == 0)); then
		t_ok "$name"
		return 0
	fi
	t_fail "$name" "exit $rc from: $*"
	head -n 15 "$out" | sed 's/^/#   /'
	return 1
}

t_done() {
	((_hf_t_skip)) && echo "# $_hf_t_skip skipped"
	echo "$_hf_t_pass passed, $_hf_t_fail failed"
	((_hf_t_fail == 0))
}

# --- IF-MIB against the kernel ------------------------------------------------

# hf_ifmib_check NS [ifmib_check.py options]: one t_ok/t_fail per check of
# test/tools/ifmib_check.py (every column of every row against the kernel),
# names prefixed with $HF_CHECK_PREFIX. Non-zero if any failed.
hf_ifmib_check() {
	local ns=$1 line rc=0
	shift
	while IFS= read -r line; do
		case $line in
		"ok "*) t_ok "${HF_CHECK_PREFIX:-}${line#ok }" ;;
		"fail "*)
			line=${line#fail }
			t_fail "${HF_CHECK_PREFIX:-}${line%%: *}" "${line#*: }"
			rc=1
			;;
		*) echo "# $line" ;;
		esac
	done < <(ip netns exec "$ns" python3 "$HF_TOOLS/ifmib_check.py" \
		--port "$HF_SNMP_PORT" "$@" 2>&1)
	return $rc
}

# --- a standard topology ------------------------------------------------------

# hf_ns_quiet NS: IPv6 off, so the kernel sends nothing on its own (router
# solicitations, MLD) and counters rest when a test's traffic stops.
hf_ns_quiet() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

_hf_mac() {
	ip -n "$1" -j link show dev "$2" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)[0]["address"])'
}

# hf_neigh NS1 IF1 IP1 NS2 IF2 IP2: addresses and permanent neighbour entries
# both ways: no ARP ever crosses the link.
hf_neigh() {
	local ns1=$1 if1=$2 ip1=$3 ns2=$4 if2=$5 ip2=$6
	ip -n "$ns1" addr add "$ip1/24" dev "$if1" || return 1
	ip -n "$ns2" addr add "$ip2/24" dev "$if2" || return 1
	ip -n "$ns1" neigh replace "$ip2" lladdr "$(_hf_mac "$ns2" "$if2")" dev "$if1" nud permanent &&
		ip -n "$ns2" neigh replace "$ip1" lladdr "$(_hf_mac "$ns1" "$if1")" dev "$if2" nud permanent
}

# hf_std_topology: namespaces $HF_A (served by hostflowd) and $HF_B (the far
# ends), both quiet. In $HF_A:
#   veth0  198.19.0.1  <-> veth0p 198.19.0.2 in $HF_B
#   br0    198.19.1.1  bridge with port vport0 <-> vport0p 198.19.1.2 in $HF_B
#   vdown0           admin down (peer vdown0p up in $HF_B)
#   vlow0            up, no carrier (peer vlow0p down in $HF_B)
#   tailscale0       tun held open, up, 100.64.0.1/32
hf_std_topology() {
	HF_A=${HF_NS}a
	HF_B=${HF_NS}b
	hf_ns_add "$HF_A" && hf_ns_add "$HF_B" || return 1
	hf_ns_quiet "$HF_A" && hf_ns_quiet "$HF_B" || return 1
	hf_veth "$HF_A" veth0 "$HF_B" veth0p || return 1
	hf_veth "$HF_A" vport0 "$HF_B" vport0p || return 1
	hf_bridge "$HF_A" br0 vport0 || return 1
	ip -n "$HF_A" link set br0 address 02:00:00:00:01:01 || return 1
	hf_veth "$HF_A" vdown0 "$HF_B" vdown0p || return 1
	ip -n "$HF_A" link set vdown0 down
	hf_veth "$HF_A" vlow0 "$HF_B" vlow0p || return 1
	ip -n "$HF_B" link set vlow0p down
	hf_tun "$HF_A" tailscale0 || return 1
	ip -n "$HF_A" addr add 100.64.0.1/32 dev tailscale0 || return 1
	hf_neigh "$HF_A" veth0 198.19.0.1 "$HF_B" veth0p 198.19.0.2 || return 1
	hf_neigh "$HF_A" br0 198.19.1.1 "$HF_B" vport0p 198.19.1.2
}

# hf_udp NS DST COUNT [PAYLOAD]: COUNT UDP datagrams to DST port 9 from NS.
hf_udp() {
	ip netns exec "$1" python3 -c '
import socket, sys
dst, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
buf = bytes(size)
for _ in range(n):
    s.sendto(buf, (dst, 9))
' "$2" "$3" "${4:-64}"
}

# hf_veth_batch NS1 PFX1 NS2 PFX2 N: N veth pairs in two ip -batch runs (a
# loop of hf_veth takes minutes at 1000).
hf_veth_batch() {
	local ns1=$1 p1=$2 ns2=$3 p2=$4 n=$5 i
	for i in $(seq -w 1 "$n"); do
		echo "link add $p1$i type veth peer name $p2$i netns $ns2"
		echo "link set $p1$i up"
	done >"$HF_DIR/$p1.batch"
	ip -n "$ns1" -batch "$HF_DIR/$p1.batch" || return 1
	for i in $(seq -w 1 "$n"); do echo "link set $p2$i up"; done >"$HF_DIR/$p2.batch"
	ip -n "$ns2" -batch "$HF_DIR/$p2.batch"
}

# hf_link_tun_host NS_A IF_A NS_B IF_B: a host with an Ethernet link and a
# tailnet tun (test_sflow_filter, test_sflow_ebpf).
hf_link_tun_host() {
	local a=$1 ia=$2 b=$3 ib=$4
	hf_ns_add "$a" && hf_ns_add "$b" || hf_die "namespaces"
	hf_ns_quiet "$a" && hf_ns_quiet "$b" || hf_die "quiet"
	hf_veth "$a" "$ia" "$b" "$ib" || hf_die "veth"
	hf_neigh "$a" "$ia" 198.18.0.1 "$b" "$ib" 198.18.0.2 || hf_die "addresses"
	hf_tun "$a" tun0 || hf_die "tun"
	ip -n "$a" addr add 100.64.0.1/24 dev tun0 || hf_die "tun address"
	hf_snmpd_start "$a" || hf_die "snmpd"
}

# hf_many_host NS_A NS_B N: test_sflow_many's and test_sflow_ebpf_many's host.
hf_many_host() {
	local a=$1 b=$2 n=$3
	hf_ns_add "$a" && hf_ns_add "$b" || hf_die "namespaces"
	# No IPv6 chatter (router solicitations, MLD): only the test's frames are counted.
	hf_ns_quiet "$a" && hf_ns_quiet "$b" || hf_die "quiet"
	hf_veth_batch "$a" ctr "$b" pe "$n" || hf_die "$n veths"
	t_diag "$n veth pairs"
	hf_snmpd_start "$a" || hf_die "snmpd"
}

# hf_bin_limited N: the path of a wrapper running $HF_BIN under `ulimit -n N`
# (the daemon's own fds counted, not a shell's).
hf_bin_limited() {
	local w=$HF_DIR/limited-$1.sh
	printf '#!/bin/sh\nulimit -n %d || exit 99\nexec "%s" "$@"\n' "$1" "$HF_BIN" >"$w" &&
		chmod +x "$w" && echo "$w"
}

# hf_mapped_kib PID PREFIX...: KiB mapped by PID from files whose path starts
# with one of PREFIX (what /proc/PID/maps names: socket:, anon_inode:bpf).
hf_mapped_kib() {
	local pid=$1
	shift
	python3 -c 'import sys
t = 0
for ln in open(sys.argv[1]):
    f = ln.split()
    if len(f) > 5 and f[5].startswith(tuple(sys.argv[2:])):
        a, b = f[0].split("-")
        t += int(b, 16) - int(a, 16)
print(t // 1024)' "/proc/$pid/maps" "$@"
}

# hf_notify_listen NS SOCK LOG [times|nostatus]: what the daemon tells
# NOTIFY_SOCKET=SOCK, one message a line of LOG (its newlines folded).
hf_notify_listen() {
	hf_bg "$1" "$HF_DIR/notify.out" python3 -u -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
mode = sys.argv[3]
with open(sys.argv[2], "a") as f:
    while True:
        m = s.recv(65536).decode().replace("\n", " ")
        if mode == "nostatus" and m.startswith("STATUS="):
            continue
        f.write("%.3f %s\n" % (time.monotonic(), m) if mode == "times" else m + "\n")
        f.flush()' "$2" "$3" "${4:-}"
	hf_wait_for 10 test -S "$2"
}

# hf_row NS NAME: the ifIndex SNMP serves NAME under (from ifName); non-zero when absent.
hf_row() {
	local idx val found=1
	while read -r idx val; do
		if [[ $val == "$2" ]]; then
			echo "$idx"
			found=0
		fi
	done < <(hf_snmp_col "$1" $OID_IFXENTRY.1)
	return $found
}
