#!/usr/bin/env bash
# Hostile and broken clients (issue 6 item 4, SPEC §3 and §8): tests/tools/ybprobe
# speaks the daemon's wire protocol by hand and sends random bytes, truncated
# and lying protobuf, a frame above --max-message, an unknown method, a bad
# signature, stale and future timestamps, expired and revoked certificates;
# holds many connections that never start TLS, never send or disconnect
# mid-request. Each refusal must be the right one, a well-behaved `yuebao
# ping` must keep answering within a few seconds throughout (also while the
# bad connections are held open), and at the end the daemon is alive, stored
# nothing for the hostile calls and stops cleanly on SIGTERM. Two kinds of
# abuse have scripts of their own, as each loads the machine for a while:
# sessions that end abruptly and must leak nothing (test_hostile_abrupt.sh)
# and idle connections that fill the descriptor table (lock-out,
# test_hostile_lockout.sh). `ctest -R test_hostile` runs all three.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

MAX_MESSAGE=1048576 # the daemon's default --max-message
GOOD_PING_S=5       # a well-behaved ping must answer within this (good_ping)

# probe [ybprobe options] MODE ARGS: ybprobe as branch ZFW-JG (bounded by timeout).
probe() {
	timeout 120 "$YB_BIN/ybprobe" --server "$YB_URL" --ca "$YB_PKI/ca.crt" \
		--cert "$YB_PKI/branch-ZFW-JG.crt" --key "$YB_PKI/branch-ZFW-JG.key" "$@"
}
# bg_probe OUT [options] MODE ARGS: ybprobe writing OUT.out and OUT.err. Run it as
# (bg_probe ...) &: the exec makes the background pid timeout's, which passes a kill on.
bg_probe() {
	local out=$1
	shift
	exec timeout 120 "$YB_BIN/ybprobe" --server "$YB_URL" --ca "$YB_PKI/ca.crt" \
		--cert "$YB_PKI/branch-ZFW-JG.crt" --key "$YB_PKI/branch-ZFW-JG.key" "$@" >"$out.out" 2>"$out.err"
}

# probe_as ROLE-CODE [options] MODE ARGS: TLS as ZFW-JG, the envelope signed as ROLE-CODE.
probe_as() {
	local who=$1
	shift
	probe --envelope-cert "$YB_PKI/$who.crt" --envelope-key "$YB_PKI/$who.key" "$@"
}

setup() {
	yb_make_pki "$YB_PKI" "$ORGS"
	"$YB_SRC/certs/yuebao-certs.sh" issue "$YB_PKI" branch OLD-1 --expired >/dev/null
	# All the hostile connections come from 127.0.0.1; the per-source cap
	# has a test of its own (test_hostile_lockout.sh).
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG" --max-per-source 2000
	# One legitimate return, so "nothing stored" below means "still exactly this".
	yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 >/dev/null
	check_eq "one legitimate return stored before the hostile clients" "$(revisions)" "1"
	good_ping "before any hostile client"
}

test_malformed() {
	local out
	out=$(probe --count 20 random 512 2>&1) || true
	check_eq "20 frames of random bytes, 20 answers" "$(grep -c '^ybprobe: random:' <<<"$out")" "20"
	# Random bytes almost never parse; if they do, the method is not a known one.
	check_eq "each refused as malformed (INVALID_ARGUMENT, or UNIMPLEMENTED if it parsed)" \
		"$(grep -cE 'reply (INVALID_ARGUMENT|UNIMPLEMENTED)' <<<"$out")" "20"
	out=$(probe --count 3 random 70000 2>&1) || true
	check_eq "random frames larger than a TLS record are refused too" \
		"$(grep -cE 'reply (INVALID_ARGUMENT|UNIMPLEMENTED)' <<<"$out")" "3"
	check_exit "random bytes in place of the SP framing: dropped, no reply" 0 \
		"random-raw: .*closed the connection, no reply|random-raw: .*no reply" probe random-raw 4096
	check_exit "a truncated RpcRequest is INVALID_ARGUMENT" 0 \
		"truncated: .*reply INVALID_ARGUMENT: the request is not a valid RpcRequest" probe truncated
	check_exit "a field claiming 2 GiB in an 80-byte message is INVALID_ARGUMENT" 0 \
		"bad-length: .*reply INVALID_ARGUMENT" probe bad-length
	check_exit "a signed Submit with a truncated payload is INVALID_ARGUMENT" 0 \
		"bad-payload: .*reply INVALID_ARGUMENT: payload is not a yuebao.v1.SubmitRequest" probe bad-payload
	check_exit "an unknown method is UNIMPLEMENTED" 0 \
		"unknown-method: .*reply UNIMPLEMENTED: unknown method '/yuebao.v1.Returns/Frobnicate'" \
		probe unknown-method Frobnicate
	good_ping "after malformed requests"
}

