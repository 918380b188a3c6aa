#!/usr/bin/env bash
# yuebao-certs: the private certificate authority of a yuebao deployment.
#
# Creates the CA and the daemon's certificate (init), issues client
# certificates whose subject names the caller (issue: O=<deployment>,
# OU=<role>, CN=<org unit code>), and revokes them (revoke), keeping the CRL
# that yuebaod loads with --crl up to date. Wraps the openssl 3.0 command
# line and the openssl.cnf shipped with yuebao; all keys are EC P-256, all
# signatures ECDSA with SHA-256. Run with --help for usage and examples.
set -euo pipefail

readonly PROG="yuebao-certs"
# The release, kept equal to CMakeLists.txt's project VERSION (CMake checks).
readonly YB_VERSION="0.1.0"
readonly DEFAULT_ORG="yuebao-demo"
readonly CA_DAYS=3650
readonly LEAF_DAYS=730
readonly MAX_DAYS=36500
readonly ROLES="branch central auditor admin"
readonly CODE_RE='^[A-Z0-9-]{2,32}$'

# Exit codes: 0 success, 1 operation failed, 2 usage error.
readonly EXIT_FAIL=1
readonly EXIT_USAGE=2

WORK_DIR=""

print_usage() {
  cat <<EOF
Usage:
  $PROG init DIR [--org NAME] [--san NAME]...
  $PROG issue DIR ROLE CODE [--days N | --expired] [--force] [--orgs FILE]
  $PROG revoke DIR ROLE CODE
  $PROG crl DIR
  $PROG server DIR [--san NAME]...
  $PROG log DIR [--force]
  $PROG deploy DIR DEST
  $PROG --help | --version

Commands:
  init    Create a new CA in DIR: ca.crt, ca.key, server.crt, server.key
          (subjectAltName DNS localhost, IP 127.0.0.1 and ::1 plus every
          --san, a DNS name or an IP address), log.crt and log.key (see
          log), an empty crl.pem, and the CA database
          (index.txt, serial, crlnumber, newcerts/). --org sets the
          deployment name, the O= of every subject (default "$DEFAULT_ORG");
          it is remembered in DIR/deployment for later commands.
          Refuses to touch a DIR that already holds a CA.
  issue   Issue DIR/ROLE-CODE.crt and DIR/ROLE-CODE.key for a client.
          ROLE is one of: $ROLES.
          CODE is the org unit code, [A-Z0-9-]{2,32}.
          Subject O=<deployment>, OU=ROLE, CN=CODE; extended key usage
          clientAuth. Valid $LEAF_DAYS days unless --days N. --expired
          issues a certificate whose validity ended yesterday (for tests).
          Refuses to overwrite an existing certificate unless --force.
          --orgs FILE (the org tree) warns when CODE is not in it, or
          when a branch certificate is asked for a unit with units under
          it: a branch is a unit without children.
  revoke  Revoke every certificate issued for ROLE CODE and rewrite
          DIR/crl.pem.
  crl     Rewrite DIR/crl.pem (a CRL is valid for 365 days; run this
          before it runs out, then reload the daemon). yuebaod warns in its
          log from 30 days before; past that date it refuses every request.
  server  Issue a new server.crt and server.key (valid $LEAF_DAYS days), for
          a server certificate that runs out (yuebaod warns in its log from
          30 days before); then restart yuebaod. It keeps the names of the
          certificate it replaces and adds every --san.
  log     Issue DIR/log.crt and DIR/log.key (OU=log, CN=log, valid
          $CA_DAYS days): the key that signs the audit log's checkpoints and
          nothing else, never the TLS key. init makes one; this is for a CA
          made before there were log keys. A log keeps its key for life:
          yuebaod refuses to add to a log whose checkpoints another key
          signed, so --force (a new key over an existing log.key) is for a
          new database only. The key may go onto a hardware token instead
          (yuebaod --log-key 'pkcs11:...'); then delete the file.
  deploy  Copy what yuebaod needs, and nothing else, from DIR to DEST:
          server.crt, log.crt, ca.crt and crl.pem (0644) and server.key and
          log.key (0640 and group yuebao when that group exists, as the
          yuebaod package makes it; 0600 otherwise). A log.key absent from
          DIR (kept on a token) is skipped with a word. DEST must exist, must not be DIR and must not
          hold a ca.key: the CA key never shares a directory with the
          daemon's files. Keep DIR on another machine, offline if you can;
          deploy into a directory there and copy it to /etc/yuebao, or
          straight into /etc/yuebao when both live on one host.

Certificates are X.509 v3, EC P-256 with ECDSA-SHA256 (for OpenSSL 3):
CA valid $CA_DAYS days, others $LEAF_DAYS days. Private keys are written
with mode 0600.

Examples:
  $PROG init /root/yuebao-ca --org "市委政法委" --san yuebao.example.org
  $PROG issue /root/yuebao-ca branch ZFW-JG --orgs orgs.csv
  $PROG issue /root/yuebao-ca central JGDW --days 365
  $PROG issue /root/yuebao-ca auditor JGDW
  $PROG issue /root/yuebao-ca admin JGDW
  $PROG revoke /root/yuebao-ca branch ZFW-JG
  $PROG deploy /root/yuebao-ca /etc/yuebao && systemctl reload yuebaod
  $PROG crl /root/yuebao-ca && $PROG deploy /root/yuebao-ca /etc/yuebao
  $PROG server /root/yuebao-ca --san yuebao2.example.org
  $PROG log /root/yuebao-ca

Exit status: 0 success, 1 an operation failed, 2 usage error.
EOF
}

