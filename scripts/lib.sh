# shellcheck shell=bash
# Shared by scripts/demo.sh and the integration tests: make a demo PKI for an
# org tree, start yuebaod on a free loopback port, stop it. Source it; it
# expects $YB_BIN (the directory holding yuebaod and yuebao) and $YB_SRC.

# yb_make_pki DIR ORGS_CSV: a CA, a server certificate, a branch certificate
# for every org unit without children and a central and an auditor
# certificate for the root.
yb_make_pki() {
	local dir=$1 orgs=$2 code
	"$YB_SRC/certs/yuebao-certs.sh" init "$dir" >/dev/null
	for code in $(yb_leaf_orgs "$orgs"); do
		"$YB_SRC/certs/yuebao-certs.sh" issue "$dir" branch "$code" >/dev/null
	done
	code=$(awk -F, 'NR > 1 && $3 == "" { print $1; exit }' "$orgs")
	"$YB_SRC/certs/yuebao-certs.sh" issue "$dir" central "$code" >/dev/null
	"$YB_SRC/certs/yuebao-certs.sh" issue "$dir" auditor "$code" >/dev/null
}

# yb_leaf_orgs ORGS_CSV: the codes of org units without children, sorted.
yb_leaf_orgs() {
	awk -F, 'NR > 1 && $1 != "" { p[$3] = 1; c[NR] = $1 }
		END { for (i in c) if (!(c[i] in p)) print c[i] }' "$1" | sort
}

# Waiting. A script waits for the event it needs (a log line, a file, a
# process gone), looking every YB_POLL_S seconds and never longer than the
# bound it names; no fixed sleep that hopes the thing has happened by then.
YB_POLL_S=${YB_POLL_S:-0.05}

# yb_wait_until SECONDS COMMAND...: runs COMMAND until it succeeds, every
# YB_POLL_S, for at most SECONDS (whole seconds). True as soon as it has,
# false once SECONDS have passed without it.
yb_wait_until() {
	local limit=$1 deadline
	shift
	deadline=$((${EPOCHREALTIME/[.,]/} + limit * 1000000))
	while :; do
		"$@" && return 0
		((${EPOCHREALTIME/[.,]/} < deadline)) || return 1
		sleep "$YB_POLL_S"
	done
}

# yb_wait_failed WHAT [FILE]: the evidence of a wait that ran out, on stderr:
# what did not happen and FILE's last lines.
yb_wait_failed() {
	echo "wait failed: $1" >&2
	if [ -n "${2:-}" ]; then
		echo "--- the last 20 lines of $2:" >&2
		tail -n 20 "$2" 2>/dev/null | sed 's/^/    /' >&2 || true
	fi
}

# yb_exited PID: true when process PID is gone.
yb_exited() { ! kill -0 "$1" 2>/dev/null; }

# yb_log_has LOG REGEX [PID]: a line of LOG matches the extended REGEX; with
# PID, also true once PID is gone (nothing more will come).
yb_log_has() {
	grep -Eq -- "$2" "$1" 2>/dev/null || { [ -n "${3:-}" ] && yb_exited "$3"; }
}

# yb_wait_for_log LOG REGEX SECONDS [PID]: waits until a line of LOG matches
# the extended REGEX, at most SECONDS, and no longer than PID (when given)
# runs. On failure shows the evidence (yb_wait_failed) and returns 1.
yb_wait_for_log() {
	local log=$1 regex=$2 limit=$3 pid=${4:-}
	yb_wait_until "$limit" yb_log_has "$log" "$regex" "$pid" || true
	grep -Eq -- "$regex" "$log" 2>/dev/null && return 0
	if [ -n "$pid" ] && yb_exited "$pid"; then
		yb_wait_failed "process $pid ended without a line matching /$regex/ in $log" "$log"
	else
		yb_wait_failed "no line matching /$regex/ in $log within $limit s" "$log"
	fi
	return 1
}

