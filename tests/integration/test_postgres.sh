#!/usr/bin/env bash
# Several daemons, one PostgreSQL database (docs/postgresql.md). Three
# yuebaod serve one database; branches submit through all of them, each
# call with a call id of its own that it reuses on every retry, against the
# next daemon when one does not answer; one daemon is killed with SIGKILL
# during the load. Then every acknowledged return is stored once with the
# values sent, its receipt proves, and the audit log verifies as one linear
# log. Also: a retry sent to another daemon gets the first one's reply,
# PostgreSQL restarted under a running daemon costs no call, and daemons
# that serve different org trees say so (in their logs and to an admin's
# ping) until they agree again. A daemon starting on an up-to-date database
# waits for no lock, and one of a newer schema is refused.
# Needs the database of tests/support/with_postgres.sh (CTest runs it as
# pg.integration.test_postgres); skipped (77) without it.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

if [ -z "${YB_TEST_PG_URL:-}" ]; then
	echo "skipped: needs a PostgreSQL database (tests/support/with_postgres.sh)"
	exit 77
fi

RCPT="$TMP/receipts"
STOP="$TMP/stop"
BRANCHES=(ZFW-JG FY-DZB FY-ZXJ JCY-DZB SFJ-DZB)
CLIENTS=64      # dealt over the branches and the three daemons, each on a year of its own
KILL_AFTER=40   # acknowledged returns before the SIGKILL
ENOUGH=160      # and in all
CLIENT_LIMIT_S=180
PIDS=()
URLS=()

on_exit() {
	local pid
	touch "$STOP"
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
}

# start_daemons N: N daemons on the test's database, their pids in PIDS and
# addresses in URLS; the last one also in YB_DAEMON_PID / YB_URL. Daemon i
# reads its org tree from a copy of its own, $TMP/orgs-i.csv.
start_daemons() {
	local i
	for i in $(seq 0 $(($1 - 1))); do
		cp "$ORGS" "$TMP/orgs-$i.csv"
		yb_start_daemon "$YB_PKI" "$DB" "$TMP/orgs-$i.csv" "$TMP/yuebaod-$i.log"
		PIDS[i]=$YB_DAEMON_PID
		URLS[i]=$YB_URL
	done
	YB_DAEMON_PID=
}

# as URL ROLE CODE ARGS...: the client as ROLE-CODE, against the daemon at URL.
as() {
	local url=$1 role=$2 code=$3
	shift 3
	"$YB_BIN/yuebao" --server "$url" --ca "$YB_PKI/ca.crt" --cert "$YB_PKI/$role-$code.crt" \
		--key "$YB_PKI/$role-$code.key" "$@"
}

acked() { cat "$TMP"/acked-* 2>/dev/null | wc -l; }
acked_at_least() { (($(acked) >= $1)); }

# client_url N ATTEMPT: client N's daemon for its ATTEMPT-th try of a call
# (keep_submitting): the next of the three after one that did not answer.
client_url() { echo "${URLS[$((($1 + $2) % 3))]}"; }

setup() {
	mkdir -p "$RCPT"
	touch "$TMP/errors"
	yb_make_pki "$YB_PKI" "$ORGS"
	"$CERTS" issue "$YB_PKI" admin JGDW >/dev/null
	start_daemons 3
}

# Daemon 0 is given an org tree that differs from the others' (a unit renamed)
# and reloaded: it warns at once, naming the others; an admin's ping to
# another daemon lists it as different. The disagreement is left in place
# for daemon 2 to notice on its own (test_disagreement_noticed).
test_daemons_disagree() {
	local out
	sed -i 's/^FY-DZB,[^,]*,/FY-DZB,法院审判党支部,/' "$TMP/orgs-0.csv"
	YB_DAEMON_PID=${PIDS[0]} reload_daemon "$TMP/yuebaod-0.log"
	yb_wait_for_log "$TMP/yuebaod-0.log" "daemons disagree: yuebaod pid ${PIDS[2]} " 5 ||
		fail "the reloaded daemon names each daemon that serves another org tree"
	check_match "and says what differs" "$(grep "daemons disagree: yuebaod pid ${PIDS[1]} " \
		"$TMP/yuebaod-0.log")" "serves a different org tree from this one"
	out=$(as "${URLS[2]}" admin JGDW ping 2>&1)
	check_match "an admin's ping lists the three daemons" "$out" "daemons on this database: 3"
	check_match "and the one that answered" "$out" "pid ${PIDS[2]} [^ ]+:[0-9]+ \(this one\)"
	check_match "and the one that serves another org tree" "$out" \
		"pid ${PIDS[0]} [^ ]+:[0-9]+, serves a different org tree or catalog"
	check_match "with what to do" "$out" "warning: 1 daemon\(s\) serve other files than this one"
	check_no_match "a branch's ping lists no daemons" \
		"$(as "${URLS[2]}" branch ZFW-JG ping 2>&1)" "daemons on this database"
}