die() {
  echo "$PROG: $*" >&2
  exit "$EXIT_FAIL"
}

usage_error() {
  echo "$PROG: $*" >&2
  echo "Try '$PROG --help'." >&2
  exit "$EXIT_USAGE"
}

cleanup() {
  if [[ -n "$WORK_DIR" && -d "$WORK_DIR" ]]; then
    rm -rf -- "$WORK_DIR"
  fi
}

# The openssl.cnf shipped with the script: next to it in the source tree,
# ../share/yuebao/openssl.cnf once installed; YUEBAO_OPENSSL_CNF overrides.
find_openssl_cnf() {
  local self script_dir candidate
  if [[ -n "${YUEBAO_OPENSSL_CNF:-}" ]]; then
    [[ -r "$YUEBAO_OPENSSL_CNF" ]] ||
      die "YUEBAO_OPENSSL_CNF=$YUEBAO_OPENSSL_CNF is not a readable file"
    printf '%s\n' "$YUEBAO_OPENSSL_CNF"
    return
  fi
  self="$(readlink -f -- "${BASH_SOURCE[0]}")"
  script_dir="$(dirname -- "$self")"
  for candidate in "$script_dir/openssl.cnf" \
    "$script_dir/../share/yuebao/openssl.cnf"; do
    if [[ -r "$candidate" ]]; then
      readlink -f -- "$candidate"
      return
    fi
  done
  die "cannot find openssl.cnf (looked in $script_dir and $script_dir/../share/yuebao)"
}

# Runs openssl quietly; on failure prints what failed and openssl's output.
run_openssl() {
  local what="$1"
  shift
  local log="$WORK_DIR/openssl.log"
  if ! openssl "$@" >"$log" 2>&1; then
    echo "$PROG: failed to $what; openssl said:" >&2
    sed 's/^/  /' "$log" >&2
    exit "$EXIT_FAIL"
  fi
}

# Serialises commands on one CA directory (openssl ca rewrites its database).
lock_ca_dir() {
  local dir="$1"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$dir/.lock"
    flock 9
  fi
}

setup_environment() {
  local dir="$1"
  command -v openssl >/dev/null 2>&1 || die "openssl is not installed or not on PATH"
  OPENSSL_CNF="$(find_openssl_cnf)"
  export OPENSSL_CONF="$OPENSSL_CNF"
  YB_CA_DIR="$(readlink -f -- "$dir")"
  export YB_CA_DIR
  # Only the server extensions use it, but the file must always parse.
  export YB_SAN="${YB_SAN:-DNS:localhost}"
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/yuebao-certs.XXXXXX")"
  trap cleanup EXIT
}