test_size_limit() {
	# --max-message is the size of the RpcRequest itself, as documented;
	# a little over it is answered, far over it is not read.
	check_exit "a request of exactly --max-message bytes is served" 0 "oversized: .*reply OK" \
		probe oversized "$MAX_MESSAGE"
	check_exit "one byte more is answered RESOURCE_EXHAUSTED, not cut off" 0 \
		"oversized: .*reply RESOURCE_EXHAUSTED: the request is $((MAX_MESSAGE + 1)) bytes, over the $MAX_MESSAGE-byte limit" \
		probe oversized $((MAX_MESSAGE + 1))
	check_exit "8 MiB: dropped after its frame header, not read" 0 \
		"oversized: .*the server closed the connection, no reply" probe oversized $((8 << 20))
	good_ping "after oversized messages"
}

test_authentication() {
	local out
	check_exit "a corrupted signature is UNAUTHENTICATED" 0 \
		"bad-signature: .*reply UNAUTHENTICATED: signature does not verify" probe bad-signature
	check_exit "a request stamped 10 minutes ago (a replay) is UNAUTHENTICATED" 0 \
		"reply UNAUTHENTICATED: request time is -(599|60[01]) s off the server's clock" \
		probe --sent-at-offset -600 ping
	check_exit "a request stamped 10 minutes ahead is UNAUTHENTICATED" 0 \
		"reply UNAUTHENTICATED: request time is (599|60[01]) s off" probe --sent-at-offset 600 ping
	# Inside the window a request is served; a replayed write is answered from
	# its call record and executed once (test_e2e, test_crash).
	check_exit "a request stamped 200 s ago, inside the window, is served" 0 \
		"ping: .*reply OK" probe --sent-at-offset -200 ping
	check_exit "a request stamped 200 s ago without a deadline is inside the window: served" 0 \
		"ping: .*reply OK" probe --no-deadline --sent-at-offset -200 ping
	# A client whose clock is 60 s slow sends what this probe sends: its
	# deadline (its clock + timeout) is already past on the server's clock;
	# server.c allows the deadline the same clock difference as the window.
	check_exit "a client whose clock is 60 s slow is served (inside the ±300 s window)" 0 \
		"ping: .*reply OK" probe --sent-at-offset -60 ping
	check_exit "an expired certificate fails the TLS handshake" 3 "cannot connect" \
		"$YB_BIN/yuebao" --server "$YB_URL" --ca "$YB_PKI/ca.crt" --cert "$YB_PKI/branch-OLD-1.crt" \
		--key "$YB_PKI/branch-OLD-1.key" --timeout 5 ping
	check_exit "an expired certificate in the envelope is UNAUTHENTICATED" 0 \
		"reply UNAUTHENTICATED: certificate expired" probe_as branch-OLD-1 ping

	check_exit "before revocation SFJ-DZB is served" 0 "CN=SFJ-DZB" yb_as branch SFJ-DZB ping
	"$YB_SRC/certs/yuebao-certs.sh" revoke "$YB_PKI" branch SFJ-DZB >/dev/null
	reload_daemon "$LOG"
	check_exit "after revoke and SIGHUP the revoked client gets no TLS session" 3 \
		"the server refused this client's certificate: it is revoked" yb_as branch SFJ-DZB ping
	check_exit "a revoked certificate in the envelope is UNAUTHENTICATED" 0 \
		"reply UNAUTHENTICATED: certificate revoked" probe_as branch-SFJ-DZB ping
	check_exit "a revoked branch cannot submit" 3 "it is revoked" \
		yb_as branch SFJ-DZB submit "$RETURNS/SFJ-DZB/2026-01.csv" --period 2026-01
	out=$(yb_as auditor JGDW audit log --format csv 2>&1) || true
	check_match "the authentication refusals are in the audit log" \
		"$(grep -c ',refused:UNAUTHENTICATED,' <<<"$out")" "^([5-9]|[1-9][0-9]+)$"
	good_ping "after authentication failures"
}

test_disconnects() {
	local before
	before=$(yb_log_count "$LOG" "Returns/GetCatalog")
	check_exit "a client that disconnects mid-request" 0 \
		"closed the connection after [0-9]+ of [0-9]+ bytes" probe disconnect mid-request
	check_exit "a client that disconnects before its reply" 0 \
		"closed the connection before the reply" probe disconnect before-reply
	yb_wait_for_count "$LOG" "Returns/GetCatalog" $((before + 1)) 5 || true # checked next
	check_eq "the daemon served the abandoned call and went on" \
		"$(($(yb_log_count "$LOG" "Returns/GetCatalog") - before))" "1"
	good_ping "after clients disconnected"
}

test_abandoned_handshakes() {
	local i
	# Clients killed 1-32 ms into connecting. With nng 1.5.2's own mbedTLS some
	# of these stopped its listener for good (an early end mapped to
	# NNG_ECLOSED); the OpenSSL engine (common/tlsengine.h) gives each such
	# peer an error of its own connection, so the listener goes on as it is.
	for i in 1 2 3; do
		check_match "500 clients killed mid-handshake, round $i" \
			"$(probe abandon 500 2>&1)" "abandon: 500 connection attempts"
		good_ping "after 500 clients gave up mid-handshake, round $i"
	done
	check_eq "the listener was never reopened" \
		"$(grep -c "reopening the listener\|nobody read" "$LOG" || true)" "0"
}

