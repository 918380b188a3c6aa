#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in
# build-fuzz/ and runs each for SECONDS (default 30). New corpus entries and
# crash reproducers go to a scratch directory ($YB_FUZZ_WORK, default a fresh
# /tmp/yuebao-fuzz.XXXXXX), never into the repository; the seed corpus in
# tests/fuzz/corpus/NAME is only read. Exits non-zero if any target crashes,
# leaks, times out or runs out of memory, naming the reproducer to rerun:
#   build-fuzz/bin/fuzz_NAME REPRODUCER
# Usage: scripts/fuzz.sh [SECONDS] [NAME...]   (NAME: sheet xlsx decimal period formula catalog envelope tls narrative checkpoint)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sheet xlsx decimal period formula catalog envelope tls narrative checkpoint)
case $seconds in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS] [NAME...]" >&2
	exit 2
	;;
esac

build="$root/build-fuzz"
work=${YB_FUZZ_WORK:-$(mktemp -d /tmp/yuebao-fuzz.XXXXXX)}
jobs=$(nproc)
mkdir -p "$work"

echo "== building fuzz targets in $build"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DYB_FUZZ=ON -DYB_WERROR=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/cmake.log" 2>&1 ||
	{ cat "$work/cmake.log" >&2; exit 1; }
for t in "${targets[@]}"; do
	cmake --build "$build" -j "$jobs" --target "fuzz_$t" >>"$work/cmake.log" 2>&1 ||
		{ cat "$work/cmake.log" >&2; exit 1; }
done

failed=()
for t in "${targets[@]}"; do
	corpus="$work/$t/corpus"
	artifacts="$work/$t/artifacts"
	mkdir -p "$corpus" "$artifacts"
	dict=()
	[ -f "$root/tests/fuzz/$t.dict" ] && dict=(-dict="$root/tests/fuzz/$t.dict")
	echo "== fuzz_$t for ${seconds}s (log: $work/$t/fuzz.log)"
	# The first corpus directory receives new entries; the seeds are read only.
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$build/bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
		"$corpus" "$root/tests/fuzz/corpus/$t" >"$work/$t/fuzz.log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$work/$t/fuzz.log" |
			sed 's/^/   /'
	else
		failed+=("$t")
		echo "!! fuzz_$t failed:" >&2
		grep -E 'ERROR:|SUMMARY:|Test unit written to|==[0-9]+==' "$work/$t/fuzz.log" |
			head -20 >&2 || tail -30 "$work/$t/fuzz.log" >&2
	fi
done

echo "== corpus and logs in $work"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a crash, leak or timeout"
