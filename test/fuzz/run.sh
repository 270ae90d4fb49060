#!/bin/bash
# libFuzzer targets for the pure rooms: config, ifmap, sflow_encode, the
# importers, the frame path (fwd.c, sflow_agent.c), the BPF builder
# (bpfprog.c, pfilter.c) and the routing mirror (fib*.c).
#
#   test/fuzz/run.sh [fuzz] [TARGET...]   replay regressions, then fuzz each
#                                         target FUZZ_SECONDS (default 60)
#   test/fuzz/run.sh replay [TARGET...]   run every seed and regression input
#                                         once, no fuzzing (fast, for make check)
#
# Binaries, the working corpus and crash artifacts live in build/fuzz/; the
# committed seeds (test/fuzz/corpus/TARGET) are copied, never written to.
# A crashing input belongs in test/fuzz/regress/TARGET/ once fixed.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ=$ROOT/test/fuzz
OUT=$ROOT/build/fuzz
SECONDS_EACH=${FUZZ_SECONDS:-60}
ALL_TARGETS=(config ifmap sflow import_hsflowd import_pmacctd bpfprog frame fib tcsample)
# The pure rooms as the Makefile lists them, so a new file of theirs is
# linked without editing this script (pfilter.c links libpcap).
read -r -a PURE <<<"$(make -s -C "$ROOT" --no-print-directory print-PURE_SRC)"
[ ${#PURE[@]} -gt 0 ] || { echo "fuzz: cannot read PURE_SRC from the Makefile" >&2; exit 1; }
CC=${FUZZ_CC:-clang}
# The shared objects get libFuzzer's coverage without its main
# (fuzzer-no-link); each target links with it.
CFLAGS=(-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
	-fno-sanitize-recover=undefined -Iagent -I"$FUZZ" -I"$ROOT/test/common" -D_GNU_SOURCE -std=gnu11
	-Wall -Wextra)
# Leaks are findings; a report must abort rather than scroll past.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

mode=fuzz
case "${1:-}" in
fuzz|replay) mode=$1; shift ;;
-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# The pure rooms and test/common are compiled once for all targets (one job
# per core): each target then compiles only its own fuzz_T.c and links.
OBJ=$OUT/obj
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# The object of source $1.
obj_of() { local o=${1//\//_}; echo "$OBJ/${o%.c}.o"; }

# The newest header a source may include: an object older than it is rebuilt.
newest_header() {
	ls -t "$ROOT"/agent/*/*.h "$ROOT"/agent/*/*/*.h "$ROOT"/test/common/*.h \
		"$FUZZ/fuzz_check.h" 2>/dev/null | head -n 1
}

# Compiles the stale objects, JOBS at a time; 1 when one of them failed.
build_objects() {
	local hdr s o failed=0
	hdr=$(newest_header)
	mkdir -p "$OBJ"
	for s in "${SHARED[@]}"; do
		o=$(obj_of "$s")
		[ -f "$o" ] && [ ! "$ROOT/$s" -nt "$o" ] && [ ! "$hdr" -nt "$o" ] && continue
		rm -f "$o"
		while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
		(cd "$ROOT" && "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer-no-link -c -o "$o.tmp" "$s" >"$o.log" 2>&1 &&
			mv "$o.tmp" "$o") &
	done
	wait
	for s in "${SHARED[@]}"; do
		o=$(obj_of "$s")
		[ -f "$o" ] && continue
		echo "fuzz: cannot compile $s:"; cat "$o.log"; failed=1
	done
	return $failed
}

# Relinks build/fuzz/fuzz_T when its source or an object is newer.
build() {
	local t=$1 bin=$OUT/fuzz_$1 f objs=()
	for f in "${SHARED[@]}"; do objs+=("$(obj_of "$f")"); done
	if [ -x "$bin" ]; then
		# A newer header made the objects newer too (build_objects).
		for f in "$FUZZ/fuzz_$t.c" "${objs[@]}"; do
			[ "$f" -nt "$bin" ] && break
			f=
		done
		[ -z "$f" ] && return 0
	fi
	(cd "$ROOT" && "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer -o "$bin.tmp" "$FUZZ/fuzz_$t.c" \
		"${objs[@]}" -lpcap) >"$OUT/build_$t.log" 2>&1 && mv "$bin.tmp" "$bin" && return 0
	cat "$OUT/build_$t.log"
	return 1
}

# The directories of committed inputs for target t that exist.
inputs() {
	local d
	for d in "$FUZZ/regress/$1" "$FUZZ/corpus/$1"; do
		[ -d "$d" ] && echo "$d"
	done
}

# Runs every committed input once; on failure shows the first crashing one.
replay() {
	local t=$1 log=$OUT/replay_$1.log n
	mapfile -t dirs < <(inputs "$t")
	n=$(find "${dirs[@]}" -type f | wc -l)
	mkdir -p "$OUT/artifacts/$t"
	if "$OUT/fuzz_$t" -runs=0 -artifact_prefix="$OUT/artifacts/$t/" "${dirs[@]}" \
		>"$log" 2>&1; then
		ok "$t: replayed $n inputs"
		return 0
	fi
	bad "$t: replay of $n inputs crashed (log $log)"
	grep -E 'invariant broken|ERROR|runtime error|Running:' "$log" | tail -n 8
	return 1
}

fuzz() {
	local t=$1 work=$OUT/work/$1 art=$OUT/artifacts/$1/ log=$OUT/fuzz_$1.log
	local maxlen=8192 crash
	mkdir -p "$work" "$art"
	cp -n "$FUZZ/corpus/$t"/* "$work"/ 2>/dev/null
	[ -d "$FUZZ/regress/$t" ] && cp -n "$FUZZ/regress/$t"/* "$work"/ 2>/dev/null
	# stderr of the target is closed (-close_fd_mask=2): ifmap's warnings
	# would flood the log; libFuzzer and sanitizer reports still get through.
	if "$OUT/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len=$maxlen \
		-timeout=10 -rss_limit_mb=1024 -close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix="$art" "$work" >"$log" 2>&1; then
		ok "$t: ${SECONDS_EACH}s, $(grep -Eo 'DONE +cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' \
			"$log" | sed 's/DONE *//') ($(grep -Eo '^#[0-9]+' "$log" | tail -n 1 |
			tr -d '#') runs)"
		return 0
	fi
	crash=$(grep -Eo "Test unit written to [^ ]+" "$log" | tail -n 1 | cut -d' ' -f5)
	bad "$t: fuzzer found a failure (log $log, input ${crash:-?})"
	grep -E 'ERROR|runtime error|SUMMARY|#[0-9]+ 0x' "$log" | head -n 12
	# The target's own message went to the closed stderr: replay to show it.
	[ -n "$crash" ] && "$OUT/fuzz_$t" "$crash" 2>&1 | grep -E 'invariant broken' | head -n 3
	return 1
}

command -v "$CC" >/dev/null || { echo "no $CC: apt-get install clang" >&2; exit 1; }
mkdir -p "$OUT"
SHARED=("${PURE[@]}")
for f in "$ROOT"/test/common/*.c; do SHARED+=("test/common/${f##*/}"); done
build_objects || { bad "the shared objects did not compile"; echo "$passed passed, $failed failed"; exit 1; }
# Links every target first (JOBS at a time), then replays or fuzzes each.
for t in "${targets[@]}"; do
	[ -f "$FUZZ/fuzz_$t.c" ] || continue
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	rm -f "$OUT/link_$t.rc"
	(build "$t" >"$OUT/link_$t.out" 2>&1; echo $? >"$OUT/link_$t.rc") &
done
wait
for t in "${targets[@]}"; do
	[ -f "$FUZZ/fuzz_$t.c" ] || { bad "$t: no such target"; continue; }
	if [ "$(cat "$OUT/link_$t.rc" 2>/dev/null)" != 0 ]; then
		cat "$OUT/link_$t.out"
		bad "$t: build failed"
		continue
	fi
	replay "$t" || continue
	[ "$mode" = fuzz ] && fuzz "$t"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