# Writes an EC P-256 private key with mode 0600.
generate_key() {
  local out="$1"
  local tmp="$out.tmp.$$"
  (
    umask 077
    run_openssl "generate the P-256 key $out" genpkey -algorithm EC \
      -pkeyopt ec_paramgen_curve:prime256v1 -pkeyopt ec_param_enc:named_curve \
      -out "$tmp"
  )
  chmod 600 "$tmp"
  mv -f -- "$tmp" "$out"
}

# The deployment name (O=): UTF-8 text such as 市委政法委, at most 64
# characters (RFC 5280's bound for an organization name). Characters that
# -subj or a distinguished name would read as syntax (/ \ + = , and
# control characters) are refused rather than escaped.
check_org_name() {
  local org="$1" chars
  [[ -n "$org" ]] || usage_error "--org: the deployment name is empty"
  printf '%s' "$org" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 ||
    usage_error "--org: the deployment name is not valid UTF-8 text"
  chars=$(($(printf '%s' "$org" | iconv -f UTF-8 -t UTF-32LE | wc -c) / 4))
  ((chars <= 64)) || usage_error "--org '$org': the deployment name has $chars characters; at most 64"
  if [[ "$org" == *[/\\+=,]* ]] || [[ "$org" =~ [[:cntrl:]] ]]; then
    usage_error "--org '$org': the deployment name may not contain / \\ + = , or control characters"
  fi
  if [[ "$org" == [[:space:]]* || "$org" == *[[:space:]] ]]; then
    usage_error "--org '$org': the deployment name may not begin or end with a space"
  fi
}

