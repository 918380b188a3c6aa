#!/usr/bin/env bash
# Installs the Debian 12 packages yuebao needs (only those missing) and builds
# it with CMake into ./build (or $YB_BUILD_DIR, with extra $YB_CMAKE_FLAGS).
# Used by the README's two commands and by CI.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${YB_BUILD_DIR:-$root/build}

packages=(
	build-essential cmake pkg-config gettext
	protobuf-c-compiler libprotobuf-c-dev
	libnng-dev
	libsqlite3-dev sqlite3
	libssl-dev openssl
	libcsv-dev libinih-dev libjansson-dev libcmocka-dev
	# sd_notify: yuebaod tells systemd when it is ready (Type=notify).
	libsystemd-dev
	# yuebao report --format xlsx writes Excel files with libxlsxwriter.
	libxlsxwriter-dev
	# yuebao submit reads filled-in xlsx returns: libzip opens the archive,
	# expat parses its XML parts.
	libzip-dev libexpat1-dev
	# yuebaod --db postgresql://...: the store on PostgreSQL through libpq;
	# the tests start throwaway clusters of Debian's PostgreSQL 15 server.
	libpq-dev postgresql-15
	faketime sslscan
	# glibc's own translations: test_language checks that they never leak
	# into the wrong language (they do with LANGUAGE=zh_CN set process-wide).
	libc-l10n
	# jq reads the client's JSON output in the integration tests.
	jq
	# python3 reads the report's xlsx (zipfile + XML) and HTML in the tests.
	python3
	tzdata
	# test_package: systemd-analyze checks the unit, man shows the pages,
	# lintian checks the packages.
	systemd man-db lintian
	# test_clerk: a return filled in and saved by LibreOffice Calc.
	libreoffice-calc-nogui
	# bench/run.sh --audit: GNU time's peak RSS of yuebao audit verify.
	time
	# yuebaod --log-key pkcs11:...: OpenSSL's pkcs11 engine (Debian 12 has no
	# PKCS#11 provider); test_logkey keeps the log key on a SoftHSM token.
	libengine-pkcs11-openssl softhsm2
)

install_missing() {
	local missing=() p
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "setup: installing ${missing[*]}"
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

install_missing
# shellcheck disable=SC2086 # YB_CMAKE_FLAGS is a list of flags
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${YB_CMAKE_FLAGS:-} >/dev/null
cmake --build "$build_dir" -j "$(nproc)" -- --no-print-directory >/dev/null
echo "setup: built $build_dir/bin/yuebaod and $build_dir/bin/yuebao"
