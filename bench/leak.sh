#!/usr/bin/env bash
# A measurement, run by hand after a build: what sessions that end abruptly
# leave behind in yuebaod, for all three kinds (issue 17 item 1):
# tests/integration/test_abrupt.sh with the kind the test suite leaves out,
# a close after a whole request and before its reply, which fails on nng
# 1.5.2 as Debian ships it (README, "Known defect"). To measure on nng with
# docs/nng-1.5.2-tls-transport.patch: NNG_LIBDIR=/path/to/patched/build.
set -euo pipefail
script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
KINDS="reset mid-frame after-request" exec bash "$script_dir/../tests/integration/test_abrupt.sh" "$@"
