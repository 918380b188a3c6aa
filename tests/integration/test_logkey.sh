#!/usr/bin/env bash
# The audit log's own key (issue 18 item 3): checkpoints are signed by the
# log key (log.crt, OU=log), never by the TLS key; receipts and bundles name
# it; a log certificate makes no calls; the daemon refuses a log key that is
# not a log certificate of its CA, one others may read, and one that did not
# sign the log it would add to; the key may sit on a PKCS#11 token
# (SoftHSM here, through OpenSSL's pkcs11 engine).
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

# key_sha256 CERT: SHA-256 of the certificate's public key (its SPKI DER).
key_sha256() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64
}

# unhex: standard input's hex digits as bytes.
unhex() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))'; }

# start_refused WHAT EXIT PATTERN ARGS...: a daemon started with ARGS (over
# the test's store) exits with EXIT before it listens, saying PATTERN.
start_refused() {
	local what=$1 want=$2 pattern=$3 out rc=0
	shift 3
	out=$(timeout 60 "$YB_BIN/yuebaod" --listen tls+tcp://127.0.0.1:0 \
		--db "${YB_TEST_PG_URL:-$DB}" --cert "$YB_PKI/server.crt" --key "$YB_PKI/server.key" \
		--ca "$YB_PKI/ca.crt" --orgs "$ORGS" "$@" 2>&1) || rc=$?
	check_eq "$what (exit $want)" "$rc" "$want"
	check_match "and says why" "$out" "$pattern"
}

test_log_key_signs() {
	local logkey out
	yb_make_pki "$YB_PKI" "$ORGS"
	check_match "yuebao-certs init makes a log certificate (OU=log)" \
		"$(openssl x509 -in "$YB_PKI/log.crt" -noout -subject)" "OU ?= ?log, CN ?= ?log"
	check_eq "and its key 0600" "$(stat -c %a "$YB_PKI/log.key")" "600"
	logkey=$(key_sha256 "$YB_PKI/log.crt")
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	check_match "the daemon names the key that signs its checkpoints" "$(cat "$LOG")" \
		"audit checkpoints are signed by the log key ${logkey:0:16} \(certificate $YB_PKI/log.crt"
	yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 \
		--receipt "$TMP/r1.json" >/dev/null
	check_eq "a receipt names the log key" "$(jq -r .log_key_sha256 "$TMP/r1.json")" "$logkey"
	check_eq "and carries the log certificate, not the TLS one" \
		"$(jq -r .log_cert_der "$TMP/r1.json" | unhex | openssl x509 -inform DER -noout -subject)" \
		"$(openssl x509 -in "$YB_PKI/log.crt" -noout -subject)"
	check_exit "audit prove names the log key" 0 "log key SHA-256 $logkey \(certificate O=yuebao-demo, OU=log, CN=log\)" \
		yb_as branch ZFW-JG audit prove --receipt "$TMP/r1.json"
	yb_as auditor JGDW audit export "$TMP/bundle" >/dev/null
	check "the bundle holds the log certificate" cmp -s "$TMP/bundle/log.crt" "$YB_PKI/log.crt"
	check_exit "verify names the log key and passes" 0 "log key SHA-256 $logkey" \
		yb_as auditor JGDW audit verify "$TMP/bundle"
	out=$(yb_as auditor JGDW audit verify "$TMP/bundle" 2>&1) || true
	check_match "the checkpoints verify under it" "$out" "nothing was altered or back-dated"

	check_exit "a log certificate makes no calls" 1 \
		"a log certificate \(OU=log\) signs the audit log's checkpoints and makes no calls" \
		"$YB_BIN/yuebao" --server "$YB_URL" --ca "$YB_PKI/ca.crt" --cert "$YB_PKI/log.crt" \
		--key "$YB_PKI/log.key" ping
	yb_stop_daemon
}

# A log whose checkpoints the TLS key signed (as before there were log
# keys): its bundle does not verify, whatever certificate it brings.
test_tls_key_refused() {
	local forged="$TMP/forged-pki"
	cp -r "$YB_PKI" "$forged"
	cp "$YB_PKI/server.crt" "$forged/log.crt"
	cp "$YB_PKI/server.key" "$forged/log.key"
	"$YB_BIN/ybauditgen" "$forged" "$TMP/tls-signed" 20 ZFW-JG >/dev/null
	check_exit "checkpoints signed by the TLS key do not verify (exit 4)" 4 \
		"signed by a server certificate \(O=yuebao-demo, OU=server, CN=localhost\), not by the log key" \
		yb_as auditor JGDW audit verify "$TMP/tls-signed"
	"$YB_BIN/ybauditgen" "$YB_PKI" "$TMP/log-signed" 20 ZFW-JG >/dev/null
	check_exit "the same log signed by the log key verifies" 0 "verified 20 entries" \
		yb_as auditor JGDW audit verify "$TMP/log-signed"
}