# Daemon 2 notices on its next beat (every 30 s) that daemon 0 serves another
# org tree; daemon 0, given the same file again, says they agree again.
test_disagreement_noticed() {
	yb_wait_for_log "$TMP/yuebaod-2.log" "daemons disagree: yuebaod pid ${PIDS[0]} " 45 ||
		fail "a daemon notices by itself when another serves another org tree"
	cp "$ORGS" "$TMP/orgs-0.csv"
	YB_DAEMON_PID=${PIDS[0]} reload_daemon "$TMP/yuebaod-0.log"
	yb_wait_for_log "$TMP/yuebaod-0.log" "serve the same org tree and catalog again" 5 ||
		fail "given the same files again, the daemon says they agree"
	check_no_match "and an admin's ping warns no more" "$(as "${URLS[2]}" admin JGDW ping 2>&1)" \
		"serve other files"
}

test_retry_to_another_daemon() {
	local id out1 out2
	id=$(printf 'once across daemons' | sha256sum | cut -c1-32)
	out1=$(as "${URLS[0]}" branch ZFW-JG --call-id "$id" submit "$RETURNS/ZFW-JG/2026-01.csv" \
		--period 2026-01 2>&1)
	out2=$(as "${URLS[1]}" branch ZFW-JG --call-id "$id" submit "$RETURNS/ZFW-JG/2026-01.csv" \
		--period 2026-01 2>&1)
	check_match "a call stored through one daemon" "$out1" "submitted ZFW-JG 2026-01 revision 1"
	check_eq "and sent again to another gets the same reply" "$out2" "$out1"
	check_eq "and is stored once" \
		"$(db_sql "SELECT count(*) FROM revisions WHERE org = 'ZFW-JG' AND month = 2026 * 12")" "1"
	check_match "the second daemon answered it from the call record" \
		"$(cat "$TMP/yuebaod-1.log")" "retry answered from record"
	check_exit "what one daemon stored, another shows" 0 "revision 1" \
		as "${URLS[2]}" central JGDW show --org ZFW-JG --period 2026-01
}

test_postgres_restarted() {
	# shellcheck disable=SC2086 # a command prefix, words on purpose
	$YB_TEST_PG_CTL restart -m fast -w >/dev/null
	check_exit "PostgreSQL restarted under a running daemon: the next call is served" 0 \
		"submitted FY-DZB 2026-01 revision 1" \
		as "${URLS[0]}" branch FY-DZB submit "$RETURNS/FY-DZB/2026-01.csv" --period 2026-01
	check_exit "and a read on another daemon too" 0 "revision 1" \
		as "${URLS[1]}" central JGDW show --org FY-DZB --period 2026-01
}

test_kill_one_of_three() {
	local n k c
	for n in $(seq 0 $((CLIENTS - 1))); do
		keep_submitting pg "${BRANCHES[$((n % ${#BRANCHES[@]}))]}" "$n" $((1950 + n)) &
		BACKGROUND+=($!)
	done
	yb_wait_until 120 acked_at_least "$KILL_AFTER" ||
		yb_wait_failed "$(acked) returns acknowledged, not $KILL_AFTER, after 120 s" "$TMP/yuebaod-1.log"
	kill -KILL "${PIDS[1]}"
	wait "${PIDS[1]}" 2>/dev/null || true
	k=$(acked)
	yb_wait_until 120 acked_at_least "$ENOUGH" ||
		yb_wait_failed "$(acked) returns acknowledged, not $ENOUGH, after 120 s" "$TMP/yuebaod-0.log"
	touch "$STOP"
	for c in "${BACKGROUND[@]}"; do
		wait "$c" || true
	done
	BACKGROUND=()
	echo "info: $(acked) returns acknowledged by $CLIENTS clients over 3 daemons, $k before one was killed"
	check_eq "no client got a refusal or gave up" "$(cat "$TMP/errors")" ""
	check_match "returns were acknowledged after the kill" "$(($(acked) - k))" "^[1-9][0-9]*$"
}

