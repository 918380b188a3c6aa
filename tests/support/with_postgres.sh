#!/usr/bin/env bash
# shellcheck disable=SC2317 # shellcheck 0.9 takes what the EXIT trap runs for dead code
# with_postgres.sh CMD [ARGS...]: runs CMD against a throwaway PostgreSQL
# cluster of its own and exits with CMD's status.
#
# The cluster lives in a fresh `mktemp -d` directory DIR, also its socket
# directory; it listens on that Unix socket only (listen_addresses = ''). Its
# superuser is yuebao (auth trust), its database yuebao_test; fsync is on. As
# root (which PostgreSQL refuses) the server runs as `postgres` (else `nobody`),
# who then owns DIR: $TMPDIR must be one that user can enter. CMD runs with:
#
#   YB_TEST_PG      host=DIR port=5432 user=yuebao dbname=yuebao_test
#   YB_TEST_PG_URL  postgresql:///yuebao_test?host=DIR&port=5432&user=yuebao
#                   (with the slashes of DIR written %2F)
#   YB_TEST_PG_DIR  DIR; the data directory is DIR/data, the log DIR/server.log
#   YB_TEST_PG_CTL  a command prefix (for word splitting) running pg_ctl on the
#                   cluster as its user: `$YB_TEST_PG_CTL stop -m immediate`;
#                   `$YB_TEST_PG_CTL start -w` starts it again as it was
#   YB_TEST_PG_BIN  the server's programs (initdb, pg_ctl, pg_basebackup)
#   YB_TEST_PG_AS   words that run a command as the server's user ("" when
#                   not root), for a test that makes another cluster in DIR
#
# On exit, also on failure, SIGINT, SIGTERM or SIGHUP (not SIGKILL), CMD and its
# descendants get SIGTERM, the server (and any other a test started from a
# data directory in DIR: a standby) is stopped (-m immediate), DIR removed.
# Exits 77 (CTest's SKIP_RETURN_CODE) without running CMD when the server
# binaries are not installed; 1 when the cluster does not start.
set -euo pipefail

bindir=/usr/lib/postgresql/15/bin
if [ ! -x "$bindir/initdb" ] && command -v pg_config >/dev/null; then
	bindir=$(pg_config --bindir)
fi
[ -x "$bindir/initdb" ] || { echo "skipped: PostgreSQL server binaries not installed" >&2; exit 77; }
[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

port=5432
run_as=()
if [ "$(id -u)" -eq 0 ]; then
	pguser=postgres
	id -u "$pguser" >/dev/null 2>&1 || pguser=nobody
	run_as=(runuser -u "$pguser" --)
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/yb-pg.XXXXXX")
data=$dir/data
log=$dir/server.log
child=

# as_pg CMD...: CMD as the server's user, from a directory that user can read.
as_pg() { (cd "$dir" && "${run_as[@]}" "$@"); }
pg() { as_pg "$bindir/pg_ctl" -D "$data" "$@"; }
tree() { local c; for c in $(pgrep -P "$1" 2>/dev/null); do echo "$c"; tree "$c"; done; }
cleanup() {
	local rc=$? pid kids=()
	set +e
	trap - EXIT INT TERM HUP
	if [ -n "$child" ]; then
		# CMD and all it started: a shell's children would outlive it.
		mapfile -t kids < <(tree "$child")
		kill -TERM "$child" "${kids[@]}" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	# The cluster, and any other a test made in DIR (a standby).
	for pid in "$dir"/*/postmaster.pid; do
		[ -f "$pid" ] || continue
		as_pg "$bindir/pg_ctl" -D "${pid%/postmaster.pid}" stop -m immediate -t 10 >/dev/null 2>&1
		# Stopped or not, nothing of the server may outlive its files.
		pid=$(head -n 1 "$pid" 2>/dev/null) && kill -KILL "$pid" 2>/dev/null
	done
	rm -rf -- "$dir"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

[ ${#run_as[@]} -eq 0 ] || chown "$pguser:" "$dir"
# Others may reach the socket in it (a daemon run as another user, as
# test_package runs the packaged one), not list or read it.
chmod 711 "$dir"
for locale in --locale=C.UTF-8 --no-locale; do
	rm -rf -- "$data"
	as_pg "$bindir/initdb" -D "$data" --auth=trust --username=yuebao \
		--encoding=UTF8 "$locale" --no-sync >"$dir/initdb.log" 2>&1 && break
done
if [ ! -f "$data/PG_VERSION" ]; then
	echo "with_postgres: initdb failed:" >&2
	tail -n 20 "$dir/initdb.log" >&2
	exit 1
fi
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = on
synchronous_commit = on
EOF
if ! pg start -w -t 30 -l "$log" >/dev/null 2>&1 ||
	! "$bindir/pg_isready" -q -h "$dir" -p "$port" -U yuebao -d postgres ||
	! "$bindir/createdb" -h "$dir" -p "$port" -U yuebao -O yuebao yuebao_test; then
	echo "with_postgres: the PostgreSQL cluster did not start; server log:" >&2
	tail -n 30 "$log" >&2 2>/dev/null
	exit 1
fi

export YB_TEST_PG="host=$dir port=$port user=yuebao dbname=yuebao_test"
export YB_TEST_PG_URL="postgresql:///yuebao_test?host=${dir//\//%2F}&port=$port&user=yuebao"
export YB_TEST_PG_DIR="$dir"
export YB_TEST_PG_CTL="${run_as[*]:+${run_as[*]} }$bindir/pg_ctl -D $data"
export YB_TEST_PG_BIN="$bindir" YB_TEST_PG_AS="${run_as[*]}"

# In the background so that a signal is handled at once; <&0 keeps CMD's stdin.
"$@" <&0 &
child=$!
rc=0
wait "$child" || rc=$?
child=
exit "$rc"
