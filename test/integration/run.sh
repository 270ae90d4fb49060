#!/usr/bin/env bash
# Runs every test/integration/test_*.sh (sorted), each under a timeout, shows
# their output and ends with one line: "N passed, M failed" (the sum of every
# script's last such line; a script that crashed, timed out or printed no
# summary counts as one failure). Exits non-zero on any failure.
#
#   test/integration/run.sh [PATTERN]    only scripts whose name contains PATTERN
#   HF_TEST_TIMEOUT=300                  seconds per script
#
# A script with a line "# hf-captures: KIND..." in its first 40 lines runs
# once per KIND (ebpf, packet) with HF_CAPTURE=KIND (lib.sh's hf_conf puts
# `capture KIND` in its configs): `capture auto` takes tc eBPF where the
# kernel has tcx, and the packet sockets must stay tested there too.
set -uo pipefail

if ((EUID != 0)); then
	echo "integration tests must run as root (network namespaces): sudo make check" >&2
	exit 1
fi

here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${HF_TEST_TIMEOUT:-300}
pattern=${1:-}
total_pass=0
total_fail=0
failed_scripts=()

run_one() {
	local script=$1 capture=${2:-} name out rc summary p f t0=$SECONDS
	name=$(basename "$script")${capture:+ (capture $capture)}
	echo "=== $name"
	out=$(mktemp "${TMPDIR:-/tmp}/hf-run.XXXXXX")
	# --kill-after: a script stuck in its cleanup still ends. Its own trap
	# runs on the SIGTERM that timeout sends first.
	HF_CAPTURE=${capture:-${HF_CAPTURE:-}} timeout --kill-after=20 "$timeout_s" bash "$script" </dev/null 2>&1 |
		tee "$out"
	rc=${PIPESTATUS[0]}
	# Which scripts make check's time: a developer keeping it near 10 min
	# reads these lines.
	echo "# $name: $((SECONDS - t0)) s"
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	rm -f "$out"
	if [[ -z $summary ]]; then
		if ((rc == 124 || rc == 137)); then
			echo "not ok - $name: timed out after ${timeout_s}s"
		else
			echo "not ok - $name: ended (status $rc) without a summary line"
		fi
		total_fail=$((total_fail + 1))
		failed_scripts+=("$name")
		return
	fi
	read -r p _ f _ <<<"$summary"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if ((rc != 0 && f == 0)); then
		# A summary that claims success while the script failed: count it.
		echo "not ok - $name: exit status $rc"
		total_fail=$((total_fail + 1))
	fi
	if ((rc != 0 || f != 0)); then
		failed_scripts+=("$name")
	fi
}

shopt -s nullglob
scripts=("$here"/test_*.sh)
if ((${#scripts[@]} == 0)); then
	echo "no integration tests found in $here" >&2
	exit 1
fi
mapfile -t scripts < <(printf '%s\n' "${scripts[@]}" | LC_ALL=C sort)
start=$SECONDS
for s in "${scripts[@]}"; do
	[[ -z $pattern || $(basename "$s") == *"$pattern"* ]] || continue
	read -r -a kinds <<<"$(head -n 40 "$s" | sed -n 's/^# hf-captures: *//p' | head -n 1)"
	if ((${#kinds[@]} == 0)); then
		run_one "$s"
		continue
	fi
	for k in "${kinds[@]}"; do
		run_one "$s" "$k"
	done
done
echo "=== integration: $((SECONDS - start)) s"
if ((${#failed_scripts[@]})); then
	echo "# failing: ${failed_scripts[*]}"
fi
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
