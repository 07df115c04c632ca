#!/usr/bin/env bash
# Install round trips, as root, on the machine's own fio (the one
# scripts/setup.sh builds against):
#
#  A. `cmake --install` of a default build (prefix /usr/local): the library
#     in the standard library directory, ldconfig run; every spelling
#     README.md documents loads it from an unrelated directory; removed
#     again from install_manifest.txt.
#  B. The Debian package (scripts/package.sh): control fields, contents,
#     `apt-get install ./<deb>`, every spelling and `fio --enghelp=` from an
#     unrelated directory, `apt-get purge`, and no file of it left.
#  C. In the build directory, with nothing installed:
#     --ioengine=external:./libaioring.so works; external:libaioring.so
#     (no slash) does not, and neither does it from any other directory.
#  D. With --dynamic-fio TARBALL (a fio release tarball): that fio built
#     with --dynamic-libengines (cached in ~/.cache/libaioring/dynamic/),
#     the engine built against it and `cmake --install`ed: the copy in
#     fio's engine directory makes --ioengine=libaioring work; removed
#     again.
#
# Every fio run is a real verify job (crc32c over random 4k writes,
# O_DIRECT, QD32) that must exit 0 and print the engine's counter line;
# the spellings that must fail are checked for fio's exact reason.
# Exit 0: all passed; 1: a check failed; 77: not root.
set -euo pipefail

me=roundtrip
repo=$(cd "$(dirname "$0")/../.." && pwd)
fail() { printf '%s: FAIL: %s\n' "$me" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$me" "$*"; }
[ "$(id -u)" = 0 ] || { printf '%s: SKIP: needs root (apt-get install, cmake --install)\n' "$me" >&2; exit 77; }

dynamic_tar=
while [ $# -gt 0 ]; do
	case $1 in
	--dynamic-fio)
		[ -f "${2:-}" ] || fail "--dynamic-fio wants a fio tarball, got '${2:-}'"
		dynamic_tar=$(readlink -f "$2"); shift 2 ;;
	*) fail "unknown argument '$1' (see the header of $0)" ;;
	esac
done
fio=$(command -v fio) || fail "no fio on PATH (scripts/setup.sh installs it)"
work=$(mktemp -d /dev/shm/aior-pkg.XXXXXX)
unrelated=$work/elsewhere
mkdir -p "$unrelated"
cleanup() {
	rm -rf -- "$work"
}
trap cleanup EXIT

pkg_installed() {
	dpkg-query -W -f='${Status}' libaioring 2>/dev/null | grep -q 'install ok installed'
}
pkg_installed && fail "libaioring is already installed: 'apt-get purge libaioring' first"
if ldconfig -p | grep -q 'libaioring\.so '; then
	fail "a libaioring.so is already in the dynamic linker's cache: $(ldconfig -p | grep 'libaioring\.so ' | head -n1)"
fi

# in_ld_cache LIB: the dynamic linker's cache resolves libaioring.so to LIB
# (compared as real paths: with merged /usr it says /lib/...).
in_ld_cache() {
	local p
	p=$(ldconfig -p | sed -n 's/^[[:space:]]*libaioring\.so .*=> //p' | head -n1)
	[ -n "$p" ] && [ "$(readlink -f "$p")" = "$(readlink -f "$1")" ]
}

# spell_ok WHERE ENGINE: a verify job with --ioengine=ENGINE, run in WHERE.
spell_ok() {
	local where=$1 engine=$2 out rc stats
	out=$work/fio.out
	set +e
	(cd "$where" && timeout -k 5 60 "$fio" --name=roundtrip --ioengine="$engine" \
		--filename="$work/data" --size=16m --rw=randwrite --bs=4k \
		--iodepth=32 --direct=1 --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --engine_stats=1) >"$out" 2>&1
	rc=$?
	set -e
	stats=$(grep "^libaioring: job 'roundtrip': contexts=" "$out" | head -n1 || true)
	if [ "$rc" != 0 ] || ! grep -q 'err= 0:' "$out" || [ -z "$stats" ] ||
	   grep -Eq 'verify: bad|bad magic|io_u error' "$out"; then
		cat "$out" >&2
		fail "--ioengine=$engine in $where: exit $rc, expected a verified job with the engine's counters"
	fi
	say "ok   --ioengine=$engine (in $where): exit 0, $(sed -n 's/^ *issued rwts: total=\([0-9]*\),\([0-9]*\),.*/read back \1 of \2 writes/p' "$out" | head -n1)"
	say "     ${stats#libaioring: job \'roundtrip\': }"
}

