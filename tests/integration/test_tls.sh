#!/usr/bin/env bash
# TLS of the daemon (issue 11): sslscan against a real yuebaod finds TLS 1.3,
# no TLS 1.0/1.1, and only ECDHE suites with AEAD ciphers in TLS 1.2; a
# daemon started with --tls-min 1.3 refuses a TLS 1.2 client; the client
# checks the server's address against the certificate's IP addresses; and a
# client that the TLS handshake refuses is told which certificate and why
# (expired, revoked, not from the daemon's CA, the wrong --ca).
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

OTHER="$TMP/other"

# ping_with CA CERT KEY [URL]: the real client, bounded; output and exit code.
ping_with() {
	timeout 30 "$YB_BIN/yuebao" --server "${4:-$YB_URL}" --ca "$1" --cert "$2" --key "$3" \
		--timeout 10 ping 2>&1
}

# The client's certificate for openssl and sslscan: a branch of this PKI.
CLIENT_CRT="$YB_PKI/branch-ZFW-JG.crt"
CLIENT_KEY="$YB_PKI/branch-ZFW-JG.key"

setup() {
	yb_make_pki "$YB_PKI" "$ORGS"
	"$CERTS" issue "$YB_PKI" branch OLD-1 --expired >/dev/null
	# Revoked before the daemon starts: its TLS layer has it in its CRL.
	"$CERTS" issue "$YB_PKI" branch REV-1 >/dev/null
	"$CERTS" revoke "$YB_PKI" branch REV-1 >/dev/null
	"$CERTS" init "$OTHER" >/dev/null
	"$CERTS" issue "$OTHER" branch ZFW-JG >/dev/null
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
}

test_sslscan() {
	local out v12
	if ! command -v sslscan >/dev/null; then
		fail "sslscan is installed (scripts/setup.sh installs it)"
		return
	fi
	# As a client with a certificate: what a legitimate peer can negotiate.
	out=$(sslscan --no-colour --certs="$CLIENT_CRT" --pk="$CLIENT_KEY" "${YB_URL#tls+tcp://}" 2>&1)
	check_match "sslscan: TLS 1.3 is offered" "$out" '^TLSv1\.3 +enabled'
	check_match "sslscan: TLS 1.2 is offered" "$out" '^TLSv1\.2 +enabled'
	check_match "sslscan: TLS 1.1 is not" "$out" '^TLSv1\.1 +disabled'
	check_match "sslscan: TLS 1.0 is not" "$out" '^TLSv1\.0 +disabled'
	check_match "sslscan: SSLv3 is not" "$out" '^SSLv3 +disabled'
	check_match "sslscan: a TLS 1.3 suite is preferred" "$out" '^Preferred +TLSv1\.3 '
	v12=$(awk '($1 == "Accepted" || $1 == "Preferred") && $2 == "TLSv1.2" { print $5 }' <<<"$out")
	check_match "sslscan: TLS 1.2 suites are listed" "$v12" '^ECDHE-'
	check_eq "sslscan: every TLS 1.2 suite is ECDHE with AES-GCM or ChaCha20-Poly1305" \
		"$(grep -cvE '^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$' <<<"$v12")" "0"
	check_eq "sslscan: no CBC, SHA-1, CCM or Camellia suite at all" \
		"$(grep -cE '^(Accepted|Preferred) .*(CBC|-SHA +|-SHA$|CCM|CAMELLIA|-AES(128|256)-SHA)' <<<"$out")" "0"
	check_match "sslscan: TLS 1.3 uses X25519 or P-256" "$out" '^TLSv1\.3 +128 bits +(x25519|secp256r1)'
}

test_refusals_say_why() {
	check_exit "an expired client certificate: the client says it has expired" 3 \
		"refused this client's certificate: it has expired" \
		ping_with "$YB_PKI/ca.crt" "$YB_PKI/branch-OLD-1.crt" "$YB_PKI/branch-OLD-1.key"
	check_exit "a revoked client certificate: the client says it is revoked" 3 \
		"refused this client's certificate: it is revoked" \
		ping_with "$YB_PKI/ca.crt" "$YB_PKI/branch-REV-1.crt" "$YB_PKI/branch-REV-1.key"
	check_exit "a certificate from another CA: the client says it is not from the server's CA" 3 \
		"refused this client's certificate: it is not issued by the server's CA" \
		ping_with "$YB_PKI/ca.crt" "$OTHER/branch-ZFW-JG.crt" "$OTHER/branch-ZFW-JG.key"
	check_exit "a client that trusts the wrong CA says so" 3 \
		"the server's certificate is not issued by the CA this client trusts \(check --ca\)" \
		ping_with "$OTHER/ca.crt" "$CLIENT_CRT" "$CLIENT_KEY"
	check_exit "without a client certificate the handshake fails (certificate required)" 0 \
		"alert certificate required" \
		bash -c "timeout 10 openssl s_client -ign_eof -connect '${YB_URL#tls+tcp://}' -CAfile '$YB_PKI/ca.crt' </dev/null 2>&1; true"
}

