#!/usr/bin/env bash
# The Debian packages as an administrator meets them: scripts/package.sh
# builds yuebao and yuebaod with CPack; `dpkg -i` installs them on this
# machine; the yuebao user, /var/lib/yuebao and /etc/yuebao are made with
# the right owners and modes; `man yuebao` works; the daemon starts the way
# yuebaod.service starts it (as user yuebao, no arguments, settings from
# /etc/yuebao/yuebaod.ini) once certificates made with the installed
# yuebao-certs are in place; a return is submitted and consolidated; a
# backup is made while a branch submits; the unit passes
# `systemd-analyze verify` and its `systemd-analyze security` exposure is
# reported and bounded; lintian finds no error or warning; `dpkg --purge`
# removes the programs and keeps the database. The machine is left as it
# was found. On PostgreSQL (pg.integration.test_package) the installed
# daemon keeps its store in the test's database (`db =` in the INI), and its
# --backup refuses it, naming pg_dump.
#
# Needs root (it installs packages) and a machine without yuebao installed:
# skipped (exit 77) otherwise, and in the sanitizer build (it packages the
# programs, not their memory).
# shellcheck source=tests/integration/preamble.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/preamble.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: installing packages needs root"
	exit 77
fi
if grep -q '^YB_SANITIZE:BOOL=ON' "$YB_BIN/../CMakeCache.txt" 2>/dev/null; then
	echo "skipped in the sanitizer build"
	exit 77
fi
if dpkg-query -W yuebao yuebaod >/dev/null 2>&1 || getent passwd yuebao >/dev/null ||
	[ -e /etc/yuebao ] || [ -e /var/lib/yuebao ]; then
	echo "skipped: yuebao is installed on this machine, or its user or directories exist"
	exit 77
fi

INSTALLED=""
on_exit() {
	[ -n "$INSTALLED" ] || return 0
	dpkg --purge yuebaod yuebao >/dev/null 2>&1 || true
	rm -rf /etc/yuebao /var/lib/yuebao
	userdel yuebao 2>/dev/null || true
}

# as_service ARGS...: yuebaod as the unit runs it: user and group yuebao.
as_service() {
	setpriv --reuid=yuebao --regid=yuebao --init-groups /usr/bin/yuebaod "$@"
}

client() {
	local role=$1 code=$2
	shift 2
	/usr/bin/yuebao --server "$YB_URL" --ca "$YB_PKI/ca.crt" \
		--cert "$YB_PKI/$role-$code.crt" --key "$YB_PKI/$role-$code.key" "$@"
}

test_install() {
	local debs
	debs=$("$YB_SRC/scripts/package.sh") || { fail "scripts/package.sh builds the packages"; return 1; }
	check_eq "scripts/package.sh makes the two packages" \
		"$(xargs -n1 basename <<<"$debs" | sed 's/_.*//' | sort | xargs)" "yuebao yuebaod"
	# Errors and warnings fail; the informational tags left are printed (see
	# docs/deployment.md for why each is accepted).
	local tags
	# shellcheck disable=SC2086 # two paths
	tags=$(lintian --allow-root --tag-display-limit 0 $debs 2>&1)
	check_eq "lintian finds no error or warning" "$(grep -E '^[EW]: ' <<<"$tags" || true)" ""
	# shellcheck disable=SC2086 # two paths
	tags=$(lintian --allow-root --tag-display-limit 0 -I --pedantic $debs 2>&1 | grep -E '^[IP]: ' || true)
	echo "lintian, informational and pedantic tags left:"
	sed 's/^/    /' <<<"$tags"
	INSTALLED=1
	# shellcheck disable=SC2086 # two paths
	check "dpkg -i installs them" dpkg -i $debs
	check_eq "the yuebao system user exists, without a login shell" \
		"$(getent passwd yuebao | cut -d: -f6,7)" "/var/lib/yuebao:/usr/sbin/nologin"
	check_eq "/var/lib/yuebao is yuebao's, 0750" "$(stat -c '%U:%G %a' /var/lib/yuebao)" \
		"yuebao:yuebao 750"
	check_eq "/etc/yuebao is root:yuebao, 0750" "$(stat -c '%U:%G %a' /etc/yuebao)" "root:yuebao 750"
	check_match "yuebaod --version names the libraries" "$(/usr/bin/yuebaod --version)" \
		"^yuebaod [0-9.]+ \(nng 1\.5\.[0-9]+, SQLite 3\.[0-9.]+, OpenSSL 3\."
	check_match "man yuebao works" "$(MANPAGER=cat man yuebao 2>&1 | head -5)" "^ +yuebao +. +submit, +review"
	check_match "man yuebaod.ini works" "$(MANPAGER=cat man 5 yuebaod.ini 2>&1 | head -5)" \
		"^ +yuebaod.ini +. +settings +of +the +yuebao +daemon"
	check_match "bash completion is installed" \
		"$(cat /usr/share/bash-completion/completions/yuebao)" "complete -F _yuebao yuebao"
	local out rc=0
	out=$(as_service 2>&1) || rc=$?
	check_eq "without certificates the daemon does not start" "$rc" "1"
	check_match "and says which file is missing" "$out" "/etc/yuebao/server.crt"
}

