#!/usr/bin/env bash
# Integration test of certs/yuebao-certs.sh: init, issue, revoke and server
# in a temporary directory, checked with the openssl command line (chains,
# CRL, subjects, key types, extensions, validity, refusals and exit codes).
# Then what the real yuebaod and yuebao make of certificates and CRLs that
# run out (libfaketime makes them old): the warnings and errors in the
# daemon's log at start, on SIGHUP and in the daily check, the dates an admin
# sees in `ping`, and every request refused with a message the user can act
# on once the CRL has expired.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

# The script under test, run with bash so its file mode does not matter.
yb_certs() {
  bash "$CERTS" "$@"
}

subject_of() {
  openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//'
}

file_mode() {
  stat -c '%a' -- "$1"
}

# verify_with_crl CA_DIR CERT: chain to the CA and CRL check.
verify_with_crl() {
  openssl verify -CAfile "$1/ca.crt" -CRLfile "$1/crl.pem" -crl_check "$2"
}

key_is_p256() {
  openssl pkey -in "$1" -noout -text 2>/dev/null | grep -q 'ASN1 OID: prime256v1'
}

cert_is_p256_sha256_v3() {
  local text
  text="$(openssl x509 -in "$1" -noout -text)"
  grep -q 'Version: 3 (0x2)' <<<"$text" &&
    grep -q 'ASN1 OID: prime256v1' <<<"$text" &&
    grep -q 'Signature Algorithm: ecdsa-with-SHA256' <<<"$text" &&
    grep -q 'X509v3 Subject Key Identifier' <<<"$text" &&
    grep -q 'X509v3 Authority Key Identifier' <<<"$text"
}

key_matches_cert() {
  local from_key from_cert
  from_key="$(openssl pkey -in "$1" -pubout)"
  from_cert="$(openssl x509 -in "$2" -noout -pubkey)"
  [[ -n "$from_key" && "$from_key" == "$from_cert" ]]
}

# Days from now until the certificate's notAfter (rounded down).
days_left() {
  local end
  end="$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')"
  echo $((($(date -u -d "$end" +%s) - $(date -u +%s)) / 86400))
}

# A date of a certificate or CRL ("notAfter=Oct 29 07:58:39 2026 GMT") as
# yuebaod writes it: "2026-10-29 07:58:39 UTC".
utc_date() {
  date -u -d "${1#*=}" '+%Y-%m-%d %H:%M:%S UTC'
}

# The same date as a caller sees it: in the deployment's zone (the
# default, Asia/Shanghai), with its offset, "2026-10-29 15:58:39 +08:00".
office_date() {
  TZ=Asia/Shanghai date -d "${1#*=}" '+%Y-%m-%d %H:%M:%S +08:00'
}

test_help_and_usage() {
  check_exit "--help exits 0 and shows examples" 0 'Examples' yb_certs --help
  check_exit "no arguments is a usage error" 2 'missing command' yb_certs
  check_exit "unknown command is a usage error" 2 "unknown command 'frobnicate'" \
    yb_certs frobnicate "$TMP/x"
}