# spell_fails WHERE ENGINE REGEX: fio must refuse --ioengine=ENGINE, saying REGEX.
spell_fails() {
	local where=$1 engine=$2 re=$3 out rc
	out=$work/fio.out
	set +e
	(cd "$where" && timeout -k 5 60 "$fio" --name=roundtrip --ioengine="$engine" \
		--filename="$work/data" --size=16m --rw=randread --bs=4k) >"$out" 2>&1
	rc=$?
	set -e
	if [ "$rc" = 0 ] || ! grep -Eq -- "$re" "$out"; then
		cat "$out" >&2
		fail "--ioengine=$engine in $where: exit $rc, expected a failure matching /$re/"
	fi
	say "ok   --ioengine=$engine (in $where) fails as documented: $(grep -E -- "$re" "$out" | head -n1)"
}

# enghelp_ok ENGINE: fio --enghelp lists every option of engine/options.c.
enghelp_ok() {
	local engine=$1 out rc names n
	out=$work/enghelp.out
	set +e
	(cd "$unrelated" && timeout -k 5 30 "$fio" --enghelp="$engine") >"$out" 2>&1
	rc=$?
	set -e
	names=$(sed -n 's/^[[:space:]]*\.name[[:space:]]*=[[:space:]]*"\([a-z_]*\)".*/\1/p' "$repo/engine/options.c")
	[ -n "$names" ] || fail "no option names found in engine/options.c"
	n=0
	for o in $names; do
		grep -Eq "^[[:space:]]*$o[[:space:]]*:" "$out" || {
			cat "$out" >&2
			fail "fio --enghelp=$engine (exit $rc) does not list '$o'"
		}
		n=$((n + 1))
	done
	say "ok   fio --enghelp=$engine: all $n options listed"
}

# ---- A. cmake --install ----
say "== A. cmake --install (default prefix)"
build=$repo/build-install
BUILD=$build "$repo/scripts/build.sh" -DAIOR_BUILD_TESTS=OFF >/dev/null
inst_log=$work/install.log
cmake --install "$build" >"$inst_log" 2>&1 || { cat "$inst_log" >&2; fail "cmake --install failed"; }
sed 's/^/     /' "$inst_log"
lib=$(grep -o '/[^ ]*/libaioring\.so$' "$inst_log" | head -n1)
[ -n "$lib" ] && [ -f "$lib" ] || fail "cmake --install installed no libaioring.so"
manifest=$build/install_manifest.txt
uninstall_a() {
	[ -f "$manifest" ] || return 0
	xargs -d '\n' rm -f -- <"$manifest"
	rmdir --ignore-fail-on-non-empty "$(dirname "$lib")/../share/doc/libaioring" 2>/dev/null || true
	ldconfig
}
trap 'uninstall_a; cleanup' EXIT
grep -q 'ran ldconfig (exit 0)' "$inst_log" || fail "cmake --install did not run ldconfig"
in_ld_cache "$lib" ||
	fail "$lib is not in the dynamic linker's cache after cmake --install"
say "ok   $lib, in the dynamic linker's cache: $(ldconfig -p | grep 'libaioring\.so ' | sed 's/^[[:space:]]*//')"
spell_ok "$unrelated" "external:$lib"
spell_ok "$unrelated" "libaioring.so"
enghelp_ok libaioring.so
spell_fails "$unrelated" "external:libaioring.so" 'invalid external ioengine path "libaioring\.so"'
uninstall_a
trap cleanup EXIT
[ ! -e "$lib" ] || fail "$lib still there after removing install_manifest.txt's files"
ldconfig -p | grep -q 'libaioring\.so ' && fail "libaioring.so still in the linker's cache"
say "ok   removed again ($(grep -c '' "$manifest") files of install_manifest.txt)"

# ---- B. the Debian package ----
say "== B. the Debian package"
deb=$("$repo/scripts/package.sh" 2>"$work/package.log" | tail -n 1) ||
	{ cat "$work/package.log" >&2; fail "scripts/package.sh failed"; }