is_ipv4() {
  local addr="$1" part
  local -a parts
  [[ "$addr" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
  IFS=. read -r -a parts <<<"$addr"
  for part in "${parts[@]}"; do
    ((10#$part <= 255)) || return 1
  done
}

is_ipv6() {
  [[ "$1" =~ ^[0-9A-Fa-f:.]+$ && "$1" == *:*:* ]]
}

is_dns_name() {
  [[ "$1" =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$ ]] &&
    ((${#1} <= 253))
}

# Builds the subjectAltName list: the loopback names, then every --san. A
# client dialing an address checks it against the IP entries.
build_san_list() {
  local -a entries=("DNS:localhost" "IP:127.0.0.1" "IP:::1")
  local name entry seen
  for name in "$@"; do
    if is_ipv4 "$name" || is_ipv6 "$name"; then
      entries+=("IP:$name")
    elif is_dns_name "$name"; then
      entries+=("DNS:$name")
    else
      usage_error "--san '$name': not a DNS name or an IP address"
    fi
  done
  local -a unique=()
  for entry in "${entries[@]}"; do
    seen=0
    for name in "${unique[@]+"${unique[@]}"}"; do
      [[ "$name" == "$entry" ]] && seen=1
    done
    ((seen)) || unique+=("$entry")
  done
  local IFS=,
  printf '%s\n' "${unique[*]}"
}

read_deployment() {
  local dir="$1" org
  [[ -r "$dir/deployment" ]] ||
    die "$dir/deployment is missing: is $dir a CA made with '$PROG init'?"
  org="$(head -n 1 -- "$dir/deployment")"
  [[ -n "$org" ]] || die "$dir/deployment is empty"
  printf '%s\n' "$org"
}

require_ca_dir() {
  local dir="$1" f
  [[ -d "$dir" ]] || die "$dir: no such directory (create the CA with '$PROG init $dir')"
  for f in ca.crt ca.key index.txt serial crlnumber deployment; do
    [[ -e "$dir/$f" ]] || die "$dir/$f is missing: is $dir a CA made with '$PROG init'?"
  done
}

check_role_and_code() {
  local role="$1" code="$2" r ok=0
  for r in $ROLES; do
    [[ "$role" == "$r" ]] && ok=1
  done
  ((ok)) || usage_error "bad role '$role': must be one of: $ROLES"
  [[ "$code" =~ $CODE_RE ]] ||
    usage_error "bad org unit code '$code': must match [A-Z0-9-]{2,32} (upper-case letters, digits, '-')"
}

# Date in the form openssl ca -startdate/-enddate takes, relative to now.
openssl_date() {
  date -u -d "$1" +%Y%m%d%H%M%SZ
}

# Signs a request with the CA; extra arguments go to openssl ca.
sign_request() {
  local what="$1" csr="$2" crt="$3" extensions="$4"
  shift 4
  local tmp="$crt.tmp.$$"
  run_openssl "sign $what" ca -batch -notext -utf8 -config "$OPENSSL_CNF" \
    -extensions "$extensions" -in "$csr" -out "$tmp" "$@"
  chmod 644 "$tmp"
  mv -f -- "$tmp" "$crt"
}

write_crl() {
  local dir="$1"
  local tmp="$dir/crl.pem.tmp.$$"
  run_openssl "write the CRL $dir/crl.pem" ca -batch -config "$OPENSSL_CNF" \
    -gencrl -out "$tmp"
  chmod 644 "$tmp"
  mv -f -- "$tmp" "$dir/crl.pem"
  echo "wrote $dir/crl.pem"
}

# Signs a new server key and certificate into DIR/server.key and
# DIR/server.crt, with the subjectAltName list san_list.
issue_server_cert() {
  local dir="$1" org="$2" san_list="$3"
  local new_key="$WORK_DIR/server.key"
  generate_key "$new_key"
  run_openssl "create the server certificate request" req -new -utf8 \
    -config "$OPENSSL_CNF" -key "$new_key" \
    -subj "/O=$org/OU=server/CN=localhost" -out "$WORK_DIR/server.csr"
  YB_SAN="$san_list" sign_request "the server certificate $dir/server.crt" \
    "$WORK_DIR/server.csr" "$WORK_DIR/server.crt" v3_server -days "$LEAF_DAYS"
  # The key first: a crash in between leaves a pair that does not match,
  # which yuebaod refuses to start with, never a half-written file.
  mv -f -- "$new_key" "$dir/server.key"
  echo "wrote $dir/server.key"
  mv -f -- "$WORK_DIR/server.crt" "$dir/server.crt"
  echo "wrote $dir/server.crt ($san_list)"
}

cmd_init() {
  [[ $# -ge 1 ]] || usage_error "init: missing DIR"
  local dir="$1"
  shift
  [[ "$dir" != -* ]] || usage_error "init: missing DIR (got option '$dir')"
  local org="$DEFAULT_ORG"
  local -a sans=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --org)
        [[ $# -ge 2 ]] || usage_error "init: --org needs a NAME"
        org="$2"
        shift 2
        ;;
      --org=*)
        org="${1#--org=}"
        shift
        ;;
      --san)
        [[ $# -ge 2 ]] || usage_error "init: --san needs a NAME"
        sans+=("$2")
        shift 2
        ;;
      --san=*)
        sans+=("${1#--san=}")
        shift
        ;;
      *) usage_error "init: unexpected argument '$1'" ;;
    esac
  done
  check_org_name "$org"
  local san_list
  san_list="$(build_san_list "${sans[@]+"${sans[@]}"}")"

  local f
  for f in ca.crt ca.key index.txt serial deployment; do
    if [[ -e "$dir/$f" ]]; then
      die "$dir already holds a CA ($dir/$f exists); refusing to overwrite it"
    fi
  done
  if [[ ! -d "$dir" ]]; then
    { mkdir -p -- "$dir" && chmod 700 -- "$dir"; } || die "cannot create directory $dir"
  fi
  [[ -w "$dir" ]] || die "$dir is not writable"

  setup_environment "$dir"
  dir="$YB_CA_DIR"
  lock_ca_dir "$dir"
  # Re-check under the lock: another init may have won the race.
  [[ ! -e "$dir/ca.key" ]] || die "$dir already holds a CA; refusing to overwrite it"

  # The CA database openssl ca works on.
  mkdir -m 700 -- "$dir/newcerts"
  : >"$dir/index.txt"
  printf 'unique_subject = no\n' >"$dir/index.txt.attr"
  # A random positive 64-bit starting serial; openssl ca counts up from it.
  printf '%s\n' "$(openssl rand -hex 8 | sed 's/^./4/')" >"$dir/serial"
  printf '1000\n' >"$dir/crlnumber"
  printf '%s\n' "$org" >"$dir/deployment"

  generate_key "$dir/ca.key"
  echo "wrote $dir/ca.key"
  run_openssl "create the CA certificate $dir/ca.crt" req -new -x509 -utf8 \
    -config "$OPENSSL_CNF" -extensions v3_ca -sha256 -days "$CA_DAYS" \
    -key "$dir/ca.key" -subj "/O=$org/OU=ca/CN=$org CA" -out "$dir/ca.crt.tmp"
  chmod 644 "$dir/ca.crt.tmp"
  mv -f -- "$dir/ca.crt.tmp" "$dir/ca.crt"
  echo "wrote $dir/ca.crt"

  issue_server_cert "$dir" "$org" "$san_list"
  issue_log_cert "$dir" "$org"
  write_crl "$dir"
}

# Signs a new log key and certificate into DIR/log.key and DIR/log.crt.
issue_log_cert() {
  local dir="$1" org="$2"
  local new_key="$WORK_DIR/log.key"
  generate_key "$new_key"
  run_openssl "create the log certificate request" req -new -utf8 \
    -config "$OPENSSL_CNF" -key "$new_key" \
    -subj "/O=$org/OU=log/CN=log" -out "$WORK_DIR/log.csr"
  # As long as the CA: every checkpoint of the log verifies under it.
  sign_request "the log certificate $dir/log.crt" \
    "$WORK_DIR/log.csr" "$WORK_DIR/log.crt" v3_log -days "$CA_DAYS"
  mv -f -- "$new_key" "$dir/log.key"
  echo "wrote $dir/log.key"
  mv -f -- "$WORK_DIR/log.crt" "$dir/log.crt"
  echo "wrote $dir/log.crt"
}

cmd_log() {
  [[ $# -ge 1 ]] || usage_error "log: missing DIR"
  local dir="$1" force=0
  shift
  [[ "$dir" != -* ]] || usage_error "log: missing DIR (got option '$dir')"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --force) force=1 ;;
      *) usage_error "log: unexpected argument '$1'" ;;
    esac
    shift
  done
  require_ca_dir "$dir"
  setup_environment "$dir"
  dir="$YB_CA_DIR"
  lock_ca_dir "$dir"
  if [[ -e "$dir/log.key" || -e "$dir/log.crt" ]] && ((!force)); then
    die "$dir already holds a log key: a log keeps its key for life (yuebaod refuses a log another key signed); --force makes a new one, for a new database only"
  fi
  issue_log_cert "$dir" "$(read_deployment "$dir")"
}

# With the org tree (code,name,parent CSV) at hand: CODE must be in it, and a
# branch certificate is for a unit without children (yuebaod refuses the
# calls of one issued for a unit with units under it). Warns; issues anyway.
check_role_in_tree() {
  local role="$1" code="$2" orgs="$3" children
  [[ -r "$orgs" ]] || usage_error "issue: --orgs '$orgs': cannot read it"
  if ! awk -F, -v code="$code" 'NR > 1 && $1 == code { found = 1 } END { exit !found }' "$orgs"; then
    echo "$PROG: warning: $code is not in $orgs; yuebaod will refuse this certificate's calls until it is" >&2
    return
  fi
  children=$(awk -F, -v code="$code" 'NR > 1 && $3 == code { n++ } END { print n + 0 }' "$orgs")
  if [[ "$role" == branch ]] && ((children > 0)); then
    echo "$PROG: warning: $code has $children units under it in $orgs; a branch certificate is for a unit without any, and yuebaod refuses its calls (issue a central or auditor certificate instead)" >&2
  fi
}

cmd_server() {
  [[ $# -ge 1 ]] || usage_error "server: missing DIR"
  local dir="$1"
  shift
  [[ "$dir" != -* ]] || usage_error "server: missing DIR (got option '$dir')"
  local -a sans=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --san)
        [[ $# -ge 2 ]] || usage_error "server: --san needs a NAME"
        sans+=("$2")
        shift 2
        ;;
      --san=*)
        sans+=("${1#--san=}")
        shift
        ;;
      *) usage_error "server: unexpected argument '$1'" ;;
    esac
  done
  require_ca_dir "$dir"
  setup_environment "$dir"
  dir="$YB_CA_DIR"
  lock_ca_dir "$dir"
  local org san_list
  local -a old=()
  org="$(read_deployment "$dir")"
  # The names of the certificate being replaced ("DNS:x, IP Address:y").
  if [[ -r "$dir/server.crt" ]]; then
    mapfile -t old < <(openssl x509 -in "$dir/server.crt" -noout -ext subjectAltName 2>/dev/null |
      tail -n +2 | tr ',' '\n' | sed 's/^ *//; s/^DNS://; s/^IP Address://' | grep -v '^$')
  fi
  san_list="$(build_san_list "${old[@]+"${old[@]}"}" "${sans[@]+"${sans[@]}"}")"
  issue_server_cert "$dir" "$org" "$san_list"
}

cmd_deploy() {
  [[ $# -eq 2 ]] || usage_error "deploy: needs DIR DEST"
  local dir="$1" dest="$2" f
  require_ca_dir "$dir"
  [[ -d "$dest" ]] || die "deploy: $dest: no such directory (the yuebaod package makes /etc/yuebao)"
  [[ "$(cd -- "$dest" && pwd -P)" != "$(cd -- "$dir" && pwd -P)" ]] ||
    die "deploy: $dest is the CA's own directory: the daemon's files must not share it with ca.key"
  [[ ! -e "$dest/ca.key" ]] ||
    die "deploy: $dest holds a CA key ($dest/ca.key): move it off the daemon's host first"
  for f in server.crt server.key ca.crt crl.pem; do
    [[ -r "$dir/$f" ]] || die "deploy: $dir/$f is missing"
  done
  [[ -r "$dir/log.crt" ]] || die "deploy: $dir/log.crt is missing (a CA made before log keys: run '$PROG log $dir')"
  local -a keys=(server.key)
  if [[ -r "$dir/log.key" ]]; then
    keys+=(log.key)
  else
    echo "$PROG: $dir/log.key is not here (on a token?): give yuebaod its --log-key URI" >&2
  fi
  install -m 0644 "$dir/server.crt" "$dir/log.crt" "$dir/ca.crt" "$dir/crl.pem" "$dest/"
  # yuebaod reads its keys as user yuebao: the group may read them, others never.
  local mode="group yuebao, 0640"
  for f in "${keys[@]}"; do
    if ! getent group yuebao >/dev/null || ! install -m 0640 -g yuebao "$dir/$f" "$dest/$f" 2>/dev/null; then
      install -m 0600 "$dir/$f" "$dest/$f"
      mode="0600"
    fi
  done
  echo "$PROG: deployed server.crt, log.crt, ${keys[*]} ($mode), ca.crt, crl.pem to $dest"
}

cmd_issue() {
  [[ $# -ge 3 ]] || usage_error "issue: needs DIR ROLE CODE"
  local dir="$1" role="$2" code="$3"
  shift 3
  local days="$LEAF_DAYS" expired=0 force=0 days_given=0 orgs=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --orgs)
        [[ $# -ge 2 ]] || usage_error "issue: --orgs needs a FILE"
        orgs="$2"
        shift 2
        ;;
      --orgs=*)
        orgs="${1#--orgs=}"
        shift
        ;;
      --days)
        [[ $# -ge 2 ]] || usage_error "issue: --days needs a number"
        days="$2"
        days_given=1
        shift 2
        ;;
      --days=*)
        days="${1#--days=}"
        days_given=1
        shift
        ;;
      --expired)
        expired=1
        shift
        ;;
      --force)
        force=1
        shift
        ;;
      *) usage_error "issue: unexpected argument '$1'" ;;
    esac
  done
  check_role_and_code "$role" "$code"
  if [[ ! "$days" =~ ^[0-9]+$ ]] || ((10#$days < 1 || 10#$days > MAX_DAYS)); then
    usage_error "issue: --days '$days': must be a whole number of days from 1 to $MAX_DAYS"
  fi
  days=$((10#$days))
  if ((expired && days_given)); then
    usage_error "issue: --days and --expired exclude each other"
  fi
  [[ -z "$orgs" ]] || check_role_in_tree "$role" "$code" "$orgs"
  require_ca_dir "$dir"
  setup_environment "$dir"
  dir="$YB_CA_DIR"
  lock_ca_dir "$dir"

  local org name crt key
  org="$(read_deployment "$dir")"
  name="$role-$code"
  crt="$dir/$name.crt"
  key="$dir/$name.key"
  if ((!force)) && [[ -e "$crt" || -e "$key" ]]; then
    die "$crt or $key already exists; revoke it and use --force to issue a new one"
  fi

  local -a validity=(-days "$days")
  if ((expired)); then
    validity=(-startdate "$(openssl_date '30 days ago')"
      -enddate "$(openssl_date '1 day ago')")
  fi

  local new_key="$WORK_DIR/$name.key"
  generate_key "$new_key"
  run_openssl "create the certificate request for $name" req -new -utf8 \
    -config "$OPENSSL_CNF" -key "$new_key" \
    -subj "/O=$org/OU=$role/CN=$code" -out "$WORK_DIR/$name.csr"
  sign_request "the certificate $crt" "$WORK_DIR/$name.csr" "$crt" v3_client \
    "${validity[@]}"
  mv -f -- "$new_key" "$key"
  echo "wrote $key"
  echo "wrote $crt"
}

# Serials of the certificates in the CA database with state ('V' valid,
# 'R' revoked) whose subject ends in /OU=role/CN=code. The O= before it is
# the deployment's, the same for every certificate of this CA; openssl
# writes it into index.txt with non-ASCII bytes escaped (\xE5...), so it
# is not compared.
serials_for() {
  local dir="$1" state="$2" role="$3" code="$4"
  awk -F '\t' -v state="$state" -v tail="/OU=$role/CN=$code" \
    '$1 == state && length($6) > length(tail) &&
     substr($6, length($6) - length(tail) + 1) == tail { print $4 }' "$dir/index.txt"
}

cmd_revoke() {
  [[ $# -ge 3 ]] || usage_error "revoke: needs DIR ROLE CODE"
  [[ $# -eq 3 ]] || usage_error "revoke: unexpected argument '$4'"
  local dir="$1" role="$2" code="$3"
  check_role_and_code "$role" "$code"
  require_ca_dir "$dir"
  setup_environment "$dir"
  dir="$YB_CA_DIR"
  lock_ca_dir "$dir"

  local org subject serial count=0
  local -a serials=()
  org="$(read_deployment "$dir")"
  subject="/O=$org/OU=$role/CN=$code"
  # Read them all first: openssl ca rewrites index.txt as it revokes.
  mapfile -t serials < <(serials_for "$dir" V "$role" "$code")
  for serial in "${serials[@]+"${serials[@]}"}"; do
    [[ -n "$serial" ]] || continue
    local copy="$dir/newcerts/$serial.pem"
    [[ -r "$copy" ]] || die "the CA's copy of certificate $serial ($copy) is missing"
    run_openssl "revoke certificate $serial ($role $code)" ca -batch \
      -config "$OPENSSL_CNF" -revoke "$copy"
    echo "revoked $role-$code (serial $serial)"
    count=$((count + 1))
  done
  if ((count == 0)); then
    if [[ -n "$(serials_for "$dir" R "$role" "$code")" ]]; then
      echo "$role-$code is already revoked; nothing to do"
      return
    fi
    die "no certificate for $role $code ($subject) was issued by the CA in $dir"
  fi
  write_crl "$dir"
}

cmd_crl() {
  [[ $# -eq 1 ]] || usage_error "crl: needs exactly DIR"
  local dir="$1"
  require_ca_dir "$dir"
  setup_environment "$dir"
  dir="$YB_CA_DIR"
  lock_ca_dir "$dir"
  write_crl "$dir"
}

main() {
  [[ $# -ge 1 ]] || usage_error "missing command (init, issue, revoke, crl, server, log, deploy)"
  local command="$1"
  shift
  case "$command" in
    -h | --help | help)
      print_usage
      ;;
    --version) echo "$PROG $YB_VERSION ($(openssl version 2>/dev/null || echo "openssl: not found"))" ;;
    init) cmd_init "$@" ;;
    issue) cmd_issue "$@" ;;
    revoke) cmd_revoke "$@" ;;
    crl) cmd_crl "$@" ;;
    server) cmd_server "$@" ;;
    log) cmd_log "$@" ;;
    deploy) cmd_deploy "$@" ;;
    *) usage_error "unknown command '$command'" ;;
  esac
}

main "$@"