test_init() {
  local ca="$TMP/ca" out f
  out="$(yb_certs init "$ca" --san yuebao.example.org --san 192.0.2.7 2>&1)" || {
    fail "init creates a CA" "$out"
    return
  }
  pass "init creates a CA"
  check_eq "init prints one line per file written" "$(grep -c '^wrote ' <<<"$out")" 7
  for f in ca.crt ca.key server.crt server.key crl.pem index.txt serial crlnumber; do
    if [[ -s "$ca/$f" || ("$f" == index.txt && -e "$ca/$f") ]]; then
      pass "init wrote $f"
    else
      fail "init wrote $f"
    fi
  done
  check_eq "ca.key is mode 0600" "$(file_mode "$ca/ca.key")" 600
  check_eq "server.key is mode 0600" "$(file_mode "$ca/server.key")" 600
  check "ca.key is P-256" key_is_p256 "$ca/ca.key"
  check "server.key is P-256" key_is_p256 "$ca/server.key"
  check "ca.crt is v3, P-256, ECDSA-SHA256, with key ids" cert_is_p256_sha256_v3 "$ca/ca.crt"
  check "server.crt is v3, P-256, ECDSA-SHA256, with key ids" cert_is_p256_sha256_v3 "$ca/server.crt"
  check_match "CA subject carries the default deployment" "$(subject_of "$ca/ca.crt")" \
    '^/O=yuebao-demo/'
  local ext
  ext="$(openssl x509 -in "$ca/ca.crt" -noout -ext basicConstraints,keyUsage)"
  check_match "CA basicConstraints critical CA:TRUE" "$ext" 'Basic Constraints: critical'
  check_match "CA basicConstraints CA:TRUE" "$ext" 'CA:TRUE'
  check_match "CA keyUsage keyCertSign, cRLSign" "$ext" 'Certificate Sign, CRL Sign'
  ext="$(openssl x509 -in "$ca/server.crt" -noout -ext extendedKeyUsage,subjectAltName)"
  check_match "server has serverAuth" "$ext" 'TLS Web Server Authentication'
  check_match "server SAN has localhost" "$ext" 'DNS:localhost'
  check_match "server SAN has 127.0.0.1" "$ext" 'IP Address:127\.0\.0\.1'
  check_match "server SAN has ::1" "$ext" 'IP Address:0:0:0:0:0:0:0:1'
  check_eq "server SAN lists addresses only as IP addresses" "$(grep -c 'DNS:127\.0\.0\.1\|DNS:192' <<<"$ext")" 0
  check_match "server SAN has --san DNS name" "$ext" 'DNS:yuebao\.example\.org'
  check_match "server SAN has --san IP address" "$ext" 'IP Address:192\.0\.2\.7'
  check "server.crt verifies against ca.crt and the empty CRL" verify_with_crl "$ca" "$ca/server.crt"
  check "server.crt is valid for host localhost" \
    openssl verify -CAfile "$ca/ca.crt" -verify_hostname localhost -purpose sslserver "$ca/server.crt"
  check "server.crt is valid for IP 127.0.0.1" \
    openssl verify -CAfile "$ca/ca.crt" -verify_ip 127.0.0.1 -purpose sslserver "$ca/server.crt"
  check "server.crt is valid for IP ::1" \
    openssl verify -CAfile "$ca/ca.crt" -verify_ip ::1 -purpose sslserver "$ca/server.crt"
  check_match "crl.pem starts empty" "$(openssl crl -in "$ca/crl.pem" -noout -text)" \
    'No Revoked Certificates'
  check "crl.pem is signed by the CA" \
    openssl crl -in "$ca/crl.pem" -CAfile "$ca/ca.crt" -noout
}

test_init_refuses_overwrite() {
  local ca="$TMP/ca" before after
  before="$(sha256sum "$ca/ca.key" "$ca/ca.crt")"
  check_exit "init refuses to overwrite an existing CA" 1 'refusing to overwrite' \
    yb_certs init "$ca"
  after="$(sha256sum "$ca/ca.key" "$ca/ca.crt")"
  check_eq "the existing CA is untouched" "$after" "$before"
  check_exit "init rejects a bad --san" 2 "--san 'bad name!'" \
    yb_certs init "$TMP/ca-bad-san" --san 'bad name!'
  check_exit "init rejects a bad --org" 2 '--org' yb_certs init "$TMP/ca-bad-org" --org 'a/b'
}

