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

# yb_start_daemon PKI DB ORGS LOG [extra yuebaod flags...]: starts yuebaod on
# 127.0.0.1 with a port the kernel picks, waits until it listens (at most
# 10 s), and sets YB_URL and YB_DAEMON_PID. YB_DAEMON_PREFIX (unquoted words,
# e.g. "prlimit --nofile=1024:1024") runs the daemon through a command that
# execs it.
yb_start_daemon() {
	local pki=$1 db=$2 orgs=$3 log=$4 i skip
	shift 4
	# Only lines this start writes count: the log may hold an earlier run's.
	skip=0
	[ -f "$log" ] && skip=$(wc -l <"$log")
	# shellcheck disable=SC2086 # the prefix is words on purpose
	${YB_DAEMON_PREFIX:-} "$YB_BIN/yuebaod" --listen tls+tcp://127.0.0.1:0 --db "$db" --cert "$pki/server.crt" \
		--key "$pki/server.key" --ca "$pki/ca.crt" --crl "$pki/crl.pem" \
		--orgs "$orgs" "$@" 2>>"$log" &
	YB_DAEMON_PID=$!
	YB_URL=
	for i in $(seq 1 100); do
		YB_URL=$(tail -n +"$((skip + 1))" "$log" | grep -o 'listening on tls+tcp://127.0.0.1:[0-9]*' |
			tail -1 | sed 's/listening on //') || true
		[ -n "$YB_URL" ] && return 0
		kill -0 "$YB_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	# Never leave a daemon behind that may still come up later: it would hold
	# the port and the store, and the test's output pipe, unknown to the caller.
	kill -KILL "$YB_DAEMON_PID" 2>/dev/null || true
	wait "$YB_DAEMON_PID" 2>/dev/null || true
	YB_DAEMON_PID=
	echo "yuebaod did not start; its log:" >&2
	cat "$log" >&2
	return 1
}

# yb_stop_daemon: SIGTERM, then wait (at most 10 s) for a clean exit; sets
# YB_DAEMON_STATUS to the daemon's exit status (137 when it had to be killed).
yb_stop_daemon() {
	local i
	YB_DAEMON_STATUS=
	[ -n "${YB_DAEMON_PID:-}" ] || return 0
	kill -TERM "$YB_DAEMON_PID" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$YB_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$YB_DAEMON_PID" 2>/dev/null || true
	YB_DAEMON_STATUS=0
	wait "$YB_DAEMON_PID" 2>/dev/null || YB_DAEMON_STATUS=$?
	YB_DAEMON_PID=
}

# yb_reload LOG: SIGHUP to the daemon, then wait (at most 5 s) until LOG shows
# the outcome: the new files in use, or the reload refused.
yb_reload() {
	local log=$1 before
	before=$(grep -c "reloaded: now serving\|reload failed" "$log" || true)
	kill -HUP "$YB_DAEMON_PID"
	for _ in $(seq 1 50); do
		[ "$(grep -c "reloaded: now serving\|reload failed" "$log" || true)" -gt "$before" ] &&
			return 0
		sleep 0.1
	done
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
