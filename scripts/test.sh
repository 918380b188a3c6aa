#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with
# -Werror, runs every test (unit, integration) with CTest, then builds again
# with AddressSanitizer + UndefinedBehaviorSanitizer and runs them all again.
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
		ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs"
fi