test_issue() {
  local ca="$TMP/ca" role code name
  for name in branch:ZFW-JG central:JGDW auditor:JGDW admin:JGDW; do
    role="${name%%:*}"
    code="${name#*:}"
    check "issue $role $code" yb_certs issue "$ca" "$role" "$code"
    local crt="$ca/$role-$code.crt" key="$ca/$role-$code.key"
    check_eq "$role-$code subject is exactly O,OU,CN" "$(subject_of "$crt")" \
      "/O=yuebao-demo/OU=$role/CN=$code"
    check_eq "$role-$code.key is mode 0600" "$(file_mode "$key")" 600
    check "$role-$code.key is P-256" key_is_p256 "$key"
    check "$role-$code.crt is v3, P-256, ECDSA-SHA256, with key ids" \
      cert_is_p256_sha256_v3 "$crt"
    check "$role-$code.key matches its certificate" key_matches_cert "$key" "$crt"
    check_match "$role-$code has clientAuth" \
      "$(openssl x509 -in "$crt" -noout -ext extendedKeyUsage)" 'TLS Web Client Authentication'
    check "$role-$code verifies with the CRL" verify_with_crl "$ca" "$crt"
    check "$role-$code is a valid TLS client certificate" \
      openssl verify -CAfile "$ca/ca.crt" -purpose sslclient "$crt"
  done
  local left
  left="$(days_left "$ca/branch-ZFW-JG.crt")"
  if ((left >= 725 && left <= 731)); then
    pass "default validity is two years ($left days)"
  else
    fail "default validity is two years" "$left days left"
  fi
  check "issue --days 30" yb_certs issue "$ca" branch FY-DZB --days 30
  left="$(days_left "$ca/branch-FY-DZB.crt")"
  if ((left >= 29 && left <= 30)); then
    pass "--days 30 gives a 30-day certificate ($left days)"
  else
    fail "--days 30 gives a 30-day certificate" "$left days left"
  fi
  check_exit "issue refuses to overwrite an existing certificate" 1 'already exists' \
    yb_certs issue "$ca" branch ZFW-JG
}

test_issue_refuses_bad_input() {
  local ca="$TMP/ca" code
  check_exit "bad role is refused with exit 2" 2 "bad role 'boss'" \
    yb_certs issue "$ca" boss ZFW-JG
  check_exit "role 'server' is refused with exit 2" 2 "bad role 'server'" \
    yb_certs issue "$ca" server ZFW-JG
  for code in zfw-jg A ZFW_JG 'ZFW JG' ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456 '' '../X' 'ZFW/JG'; do
    check_exit "bad code '$code' is refused with exit 2" 2 'bad org unit code' \
      yb_certs issue "$ca" branch "$code"
  done
  check_exit "--days 0 is refused with exit 2" 2 'days' \
    yb_certs issue "$ca" branch OK-1 --days 0
  check_exit "--days abc is refused with exit 2" 2 'days' \
    yb_certs issue "$ca" branch OK-1 --days abc
  check_exit "issue into a directory without a CA fails" 1 'no such directory' \
    yb_certs issue "$TMP/nowhere" branch OK-1
  if [[ ! -e "$ca/branch-OK-1.crt" && ! -e "$ca/boss-ZFW-JG.crt" ]]; then
    pass "refused requests wrote nothing"
  else
    fail "refused requests wrote nothing"
  fi
}

test_revoke() {
  local ca="$TMP/ca"
  check "revoke branch ZFW-JG" yb_certs revoke "$ca" branch ZFW-JG
  check_fails "revoked certificate fails -crl_check" verify_with_crl "$ca" "$ca/branch-ZFW-JG.crt"
  check_match "it fails because it is revoked" \
    "$(verify_with_crl "$ca" "$ca/branch-ZFW-JG.crt" 2>&1 || true)" 'certificate revoked'
  check "revoked certificate still chains to the CA without the CRL" \
    openssl verify -CAfile "$ca/ca.crt" "$ca/branch-ZFW-JG.crt"
  check "other certificates still verify with the new CRL" \
    verify_with_crl "$ca" "$ca/central-JGDW.crt"
  check "server certificate still verifies with the new CRL" \
    verify_with_crl "$ca" "$ca/server.crt"
  check_match "index.txt marks it revoked" "$(cat "$ca/index.txt")" \
    $'^R\t.*/O=yuebao-demo/OU=branch/CN=ZFW-JG$'
  check "revoking it again is harmless" yb_certs revoke "$ca" branch ZFW-JG
  check_exit "revoking a never-issued certificate fails" 1 'no certificate' \
    yb_certs revoke "$ca" branch NEVER-ISSUED
  check_exit "revoke with a bad code is refused with exit 2" 2 'bad org unit code' \
    yb_certs revoke "$ca" branch bad
  check "a new certificate can be issued after revocation (--force)" \
    yb_certs issue "$ca" branch ZFW-JG --force
  check "the re-issued certificate verifies" verify_with_crl "$ca" "$ca/branch-ZFW-JG.crt"
}