# hold M S KIND: ybprobe holding M connections for S seconds, in the background.
hold() {
	(bg_probe "$TMP/hold-$3" --timeout-ms 10000 hold "$1" "$2" "$3") &
	BACKGROUND+=($!)
}

# holders_open N: N holders say they have their connections open.
holders_open() { (($(cat "$TMP"/hold-*.err 2>/dev/null | grep -c "connections open") == $1)); }

test_held_connections() {
	local i out
	hold 200 20 tcp
	hold 100 15 tls
	hold 100 15 sp
	# Wait (at most 30 s) until every holder has its connections open.
	if ! yb_wait_until 30 holders_open 3; then
		yb_wait_failed "not all 3 holders opened their connections within 30 s: $(cat "$TMP"/hold-*.err)"
	fi
	check_eq "400 connections held open (200 without TLS, 100 silent after TLS, 100 idle)" \
		"$(cat "$TMP"/hold-*.err | grep -o '^ybprobe: hold: [0-9]* ' | awk '{ s += $3 } END { print s }')" "400"
	for i in 1 2 3; do
		good_ping "while 400 bad connections are held open ($i)"
		# A time on purpose, not a wait for an event: the pings are spread
		# over the seconds the connections are held, not bunched at once.
		sleep 1
	done
	out=$(probe ping 2>&1) || true
	check_match "a well-behaved probe is served meanwhile too" "$out" "ping: .*reply OK"
	for i in "${BACKGROUND[@]}"; do
		wait "$i" || true
	done
	BACKGROUND=()
	check_match "connections that finish TLS but never send are cut off (nng's 10 s limit)" \
		"$(cat "$TMP/hold-tls.out")" "the server closed 100 of them"
	check_match "idle REQ connections are held, as a client's own would be" \
		"$(cat "$TMP/hold-sp.out")" "held 100 of 100 sp connections"
	# A session (server/session.c) that has no TLS handshake and SP header
	# after 10 s is closed; the reaper (server/reaper.c) would close one
	# whose handshake has not finished at about the same time.
	check_match "connections that never start TLS are cut off (10 s limit)" \
		"$(cat "$TMP/hold-tcp.out")" "the server closed 200 of them"
	check_match "the daemon says so in the log" "$(cat "$LOG")" \
		"closing (the connection from .*: no TLS handshake and SP header within 10 s|a connection from .* that did not finish a TLS handshake in 10 s)"
	good_ping "after the held connections went away"
}

test_reader_that_never_reads() {
	local t0 t1 ms out served now
	# 500 requests on one connection whose replies are never read: the
	# daemon reads a connection's next request only while fewer than
	# MAX_PENDING_PER_SESSION (server/server.c) of its requests are
	# unanswered, so it serves only as many as the replies the socket
	# buffers take, then closes the connection when a reply cannot leave
	# within 10 s.
	served=$(yb_log_count "$LOG" "Returns/GetCatalog branch/ZFW-JG ")
	(bg_probe "$TMP/noread" --timeout-ms 30000 noread 500) &
	BACKGROUND+=($!)
	yb_wait_for_log "$LOG" "closing the connection from 127.0.0.1: it does not read its replies" 40 ||
		fail "the connection that never reads is closed once a reply cannot leave for 10 s" \
			"$(cat "$TMP/noread.err" 2>/dev/null)"
	now=$(yb_log_count "$LOG" "Returns/GetCatalog branch/ZFW-JG ")
	if ((now - served < 500)); then
		pass "the daemon stopped reading the client that never reads ($((now - served)) of 500 served)"
	else
		fail "the daemon stops reading a client that never reads" "it served all 500 requests"
	fi
	t0=$(date +%s%N)
	out=$(timeout 30 "$YB_BIN/yuebao" --server "$YB_URL" --ca "$YB_PKI/ca.crt" \
		--cert "$YB_PKI/branch-JCY-DZB.crt" --key "$YB_PKI/branch-JCY-DZB.key" \
		--timeout 20 ping 2>&1) || true
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	wait "${BACKGROUND[@]}" || true
	BACKGROUND=()
	check_match "a good client is answered after a client that never reads" "$out" "CN=JCY-DZB"
	if ((ms <= GOOD_PING_S * 1000)); then
		pass "a good client is served within ${GOOD_PING_S}s after a client that never reads ($ms ms)"
	else
		fail "a good client is served within ${GOOD_PING_S}s after a client that never reads" \
			"a good ping took $ms ms"
	fi
	good_ping "after the client that never reads went away"
}

test_end_state() {
	check "the daemon is still running" kill -0 "$YB_DAEMON_PID"
	check_eq "the hostile calls stored nothing" "$(revisions)" "1"
	check_clean_stop
}

main() {
	setup
	test_malformed
	test_size_limit
	test_authentication
	test_disconnects
	test_abandoned_handshakes
	test_held_connections
	test_reader_that_never_reads
	test_end_state
	assert_summary
}

main "$@"
