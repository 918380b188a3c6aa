#!/usr/bin/env bash
# Builds the Debian packages yuebao_VERSION_ARCH.deb and yuebaod_VERSION_ARCH.deb
# with CPack from the CMake install rules, in build-deb/ (a Release build
# installed under /usr, so yuebaod reads /etc/yuebao/yuebaod.ini). Prints
# the paths of the two packages.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${YB_DEB_DIR:-$root/build-deb}
# Debian's hardening flags (fortify, stack protector, relro, bindnow), as
# dpkg-buildpackage would set them.
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
# CMake reads CFLAGS and LDFLAGS, not CPPFLAGS (where -D_FORTIFY_SOURCE is).
export CFLAGS="$CPPFLAGS $CFLAGS"
YB_BUILD_DIR="$build" YB_CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DYB_BUILD_TESTS=OFF" \
	"$root/scripts/setup.sh" >/dev/null
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >/dev/null 2>&1) || { echo "package.sh: cpack failed; run it in $build to see why" >&2; exit 1; }
ls "$build"/yuebao_*.deb "$build"/yuebaod_*.deb