test_expired() {
  local ca="$TMP/ca"
  check "issue --expired" yb_certs issue "$ca" branch OLD-1 --expired
  check_fails "expired certificate fails verification" verify_with_crl "$ca" "$ca/branch-OLD-1.crt"
  check_match "it fails because it has expired" \
    "$(verify_with_crl "$ca" "$ca/branch-OLD-1.crt" 2>&1 || true)" 'certificate has expired'
  check_fails "expired certificate reports checkend failure" \
    openssl x509 -in "$ca/branch-OLD-1.crt" -noout -checkend 0
  check_exit "--expired and --days exclude each other" 2 'exclude' \
    yb_certs issue "$ca" branch OLD-2 --expired --days 5
}

test_server_renewal() {
  local ca="$TMP/ca" before
  before="$(openssl x509 -in "$ca/server.crt" -noout -serial)"
  check "server issues a new server certificate" yb_certs server "$ca" --san new.example.org
  check_fails "it is not the old one" \
    test "$(openssl x509 -in "$ca/server.crt" -noout -serial)" = "$before"
  check "it chains to the CA and is a TLS server certificate" \
    openssl verify -CAfile "$ca/ca.crt" -purpose sslserver "$ca/server.crt"
  check "server.key matches it" key_matches_cert "$ca/server.key" "$ca/server.crt"
  check_eq "server.key is mode 0600" "$(file_mode "$ca/server.key")" 600
  local ext
  ext="$(openssl x509 -in "$ca/server.crt" -noout -ext subjectAltName)"
  check_match "it keeps the names of the old one" "$ext" \
    'DNS:localhost, IP Address:127\.0\.0\.1, .*DNS:yuebao\.example\.org, IP Address:192\.0\.2\.7'
  check_match "and adds --san" "$ext" 'DNS:new\.example\.org'
  local left
  left="$(days_left "$ca/server.crt")"
  if ((left >= 725 && left <= 731)); then
    pass "the new server certificate is valid two years ($left days)"
  else
    fail "the new server certificate is valid two years" "$left days left"
  fi
  check_exit "server rejects a bad --san" 2 "--san 'bad name!'" yb_certs server "$ca" --san 'bad name!'
  check_exit "server needs a CA" 1 'no such directory' yb_certs server "$TMP/nowhere"
}

# ping_at OFFSET ROLE CODE: `yuebao ping` of the current PKI ($YB_PKI) with
# the clock moved by OFFSET (libfaketime syntax).
ping_at() {
  yb_faketime "$1" "$YB_BIN/yuebao" --server "$YB_URL" --ca "$YB_PKI/ca.crt" \
    --cert "$YB_PKI/$2-$3.crt" --key "$YB_PKI/$2-$3.key" ping
}