# values_of CSV: "code,value" of every reported value, sorted, with two decimals.
values_of() {
	awk -F, 'NR > 1 && $1 != "code" && $4 != "" { printf "%s,%.2f\n", $1, $4 }' | sort
}

test_acknowledged_returns() {
	local org period file bad=0 unproved=0 n=0
	cat "$TMP"/acked-* >"$TMP/acked"
	while read -r org period file; do
		n=$((n + 1))
		[[ "$(as "${URLS[2]}" branch "$org" show --period "$period" --format csv 2>/dev/null |
			values_of)" == "$(values_of <"$file")" ]] || bad=$((bad + 1))
		as "${URLS[0]}" branch "$org" audit prove --receipt "$RCPT/$org-$period.json" \
			>/dev/null 2>&1 || unproved=$((unproved + 1))
	done <"$TMP/acked"
	check_eq "every acknowledged return is stored with the values sent" "$bad/$n" "0/$n"
	check_eq "every receipt proves against the log" "$unproved/$n" "0/$n"
	check_eq "no return was stored twice" \
		"$(db_sql "SELECT count(*) FROM revisions WHERE revision <> 1")" "0"
}

test_one_log() {
	check_exit "the audit log exports through any daemon" 0 "wrote $TMP/bundle" \
		as "${URLS[2]}" auditor JGDW audit export "$TMP/bundle"
	check_exit "and verifies: one linear log, every return bound by its entry" 0 "" \
		"$YB_BIN/yuebao" --ca "$YB_PKI/ca.crt" audit verify "$TMP/bundle"
}

# A daemon that starts on a database already at its schema version changes
# no table, so it does not wait for what holds a lock on one: here a session
# holding the lock autovacuum takes on the revisions, which CREATE INDEX ...
# IF NOT EXISTS would wait for. A database of a newer schema is refused.
lock_held() {
	[ "$(db_sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
		WHERE c.relname = 'revisions' AND l.mode = 'ShareUpdateExclusiveLock' AND l.granted")" = 1 ]
}
test_schema_at_start() {
	local holder version
	psql -XqAt "$YB_TEST_PG_URL&application_name=yb_lock_holder" -c "BEGIN" \
		-c "LOCK TABLE revisions IN SHARE UPDATE EXCLUSIVE MODE" -c "SELECT pg_sleep(120)" \
		>/dev/null 2>&1 &
	holder=$!
	yb_wait_until 10 lock_held || fail "a session holds a lock on the revisions"
	if yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$TMP/schema.log"; then
		pass "a daemon starts while another session holds a lock on the revisions"
		yb_stop_daemon
	else
		fail "a daemon starts while another session holds a lock on the revisions"
	fi
	db_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'yb_lock_holder'" >/dev/null
	wait "$holder" 2>/dev/null || true
	version=$(db_sql "SELECT max(version) FROM schema_version")
	db_sql "UPDATE schema_version SET version = $((version + 1))"
	check_exit "a database of a newer schema is refused, naming both versions" 1 \
		"has schema version $((version + 1)), newer than this yuebaod \($version\): upgrade yuebaod" \
		timeout 30 "$YB_BIN/yuebaod" --listen tls+tcp://127.0.0.1:0 --db "$YB_TEST_PG_URL" \
		--cert "$YB_PKI/server.crt" --key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" \
		--crl "$YB_PKI/crl.pem" --orgs "$ORGS"
	db_sql "UPDATE schema_version SET version = $version"
}

main() {
	setup
	test_daemons_disagree
	test_retry_to_another_daemon
	test_postgres_restarted
	test_disagreement_noticed
	test_kill_one_of_three
	test_acknowledged_returns
	test_one_log
	test_schema_at_start
	assert_summary
}

main "$@"
