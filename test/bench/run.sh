#!/usr/bin/env bash
# hostflowd benchmarks: speed and memory side by side in one run, quoted as
# ratios against net-snmp and pmacctd measured in the same run (the machine is
# shared and noisy). Everything runs in network namespaces this script creates
# and removes (lib.sh's trap), every traffic loop is bounded in count and time.
#
#   bash test/bench/run.sh            # full run, about 10 minutes
#   BENCH_QUICK=1 bash test/bench/run.sh   # fewer interfaces and packets
#   BENCH_PARTS="A" / "B" / "C" / "D" / "E" / "W" / "S"  # some parts only
#                                     # (A SNMP, B sampler, C router and cost
#                                     # per sample, D scale, E the big host:
#                                     # forwarding with many sampled veths,
#                                     # bench_bighost.sh, W pollers walking 1000
#                                     # interfaces, S work per sample and drain rate)
#   BENCH_REPS=5                      # repetitions of each case (3)
#   BENCH_FWD_OLD=PATH, BENCH_FWD_ONLY="CASES": see bench_fwd.sh
#   BENCH_SAMPLE_OLD=PATH: see bench_sample.sh
#
# Writes build/bench/results.md (markdown table) and prints it.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../integration/lib.sh
. "$BENCH_DIR/../integration/lib.sh"
. "$BENCH_DIR/bench_lib.sh"
. "$BENCH_DIR/bench_snmp.sh"
. "$BENCH_DIR/bench_sflow.sh"
. "$BENCH_DIR/bench_fwd.sh"
. "$BENCH_DIR/bench_scale.sh"
. "$BENCH_DIR/bench_bighost.sh"
. "$BENCH_DIR/bench_walks.sh"
. "$BENCH_DIR/bench_sample.sh"

BENCH_OUT=$HF_ROOT/build/bench
BENCH_PARTS=${BENCH_PARTS:-A B C D E W S}
# Ports of our private agents: away from lib.sh's default so a concurrent
# integration run does not collide (namespaces are private anyway).
HF_SNMP_PORT=${BENCH_SNMP_PORT:-17161}

if [[ -n ${BENCH_QUICK:-} ]]; then
	SNMP_PAIRS="10 100"
	GETS=200
	CPU_WINDOW=10
	PACED_PKTS=200000
	MAX_PKTS=400000
	REPS=1
else
	SNMP_PAIRS="10 100 500"
	GETS=1000
	CPU_WINDOW=30
	PACED_PKTS=1000000
	MAX_PKTS=2000000
	REPS=${BENCH_REPS:-3}
fi
PACED_PPS=${BENCH_PPS:-200000}
BLAST_SECONDS=30
RATES="100 1000"

machine() {
	local cpu debian
	cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	debian=$(cat /etc/debian_version 2>/dev/null || echo unknown)
	echo "- command: \`${BENCH_CMD:-bash test/bench/run.sh}\`${BENCH_QUICK:+ (BENCH_QUICK=1)}"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, kernel $(uname -r), Debian $debian"
	echo "- hostflowd: $(git -C "$HF_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$HF_ROOT" diff --quiet HEAD -- agent 2>/dev/null || echo ' (agent/ modified)'); $(snmpd -v 2>/dev/null | awk '/version/ {print "net-snmp " $NF; exit}'); $(pmacctd -V 2>&1 | head -n 1 | sed 's/.*, //')"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: compare the ratios, not the absolute figures)"
}

write_results() {
	local out=$BENCH_OUT/results.md
	{
		echo "## Results"
		echo
		cat "$BENCH_OUT/machine.md"
		echo
		echo "| measurement | hostflowd | reference | reference value | ratio hostflowd/reference | target | verdict |"
		echo "|---|---:|---|---:|---:|---|---|"
		# Group by measurement id (A1..B3), keeping each group's order.
		sort -s -t'|' -k2.1,2.4 "$BENCH_ROWS"
		echo
		if [[ -s $BENCH_NOTES ]]; then
			echo "Notes:"
			echo
			cat "$BENCH_NOTES"
		fi
	} >"$out"
	echo
	cat "$out"
	echo
	echo "written to $out"
}

main() {
	[[ -x $HF_BIN ]] || hf_die "$HF_BIN is not built (make all)"
	for tool in snmpd snmpbulkwalk pmacctd jq python3 cc; do
		command -v "$tool" >/dev/null || hf_die "$tool is missing (make deps)"
	done
	hf_init bench
	mkdir -p "$BENCH_OUT"
	BENCH_ROWS=$BENCH_OUT/rows.md
	BENCH_NOTES=$BENCH_OUT/notes.md
	: >"$BENCH_ROWS"
	: >"$BENCH_NOTES"
	machine | tee "$BENCH_OUT/machine.md"
	local t0=$SECONDS
	if [[ " $BENCH_PARTS " == *" A "* ]]; then
		bench_snmp || note "part A stopped early"
	fi
	if [[ " $BENCH_PARTS " == *" B "* ]]; then
		bench_sflow || note "part B stopped early"
	fi
	if [[ " $BENCH_PARTS " == *" C "* ]]; then
		bench_fwd || note "part C stopped early"
	fi
	if [[ " $BENCH_PARTS " == *" D "* ]]; then
		bench_scale || note "part D stopped early"
	fi
	if [[ " $BENCH_PARTS " == *" E "* ]]; then
		bench_bighost || note "part E stopped early"
	fi
	if [[ " $BENCH_PARTS " == *" W "* ]]; then
		bench_walks || note "part W stopped early"
	fi
	if [[ " $BENCH_PARTS " == *" S "* ]]; then
		bench_sample || note "part S stopped early"
	fi
	note "total run time $((SECONDS - t0)) s"
	# Keep the daemons' logs next to the results for a look after the run.
	cp "$HF_DIR"/*.log "$BENCH_OUT/" 2>/dev/null
	write_results
}

main "$@"
