#!/usr/bin/env bash
# Build the Debian package: libaioring_<version>_<arch>.deb, built against
# the source of the installed fio (scripts/setup.sh fetches it), depending
# on exactly that fio version.  Prints the .deb's path as its last line.
#
#   scripts/package.sh            # into build-deb/ (BUILD=... to change)
#
# Then: sudo apt-get install ./build-deb/libaioring_*.deb
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$repo/build-deb}

fio_src=$("$repo/scripts/setup.sh" | tail -n 1)
werror=OFF
[ -n "${CI:-}" ] && werror=ON
# /usr: GNUInstallDirs then puts the library in lib/<multiarch>.
cmake -S "$repo" -B "$build" -DFIO_SOURCE_DIR="$fio_src" \
	-DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DAIOR_BUILD_TESTS=OFF -DAIOR_WERROR="$werror" >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
rm -f "$build"/libaioring_*.deb
(cd "$build" && cpack -G DEB >&2)
debs=("$build"/libaioring_*.deb)
[ -f "${debs[0]}" ] || { echo "package: cpack made no libaioring_*.deb in $build" >&2; exit 1; }
dpkg-deb -f "${debs[0]}" Package Version Architecture Depends >&2
echo "${debs[0]}"