test_server_name() {
	local port=${YB_URL##*:}
	check_exit "127.0.0.1 is checked against the certificate's IP address" 0 "CN=ZFW-JG" \
		ping_with "$YB_PKI/ca.crt" "$CLIENT_CRT" "$CLIENT_KEY" "tls+tcp://127.0.0.1:$port"
	check_exit "localhost is checked against its DNS name" 0 "CN=ZFW-JG" \
		ping_with "$YB_PKI/ca.crt" "$CLIENT_CRT" "$CLIENT_KEY" "tls+tcp://localhost:$port"
	# The same loopback address written as IPv6: not an address the certificate names.
	check_exit "an address the certificate does not name is refused" 3 \
		"the server's certificate is not for the host in the server URL" \
		ping_with "$YB_PKI/ca.crt" "$CLIENT_CRT" "$CLIENT_KEY" "tls+tcp://[::ffff:127.0.0.1]:$port"
}

# The server certificate names ::1 as an IP address: a daemon on [::1] is
# reached by that address (skipped where the machine has no IPv6 loopback).
test_ipv6_address() {
	local pid url="" log="$TMP/ipv6.log"
	"$YB_BIN/yuebaod" --listen "tls+tcp://[::1]:0" --db "$TMP/ipv6.db" --cert "$YB_PKI/server.crt" \
		--key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" --crl "$YB_PKI/crl.pem" --orgs "$ORGS" \
		2>"$log" &
	pid=$!
	if yb_wait_for_log "$log" 'listening on tls\+tcp://\[::1\]:[0-9]+' 10 "$pid" 2>/dev/null; then
		url=$(grep -o 'listening on tls+tcp://\[::1\]:[0-9]*' "$log" | sed 's/listening on //')
	fi
	if [ -z "$url" ]; then
		echo "info: no daemon on [::1] (no IPv6 loopback here?): $(tail -1 "$log")"
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return
	fi
	check_exit "::1 is checked against the certificate's IPv6 address" 0 "CN=ZFW-JG" \
		ping_with "$YB_PKI/ca.crt" "$CLIENT_CRT" "$CLIENT_KEY" "$url"
	kill -TERM "$pid"
	wait "$pid" || true
}

test_tls_min_13() {
	local url=$YB_URL pid=$YB_DAEMON_PID out
	check_exit "--tls-min accepts only 1.2 or 1.3" 2 "--tls-min must be 1.2 or 1.3, not '1.1'" \
		"$YB_BIN/yuebaod" --listen tls+tcp://127.0.0.1:0 --db "$TMP/x.db" --cert "$YB_PKI/server.crt" \
		--key "$YB_PKI/server.key" --ca "$YB_PKI/ca.crt" --orgs "$ORGS" --tls-min 1.1
	if ! yb_start_daemon "$YB_PKI" "$TMP/tls13.db" "$ORGS" "$TMP/tls13.log" --tls-min 1.3; then
		YB_URL=$url YB_DAEMON_PID=$pid
		fail "a daemon starts with --tls-min 1.3"
		return
	fi
	out=$(timeout 10 openssl s_client -tls1_2 -connect "${YB_URL#tls+tcp://}" -CAfile "$YB_PKI/ca.crt" \
		-cert "$CLIENT_CRT" -key "$CLIENT_KEY" </dev/null 2>&1) || true
	check_match "with --tls-min 1.3 a TLS 1.2 client is refused" "$out" "alert protocol version"
	out=$(timeout 10 openssl s_client -tls1_3 -connect "${YB_URL#tls+tcp://}" -CAfile "$YB_PKI/ca.crt" \
		-cert "$CLIENT_CRT" -key "$CLIENT_KEY" </dev/null 2>&1 | tr -d '\000') || true
	check_match "and a TLS 1.3 client is not" "$out" "New, TLSv1\.3, Cipher is TLS_"
	check_exit "the yuebao client speaks TLS 1.3 to it" 0 "CN=ZFW-JG" \
		ping_with "$YB_PKI/ca.crt" "$CLIENT_CRT" "$CLIENT_KEY"
	yb_stop_daemon
	check_eq "that daemon stops cleanly" "$YB_DAEMON_STATUS" "0"
	YB_URL=$url YB_DAEMON_PID=$pid
}

test_end_state() {
	check_exit "a good client is still served" 0 "CN=ZFW-JG" \
		ping_with "$YB_PKI/ca.crt" "$CLIENT_CRT" "$CLIENT_KEY"
	yb_stop_daemon
	check_eq "SIGTERM stops the daemon cleanly (exit 0, no leaks under ASan)" "$YB_DAEMON_STATUS" "0"
	check_eq "no sanitizer report in the daemon's log" \
		"$(grep -c "Sanitizer\|runtime error" "$LOG" || true)" "0"
}

main() {
	setup
	test_sslscan
	test_refusals_say_why
	test_server_name
	test_ipv6_address
	test_tls_min_13
	test_end_state
	assert_summary
}

main "$@"
