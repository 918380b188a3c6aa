#!/usr/bin/env bash
# The daemon's log levels (--log-level, log_level in the INI): at info, the
# default, one line per answer, so a paged answer (audit log, history) is
# one line however many pages the client fetched (history --page-size 1); at debug, the later pages
# too, marked "debug:"; at warning, no line per request, but warnings stay.
# A level that is not one is a usage error.
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
	chmod 644 "$DB"
	"$YB_BIN/yuebaod" --config "$TMP/quiet.ini" --listen tls+tcp://127.0.0.1:0 --db "$DB" \
		--cert "$YB_PKI/server.crt" --key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" \
		--orgs "$ORGS" 2>"$TMP/quiet.log" &
	YB_DAEMON_PID=$!
	if yb_wait_for_log "$TMP/quiet.log" "warning: database $DB may be read by others" 10; then
		pass "at warning (log_level in the INI), warnings are written"
	else
		fail "at warning (log_level in the INI), warnings are written" "$(cat "$TMP/quiet.log")"
	fi
	yb_stop_daemon
	chmod 640 "$DB"
	check_eq "and nothing at info: no start line, no integrity-check line" \
		"$(grep -c 'listening on\|integrity check' "$TMP/quiet.log" || true)" "0"

	check_exit "an unknown level is a usage error" 2 "must be error, warning, info or debug" \
		"$YB_BIN/yuebaod" --log-level loud --listen tls+tcp://127.0.0.1:0 --db "$DB" \
		--cert "$YB_PKI/server.crt" --key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" \
		--orgs "$ORGS"
}

test_levels
assert_summary
