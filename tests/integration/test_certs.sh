#!/usr/bin/env bash
# Integration test of certs/yuebao-certs.sh: init, issue and revoke in a
# temporary directory, checked with the openssl command line (chains, CRL,
# subjects, key types, extensions, validity, refusals and exit codes).
# Run by CTest with YB_SRC=<repo root>; without it the root is derived from
# this script's path. Prints "N passed, M failed"; exits 1 on any failure.
set -euo pipefail

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
YB_SRC="${YB_SRC:-$(cd -- "$script_dir/../.." && pwd)}"
CERTS="$YB_SRC/certs/yuebao-certs.sh"

# shellcheck source=tests/integration/assert.sh
. "$script_dir/assert.sh"

TMP=""

cleanup() {
  if [[ -n "$TMP" && -d "$TMP" ]]; then
    rm -rf -- "$TMP"
  fi
}

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
  check_eq "init prints one line per file written" "$(grep -c '^wrote ' <<<"$out")" 5
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
  TMP="$(mktemp -d "${TMPDIR:-/tmp}/yb-test-certs.XXXXXX")"
  trap cleanup EXIT

  test_help_and_usage
  test_init
  if [[ -e "$TMP/ca/ca.key" ]]; then
    test_init_refuses_overwrite
    test_issue
    test_issue_refuses_bad_input
    test_revoke
    test_expired
  fi
  test_deployment_name

  assert_summary
}

main "$@"