test_refusals_at_start() {
	start_refused "the daemon refuses the TLS certificate as its log certificate" 1 \
		"the log certificate \(O=yuebao-demo, OU=server, CN=localhost\) is not of role log" \
		--log-cert "$YB_PKI/server.crt" --log-key "$YB_PKI/server.key"
	chmod 644 "$YB_PKI/log.key"
	start_refused "a log key others may read" 1 "private key $YB_PKI/log\.key may be read by others"
	chmod 600 "$YB_PKI/log.key"
	mkdir -p "$TMP/nolog"
	cp "$YB_PKI/server.crt" "$YB_PKI/server.key" "$TMP/nolog/"
	start_refused "without a log key the daemon does not start" 1 \
		"log key: .*$TMP/nolog/log\.crt.*yuebao-certs log DIR" \
		--cert "$TMP/nolog/server.crt" --key "$TMP/nolog/server.key"

	check_exit "yuebao-certs log refuses to replace a log key" 1 "already holds a log key" \
		"$CERTS" log "$YB_PKI"
	cp -r "$YB_PKI" "$TMP/newkey"
	"$CERTS" log "$TMP/newkey" --force >/dev/null
	start_refused "a new log key over a log another key signed is refused" 1 \
		"the audit log's latest checkpoint \(size [0-9]+\) does not verify under the log key .*A log keeps its key for life" \
		--log-cert "$TMP/newkey/log.crt" --log-key "$TMP/newkey/log.key"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG"
	check_exit "the log's own key still serves it" 0 "submitted ZFW-JG 2026-02 revision 1" \
		yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-02.csv" --period 2026-02
	yb_stop_daemon
}

# The log key on a token: imported into SoftHSM, used through a PKCS#11 URI
# (its PIN from a file), and absent from the daemon's folder.
test_pkcs11() {
	local module uri logkey
	module=$(ls /usr/lib/softhsm/libsofthsm2.so 2>/dev/null) || true
	if [ -z "$module" ] || ! command -v softhsm2-util >/dev/null ||
		[ ! -e "$(openssl version -e | sed 's/^ENGINESDIR: "\(.*\)"$/\1/')/pkcs11.so" ]; then
		echo "skip - the log key on a PKCS#11 token (softhsm2 and libengine-pkcs11-openssl are not installed)"
		return 0
	fi
	mkdir -p "$TMP/tokens" "$TMP/daemon"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$TMP/tokens" >"$TMP/softhsm2.conf"
	export SOFTHSM2_CONF="$TMP/softhsm2.conf"
	softhsm2-util --init-token --free --label yuebao-log --pin 4711 --so-pin 0815 >/dev/null
	softhsm2-util --import "$YB_PKI/log.key" --token yuebao-log --label log --id 01 \
		--pin 4711 >/dev/null
	printf '4711\n' >"$TMP/pin"
	chmod 600 "$TMP/pin"
	# The daemon's folder holds the log certificate, not its key.
	cp "$YB_PKI/server.crt" "$YB_PKI/server.key" "$YB_PKI/log.crt" "$TMP/daemon/"
	uri="pkcs11:token=yuebao-log;object=log;type=private?module-path=$module&pin-source=file:$TMP/pin"
	yb_start_daemon "$YB_PKI" "$DB" "$ORGS" "$LOG" --cert "$TMP/daemon/server.crt" \
		--key "$TMP/daemon/server.key" --log-cert "$TMP/daemon/log.crt" --log-key "$uri"
	check_match "the daemon signs with the key on the token" "$(cat "$LOG")" \
		"signed by the log key .*key pkcs11:token=yuebao-log;object=log;type=private\)"
	check_no_match "and never logs its PIN" "$(cat "$LOG")" "4711"
	logkey=$(key_sha256 "$YB_PKI/log.crt")
	yb_as branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-03.csv" --period 2026-03 \
		--receipt "$TMP/r3.json" >/dev/null
	check_exit "a receipt it signed proves" 0 "log key SHA-256 $logkey" \
		yb_as branch ZFW-JG audit prove --receipt "$TMP/r3.json"
	yb_as auditor JGDW audit export "$TMP/token-bundle" >/dev/null
	check_exit "and the whole log, signed by the file and then the token, verifies" 0 \
		"nothing was altered or back-dated" yb_as auditor JGDW audit verify "$TMP/token-bundle"
	yb_stop_daemon
	start_refused "a wrong PIN is refused at start" 1 "log key: no private key at pkcs11:token=yuebao-log;object=log;type=private\?\.\.\." \
		--log-key "pkcs11:token=yuebao-log;object=log;type=private?module-path=$module&pin-value=1234"
	unset SOFTHSM2_CONF
}

test_log_key_signs
test_tls_key_refused
test_refusals_at_start
test_pkcs11
assert_summary