[ -f "$deb" ] || fail "scripts/package.sh printed '$deb', not a file"
case $(basename "$deb") in
libaioring_*_"$(dpkg --print-architecture)".deb) ;;
*) fail "$(basename "$deb"): expected libaioring_<version>_$(dpkg --print-architecture).deb" ;;
esac
fio_ver=$(dpkg-query -W -f='${Version}' fio)
depends=$(dpkg-deb -f "$deb" Depends)
say "$(basename "$deb"): Depends: $depends"
[[ ", $depends," == *", fio (= $fio_ver),"* ]] || fail "Depends does not pin fio (= $fio_ver)"
[[ $depends == *libaio* ]] || fail "Depends does not name libaio"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
lib=/usr/lib/$multiarch/libaioring.so
files=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' | grep -v '/$')
printf '%s\n' "$files" | sed 's/^/     /'
grep -qx "$lib" <<<"$files" || fail "the package has no $lib"
grep -qx /usr/share/doc/libaioring/README.md <<<"$files" || fail "the package has no README.md under /usr/share/doc/libaioring"
grep -qx /usr/share/doc/libaioring/engine-options.md <<<"$files" || fail "the package has no option docs under /usr/share/doc/libaioring"
# Read whole before matching: grep -q stopping at the match would kill tar
# with SIGPIPE, and pipefail would call that a missing file.
copyright=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/share/doc/libaioring/copyright 2>/dev/null) || true
grep -qx 'License: BSD-3-Clause' <<<"$copyright" ||
	fail "the package has no copyright file naming its licence under /usr/share/doc/libaioring"
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./triggers 2>/dev/null | grep -qx 'activate-noawait ldconfig' ||
	fail "the package has no ldconfig trigger"
say "ok   library in /usr/lib/$multiarch, docs and copyright in /usr/share/doc/libaioring, ldconfig trigger"
# Not native to Debian (it has a Debian revision): changelog.Debian.gz,
# a Debian changelog whose version is the package's (policy 12.7).
chg=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/share/doc/libaioring/changelog.Debian.gz 2>/dev/null | gzip -dc 2>/dev/null) || true
deb_ver=$(dpkg-deb -f "$deb" Version)
[[ $(head -n1 <<<"$chg") == "libaioring ($deb_ver) "* ]] ||
	fail "the package has no changelog.Debian.gz whose first entry is $deb_ver under /usr/share/doc/libaioring"
say "ok   changelog.Debian.gz: $(head -n1 <<<"$chg")"
# lintian: no error and no warning; the overrides (cmake/lintian-overrides,
# shipped in the package) each say why.
command -v lintian >/dev/null || fail "lintian not found (scripts/setup.sh installs it)"
set +e
lintian --fail-on error,warning "$deb" >"$work/lintian.log" 2>&1
rc=$?
set -e
# (grep -v finds nothing when lintian is silent: not a failure.)
grep -v '^running with root privileges' "$work/lintian.log" | sed 's/^/     /' || true
[ "$rc" = 0 ] || fail "lintian $(basename "$deb") exited $rc (above)"
say "ok   lintian $(basename "$deb"): no error or warning ($(grep -c '^libaioring: ' "$repo/cmake/lintian-overrides") overrides, each justified in cmake/lintian-overrides)"

trap 'apt-get purge -y -qq libaioring >/dev/null 2>&1 || true; cleanup' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log" >&2; fail "apt-get install $deb failed"; }
pkg_installed || fail "apt-get install succeeded but libaioring is not installed"
say "ok   apt-get install $deb: $(dpkg-query -W -f='${Package} ${Version} ${Status}' libaioring)"
in_ld_cache "$lib" ||
	fail "$lib is not in the dynamic linker's cache after install"
say "ok   in the dynamic linker's cache: $(ldconfig -p | grep 'libaioring\.so ' | sed 's/^[[:space:]]*//')"
spell_ok "$unrelated" "external:$lib"
spell_ok "$unrelated" "libaioring.so"
enghelp_ok libaioring.so
enghelp_ok "$lib"
spell_fails "$unrelated" "external:libaioring.so" 'invalid external ioengine path "libaioring\.so"'
if grep -q '^#define CONFIG_DYNAMIC_ENGINES' "$("$repo/scripts/setup.sh" 2>/dev/null | tail -n 1)/config-host.h"; then
	spell_ok "$unrelated" "libaioring"
else
	spell_fails "$unrelated" "libaioring" 'engine libaioring not loadable'
fi

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq libaioring >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log" >&2; fail "apt-get purge libaioring failed"; }
trap cleanup EXIT
pkg_installed && fail "libaioring still installed after purge"
left=()
for f in $files /usr/share/doc/libaioring; do
	[ -e "$f" ] && left+=("$f")