# A CRL past its next update: yuebaod says so in its log and refuses every
# request with a message that says what to do; renewed and reloaded, it
# serves again. Before, every call failed in the TLS handshake with
# "Cryptographic error" (mbedTLS refused the client against the expired
# CRL) and the log said nothing.
test_expired_crl() {
  local log="$TMP/expired.log" db="$TMP/expired.db" date office out
  YB_PKI="$TMP/expired"
  yb_certs init "$YB_PKI" >/dev/null
  yb_certs issue "$YB_PKI" branch ZFW-JG >/dev/null
  yb_certs issue "$YB_PKI" admin JGDW >/dev/null
  # Written 400 days ago, valid for 365: it ran out 35 days ago.
  yb_faketime -400d bash "$CERTS" crl "$YB_PKI" >/dev/null
  date="$(utc_date "$(openssl crl -in "$YB_PKI/crl.pem" -noout -nextupdate)")"
  office="$(office_date "$(openssl crl -in "$YB_PKI/crl.pem" -noout -nextupdate)")"
  fresh_store # a new CA, so a new log: another log key signed the one before
  if ! yb_start_daemon "$YB_PKI" "$db" "$ORGS" "$log"; then
    fail "yuebaod starts with an expired CRL"
    return
  fi
  check_match "the log says at start that the CRL expired, with its file and date" \
    "$(cat "$log")" "error: the CRL $YB_PKI/crl.pem expired on $date: yuebaod refuses every request"
  check_exit "a branch's call is refused with what to do (exit 1)" 1 \
    "refused \(FAILED_PRECONDITION\): the server's revocation list expired on ${office/+/\\+}; ask the administrator to run \`yuebao-certs crl\`" \
    yb_as branch ZFW-JG ping
  check_exit "so is an admin's: fail closed" 1 "FAILED_PRECONDITION.*revocation list expired" \
    yb_as admin JGDW ping
  check_exit "and a submission, which stores nothing" 1 "revocation list expired" \
    yb_as branch ZFW-JG submit "$YB_SRC/examples/returns/ZFW-JG/2026-01.csv" --period 2026-01
  check_eq "the store holds no return" "$(DB=$db db_sql 'SELECT count(*) FROM revisions')" 0
  check_match "each refusal is logged" "$(cat "$log")" \
    "Returns/Ping - FAILED_PRECONDITION .*revocation list expired on ${office/+/\\+}"

  yb_certs crl "$YB_PKI" >/dev/null
  reload_daemon "$log"
  check_exit "after yuebao-certs crl and SIGHUP the branch is served" 0 "CN=ZFW-JG" \
    yb_as branch ZFW-JG ping
  check_eq "and the reload logged no error" \
    "$(sed -n '/reloaded: now serving/,$p' "$log" | grep -c 'error:' || true)" 0

  # 15 days left: a warning on SIGHUP, and the admin's ping shows it.
  yb_faketime -350d bash "$CERTS" crl "$YB_PKI" >/dev/null
  date="$(utc_date "$(openssl crl -in "$YB_PKI/crl.pem" -noout -nextupdate)")"
  reload_daemon "$log"
  check_match "SIGHUP: a warning names the CRL, its date and what to do" "$(cat "$log")" \
    "warning: the CRL $YB_PKI/crl.pem expires on $date, in 1[45] days: renew it with \`yuebao-certs crl DIR\` and send yuebaod SIGHUP"
  out="$(TZ=Asia/Shanghai yb_as admin JGDW ping 2>&1)" || true
  check_match "an admin's ping shows the CRL's date in the deployment's zone, and that it is near" \
    "$out" "revocation list \(CRL\): valid until [0-9-]{10} [0-9:]{8} \+08:00, only 1[45] day\(s\) left: renew it"
  check_match "and the server certificate's" "$out" \
    "server certificate: valid until [0-9-]{10} [0-9:]{8} \+08:00 \(7[23][0-9] days left\)"
  check_match "and the CA certificate's" "$out" \
    "CA certificate: valid until [0-9-]{10} [0-9:]{8} \+08:00 \(36[45][0-9] days left\)"
  out="$(yb_as branch ZFW-JG ping 2>&1)" || true
  check_match "a branch is still served" "$out" "CN=ZFW-JG"
  if grep -q "valid until" <<<"$out"; then
    fail "a branch's ping shows no dates" "$out"
  else
    pass "a branch's ping shows no dates"
  fi
  yb_stop_daemon
}

