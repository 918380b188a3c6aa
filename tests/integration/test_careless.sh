#!/usr/bin/env bash
# Careless files and hostile text: the store is created for its owner and
# group only, a server key others may read stops the daemon (a client's is
# named), a damaged database is found at start and not
# at the first write, and text one user types (a reason, a comment) is
# refused at the request check when it could harm another user's terminal
# or spreadsheet, or is longer than its documented cap.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

mode() { stat -c %a "$1"; }

test_private_files() {
	umask 022
	yb_make_pki "$YB_PKI" "$ORGS"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 >/dev/null
	if sqlite_only "the database file's mode and its start-up check"; then
		check_eq "the database is created 0640 under umask 022" "$(mode "$DB")" "640"
		check_eq "its -wal file too" "$(mode "$DB-wal")" "640"
		check_match "the start-up integrity check is logged, with its time" "$(cat "$LOG")" \
			"database $DB: integrity check \(PRAGMA quick_check\) passed in [0-9]+ ms"
	fi
	yb_stop_daemon

	chmod 644 "$YB_PKI/server.key" "$YB_PKI/branch-ZFW-JG.key"
	local out rc=0
	out=$(timeout 60 "$YB_BIN/yuebaod" --listen tls+tcp://127.0.0.1:0 --db "$DB" \
		--cert "$YB_PKI/server.crt" --key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" \
		--orgs "$ORGS" 2>&1) || rc=$?
	check_eq "the daemon refuses to start with a server key others may read" "$rc" "1"
	check_match "and says why and what to do" "$out" \
		"private key $YB_PKI/server\.key may be read by others \(mode 0644\); run 'chmod 600 "
	chmod 640 "$YB_PKI/server.key"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	check_eq "a key its group may read (root:yuebao 0640) is accepted" \
		"$(grep -c "private key" "$LOG" || true)" "0"
	check_exit "the client names a key others may read, and still works" 0 \
		"^yuebao: warning: private key $YB_PKI/branch-ZFW-JG\.key may be read by others \(mode 0644\)" \
		yb_as branch ZFW-JG ping
	yb_stop_daemon
	chmod 600 "$YB_PKI/server.key" "$YB_PKI/branch-ZFW-JG.key"
	[ -f "$DB" ] && chmod 644 "$DB"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	if sqlite_only "a database file others may read"; then
		check_match "the daemon names a database others may read" "$(cat "$LOG")" \
			"warning: database $DB may be read by others \(mode 0644\)"
	fi
	yb_as auditor JGDW audit export "$TMP/export" >/dev/null
	check_eq "an audit export: directories 0750, files 0640 under umask 022" \
		"$(find "$TMP/export" -type d -printf '%m\n' | sort -u) $(find "$TMP/export" -type f -printf '%m\n' | sort -u)" \
		"750 640"
	yb_stop_daemon
	[ -f "$DB" ] && chmod 600 "$DB"
	return 0
}

test_damaged_database() {
	local copy="$TMP/damaged.db" page_size root rc=0 out
	sqlite_only "a damaged database file" || return 0
	sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	cp "$DB" "$copy"
	page_size=$(sqlite3 "$copy" "PRAGMA page_size")
	root=$(sqlite3 "$copy" "SELECT rootpage FROM sqlite_master WHERE name = 'revisions'")
	# The b-tree page's header: its type byte and cell count, made nonsense.
	printf '\x2a\xff\xff\xff\xff' |
		dd of="$copy" bs=1 seek=$(((root - 1) * page_size)) conv=notrunc 2>/dev/null
	out=$(timeout 60 "$YB_BIN/yuebaod" --listen tls+tcp://127.0.0.1:0 --db "$copy" \
		--cert "$YB_PKI/server.crt" --key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" \
		--orgs "$ORGS" 2>&1) || rc=$?
	check_eq "a damaged database: yuebaod does not start" "$([ "$rc" -ne 0 ] && echo refused)" "refused"
	check_match "and says the file is damaged and what to do" "$out" \
		"database $copy is damaged: .*; restore it from a backup"
}

test_text_fields() {
	local before out long
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	before=$(revisions)
	check_exit "a reason with an ESC sequence is refused, naming the field" 1 \
		"refused \(INVALID_ARGUMENT\): reason: character 1 is a control character \(U\+001B\)" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 \
		--reason $'\e]0;pwned\a\e[2J'
	check_exit "a reason that is not UTF-8 is refused" 1 \
		"refused \(INVALID_ARGUMENT\): reason: byte 3 is not UTF-8 text" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 \
		--reason $'ab\xff\xfe'
	check_exit "a reason with a line break is refused" 1 "reason: character 3 is a control character \(U\+000A\)" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 \
		--reason $'ab\ncd'
	long=$(printf '改%.0s' $(seq 2001))
	check_exit "a reason of 2,001 characters is refused" 1 "reason: longer than 2000 characters" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 --reason "$long"
	check_exit "a rejection comment with an ESC sequence is refused" 1 \
		"comment: character 1 is a control character" \
		yb_as central JGDW review --org ZFW-JG --period 2026-01 --reject --comment $'\e[31mred'
	check_exit "a closing comment of 2,001 characters is refused" 1 "comment: longer than 2000 characters" \
		yb_as central JGDW close --period 2026-01 --force --comment "$long"
	check_eq "nothing was stored by the refused calls" "$(revisions)" "$before"
	long=$(printf '改%.0s' $(seq 2000))
	check_exit "a reason of exactly 2,000 Chinese characters is accepted" 0 "" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 --reason "$long"
	out=$(yb_as branch ZFW-JG history --period 2026-01 --format json)
	check_eq "and shown whole by history" \
		"$(jq -r '.revisions[-1].reason' <<<"$out" | wc -m)" "2001"
	yb_stop_daemon
}

# What reaches central's spreadsheet and terminal: a formula is made text in
# CSV, and text stored before these checks existed (an ESC sequence, bytes
# that are not UTF-8) is shown without its control characters and never
# drops a revision from JSON.
test_text_shown() {
	local out n
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	check_exit "a reason that looks like a formula is accepted (it is text)" 0 "" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 \
		--reason '=HYPERLINK("http://evil.example","点我")'
	out=$(yb_as central JGDW history --org ZFW-JG --period 2026-01 --format csv)
	check_match "history CSV: the formula cell starts with ' (OWASP)" "$out" \
		",\"'=HYPERLINK\(\"\"http://evil\.example\"\",\"\"点我\"\"\)\","
	check_exit "a rejection comment starting with @ is accepted" 0 "" \
		yb_as central JGDW review --org ZFW-JG --period 2026-01 --reject --comment '@SUM(1+1)'
	# As an older yuebaod could have stored them (bytes PostgreSQL refuses).
	sqlite_only "text that is not UTF-8, stored by an older yuebaod" || return 0
	sqlite3 "$DB" "UPDATE revisions SET reason = CAST(X'6F6C641B5B324A1B5D303B70776E6564078081' AS TEXT)
		WHERE org = 'ZFW-JG' AND month = (SELECT min(month) FROM revisions WHERE org = 'ZFW-JG') AND revision = 2"
	out=$(yb_as central JGDW history --org ZFW-JG --period 2026-01)
	if grep -q $'\e' <<<"$out"; then
		fail "history table: no ESC byte reaches the terminal" "$(cat -v <<<"$out" | grep -m1 old)"
	else
		pass "history table: no ESC byte reaches the terminal"
	fi
	check_match "the text around it is still shown" "$out" "reason: old�\[2J�\]0;pwned��"
	n=$(sqlite3 "$DB" "SELECT count(*) FROM revisions WHERE org = 'ZFW-JG' AND
		month = (SELECT min(month) FROM revisions WHERE org = 'ZFW-JG')")
	check_exit "history --format json of such text exits 0" 0 "" \
		yb_as central JGDW history --org ZFW-JG --period 2026-01 --format json
	out=$(yb_as central JGDW history --org ZFW-JG --period 2026-01 --format json)
	check_eq "and keeps every revision" "$(jq '.revisions | length' <<<"$out")" "$n"
	check_eq "bytes that are not UTF-8 become U+FFFD in JSON" \
		"$(jq -r '.revisions[1].reason' <<<"$out")" $'old\e[2J\e]0;pwned\a\uFFFD\uFFFD'
	out=$(yb_as central JGDW show --org ZFW-JG --period 2026-01 --revision 2)
	if grep -q $'\e' <<<"$out"; then
		fail "show: no ESC byte reaches the terminal" "$(cat -v <<<"$out")"
	else
		pass "show: no ESC byte reaches the terminal"
	fi
	yb_stop_daemon
}

main() {
	test_private_files
	test_damaged_database
	test_text_fields
	test_text_shown
	assert_summary
}

main "$@"