done
[ "${#left[@]}" = 0 ] || fail "left after purge: ${left[*]}"
ldconfig -p | grep -q 'libaioring\.so ' && fail "libaioring.so still in the linker's cache after purge"
dpkg-query -W -f='${Status}' libaioring 2>/dev/null | grep -q 'config-files' &&
	fail "purge left the package's config files registered"
say "ok   apt-get purge libaioring: no file of the package left, not in the linker's cache"

# ---- C. the build directory, nothing installed ----
say "== C. in the build directory, nothing installed"
spell_ok "$build" "external:./libaioring.so"
spell_fails "$build" "external:libaioring.so" 'libaioring\.so: cannot open shared object file'
spell_fails "$unrelated" "external:./libaioring.so" 'invalid external ioengine path "\./libaioring\.so"'

# ---- D. a fio with dynamic engines ----
if [ -z "$dynamic_tar" ]; then
	say "== D. not run: no --dynamic-fio TARBALL"
	say "all round trips passed (A, B, C)"
	exit 0
fi
say "== D. a fio built with --dynamic-libengines: $(basename "$dynamic_tar")"
dkey=${AIOR_CACHE:-$HOME/.cache/libaioring}/dynamic/$(basename "$dynamic_tar" .tar.gz)-$(sha256sum <"$dynamic_tar" | cut -c1-12)
dsrc=$dkey/src
if [ ! -f "$dkey/built" ]; then
	rm -rf "$dkey"
	mkdir -p "$dkey/unpack"
	tar -xf "$dynamic_tar" -C "$dkey/unpack"
	mv "$dkey/unpack"/* "$dsrc"
	rmdir "$dkey/unpack"
	(cd "$dsrc" && ./configure --disable-native --dynamic-libengines) >"$dkey/configure.log" 2>&1 ||
		fail "fio configure --dynamic-libengines failed: see $dkey/configure.log"
	make -C "$dsrc" -j"$(nproc)" fio >"$dkey/make.log" 2>&1 ||
		fail "fio make failed: see $dkey/make.log"
	echo ok >"$dkey/built"
fi
grep -q '^#define CONFIG_DYNAMIC_ENGINES' "$dsrc/config-host.h" ||
	fail "$dsrc was not configured with dynamic engines"
dfio=$dsrc/fio
dbuild=$repo/build-dynamic
cmake -S "$repo" -B "$dbuild" -DFIO_SOURCE_DIR="$dsrc" -DAIOR_BUILD_TESTS=OFF \
	-DAIOR_WERROR=ON >"$work/dyn-cmake.log" 2>&1 || { cat "$work/dyn-cmake.log" >&2; fail "cmake failed"; }
grep 'loads dynamic engines from' "$work/dyn-cmake.log" | sed 's/^/     /'
engdir=$(sed -n 's/^AIOR_FIO_ENGINE_DIR:PATH=//p' "$dbuild/CMakeCache.txt")
[ -n "$engdir" ] || fail "CMake found no engine directory for a fio with dynamic engines"
[ ! -e "$engdir/fio-libaioring.so" ] || fail "$engdir/fio-libaioring.so already exists"
cmake --build "$dbuild" -j "$(nproc)" >/dev/null
dmanifest=$dbuild/install_manifest.txt
uninstall_d() {
	[ -f "$dmanifest" ] || return 0
	xargs -d '\n' rm -f -- <"$dmanifest"
	rmdir "$engdir" /usr/local/share/doc/libaioring 2>/dev/null || true
	ldconfig
}
trap 'uninstall_d; cleanup' EXIT
cmake --install "$dbuild" >"$inst_log" 2>&1 || { cat "$inst_log" >&2; fail "cmake --install failed"; }
sed 's/^/     /' "$inst_log"
[ -f "$engdir/fio-libaioring.so" ] || fail "cmake --install put no fio-libaioring.so in $engdir"
fio=$dfio
spell_ok "$unrelated" "libaioring"
spell_ok "$unrelated" "libaioring.so"
enghelp_ok libaioring
uninstall_d
trap cleanup EXIT
[ ! -e "$engdir/fio-libaioring.so" ] || fail "$engdir/fio-libaioring.so left after uninstall"
spell_fails "$unrelated" "libaioring" 'engine libaioring not loadable'
say "ok   removed again; without it, --ioengine=libaioring fails"

say "all round trips passed (A, B, C, D)"