# Certificates that run out: a warning for each within 30 days at start,
# an error naming each that has run out.
test_expiring_certificates() {
  local log="$TMP/aging.log" out
  YB_PKI="$TMP/aging"
  # A CA made 3640 days ago has 10 left; its server certificate is replaced
  # by one made 720 days ago (10 left), and the CRL is fresh.
  yb_faketime -3640d bash "$CERTS" init "$YB_PKI" >/dev/null
  yb_faketime -720d bash "$CERTS" server "$YB_PKI" >/dev/null
  yb_certs crl "$YB_PKI" >/dev/null
  yb_certs issue "$YB_PKI" admin JGDW >/dev/null
  fresh_store
  if ! yb_start_daemon "$YB_PKI" "$TMP/aging.db" "$ORGS" "$log"; then
    fail "yuebaod starts with certificates that run out soon"
    return
  fi
  check_match "a warning names the server certificate and its date" "$(cat "$log")" \
    "warning: the server certificate $YB_PKI/server.crt expires on $(utc_date "$(openssl x509 -in "$YB_PKI/server.crt" -noout -enddate)"), in [91]0? days: issue a new one with \`yuebao-certs server DIR\`"
  check_match "a warning names the CA certificate and its date" "$(cat "$log")" \
    "warning: the CA certificate $YB_PKI/ca.crt expires on $(utc_date "$(openssl x509 -in "$YB_PKI/ca.crt" -noout -enddate)"), in [91]0? days"
  check_eq "no warning for the fresh CRL" "$(grep -c 'the CRL' "$log" || true)" 0
  out="$(yb_as admin JGDW ping 2>&1)" || true
  check_match "an admin's ping shows the server certificate is near its end" "$out" \
    "server certificate: valid until .*, only [91]0? day\(s\) left: renew it"
  yb_stop_daemon

  # Made 3700 days ago: the CA, its server certificate and its CRL have all run out.
  rm -rf -- "$YB_PKI"
  yb_faketime -3700d bash "$CERTS" init "$YB_PKI" >/dev/null
  fresh_store
  if ! yb_start_daemon "$YB_PKI" "$TMP/aged.db" "$ORGS" "$log"; then
    fail "yuebaod starts with certificates that ran out"
    return
  fi
  out="$(cat "$log")"
  check_match "an error names the expired server certificate" "$out" \
    "error: the server certificate $YB_PKI/server.crt expired on $(utc_date "$(openssl x509 -in "$YB_PKI/server.crt" -noout -enddate)"): clients refuse"
  check_match "an error names the expired CA certificate" "$out" \
    "error: the CA certificate $YB_PKI/ca.crt expired on $(utc_date "$(openssl x509 -in "$YB_PKI/ca.crt" -noout -enddate)")"
  check_match "an error names the expired CRL" "$out" "error: the CRL $YB_PKI/crl.pem expired on"
  yb_stop_daemon
}

# The CRL runs out while yuebaod runs: its clock (libfaketime, read from a
# file the test rewrites) moves 35 days on, then 41; the daily check warns
# and stops handing the CRL to TLS, so that once it expired the client is
# told why instead of failing its handshake.
test_crl_expires_while_running() {
  local log="$TMP/running.log" clock="$TMP/running.clock" out rc
  YB_PKI="$TMP/running"
  yb_certs init "$YB_PKI" >/dev/null
  yb_certs issue "$YB_PKI" branch ZFW-JG >/dev/null
  # 40 days left: no warning yet.
  yb_faketime -325d bash "$CERTS" crl "$YB_PKI" >/dev/null
  echo "+0" >"$clock"
  fresh_store
  if ! LD_PRELOAD="$YB_FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$clock" FAKETIME_NO_CACHE=1 \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
    yb_start_daemon "$YB_PKI" "$TMP/running.db" "$ORGS" "$log"; then
    fail "yuebaod starts with its clock in a file"
    return
  fi
  check_eq "40 days before the CRL runs out, nothing is said" "$(grep -c 'the CRL' "$log" || true)" 0
  check_exit "and the branch is served" 0 "CN=ZFW-JG" ping_at +0 branch ZFW-JG

  echo "+35d" >"$clock"
  check_exit "35 days on, the branch is served" 0 "CN=ZFW-JG" ping_at +35d branch ZFW-JG
  if yb_wait_for_log "$log" "warning: the CRL $YB_PKI/crl.pem expires on .*, in [45] days" 10; then
    pass "and the daily check, due by then, warns that the CRL runs out in 5 days"
  else
    fail "and the daily check, due by then, warns that the CRL runs out in 5 days" "$(cat "$log")"
  fi
  check_match "the daily check also writes the day's summary" "$(cat "$log")" \
    "daily summary: [1-9][0-9]* calls, 0 refused, 0 returns stored"
  check_match "and stops handing the CRL to TLS" "$(cat "$log")" \
    "TLS handshakes no longer check the CRL $YB_PKI/crl.pem, which runs out within 30 days"
  check_exit "the next connection is served too" 0 "CN=ZFW-JG" ping_at +35d branch ZFW-JG

  echo "+41d" >"$clock"
  rc=0
  out="$(ping_at +41d branch ZFW-JG 2>&1)" || rc=$?
  check_eq "41 days on, past the CRL's next update, the call is refused (exit 1, not a TLS failure)" "$rc" 1
  check_match "with what to do" "$out" \
    "refused \(FAILED_PRECONDITION\): the server's revocation list expired on .*; ask the administrator to run \`yuebao-certs crl\`"
  if yb_wait_for_log "$log" "error: the CRL $YB_PKI/crl.pem expired on" 10; then
    pass "and the daily check logs the error"
  else
    fail "and the daily check logs the error" "$(cat "$log")"
  fi
  yb_stop_daemon
}

