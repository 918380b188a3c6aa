# shellcheck shell=bash
# shellcheck disable=SC2034 # the names set here are for the test that sources this
# What every integration test starts with. A test sources it first:
#
#   # shellcheck source=tests/integration/preamble.sh
#   . "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"
#
# and then says only what is its own. This file
# - sets -euo pipefail;
# - finds the sources and the binaries: YB_SRC and YB_BIN as CTest sets them
#   (tests/CMakeLists.txt), else the checkout this file is in and its build/;
# - loads the assertions (assert.sh) and the daemon helpers and waits
#   (scripts/lib.sh);
# - makes the test's temporary directory $TMP, with a home of its own (the
#   client's receipts, catalog cache and client.ini are the test's, never the
#   user's) and English messages, as under CTest (test_language picks a
#   language per command);
# - names what most tests use: ORGS, RETURNS, CERTS, YB_PKI, DB, LOG (a test
#   may set any of them again);
# - keeps the pids of the test's background processes (clients, connection
#   holders) in BACKGROUND, for stop_background;
# - on exit runs the test's own `on_exit` (when it defines one: a stop file
#   for its clients, evidence to print), stops its background processes and
#   the daemon, sweeps libfaketime's leftovers and removes $TMP (kept, and
#   named, with KEEP=1); the test's exit status is kept.

set -euo pipefail

YB_TEST_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
export YB_SRC="${YB_SRC:-$(cd -- "$YB_TEST_DIR/../.." && pwd)}"
export YB_BIN="${YB_BIN:-$YB_SRC/build/bin}"
# shellcheck source=tests/integration/assert.sh
. "$YB_TEST_DIR/assert.sh"
# shellcheck source=scripts/lib.sh
. "$YB_SRC/scripts/lib.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/yb-$(basename -- "$0" .sh).XXXXXX")
BACKGROUND=()

# stop_background: ends the processes in BACKGROUND and waits for them.
stop_background() {
	local pid
	for pid in "${BACKGROUND[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	BACKGROUND=()
}

# _yb_test_exit: the EXIT trap. Each step runs whatever the one before did.
_yb_test_exit() {
	local rc=$?
	set +e
	if declare -F on_exit >/dev/null; then
		on_exit
	fi
	stop_background
	yb_stop_daemon
	yb_faketime_sweep
	if [ -n "${KEEP:-}" ]; then
		echo "kept $TMP" >&2
	else
		rm -rf -- "$TMP"
	fi
	exit "$rc"
}
trap _yb_test_exit EXIT

export HOME="$TMP/home" XDG_DATA_HOME="" XDG_CACHE_HOME=""
unset XDG_CONFIG_HOME YUEBAO_SERVER YUEBAO_CERT YUEBAO_KEY YUEBAO_CA
export LANG=C.UTF-8
unset LC_ALL LC_MESSAGES LANGUAGE

ORGS="$YB_SRC/examples/orgs.csv"
RETURNS="$YB_SRC/examples/returns"
CERTS="$YB_SRC/certs/yuebao-certs.sh"
YB_PKI="$TMP/pki"
DB="$TMP/yuebao.db"
LOG="$TMP/yuebaod.log"

# The store of the test's daemons: the SQLite file $DB, or, when the test
# runs under tests/support/with_postgres.sh (the pg.integration.* tests of
# CTest), the PostgreSQL database $YB_TEST_PG_URL, emptied here so that the
# test starts from nothing as it does with a new file.
# fresh_store: on PostgreSQL, empties the database again (for a test that
# starts a daemon on a new file, with no daemon running); nothing on SQLite.
fresh_store() {
	[ -n "${YB_TEST_PG_URL:-}" ] || return 0
	psql -XqAt "$YB_TEST_PG_URL" -c "SET client_min_messages = warning" \
		-c "DROP SCHEMA public CASCADE" -c "CREATE SCHEMA public"
}
fresh_store

# db_sql SQL: runs SQL (written to mean the same in SQLite and PostgreSQL) on
# the test's store and prints the rows, values separated by '|'.
db_sql() {
	if [ -n "${YB_TEST_PG_URL:-}" ]; then
		psql -XqAt -v ON_ERROR_STOP=1 "$YB_TEST_PG_URL" -c "$1"
	else
		sqlite3 "$DB" "$1"
	fi
}

# sqlite_only WHAT: true on SQLite; on PostgreSQL says WHAT is skipped (it
# is about SQLite's file: its copies, pages, PRAGMAs) and is false, so that a
# case starts with `sqlite_only "what it checks" || return 0`.
sqlite_only() {
	[ -z "${YB_TEST_PG_URL:-}" ] && return 0
	echo "skip - $1 (the SQLite store's own)"
	return 1
}

# revisions: how many return revisions the test's store holds.
revisions() { db_sql "SELECT count(*) FROM revisions"; }

