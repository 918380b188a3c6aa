#!/usr/bin/env bash
# Backups: `yuebaod --backup FILE` copies the database while the daemon
# serves and a branch keeps submitting amendments. Each copy holds a whole
# number of calls: a daemon restored from it starts, its audit export passes
# `audit verify` (every revision has its entry and signed request, every
# entry its checkpoint), and it holds at least every return acknowledged
# before the backup began and at most those acknowledged when it ended.
# Also: the copy is 0640 and one file; an existing FILE is never overwritten.
# On PostgreSQL (pg.integration.test_backup) the same is asked of the backup
# docs/postgresql.md gives, pg_dump, restored into a database of its own;
# `yuebaod --backup` refuses a PostgreSQL database and names pg_dump.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

STOP="$TMP/stop"
on_exit() { touch "$STOP"; }

# amend_until_stopped: amendments of ZFW-JG's January, one after the other,
# until $STOP exists (at most 2000); each acknowledged one adds a line to
# $TMP/acked.
amend_until_stopped() {
	local i
	for ((i = 1; i <= 2000; i++)); do
		[ -e "$STOP" ] && return 0
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 \
			--reason "amendment $i" >/dev/null 2>&1 && echo "$i" >>"$TMP/acked"
	done
}

acked() { [ -f "$TMP/acked" ] && wc -l <"$TMP/acked" || echo 0; }

# The backup of each store, what it holds, and the store it is restored to.
if [ -n "${YB_TEST_PG_URL:-}" ]; then
	COPY_URL=${YB_TEST_PG_URL/\/\/\/yuebao_test\?/\/\/\/yuebao_copy?}
	take_backup() {
		"$YB_TEST_PG_BIN/pg_dump" -Fc -f "$TMP/backup.dump" "$YB_TEST_PG_URL" &&
			psql -XqAt "$YB_TEST_PG_URL" -c "CREATE DATABASE yuebao_copy" &&
			"$YB_TEST_PG_BIN/pg_restore" -d "$COPY_URL" "$TMP/backup.dump"
	}
	copy_sql() { psql -XqAt -v ON_ERROR_STOP=1 "$COPY_URL" -c "$1"; }
	COPY=$COPY_URL
	BACKUP_NAME="pg_dump (restored into a database of its own)"
else
	take_backup() { "$YB_BIN/yuebaod" --db "$DB" --backup "$TMP/backup.db"; }
	copy_sql() { sqlite3 "$TMP/backup.db" "$1"; }
	COPY=$TMP/restored.db
	BACKUP_NAME="yuebaod --backup"
fi

test_backup_under_load() {
	local before after n k
	yb_make_pki "$YB_PKI" "$ORGS"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	for file in "$RETURNS"/*/2026-0[1-3].csv; do
		yb_as branch "$(basename "$(dirname "$file")")" submit "$file" \
			--period "$(basename "$file" .csv)" >/dev/null
	done
	amend_until_stopped &
	BACKGROUND+=($!)
	yb_wait_until 30 test -s "$TMP/acked" || fail "amendments are acknowledged"
	before=$(($(acked) + 15))
	check "$BACKUP_NAME while the daemon serves and a branch submits" take_backup
	after=$(($(acked) + 15 + 1))
	touch "$STOP"
	stop_background
	yb_stop_daemon

	if sqlite_only "the copy's file mode and an existing file"; then
		check_eq "the copy is mode 0640 and one file (no -wal, no -shm)" \
			"$(stat -c %a "$TMP/backup.db") $(ls "$TMP" | grep -c 'backup.db.' || true)" "640 0"
		check_exit "an existing file is never overwritten" 1 "already exists" \
			"$YB_BIN/yuebaod" --db "$DB" --backup "$TMP/backup.db"
	else
		check_exit "yuebaod --backup refuses a PostgreSQL database and names pg_dump" 1 \
			"is PostgreSQL: back it up with pg_dump" \
			"$YB_BIN/yuebaod" --db "$YB_TEST_PG_URL" --backup "$TMP/backup.db"
	fi
	n=$(copy_sql "SELECT count(*) FROM revisions")
	k=$(copy_sql "SELECT count(*) FROM revisions r WHERE NOT EXISTS
		(SELECT 1 FROM audit_log a WHERE a.action = 'submit' AND a.org = r.org
		 AND a.month = r.month AND a.object LIKE r.org || '/%/r' || r.revision)")
	check_eq "every revision in the copy has its audit entry" "$k" "0"
	if ((n >= before && n <= after)); then
		pass "the copy holds every return acknowledged before it began ($n of $before..$after)"
	else
		fail "the copy holds $n revisions, want $before..$after"
	fi

	# Restore: the copy in place of a lost database.
	[ -n "${YB_TEST_PG_URL:-}" ] || cp "$TMP/backup.db" "$TMP/restored.db"
	# Not under `check`: the daemon must outlive a command substitution.
	if YB_TEST_PG_URL=${YB_TEST_PG_URL:+$COPY} \
		yb_start_daemon "$YB_PKI" "$COPY" "$ORGS" "$TMP/restored.log"; then
		pass "a daemon starts on the restored copy"
	else
		fail "a daemon starts on the restored copy"
		return
	fi
	check "its audit log exports" yb_as auditor JGDW audit export "$TMP/bundle"
	check "and the export passes audit verify" \
		"$YB_BIN/yuebao" --ca "$YB_PKI/ca.crt" audit verify "$TMP/bundle"
	check_eq "the restored daemon serves the copy's returns" \
		"$(yb_as central JGDW history --org ZFW-JG --period 2026-01 --format csv |
			tail -n +2 | cut -d, -f1 | sort -n | tail -1)" \
		"$(copy_sql "SELECT max(revision) FROM revisions
			WHERE org = 'ZFW-JG' AND month = (SELECT month FROM revisions
			WHERE org = 'ZFW-JG' ORDER BY month LIMIT 1)")"
	yb_stop_daemon
}

test_backup_needs_db() {
	check_exit "--backup without a database is a usage error" 2 "needs the database" \
		"$YB_BIN/yuebaod" --backup "$TMP/x.db"
}

test_backup_under_load
test_backup_needs_db
assert_summary