# yb_log_count LOG REGEX: how many lines of LOG match the extended REGEX.
yb_log_count() {
	local n
	n=$(grep -Ec -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# yb_wait_for_count LOG REGEX N SECONDS: waits until at least N lines of LOG
# match the extended REGEX, at most SECONDS. On failure shows the evidence
# (yb_wait_failed) and returns 1.
yb_wait_for_count() {
	yb_wait_until "$4" _yb_log_count_reaches "$1" "$2" "$3" && return 0
	yb_wait_failed "$(yb_log_count "$1" "$2") lines, not $3, match /$2/ in $1 after $4 s" "$1"
	return 1
}
_yb_log_count_reaches() { (($(yb_log_count "$1" "$2") >= $3)); }

# yb_start_daemon PKI DB ORGS LOG [extra yuebaod flags...]: starts yuebaod on
# the store DB (or, when YB_TEST_PG_URL is set, on that PostgreSQL database)
# 127.0.0.1 with a port the kernel picks, waits until its log says it
# listens (at most 30 s, less if it exits: a start takes under a second,
# but may wait on a loaded machine), and sets YB_URL and
# YB_DAEMON_PID. YB_DAEMON_PREFIX (unquoted words, e.g. "prlimit
# --nofile=1024:1024") runs the daemon through a command that execs it.
yb_start_daemon() {
	local pki=$1 db=$2 orgs=$3 log=$4 skip
	shift 4
	# Only lines this start writes count: the log may hold an earlier run's.
	skip=0
	[ -f "$log" ] && skip=$(wc -l <"$log")
	# Under tests/support/with_postgres.sh the store is its PostgreSQL
	# database, whatever file the test names (yb_pg_fresh empties it).
	[ -n "${YB_TEST_PG_URL:-}" ] && db=$YB_TEST_PG_URL
	# shellcheck disable=SC2086 # the prefix is words on purpose
	${YB_DAEMON_PREFIX:-} "$YB_BIN/yuebaod" --listen tls+tcp://127.0.0.1:0 --db "$db" --cert "$pki/server.crt" \
		--key "$pki/server.key" --ca "$pki/ca.crt" --crl "$pki/crl.pem" \
		--orgs "$orgs" "$@" 2>>"$log" &
	YB_DAEMON_PID=$!
	YB_URL=
	yb_wait_until 30 _yb_listening "$log" "$skip" || true
	[ -n "$YB_URL" ] && return 0
	# Never leave a daemon behind that may still come up later: it would hold
	# the port and the store, and the test's output pipe, unknown to the caller.
	kill -KILL "$YB_DAEMON_PID" 2>/dev/null || true
	wait "$YB_DAEMON_PID" 2>/dev/null || true
	YB_DAEMON_PID=
	echo "yuebaod did not start; its log:" >&2
	cat "$log" >&2
	return 1
}

# _yb_listening LOG SKIP: sets YB_URL from a "listening on" line of LOG past
# its first SKIP lines; true when it did, or when the daemon has exited.
_yb_listening() {
	YB_URL=$(tail -n +"$(($2 + 1))" "$1" | grep -o 'listening on tls+tcp://127.0.0.1:[0-9]*' |
		tail -1 | sed 's/listening on //') || true
	[ -n "$YB_URL" ] || yb_exited "$YB_DAEMON_PID"
}

# yb_stop_daemon: SIGTERM, then wait (at most 10 s) for the daemon to exit;
# sets YB_DAEMON_STATUS to its exit status (137 when it had to be killed).
yb_stop_daemon() {
	YB_DAEMON_STATUS=
	[ -n "${YB_DAEMON_PID:-}" ] || return 0
	kill -TERM "$YB_DAEMON_PID" 2>/dev/null || true
	if ! yb_wait_until 10 yb_exited "$YB_DAEMON_PID"; then
		echo "yuebaod (pid $YB_DAEMON_PID) did not exit within 10 s of SIGTERM: killing it" >&2
	fi
	kill -KILL "$YB_DAEMON_PID" 2>/dev/null || true
	YB_DAEMON_STATUS=0
	# shellcheck disable=SC2034 # for the caller
	wait "$YB_DAEMON_PID" 2>/dev/null || YB_DAEMON_STATUS=$?
	YB_DAEMON_PID=
}

# yb_reload LOG: SIGHUP to the daemon, then wait (at most 5 s) until LOG shows
# the outcome: the new files in use, or the reload refused. False, with the
# log's last lines on stderr, when neither comes.
yb_reload() {
	local log=$1 outcome="reloaded: now serving|reload failed" before
	before=$(yb_log_count "$log" "$outcome")
	kill -HUP "$YB_DAEMON_PID"
	yb_wait_for_count "$log" "$outcome" $((before + 1)) 5
}

# yb_as ROLE CODE ARGS...: runs the client as ROLE-CODE of the current PKI ($YB_PKI).
yb_as() {
	local role=$1 code=$2
	shift 2
	"$YB_BIN/yuebao" --server "$YB_URL" --ca "$YB_PKI/ca.crt" \
		--cert "$YB_PKI/$role-$code.crt" --key "$YB_PKI/$role-$code.key" "$@"
}

# libfaketime, for the tests that need another clock. Every process it is
# preloaded into keeps a semaphore and a shared-memory file in /dev/shm named
# by its pid, and leaves both behind when a signal ends it; a later process
# with the same pid then cannot start under the `faketime` wrapper ("sem_open:
# File exists"). So the tests preload the library themselves (it tolerates
# such leftovers) and sweep the leftovers of processes that are gone.
YB_FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1) || true

# yb_faketime_sweep: removes libfaketime's files of processes no longer running.
yb_faketime_sweep() {
	local f pid
	for f in /dev/shm/faketime_shm_* /dev/shm/sem.faketime_sem_*; do
		[ -e "$f" ] || continue
		pid=${f##*_}
		kill -0 "$pid" 2>/dev/null || rm -f "$f" 2>/dev/null || true
	done
}

# yb_faketime OFFSET COMMAND...: runs COMMAND with its clock moved by OFFSET
# (libfaketime syntax: "+1h", "-60s", "@2026-07-03 10:00:00").
yb_faketime() {
	local offset=$1
	shift
	env FAKETIME="$offset" LD_PRELOAD="$YB_FAKETIME_LIB" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" "$@"
}