test_serve() {
	local log="$TMP/yuebaod.log" value
	/usr/bin/yuebao-certs init "$YB_PKI" >/dev/null
	for spec in "branch ZFW-JG" "central JGDW"; do
		# shellcheck disable=SC2086 # ROLE CODE
		/usr/bin/yuebao-certs issue "$YB_PKI" $spec >/dev/null
	done
	check "yuebao-certs deploy puts the daemon's files, not the CA key, in /etc/yuebao" \
		/usr/bin/yuebao-certs deploy "$YB_PKI" /etc/yuebao
	check_eq "the server key there is root:yuebao 0640, and no CA key is" \
		"$(stat -c '%U:%G %a' /etc/yuebao/server.key) $(ls /etc/yuebao/ca.key 2>/dev/null | wc -l)" \
		"root:yuebao 640 0"
	cp "$ORGS" /etc/yuebao/
	# A free port of the loopback interface instead of the package's 7443.
	sed -i 's|^listen = .*|listen = tls+tcp://127.0.0.1:0|' /etc/yuebao/yuebaod.ini
	# On PostgreSQL (pg.integration.test_package): the test's database.
	[ -z "${YB_TEST_PG_URL:-}" ] ||
		sed -i "s|^db = .*|db = ${YB_TEST_PG_URL//&/\\&}|" /etc/yuebao/yuebaod.ini
	# Not through as_service: $! must be the daemon itself (setpriv execs it).
	setpriv --reuid=yuebao --regid=yuebao --init-groups /usr/bin/yuebaod >/dev/null 2>>"$log" &
	YB_DAEMON_PID=$!
	yb_wait_until 30 _yb_listening "$log" 0 || true
	if [ -z "$YB_URL" ]; then
		fail "yuebaod starts as user yuebao with /etc/yuebao/yuebaod.ini" "$(cat "$log")"
		return 1
	fi
	pass "yuebaod starts as user yuebao with /etc/yuebao/yuebaod.ini"
	if sqlite_only "the database file in /var/lib/yuebao"; then
		check_eq "its database is created in /var/lib/yuebao, yuebao's and 0640" \
			"$(stat -c '%U %a' /var/lib/yuebao/yuebao.db)" "yuebao 640"
	fi
	check "a branch submits a return" \
		client branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01
	value=$(grep '^study_sessions,' "$RETURNS/ZFW-JG/2026-01.csv" | awk -F, '{print $NF}')
	check_eq "the central office consolidates it" \
		"$(client central JGDW consolidate --org ZFW-JG --period 2026-01 --format json |
			jq -r '.groups[0].figures[] | select(.code == "study_sessions") | .value')" "$value"

	local i
	for ((i = 1; i <= 30; i++)); do
		client branch ZFW-JG submit "$RETURNS/ZFW-JG/2026-01.csv" --period 2026-01 \
			--reason "amendment $i" >/dev/null 2>&1 || true
	done &
	BACKGROUND+=($!)
	if [ -z "${YB_TEST_PG_URL:-}" ]; then
		check "a backup as user yuebao while the branch submits" \
			as_service --backup /var/lib/yuebao/backup.db
		stop_background
		check_eq "the backup is yuebao's, 0640, and passes quick_check" \
			"$(stat -c '%U %a' /var/lib/yuebao/backup.db) $(sqlite3 /var/lib/yuebao/backup.db 'PRAGMA quick_check')" \
			"yuebao 640 ok"
	else
		check_exit "yuebaod --backup refuses PostgreSQL and names pg_dump" 1 \
			"back it up with pg_dump" as_service --backup /var/lib/yuebao/backup.db
		stop_background
		check_eq "the returns are in the PostgreSQL database" \
			"$(db_sql "SELECT count(*) > 0 FROM revisions WHERE org = 'ZFW-JG'")" "t"
	fi
	yb_stop_daemon
	if [ "$YB_DAEMON_STATUS" = 0 ]; then
		pass "SIGTERM stops it cleanly"
	else
		fail "SIGTERM stops it cleanly (exit $YB_DAEMON_STATUS)" "$(tail -5 "$log")"
	fi
}

test_unit() {
	if ! command -v systemd-analyze >/dev/null; then
		fail "systemd-analyze is installed (scripts/setup.sh installs systemd)"
		return
	fi
	check "systemd-analyze verify accepts yuebaod.service" \
		systemd-analyze verify /lib/systemd/system/yuebaod.service
	local score
	score=$(systemd-analyze security --offline=true /lib/systemd/system/yuebaod.service 2>&1 |
		sed -n 's/.*Overall exposure level for yuebaod.service: \([0-9.]*\).*/\1/p')
	echo "systemd-analyze security: overall exposure $score (0 safest, 10 unsafe)"
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s < 3.0) }'; then
		pass "the unit's exposure is below 3.0 (\"OK\"): $score"
	else
		fail "the unit's exposure is below 3.0" "$score"
	fi
}

test_purge() {
	check "dpkg --purge removes both packages" dpkg --purge yuebaod yuebao
	check_eq "the programs are gone" \
		"$(ls /usr/bin/yuebao /usr/bin/yuebaod /usr/bin/yuebao-certs 2>/dev/null | wc -l)" "0"
	if [ -z "${YB_TEST_PG_URL:-}" ]; then
		check_eq "the database is kept" "$(ls /var/lib/yuebao/yuebao.db)" "/var/lib/yuebao/yuebao.db"
	else
		check_eq "the database is kept" \
			"$(db_sql "SELECT count(*) > 0 FROM revisions WHERE org = 'ZFW-JG'")" "t"
	fi
}

test_install && test_serve
test_unit
test_purge
assert_summary
