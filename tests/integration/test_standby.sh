#!/usr/bin/env bash
# A synchronous standby takes over (docs/postgresql.md). The cluster of
# tests/support/with_postgres.sh is the primary; a standby is made from it
# with pg_basebackup and named in synchronous_standby_names, so that a
# commit, and so a receipt, waits until the standby has the return. yuebaod
# is given both servers in its URL (target_session_attrs=read-write).
# Branches submit, each call with a call id of its own reused on every
# retry; the primary is stopped as by a power cut (pg_ctl stop -m
# immediate) and the standby promoted. Then every return a branch holds a
# receipt for is in the promoted standby, once, the daemon serves on
# through it, and the audit log verifies.
# Needs the database of tests/support/with_postgres.sh (CTest runs it as
# pg.integration.test_standby); skipped (77) without it.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

if [ -z "${YB_TEST_PG_URL:-}" ]; then
	echo "skipped: needs a PostgreSQL database (tests/support/with_postgres.sh)"
	exit 77
fi

PRIMARY=$YB_TEST_PG_DIR
STANDBY_DATA=$YB_TEST_PG_DIR/standby
STANDBY_PORT=5433
RCPT="$TMP/receipts"
STOP="$TMP/stop"
BRANCHES="ZFW-JG FY-DZB FY-ZXJ JCY-DZB SFJ-DZB"
BEFORE=15 # acknowledged returns before the primary is lost
AFTER=15  # and after the standby took over
# shellcheck disable=SC2034 # read by keep_submitting (preamble.sh)
CLIENT_LIMIT_S=120
CLIENT_TIMEOUT_S=15  # keep_submitting: per call, while the database changes hands
CLIENT_BACKOFF_S=0.2

on_exit() { touch "$STOP"; }

# as_pg CMD...: CMD as the servers' user, from a directory that user may read.
as_pg() {
	# shellcheck disable=SC2086 # words on purpose
	(cd "$YB_TEST_PG_DIR" && $YB_TEST_PG_AS "$@")
}
sql_on() { psql -XqAt -v ON_ERROR_STOP=1 "host=$1 port=$2 user=yuebao dbname=yuebao_test" -c "$3"; }

acked() { cat "$TMP"/acked-* 2>/dev/null | wc -l; }
acked_at_least() { (($(acked) >= $1)); }
in_sync() { [ "$(sql_on "$PRIMARY" 5432 "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")" = 1 ]; }


setup() {
	mkdir -p "$RCPT"
	touch "$TMP/errors"
	as_pg "$YB_TEST_PG_BIN/pg_basebackup" -h "$PRIMARY" -p 5432 -U yuebao -D "$STANDBY_DATA" \
		-X stream -R >/dev/null
	cat <<EOF | as_pg tee -a "$STANDBY_DATA/postgresql.auto.conf" >/dev/null
port = $STANDBY_PORT
unix_socket_directories = '$STANDBY_DATA'
primary_conninfo = 'host=$PRIMARY port=5432 user=yuebao application_name=standby1'
EOF
	as_pg "$YB_TEST_PG_BIN/pg_ctl" -D "$STANDBY_DATA" -l "$STANDBY_DATA/server.log" -w start >/dev/null
	sql_on "$PRIMARY" 5432 "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" >/dev/null
	sql_on "$PRIMARY" 5432 "SELECT pg_reload_conf()" >/dev/null
	yb_wait_until 30 in_sync ||
		yb_wait_failed "the standby is not a synchronous standby after 30 s" "$STANDBY_DATA/server.log"
	pass "a synchronous standby follows the primary"
	yb_make_pki "$YB_PKI" "$ORGS"
	YB_TEST_PG_URL="postgresql:///yuebao_test?host=${PRIMARY//\//%2F},${STANDBY_DATA//\//%2F}&port=5432,$STANDBY_PORT&user=yuebao&target_session_attrs=read-write"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
}

test_failover() {
	local org y=1950 k
	for org in $BRANCHES; do
		# shellcheck disable=SC2046
		keep_submitting standby "$org" 0 $(seq "$y" $((y + 9))) &
		BACKGROUND+=($!)
		y=$((y + 10))
	done
	yb_wait_until 120 acked_at_least "$BEFORE" ||
		yb_wait_failed "$(acked) returns acknowledged, not $BEFORE, after 120 s" "$LOG"
	# shellcheck disable=SC2086 # a command prefix, words on purpose
	$YB_TEST_PG_CTL stop -m immediate >/dev/null
	k=$(acked)
	as_pg "$YB_TEST_PG_BIN/pg_ctl" -D "$STANDBY_DATA" -w promote >/dev/null
	pass "the primary is lost after $k acknowledged returns; the standby is promoted"
	yb_wait_until 120 acked_at_least $((k + AFTER)) ||
		yb_wait_failed "$(acked) returns acknowledged, not $((k + AFTER)), after 120 s" "$LOG"
	touch "$STOP"
	for org in "${BACKGROUND[@]}"; do
		wait "$org" || true
	done
	BACKGROUND=()
	check_eq "no client got a refusal or gave up" "$(cat "$TMP/errors")" ""
	check_match "the daemon served on through the promoted standby" "$(($(acked) - k))" "^[1-9][0-9]*$"
}

test_nothing_lost() {
	local org period missing=0 n=0 got
	while read -r org period _; do
		n=$((n + 1))
		got=$(sql_on "$STANDBY_DATA" "$STANDBY_PORT" "SELECT count(*) FROM revisions WHERE org = '$org'
			AND month = ${period%-*} * 12 + ${period#*-} - 1")
		[ "$got" = 1 ] || missing=$((missing + 1))
	done < <(cat "$TMP"/acked-*)
	check_eq "every acknowledged return is in the promoted standby, once" "$missing/$n" "0/$n"
	check_exit "the audit log exports from the promoted standby" 0 "wrote $TMP/bundle" \
		yb_as auditor JGDW audit export "$TMP/bundle"
	check_exit "and verifies" 0 "" "$YB_BIN/yuebao" --ca "$YB_PKI/ca.crt" audit verify "$TMP/bundle"
}

main() {
	setup
	test_failover
	test_nothing_lost
	assert_summary
}

main "$@"
