#!/usr/bin/env bash
# The daemon's log levels (--log-level, log_level in the INI): at info, the
# default, one line per answer, so a paged answer (audit log, history) is
# one line however many pages the client fetched (history --page-size 1); at debug, the later pages
# too, marked "debug:"; at warning, no line per request, but warnings stay.
# A level that is not one is a usage error. Under systemd, lines go to the
# journal with their fields (test_journal).
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

# history_lines LOG: the request lines of History calls in LOG.
history_lines() { grep -c 'yuebao.v1.Returns/History central/JGDW OK' "$1" || true; }

# history: the three revisions of ZFW-JG's January, one per page.
history() {
	yb_as central JGDW history --org ZFW-JG --period 2026-01 --page-size 1 --format csv |
		cut -d, -f1 | tail -n +2 | sort -u | wc -l
}

test_levels() {
	yb_make_pki "$YB_PKI" "$ORGS"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 >/dev/null
	for r in 2 3; do
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 \
			--reason "revision $r" >/dev/null
	done
	check_eq "the history comes in three pages" "$(history)" "3"
	check_eq "at info, the default, the paged answer is one line" "$(history_lines "$LOG")" "1"
	check_match "each submission is a line" "$(cat "$LOG")" \
		"yuebao.v1.Returns/Submit branch/ZFW-JG OK [0-9]+ms"
	yb_stop_daemon

	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$TMP/debug.log" --log-level debug
	history >/dev/null
	check_eq "at debug, every page is a line" "$(history_lines "$TMP/debug.log")" "3"
	check_eq "the later pages marked debug" \
		"$(grep -c 'debug: /yuebao.v1.Returns/History' "$TMP/debug.log" || true)" "2"
	yb_stop_daemon

	printf '[yuebaod]\nlog_level = warning\n' >"$TMP/quiet.ini"
	# A warning on either store: more connections allowed than descriptors.
	prlimit --nofile=512:512 "$YB_BIN/yuebaod" --config "$TMP/quiet.ini" \
		--listen tls+tcp://127.0.0.1:0 --db "${YB_TEST_PG_URL:-$DB}" --max-connections 1000 \
		--cert "$YB_PKI/server.crt" --key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" \
		--orgs "$ORGS" 2>"$TMP/quiet.log" &
	YB_DAEMON_PID=$!
	if yb_wait_for_log "$TMP/quiet.log" "warning: --max-connections 1000 is more than" 10; then
		pass "at warning (log_level in the INI), warnings are written"
	else
		fail "at warning (log_level in the INI), warnings are written" "$(cat "$TMP/quiet.log")"
	fi
	yb_stop_daemon
	check_eq "and nothing at info: no start line, no integrity-check line" \
		"$(grep -c 'listening on\|integrity check' "$TMP/quiet.log" || true)" "0"

	check_exit "an unknown level is a usage error" 2 "must be error, warning, info or debug" \
		"$YB_BIN/yuebaod" --log-level loud --listen tls+tcp://127.0.0.1:0 --db "$DB" \
		--cert "$YB_PKI/server.crt" --key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" \
		--orgs "$ORGS"
}

# test_journal: run as systemd runs it (JOURNAL_STREAM naming its stderr),
# the daemon sends its lines to the journal's socket with PRIORITY and, for
# calls, METHOD, CALLER, STATUS and MS; its lines go to stderr when the
# journal refuses them. The journal is played by
# tests/tools/journal_listener.py on journald's real path, so only as root
# on a machine without journald.
test_journal() {
	local sock=/run/systemd/journal/socket made_dir="" err="$TMP/journal-stderr.log"
	local entries="$TMP/journal.jsonl" lpid i
	if [ "$(id -u)" -ne 0 ] || [ -e "$sock" ]; then
		echo "skipped test_journal: needs root and no journald running"
		return 0
	fi
	[ -d /run/systemd/journal ] || { mkdir -p /run/systemd/journal && made_dir=1; }
	python3 "$YB_SRC/tests/tools/journal_listener.py" "$sock" "$entries" 120 >"$TMP/listener.out" &
	lpid=$!
	yb_wait_for_log "$TMP/listener.out" '^ready$' 10 "$lpid" || return 1
	: >"$err"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$err") "$YB_BIN/yuebaod" --listen tls+tcp://127.0.0.1:0 \
		--db "$TMP/journal.db" --cert "$YB_PKI/server.crt" --key "$YB_PKI/server.key" \
		--ca "$YB_PKI/ca.crt" --orgs "$ORGS" 2>>"$err" &
	YB_DAEMON_PID=$!
	if yb_wait_for_log "$entries" 'listening on tls' 10 "$YB_DAEMON_PID"; then
		YB_URL=$(grep -o 'listening on tls+tcp://127.0.0.1:[0-9]*' "$entries" | sed 's/listening on //')
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 >/dev/null
		yb_as branch ZFW-JG audit log >/dev/null 2>&1 || true
		yb_wait_for_log "$entries" 'PERMISSION_DENIED' 10 "$YB_DAEMON_PID" || true
		check_eq "a call is a journal entry with its fields" \
			"$(jq -r 'select(.METHOD == "/yuebao.v1.Returns/Submit") |
				[.CALLER, .STATUS, .PRIORITY, (.MS | test("^[0-9]+$"))] | @tsv' "$entries")" \
			"branch/ZFW-JG	OK	6	true"
		check_eq "a refusal is found by its STATUS field" \
			"$(jq -r 'select(.STATUS == "PERMISSION_DENIED") | .CALLER' "$entries")" "branch/ZFW-JG"
		check_eq "nothing went to stderr while the journal took the lines" "$(cat "$err")" ""
		# journald down: its socket's path is there but nobody answers
		# (ECONNREFUSED). (libsystemd says nothing when the path is missing.)
		kill -TERM "$lpid" && wait "$lpid" 2>/dev/null
		: >"$sock"
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-02.csv" --period 2026-02 >/dev/null
		if yb_wait_for_log "$err" 'Returns/Submit branch/ZFW-JG OK' 10 "$YB_DAEMON_PID"; then
			pass "a line the journal refuses goes to stderr"
		else
			fail "a line the journal refuses goes to stderr"
		fi
	fi
	yb_stop_daemon
	kill -TERM "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	rm -f "$sock"
	[ -z "$made_dir" ] || rm -rf /run/systemd/journal
	return 0
}

test_levels
test_journal
assert_summary
