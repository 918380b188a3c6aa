#!/usr/bin/env bash
# Crash durability (issue 6 item 3, SPEC §8): five branches submit their
# example returns concurrently, for months of several years, each call with
# a call id of its own that it reuses on every retry; meanwhile yuebaod is
# killed with SIGKILL at random moments (some of them while it is still
# starting up) and restarted on the same database and port. Then: every
# return a client got a receipt for is stored with exactly the values it
# sent, exactly once, and its receipt proves against the log; the store
# passes PRAGMA integrity_check straight after a kill; an audit export
# verifies clean; and the daemon still stops cleanly on SIGTERM.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

RCPT="$TMP/receipts"
STOP="$TMP/stop"
BRANCHES="ZFW-JG FY-DZB FY-ZXJ JCY-DZB SFJ-DZB"
KILLS=24         # SIGKILLs, at least 20
EARLY_EVERY=4    # every 4th kill lands while the daemon is starting up
# shellcheck disable=SC2034 # read by keep_submitting (preamble.sh)
CLIENT_LIMIT_S=150 # a client gives up retrying after this (the daemon is never down that long)
PORT=

# on_exit: the clients (in BACKGROUND, which the preamble then ends) stop
# at their next call.
on_exit() { touch "$STOP"; }

# port_free PORT: no socket listens on 127.0.0.1:PORT (IPv4 or IPv6).
port_free() {
	! awk -v port="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == port { found = 1 }
		END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# start: yuebaod on the test's port. A start that fails is tried again (five
# times in all) once nothing listens on the port any more (at most 5 s).
start() {
	local i
	for i in 1 2 3 4 5; do
		yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG" --listen "tls+tcp://127.0.0.1:$PORT" && return 0
		yb_wait_until 5 port_free "$PORT" || yb_wait_failed "port $PORT is still in use after 5 s"
	done
	return 1
}

# start_and_kill_early: starts yuebaod and kills it 10-100 ms later, before
# it may even have opened the store or its listener.
start_and_kill_early() {
	local pid
	"$YB_BIN/yuebaod" --listen "tls+tcp://127.0.0.1:$PORT" --db "${YB_TEST_PG_URL:-$DB}" --cert "$YB_PKI/server.crt" \
		--key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" --crl "$YB_PKI/crl.pem" \
		--orgs "$ORGS" 2>>"$LOG" &
	pid=$!
	# A time on purpose, not a wait for an event: the kill is to land at a
	# random moment of the start-up, whatever the daemon has got to by then.
	sleep "0.$(printf '%03d' $((10 + RANDOM % 91)))"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}


setup() {
	mkdir -p "$RCPT"
	yb_make_pki "$YB_PKI" "$ORGS"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	PORT=${YB_URL##*:}
	touch "$TMP/errors"
}

test_kill_while_submitting() {
	local k early=0 org years y
	y=0
	for org in $BRANCHES; do
		# Years from 2000 on, each branch starting elsewhere, so the months
		# interleave differently; more than the clients get through before $STOP.
		years=$(seq $((2000 + y)) 2025; seq 2000 $((1999 + y)))
		# shellcheck disable=SC2086
		keep_submitting crash "$org" 0 $years &
		BACKGROUND+=($!)
		y=$((y + 5))
	done
	for k in $(seq 1 "$KILLS"); do
		# A time on purpose, not a wait for an event: each kill lands 50-500 ms
		# after the daemon came up, wherever the clients' calls are by then.
		sleep "0.$(printf '%03d' $((50 + RANDOM % 451)))"
		if ! kill -KILL "$YB_DAEMON_PID" 2>/dev/null; then
			echo "yuebaod exited on its own before kill $k" >>"$TMP/errors"
		fi
		wait "$YB_DAEMON_PID" 2>/dev/null || true
		YB_DAEMON_PID=
		if ((k % EARLY_EVERY == 0)); then
			start_and_kill_early
			early=$((early + 1))
		fi
		if ! start; then
			touch "$TMP/abort" # the daemon is down for good: clients stop retrying
			break
		fi
	done
	check_eq "the daemon was killed $KILLS times (and $early more times while starting) and restarted" \
		"$k/$([ -n "$YB_DAEMON_PID" ] && echo up || echo down)" "$KILLS/up"
	touch "$STOP"
	for org in "${BACKGROUND[@]}"; do
		wait "$org" || true
	done
	BACKGROUND=()
	check_eq "no client got a refusal, hung or gave up; yuebaod never exited on its own" "$(cat "$TMP/errors")" ""
	cat "$TMP"/acked-* >"$TMP/acked" 2>/dev/null || true
	echo "info: $(wc -l <"$TMP/acked") returns acknowledged with a receipt;" \
		"$(grep -c "retry answered from record" "$LOG" || true) retries answered from the call record"
	check_match "the clients got receipts throughout (at least 30)" "$(wc -l <"$TMP/acked")" \
		"^([3-9][0-9]|[1-9][0-9][0-9]+)$"
}

test_store_after_kill() {
	# The store exactly as a SIGKILL leaves it, before any restart recovers it.
	kill -KILL "$YB_DAEMON_PID" 2>/dev/null || true
	wait "$YB_DAEMON_PID" 2>/dev/null || true
	YB_DAEMON_PID=
	if sqlite_only "PRAGMA integrity_check straight after a kill"; then
		check_eq "PRAGMA integrity_check straight after a kill" "$(sqlite3 "$DB" "PRAGMA integrity_check")" "ok"
	fi
	start
}

# values_of CSV: "code,value" of every reported value, sorted; values as
# numbers with two decimals (the store writes an amount's 0 as 0.00).
values_of() {
	awk -F, 'NR > 1 && $1 != "code" && $4 != "" { printf "%s,%.2f\n", $1, $4 }' | sort
}

test_acknowledged_returns() {
	local org period file got want bad=0 unproved=0 n=0 first=""
	while read -r org period file; do
		n=$((n + 1))
		want=$(values_of <"$file")
		got=$(yb_as branch "$org" show --period "$period" --format csv 2>/dev/null | values_of) || true
		if [[ "$got" != "$want" ]]; then
			bad=$((bad + 1))
			if [ -z "$first" ]; then
				first="$org $period: $(diff <(echo "$want") <(echo "$got") | head -5 || true)"
			fi
		fi
		if ! yb_as branch "$org" audit prove --receipt "$RCPT/$org-$period.json" >/dev/null 2>&1; then
			unproved=$((unproved + 1))
			if [ -z "$first" ]; then
				first="$org $period: $(yb_as branch "$org" audit prove --receipt "$RCPT/$org-$period.json" 2>&1 || true)"
			fi
		fi
	done <"$TMP/acked"
	check_eq "every acknowledged return is stored with exactly the submitted values" "$bad/$n" "0/$n"
	check_eq "every receipt passes audit prove" "$unproved/$n" "0/$n"
	if [ -n "$first" ]; then
		echo "       first problem: $first" >&2
	fi
	check_eq "no return was stored twice (one revision per org and month)" \
		"$(db_sql "SELECT count(*) FROM revisions WHERE revision <> 1")" "0"
	check_eq "every stored return is revision 1 of its own month" \
		"$(db_sql "SELECT count(*) FROM revisions")" \
		"$(db_sql "SELECT count(DISTINCT org || '/' || month) FROM revisions")"
}

test_audit_verifies() {
	local out
	yb_as auditor JGDW audit export "$TMP/bundle" >/dev/null
	check_exit "the audit export verifies clean after $KILLS kills" 0 "nothing was altered" \
		"$YB_BIN/yuebao" --ca "$YB_PKI/ca.crt" audit verify "$TMP/bundle"
	out=$("$YB_BIN/yuebao" --ca "$YB_PKI/ca.crt" audit verify "$TMP/bundle" 2>&1 | tail -1) || true
	echo "info: $out"
}

main() {
	local t0=$SECONDS
	setup
	test_kill_while_submitting
	test_store_after_kill
	test_acknowledged_returns
	test_audit_verifies
	check_clean_stop
	echo "info: $((SECONDS - t0)) s"
	assert_summary
}

main "$@"