# keep_submitting TAG ORG N YEAR...: a branch client that keeps at it while
# daemons die or databases change hands (test_crash, test_postgres,
# test_standby). It submits ORG's example returns as the months of each
# YEAR until $STOP exists, each with a call id of its own (from TAG, ORG and
# the month) that every retry reuses, keeping the receipt in $RCPT. A call
# that finds no daemon (exit 3) or is answered UNAVAILABLE (nothing was
# changed) is sent again after CLIENT_BACKOFF_S (default 0.1) seconds, to
# the daemon `client_url N ATTEMPT` names when the test defines it, else
# $YB_URL, for at most CLIENT_LIMIT_S seconds in all (or until $TMP/abort
# exists). An acknowledged return, with its receipt, is a line
# "ORG PERIOD FILE" in $TMP/acked-ORG-N; anything else a line in
# $TMP/errors.
keep_submitting() {
	local tag=$1 org=$2 n=$3 file i period id attempt rc out url
	local end=$((SECONDS + CLIENT_LIMIT_S))
	shift 3
	for year in "$@"; do
		i=0
		for file in "$RETURNS/$org"/*.csv; do
			i=$((i + 1))
			period=$year-$(printf '%02d' "$i")
			[ -e "$STOP" ] && return 0
			id=$(printf '%s %s %s' "$tag" "$org" "$period" | sha256sum | cut -c1-32)
			for attempt in $(seq 0 1000); do
				rc=0
				url=$YB_URL
				if declare -F client_url >/dev/null; then
					url=$(client_url "$n" "$attempt")
				fi
				# --timeout bounds the connection and the reply; the outer
				# limit only turns a client that hangs anyway into an error.
				out=$(timeout -k 5 60 "$YB_BIN/yuebao" --server "$url" --ca "$YB_PKI/ca.crt" \
					--cert "$YB_PKI/branch-$org.crt" --key "$YB_PKI/branch-$org.key" \
					--timeout "${CLIENT_TIMEOUT_S:-10}" --call-id "$id" submit "$file" \
					--period "$period" --receipt "$RCPT/$org-$period.json" 2>&1) || rc=$?
				if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
					printf '%s %s: the client hung (killed after 60 s): %s\n' "$org" "$period" \
						"$out" >>"$TMP/errors"
					break
				fi
				if [ "$rc" -eq 0 ]; then
					if grep -q "submitted $org $period revision 1" <<<"$out" &&
						[ -s "$RCPT/$org-$period.json" ]; then
						echo "$org $period $file" >>"$TMP/acked-$org-$n"
					else
						printf '%s %s: exit 0 without a receipt: %s\n' "$org" "$period" \
							"$out" >>"$TMP/errors"
					fi
					break
				fi
				if [ "$rc" -ne 3 ] && ! grep -q "UNAVAILABLE" <<<"$out"; then
					printf '%s %s: exit %s: %s\n' "$org" "$period" "$rc" "$out" >>"$TMP/errors"
					break
				fi
				if ((SECONDS > end)) || [ -e "$TMP/abort" ]; then
					printf '%s %s: gave up after %s attempts: %s\n' "$org" "$period" \
						"$((attempt + 1))" "$out" >>"$TMP/errors"
					return 0
				fi
				# The poll interval of this bounded retry loop (the attempt
				# itself is the check), as a real client's back-off.
				sleep "${CLIENT_BACKOFF_S:-0.1}"
			done
		done
	done
}

# check_clean_stop: SIGTERM stops the daemon with exit 0 (no leaks under
# ASan), its log ($LOG) holds no sanitizer report, and its store ($DB)
# passes PRAGMA integrity_check (a SQLite store).
check_clean_stop() {
	yb_stop_daemon
	check_eq "SIGTERM stops the daemon cleanly (exit 0, no leaks under ASan)" "$YB_DAEMON_STATUS" "0"
	check_eq "no sanitizer report in the daemon's log" \
		"$(grep -c "Sanitizer\|runtime error" "$LOG" || true)" "0"
	if [ -z "${YB_TEST_PG_URL:-}" ]; then
		check_eq "integrity_check of the store" "$(sqlite3 "$DB" "PRAGMA integrity_check")" "ok"
	fi
}

# reload_daemon LOG: SIGHUP to the daemon (yb_reload); a named failure when
# LOG shows no outcome, reloaded or refused, within 5 s.
reload_daemon() {
	yb_reload "$1" || fail "the daemon logs the outcome of SIGHUP within 5 s"
}

# probe_from ADDR ARGS...: tests/tools/ybprobe (TLS as branch ZFW-JG of
# $YB_PKI) connecting from the local address ADDR (127.0.0.2 looks like
# another client); its output, stderr included. It never fails the script.
probe_from() {
	local addr=$1
	shift
	timeout 120 "$YB_BIN/ybprobe" --server "$YB_URL" --ca "$YB_PKI/ca.crt" \
		--cert "$YB_PKI/branch-ZFW-JG.crt" --key "$YB_PKI/branch-ZFW-JG.key" \
		--bind "$addr" "$@" 2>&1 || true
}

# good_ping NAME: a well-behaved client (branch JCY-DZB of $YB_PKI) is
# answered within GOOD_PING_S seconds (5 unless the test sets it); the time
# it took is in the check's name.
good_ping() {
	local limit=${GOOD_PING_S:-5} t0 t1 out ms rc=0
	t0=$(date +%s%N)
	out=$(timeout 30 "$YB_BIN/yuebao" --server "$YB_URL" --ca "$YB_PKI/ca.crt" \
		--cert "$YB_PKI/branch-JCY-DZB.crt" --key "$YB_PKI/branch-JCY-DZB.key" \
		--timeout "$limit" ping 2>&1) || rc=$?
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	if [[ $rc -ne 0 ]] || ! grep -q "CN=JCY-DZB" <<<"$out"; then
		fail "a good client is served $1 (exit $rc after $ms ms)" "$out"
	elif ((ms > limit * 1000)); then
		fail "a good client is served $1 within ${limit}s (took $ms ms)" "$out"
	else
		pass "a good client is served $1 ($ms ms)"
	fi
}
