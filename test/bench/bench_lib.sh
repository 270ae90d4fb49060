# shellcheck shell=bash
# Helpers shared by the benchmark parts: process accounting, statistics, and
# the one results table. Sourced by run.sh after test/integration/lib.sh.
#
#   proc_ticks PID...        utime+stime clock ticks of PIDs and their children
#   proc_ns PID...           CPU nanoseconds (schedstat) of PIDs' threads and children
#   proc_mem PID             "VmRSS_kB VmHWM_kB"
#   proc_mem_split PID       "anon A kB, file F kB" of VmRSS
#   ticks_to_s TICKS         seconds, 2 decimals
#   median V...              the median (the lower one of an even count)
#   ratio A B                A/B with 2 decimals, "n/a" when either is missing
#   verdict RATIO OP LIMIT   "met" or "MISSED (...)"; OP is le or ge
#   row MEASURE HF REFNAME REF RATIO TARGET VERDICT    appends a table row
#   note TEXT                appends a line under the table
#   bench_attached N         with the tc eBPF capture, waits (300 s) until its
#                            programs are on all N sampled interfaces
#   bench_hostflowd_stop     hf_hostflowd_stop with 300 s for the detaches

BENCH_CLK_TCK=$(getconf CLK_TCK)

# utime+stime of one process, threads included; 0 when it is gone. The comm
# field may contain spaces: cut at the last ')'.
_proc_ticks_one() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
		echo 0
		return
	}
	stat=${stat##*) }
	awk '{print $12 + $13}' <<<"$stat"
}

proc_ticks() {
	local total=0 pid child
	for pid in "$@"; do
		total=$((total + $(_proc_ticks_one "$pid")))
		# pmacctd forks its plugins; count them with their core.
		for child in $(pgrep -P "$pid" 2>/dev/null); do
			total=$((total + $(_proc_ticks_one "$child")))
		done
	done
	echo "$total"
}

# Nanosecond run time of every thread: finer than clock ticks for short runs.
_proc_ns_one() {
	# %.0f: mawk's %d stops at 2^31 (2.1 s of CPU)
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{t += $1} END {printf "%.0f\n", t}'
}

proc_ns() {
	local total=0 pid child
	for pid in "$@"; do
		total=$((total + $(_proc_ns_one "$pid")))
		for child in $(pgrep -P "$pid" 2>/dev/null); do
			total=$((total + $(_proc_ns_one "$child")))
		done
	done
	echo "$total"
}

proc_mem_split() {
	awk '/^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {printf "anon %d kB, file-backed %d kB", a, f}' \
		"/proc/$1/status" 2>/dev/null
}

proc_mem() {
	awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} END {print r+0, h+0}' "/proc/$1/status" 2>/dev/null
}

ticks_to_s() {
	awk -v t="$1" -v hz="$BENCH_CLK_TCK" 'BEGIN {printf "%.2f", t / hz}'
}

median() {
	(($#)) || {
		echo n/a
		return
	}
	printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

_is_num() {
	[[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]
}

ratio() {
	if _is_num "$1" && _is_num "$2" && [[ $(awk -v b="$2" 'BEGIN {print (b > 0)}') == 1 ]]; then
		awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'
	else
		echo n/a
	fi
}

verdict() {
	local r=$1 op=$2 lim=$3 ok
	_is_num "$r" || {
		echo "not measured"
		return
	}
	ok=$(awk -v r="$r" -v l="$lim" -v op="$op" \
		'BEGIN {print (op == "le" ? r <= l : r >= l)}')
	if ((ok)); then echo met; else echo "**MISSED**"; fi
}

row() {
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@" >>"$BENCH_ROWS"
	printf '  %-58s hf=%-10s %s=%-10s ratio=%-7s %s %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7"
}

note() {
	printf -- '- %s\n' "$*" >>"$BENCH_NOTES"
	echo "  note: $*"
}

# The tc eBPF capture attaches many interfaces in the background, one RCU
# grace period each (16 ms here): a figure is taken once all are there.
# True at once with packet sockets, or with a few interfaces (attached at
# once, no line).
bench_attached() {
	grep -q "capture: tc eBPF" "$HF_DIR/hostflowd.log" || return 0
	(($1 > 8)) || return 0
	hf_wait_for 300 grep -q "tc programs attached to $1 interfaces" "$HF_DIR/hostflowd.log"
}

# A stop of the tc eBPF capture detaches its programs one grace period at a
# time: more than lib.sh's 10 s with hundreds of interfaces.
bench_hostflowd_stop() {
	local pid=$HF_HOSTFLOWD_PID rc
	HF_HOSTFLOWD_PID=
	kill -TERM "$pid" 2>/dev/null || return 1
	hf_wait_for 300 eval '! kill -0 "$pid" 2>/dev/null' || {
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		return 1
	}
	wait "$pid"
	rc=$?
	return $rc
}
