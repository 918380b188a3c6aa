#!/usr/bin/env bash
# The README's deployment section, run as written: its certificate commands
# (a Chinese deployment name), its yuebaod.ini and its client.ini are taken
# from README.md itself, with /srv/yuebao and /home/clerk/yuebao moved into a
# temporary directory and the daemon on a free loopback port. Then one
# branch submits, the central office consolidates, and the revocation the
# README shows takes effect after SIGHUP. Also the version and the command
# line habits a user expects: --version on all three programs, global
# options after the command.
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

SRV="$TMP/srv"
CLERK="$TMP/clerk"
mkdir -p "$SRV" "$CLERK" "$HOME/.config/yuebao"
VERSION=$(sed -n 's/^project(yuebao VERSION \([0-9.]*\).*/\1/p' "$YB_SRC/CMakeLists.txt")

# readme_block HEADING_REGEX LANG: the first ```LANG block after the line
# matching HEADING_REGEX in README.md.
readme_block() {
	awk -v head="$1" -v fence="\`\`\`$2" '
		!found && $0 ~ head { found = 1; next }
		found && !inside && $0 == fence { inside = 1; next }
		inside && $0 == "```" { exit }
		inside { print }' "$YB_SRC/README.md"
}

# as_deployed TEXT: README paths and names moved to this test's directories.
as_deployed() {
	sed -e "s|/srv/yuebao|$SRV|g" -e "s|/home/clerk/yuebao|$CLERK|g" \
		-e "s|^yuebao-certs |\"$YB_SRC/certs/yuebao-certs.sh\" |" <<<"$1"
}

test_versions() {
	# The release, then the libraries in use, for a bug report.
	check_match "yuebao --version" "$("$YB_BIN/yuebao" --version)" \
		"^yuebao $VERSION \(nng 1\.5\.[0-9]+, OpenSSL 3\.[^,]*, libxlsxwriter [0-9.]+\)$"
	check_match "yuebaod --version" "$("$YB_BIN/yuebaod" --version)" \
		"^yuebaod $VERSION \(nng 1\.5\.[0-9]+, SQLite 3\.[0-9.]+, OpenSSL 3\.[^)]*\)$"
	check_match "yuebao-certs --version" "$("$YB_SRC/certs/yuebao-certs.sh" --version)" \
		"^yuebao-certs $VERSION \(OpenSSL 3\."
}

test_certificates() {
	local block revoke_line
	block=$(as_deployed "$(readme_block '^\*\*1\. Certificates\*\*' sh)")
	check_match "README step 1 has the Chinese deployment name" "$block" '--org "市委政法委"'
	# Everything but the revocation now; that one comes after a submission.
	revoke_line=$(grep ' revoke ' <<<"$block")
	check "README step 1 runs as written" bash -euo pipefail -c "$(grep -v ' revoke ' <<<"$block")"
	REVOKE_LINE=$revoke_line
	check_match "the deployment name is the O= of every certificate, in UTF-8" \
		"$(openssl x509 -in "$SRV/pki/branch-ZFW-JG.crt" -noout -subject -nameopt utf8,sep_comma_plus_space)" \
		"^subject=O=市委政法委, OU=branch, CN=ZFW-JG$"
	check_exit "a deployment name with a '/' is refused" 2 "may not contain" \
		"$YB_SRC/certs/yuebao-certs.sh" init "$TMP/bad" --org "政法/委"
	check_exit "a deployment name of 65 characters is refused" 2 "65 characters" \
		"$YB_SRC/certs/yuebao-certs.sh" init "$TMP/bad" --org "$(printf '委%.0s' $(seq 65))"
}

test_daemon_from_ini() {
	local ini="$TMP/yuebaod.ini"
	cp "$YB_SRC/examples/orgs.csv" "$SRV/orgs.csv"
	as_deployed "$(readme_block '^\*\*3\. The daemon\.\*\*' ini)" |
		sed -e 's|^listen = .*|listen = tls+tcp://127.0.0.1:0|' >"$ini"
	check_match "README step 3's INI names the store" "$(cat "$ini")" "^db = $SRV/yuebao\.db$"
	"$YB_BIN/yuebaod" --config "$ini" 2>"$LOG" &
	YB_DAEMON_PID=$!
	YB_URL=
	if ! yb_wait_for_log "$LOG" 'listening on tls\+tcp://127\.0\.0\.1:[0-9]+' 10 "$YB_DAEMON_PID"; then
		fail "yuebaod starts from README step 3's INI file" "$(cat "$LOG")"
		return 1
	fi
	YB_URL=$(grep -o 'listening on tls+tcp://127.0.0.1:[0-9]*' "$LOG" | sed 's/listening on //')
	pass "yuebaod starts from README step 3's INI file"
}

test_branch_submits() {
	local client_ini="$HOME/.config/yuebao/client.ini" port out
	port=${YB_URL##*:}
	cp "$SRV/pki/branch-ZFW-JG.crt" "$SRV/pki/branch-ZFW-JG.key" "$SRV/pki/ca.crt" "$CLERK/"
	as_deployed "$(readme_block '^\*\*4\. A branch submits\.\*\*' ini)" |
		sed -e "s|^server = tls+tcp://yuebao.example.org:7443$|server = tls+tcp://127.0.0.1:$port|" \
			>"$client_ini"
	check_match "README step 4's client.ini points at the daemon" "$(cat "$client_ini")" \
		"^server = tls\+tcp://127\.0\.0\.1:$port$"
	check_exit "ping with client.ini only" 0 "ZFW-JG" "$YB_BIN/yuebao" ping
	check_exit "global options are accepted after the command" 0 "ZFW-JG" \
		"$YB_BIN/yuebao" ping --timeout 5
	check_exit "and with --option=value" 0 "ZFW-JG" "$YB_BIN/yuebao" ping --timeout=5
	check_exit "a bad global option after the command is still checked" 2 \
		"--timeout must be 1 to 3600 seconds" "$YB_BIN/yuebao" ping --timeout 0
	check_exit "a global option without its value" 2 "option '--server' needs a value" \
		"$YB_BIN/yuebao" ping --server
	check_exit "the branch submits its June return" 0 "" \
		"$YB_BIN/yuebao" submit "$YB_SRC/examples/returns/ZFW-JG/2026-06.csv" --period 2026-06
	out=$("$YB_BIN/yuebao" --cert "$SRV/pki/central-JGDW.crt" --key "$SRV/pki/central-JGDW.key" \
		consolidate --period 2026-06 --format csv 2>/dev/null)
	check_eq "the central office consolidates what the branch sent" \
		"$(grep '^study_sessions,' <<<"$out" | cut -d, -f4)" \
		"$(grep '^study_sessions,' "$YB_SRC/examples/returns/ZFW-JG/2026-06.csv" | awk -F, '{print $NF}')"
}

test_revocation() {
	check "README step 1's revocation runs as written" bash -euo pipefail -c "$REVOKE_LINE"
	reload_daemon "$LOG"
	check_exit "after SIGHUP the revoked branch gets no TLS session" 3 "it is revoked" \
		"$YB_BIN/yuebao" submit "$YB_SRC/examples/returns/ZFW-JG/2026-05.csv" --period 2026-05
}

main() {
	test_versions
	test_certificates
	test_daemon_from_ini || {
		assert_summary
		return 1
	}
	test_branch_submits
	test_revocation
	yb_stop_daemon
	check_eq "the daemon started from the INI file stops cleanly" "$YB_DAEMON_STATUS" "0"
	assert_summary
}

main "$@"
