#!/usr/bin/env bash
# Install what a fresh Debian/Ubuntu machine lacks to build and test
# libaioring, and prepare the source of the *installed* fio version,
# configured, so the engine is built against the very headers of the fio
# that will load it.  Idempotent: a second run only checks.
#
# Prints, as its last line, the fio source directory to build against.
#
# Environment:
#   FIO_SRC       use this configured fio tree instead (skips the download)
#   AIOR_CACHE    where the fio source is kept (default ~/.cache/libaioring)
#   AIOR_NO_APT=1 never call apt-get (everything is already installed)
#   AIOR_PERF_ONLY=1  a performance job: skip the test-only packages
set -euo pipefail

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: install the packages listed in README.md by hand"
	SUDO=sudo
fi

# To build and to run fio with the engine.
PKGS=(build-essential cmake pkg-config fio libaio-dev check python3
      dpkg-dev e2fsprogs util-linux procps gnuplot-nox)
# The version matrix (scripts/fio-matrix.sh) builds fio from source: zlib
# so every fio is configured alike; the package test: dpkg-shlibdeps
# (dpkg-dev, above) and apt-get.
PKGS+=(zlib1g-dev)
# The exact counts of every A/B of builds (perf/aiorperf/counts.py):
# instructions by callgrind, system calls by strace.
PKGS+=(valgrind strace)
# The package round trip checks the .deb with lintian.
PKGS+=(lintian)
# Only for some tests (FUSE fault file system, libFuzzer, valgrind, the
# uncached write test's xfs): a host without them skips those tests and
# says so.
TEST_PKGS=(libfuse3-dev fuse3 clang libclang-rt-dev valgrind
	   linux-perf	# linux-perf: perf/compare.py profile
	   xfsprogs)	# xfsprogs: int_uncached_write (ext4 keeps the pages)

. "$(dirname "$0")/apt.sh"
mapfile -t missing < <(aior_missing "${PKGS[@]}")
if [ "${#missing[@]}" -gt 0 ]; then
	[ "${AIOR_NO_APT:-0}" = 1 ] && die "missing packages: ${missing[*]}"
	say "installing ${missing[*]}"
	aior_apt_install "${missing[@]}"
fi
if [ "${AIOR_NO_APT:-0}" != 1 ] && [ "${AIOR_PERF_ONLY:-0}" != 1 ]; then
	for p in $(aior_missing "${TEST_PKGS[@]}"); do
		aior_apt_install "$p" ||
			say "could not install $p: the tests that need it will skip"
	done
fi

if [ -n "${FIO_SRC:-}" ]; then
	[ -f "$FIO_SRC/ioengines.h" ] || die "FIO_SRC=$FIO_SRC has no ioengines.h: not a fio source tree"
	[ -f "$FIO_SRC/config-host.h" ] || (cd "$FIO_SRC" && ./configure >&2)
	[ -f "$FIO_SRC/FIO-VERSION-FILE" ] || (cd "$FIO_SRC" && sh FIO-VERSION-GEN >&2)
	echo "$FIO_SRC"
	exit 0
fi

fio_pkgver=$(dpkg-query -W -f='${Version}' fio)          # e.g. 3.33-3
fio_upver=${fio_pkgver#*:}; fio_upver=${fio_upver%-*}    # e.g. 3.33
cache=${AIOR_CACHE:-$HOME/.cache/libaioring}
src="$cache/fio-$fio_pkgver/fio-$fio_upver"

if [ ! -f "$src/config-host.h" ] || [ ! -f "$src/FIO-VERSION-FILE" ]; then
	# apt-get source needs a deb-src entry; add one mirroring the
	# machine's own Debian sources if there is none.
	if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
		say "adding a deb-src entry for $codename"
		$SUDO tee /etc/apt/sources.list.d/libaioring-src.sources >/dev/null <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		aior_apt_updated=0
	fi
	aior_apt_update
	rm -rf "$cache/fio-$fio_pkgver"
	mkdir -p "$cache/fio-$fio_pkgver"
	say "fetching the source of fio $fio_pkgver"
	(cd "$cache/fio-$fio_pkgver" && apt-get source -qq "fio=$fio_pkgver" >&2) ||
		die "apt-get source fio=$fio_pkgver failed; point FIO_SRC at a fio $fio_upver tree"
	[ -d "$src" ] || die "expected $src after apt-get source"
	say "configuring $src"
	(cd "$src" && ./configure >"$src/configure.log" 2>&1) ||
		die "fio ./configure failed, see $src/configure.log"
	(cd "$src" && sh FIO-VERSION-GEN >&2)
fi
echo "$src"