# deploy: only the daemon's files, never beside the CA key.
test_deploy() {
  local ca="$TMP/deploy-ca" dest="$TMP/etc-yuebao"
  yb_certs init "$ca" >/dev/null
  mkdir "$dest"
  check "deploy copies the daemon's files" yb_certs deploy "$ca" "$dest"
  check_eq "server and log certificates and keys, ca.crt and crl.pem, and no CA key" \
    "$(ls "$dest" | xargs)" "ca.crt crl.pem log.crt log.key server.crt server.key"
  # 0640 for group yuebao when the machine has it (test_package may, meanwhile).
  check_match "the key is kept private" "$(stat -c '%a %G' "$dest/server.key")" \
    "^(600 .*|640 yuebao)$"
  check_match "the log key too" "$(stat -c '%a %G' "$dest/log.key")" "^(600 .*|640 yuebao)$"
  rm "$ca/log.key" "$dest/log.key"
  check_exit "a log key kept on a token is left out, with a word" 0 \
    "log.key is not here \(on a token\?\)" yb_certs deploy "$ca" "$dest"
  check_eq "and the rest is deployed" "$(ls "$dest" | xargs)" \
    "ca.crt crl.pem log.crt server.crt server.key"
  rm "$ca/log.crt"
  check_exit "a CA made before log keys is told how to make one" 1 "yuebao-certs.* log $ca" \
    yb_certs deploy "$ca" "$dest"
  check "yuebao-certs log makes it" yb_certs log "$ca"
  check_match "OU=log, valid as long as the CA" "$(subject_of "$ca/log.crt")" "/OU=log/CN=log$"

  check_exit "deploy refuses the CA's own directory" 1 "the CA's own directory" \
    yb_certs deploy "$ca" "$ca/."
  touch "$dest/ca.key"
  check_exit "and a directory that holds a CA key" 1 "holds a CA key" yb_certs deploy "$ca" "$dest"
  check_exit "DEST must exist" 1 "no such directory" yb_certs deploy "$ca" "$TMP/nowhere"
  check_exit "DIR and DEST are required" 2 "needs DIR DEST" yb_certs deploy "$ca"
}

test_deployment_name() {
  local ca="$TMP/ca-org"
  check "init --org remembers the deployment" yb_certs init "$ca" --org zfw-2026
  check "issue under that deployment" yb_certs issue "$ca" branch FY-DZB
  check_eq "issued subject uses the remembered deployment" \
    "$(subject_of "$ca/branch-FY-DZB.crt")" "/O=zfw-2026/OU=branch/CN=FY-DZB"
  check_fails "a certificate of one CA does not verify against another" \
    openssl verify -CAfile "$TMP/ca/ca.crt" "$ca/branch-FY-DZB.crt"
}

main() {
  if [[ ! -r "$CERTS" ]]; then
    echo "cannot find $CERTS (set YB_SRC to the repository root)" >&2
    exit 1
  fi
  command -v openssl >/dev/null || {
    echo "openssl is not installed" >&2
    exit 1
  }
  test_help_and_usage
  test_init
  if [[ -e "$TMP/ca/ca.key" ]]; then
    test_init_refuses_overwrite
    test_issue
    test_issue_refuses_bad_input
    test_revoke
    test_expired
    test_server_renewal
  fi
  test_deployment_name
  test_deploy
  if [[ -x "$YB_BIN/yuebaod" && -n "$YB_FAKETIME_LIB" ]]; then
    test_expired_crl
    test_expiring_certificates
    test_crl_expires_while_running
  else
    fail "yuebaod ($YB_BIN) and libfaketime are there for the expiry tests"
  fi

  assert_summary
}

main "$@"
