#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with
# -Werror, runs every test (unit, integration, each on SQLite and again on
# PostgreSQL) with CTest, then builds again with AddressSanitizer +
# UndefinedBehaviorSanitizer and runs them all again, but for the
# integration suite's second run on PostgreSQL (pg.integration.*): the
# daemon's code is the same on both stores but for store_pg.c, which the
# PostgreSQL unit tests (pg.test_*) run under the sanitizers.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

# Warnings are errors here and in CI (not in a user's own build).
YB_BUILD_DIR="$root/build" YB_CMAKE_FLAGS="-DYB_WERROR=ON" "$root/scripts/setup.sh"
echo "== tests (release build)"
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"

if [ "${YB_SKIP_SANITIZERS:-0}" != 1 ]; then
	YB_BUILD_DIR="$root/build-asan" YB_CMAKE_FLAGS="-DYB_WERROR=ON -DYB_SANITIZE=ON" "$root/scripts/setup.sh"
	echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer build)"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs" -E '^pg\.integration\.'
fi
