#!/usr/bin/env bash
# The fio version matrix: build each fio of a directory, build the engine
# against it with warnings as errors, and run the integration and fault
# tests with THAT fio binary.  Prints one row per fio: version, fio build,
# engine build, tests passed, libaio parity.  Exits 0 only if every row
# passed.
#
#   scripts/fio-matrix.sh [options] DIR
#
# DIR holds fio release tarballs (*.tar.gz, *.tgz, *.tar.xz, *.tar.bz2,
# *.tar) or fio source trees (directories), e.g. ../shared/fio-src.  Each
# is built once with a minimal configure (./configure --disable-native;
# make fio) and kept in the cache, keyed by name and the sha256 of the
# tarball (or of the tree's files), so a second run only rebuilds the
# engine and runs the tests.  A tarball that is not a fio tree, or a fio
# that does not build, is one failed row with the reason; the other rows
# still run.
#
# Each row also checks parity with that fio's built-in libaio
# (scripts/libaio-parity.sh): every option fio --enghelp=libaio lists is
# accepted by the engine and a short job with it ends the same way under
# both engines; an option the engine does not know fails the row by name.
# A second table lists fio version x option x outcome on both engines.
#
# Last, each row's engine is loaded by another row's fio: it must refuse
# it with one line naming both versions (engine/guard.c).
#
# Options:
#   -j N          ctest jobs (default 2)
#   -L LABEL      ctest label regex to run (default 'integration|faults':
#                 the integration and the fault tests, both under the
#                 row's fio; where fios differ whatever the engine, the
#                 fault tests expect what that fio does: FIO_* in
#                 tests/faults/faultlib.py)
#   -E REGEX      ctest tests to leave out (default fault_fuzz_ring, which
#                 fuzzes common/ring.c and runs no fio; '' for none)
#   --only NAME   only entries whose name contains NAME (repeatable)
#   --build DIR   engine build directories go in DIR/<name>
#                 (default build-matrix/ in the repository)
#   --allow-skips a skipped test does not fail its row (by default it does:
#                 a skip is not a pass)
#   --lock FILE   hold a shared flock(1) on FILE around each build and test
#                 run (a machine shared with benchmarks)
#
# Environment: AIOR_CACHE (default ~/.cache/libaioring): fio builds go in
# $AIOR_CACHE/matrix/<name>-<sha256 prefix>/.
set -euo pipefail

me=fio-matrix
die() { printf '%s: error: %s\n' "$me" "$*" >&2; exit 2; }
say() { printf '%s: %s\n' "$me" "$*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
jobs=2
label='integration|faults'
exclude=fault_fuzz_ring
only=()
build_root=$repo/build-matrix
allow_skips=0
lock=
dir=
while [ $# -gt 0 ]; do
	case $1 in
	-j) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "-j wants a positive number, got '${2:-}'"
		jobs=$2; shift 2 ;;
	-L) [ -n "${2:-}" ] || die "-L wants a label"; label=$2; shift 2 ;;
	-E) [ $# -ge 2 ] || die "-E wants a regex ('' for none)"; exclude=$2; shift 2 ;;
	--only) [ -n "${2:-}" ] || die "--only wants a name"; only+=("$2"); shift 2 ;;
	--build) [ -n "${2:-}" ] || die "--build wants a directory"; build_root=$2; shift 2 ;;
	--allow-skips) allow_skips=1; shift ;;
	--lock) [ -n "${2:-}" ] || die "--lock wants a file"; lock=$2; shift 2 ;;
	-h|--help) usage ;;
	-*) die "unknown option '$1' (--help)" ;;
	*) [ -z "$dir" ] || die "two directories: '$dir' and '$1'"; dir=$1; shift ;;
	esac
done
[ -n "$dir" ] || die "no directory of fio trees or tarballs (--help)"
[ -d "$dir" ] || die "'$dir' is not a directory"
for c in cmake ctest make tar sha256sum; do
	command -v "$c" >/dev/null || die "'$c' not found (scripts/setup.sh installs it)"
done
[[ $build_root == /* ]] || build_root=$PWD/$build_root
cache=${AIOR_CACHE:-$HOME/.cache/libaioring}/matrix
mkdir -p "$cache" "$build_root"
ncpu=$(nproc 2>/dev/null || echo 2)

# The entries, in version order.
entries=()
while IFS= read -r e; do
	name=$(basename "$e")
	case $name in
	README*|.*) continue ;;
	esac
	if [ "${#only[@]}" -gt 0 ]; then
		keep=0
		for o in "${only[@]}"; do [[ $name == *"$o"* ]] && keep=1; done
		[ "$keep" = 1 ] || continue
	fi
	entries+=("$e")
done < <(find -L "$dir" -mindepth 1 -maxdepth 1 \( -type f -o -type d \) | sort -V)
[ "${#entries[@]}" -gt 0 ] || die "'$dir' holds no fio tree or tarball"

locked() {
	if [ -n "$lock" ]; then
		flock -s "$lock" "$@"
	else
		"$@"
	fi
}

# A row's fields; a failure reason is one line.
rows=() r_ver=() r_fio=() r_eng=() parity=()
failed=0
first_error() {	# LOG: the first line that looks like an error, else the last
	local l
	l=$(grep -m1 -E 'error|Error|ERROR|No such|not found|failed' "$1" 2>/dev/null || true)
	[ -n "$l" ] || l=$(tail -n 1 "$1" 2>/dev/null || true)
	printf '%s' "${l:0:160}" | tr -d '\r'
}

# build_fio ENTRY: sets fio_src (a built tree), fio_state (ok|cached) or
# fio_why (the reason it failed) and name.
build_fio() {
	local e=$1 key sum top log
	fio_src= fio_state= fio_why=
	name=$(basename "$e")
	if [ -d "$e" ]; then
		sum=$(tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
			--exclude=.git --exclude='*.o' --exclude='*.d' --exclude=fio \
			--exclude=config-host.h --exclude=config-host.mak \
			--exclude=FIO-VERSION-FILE -C "$e" -cf - . 2>/dev/null |
			sha256sum | cut -c1-12)
	else
		name=${name%.tar.gz}; name=${name%.tgz}; name=${name%.tar.xz}
		name=${name%.tar.bz2}; name=${name%.tar}
		sum=$(sha256sum <"$e" | cut -c1-12)
	fi
	key=$cache/$name-$sum
	fio_src=$key/src
	if [ -f "$key/built" ] && [ -x "$fio_src/fio" ]; then
		fio_state=cached
		return 0
	fi
	rm -rf "$key"
	mkdir -p "$key/unpack"
	if [ -d "$e" ]; then
		cp -a "$e/." "$key/unpack/" 2>"$key/unpack.log" || {
			fio_why="cannot copy the tree: $(first_error "$key/unpack.log")"; return 1; }
		(cd "$key/unpack" && make clean >/dev/null 2>&1 || true)
		mv "$key/unpack" "$fio_src"
	else
		if ! tar -xf "$e" -C "$key/unpack" 2>"$key/unpack.log"; then
			fio_why="cannot unpack: $(grep -m1 . "$key/unpack.log" | cut -c1-160)"
			return 1
		fi
		# One top-level directory (git archive --prefix), or the tree
		# itself.
		top=$(find "$key/unpack" -mindepth 1 -maxdepth 1)
		if [ "$(printf '%s\n' "$top" | grep -c .)" = 1 ] && [ -d "$top" ]; then
			mv "$top" "$fio_src"
			rmdir "$key/unpack"
		else
			mv "$key/unpack" "$fio_src"
		fi
	fi
	if [ ! -f "$fio_src/ioengines.h" ] || [ ! -f "$fio_src/FIO-VERSION-GEN" ] ||
	   [ ! -x "$fio_src/configure" ]; then
		fio_why="not a fio source tree (no ioengines.h, FIO-VERSION-GEN or configure)"
		return 1
	fi
	log=$key/configure.log
	if ! (cd "$fio_src" && ./configure --disable-native) >"$log" 2>&1; then
		fio_why="configure failed: $(first_error "$log") (see $log)"
		return 1
	fi
	log=$key/make.log
	if ! locked make -C "$fio_src" -j"$ncpu" fio >"$log" 2>&1; then
		fio_why="make fio failed: $(first_error "$log") (see $log)"
		return 1
	fi
	if [ ! -x "$fio_src/fio" ]; then
		fio_why="make fio built no fio binary (see $log)"
		return 1
	fi
	echo ok >"$key/built"
	fio_state=ok
}

# The fio version a tree says it is (what its fio --version prints).
tree_version() {
	local v
	if [ -f "$1/FIO-VERSION-FILE" ]; then
		v=$(sed -n 's/^FIO_VERSION *= *//p' "$1/FIO-VERSION-FILE")
	else
		v=$(sed -n 's/^DEF_VER=//p' "$1/FIO-VERSION-GEN")
	fi
	printf '%s' "$v"
}

for e in "${entries[@]}"; do
	start=$(date +%s)
	version=? fio_col= eng_col=- tests_col=- par_col=- why= ok=1
	say "---- $(basename "$e")"
	if build_fio "$e"; then
		version=$(tree_version "$fio_src")
		fio_col=$fio_state
		runs=$("$fio_src/fio" --version 2>/dev/null || true)
		if [ "$runs" != "$version" ]; then
			ok=0 why="the fio built says '$runs', its tree '$version'"
		fi
	else
		ok=0 fio_col=FAILED why=$fio_why
		[ -n "$fio_src" ] && [ -f "$fio_src/FIO-VERSION-GEN" ] &&
			version=$(tree_version "$fio_src")
	fi
	if [ "$ok" = 1 ]; then
		b=$build_root/$name
		log=$b.build.log
		eng_col=FAILED
		rm -rf "$b"
		if ! cmake -S "$repo" -B "$b" -DFIO_SOURCE_DIR="$fio_src" \
			-DAIOR_FIO="$fio_src/fio" -DAIOR_WERROR=ON >"$log" 2>&1; then
			ok=0 why="cmake failed: $(first_error "$log") (see $log)"
		elif ! locked cmake --build "$b" -j"$ncpu" >>"$log" 2>&1; then
			ok=0 why="engine build failed: $(first_error "$log") (see $log)"
		else
			eng_col="ok -Werror"
		fi
	fi
	if [ "$ok" = 1 ]; then
		log=$b.test.log
		set +e
		locked ctest --test-dir "$b" -L "$label" ${exclude:+-E "$exclude"} \
			-j "$jobs" --output-on-failure --timeout 600 >"$log" 2>&1
		rc=$?
		set -e
		total=$(sed -n 's/.*tests passed, \([0-9]*\) tests\{0,1\} failed out of \([0-9]*\).*/\1 \2/p' "$log")
		nfail=${total% *} ntot=${total#* }
		nskip=$(grep -c '(Skipped)$' "$log" || true)
		if [ -z "$total" ]; then
			ok=0 tests_col=FAILED why="ctest printed no summary (exit $rc, see $log)"
		else
			npass=$((ntot - nfail - nskip))
			tests_col="$npass/$ntot passed"
			[ "$nskip" = 0 ] || tests_col+=", $nskip skipped"
			if [ "$ntot" = 0 ]; then
				ok=0 why="no test has label '$label'"
			elif [ "$nfail" != 0 ]; then
				ok=0 why="failed: $(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (\(Failed\|Timeout\|Not Run\|Exception\)).*/\1/p' "$log" | tr '\n' ' ')(see $log)"
			elif [ "$nskip" != 0 ] && [ "$allow_skips" = 0 ]; then
				ok=0 why="skipped: $(grep '(Skipped)$' "$log" | sed 's/^[[:space:]]*[0-9]* - \([^ ]*\).*/\1/' | tr '\n' ' ')(a skip is not a pass: --allow-skips)"
			elif [ "$rc" != 0 ] && [ "$nskip" = 0 ]; then
				ok=0 why="ctest exited $rc (see $log)"
			fi
		fi
	fi
	if [[ $eng_col == ok* ]]; then
		# Parity with this fio's libaio (its own table at the end).
		plog=$b.parity.log
		set +e
		locked "$repo/scripts/libaio-parity.sh" --fio "$fio_src/fio" \
			--engine "$b/libaioring.so" >"$plog" 2>&1
		prc=$?
		set -e
		while IFS= read -r l; do
			parity+=("$l")
		done < <(grep '^fio-' "$plog" || true)
		nsame=$(grep -c '^fio-.* \(same\|documented\)' "$plog" || true)
		nopt=$(grep -c '^fio-' "$plog" || true)
		par_col="$nsame/$nopt"
		if [ "$prc" = 77 ]; then
			par_col="no libaio"
			[ "$allow_skips" = 1 ] || { ok=0 why="${why:+$why; }this fio has no built-in libaio to compare with"; }
		elif [ "$prc" != 0 ]; then
			ok=0
			why="${why:+$why; }libaio parity: $(grep -E '^fio-.* (DIFFERS|UNKNOWN)' "$plog" | awk '{print $2}' | tr '\n' ' ')(see $plog)"
			[ "$nopt" != 0 ] || why="$why: $(first_error "$plog")"
		fi
	fi
	secs=$(($(date +%s) - start))
	if [ "$ok" = 1 ]; then
		status=PASS
	else
		status=FAIL failed=$((failed + 1))
	fi
	rows+=("$version|$(basename "$e")|$fio_col|$eng_col|$tests_col|$par_col|${secs}s|$status|$why")
	r_ver+=("$version")
	f=
	[ "$fio_col" = FAILED ] || [ -z "$fio_src" ] || f=$fio_src/fio
	r_fio+=("$f")
	f=
	[[ $eng_col != ok* ]] || f=$b/libaioring.so
	r_eng+=("$f")
	say "$status $version: fio $fio_col, engine $eng_col, tests $tests_col, libaio parity $par_col (${secs}s)${why:+: $why}"
done

# The version guard across the matrix: each row's engine, loaded by the
# next row's fio (another release, another ops version), must be refused
# with exactly one line naming both.
n=${#rows[@]}
guard=()
scratch=$(mktemp -d "${TMPDIR:-/tmp}/aior-matrix.XXXXXX")
trap 'rm -rf -- "$scratch"' EXIT
for ((i = 0; i < n; i++)); do
	guard[i]=-
	[ -n "${r_eng[i]}" ] || continue
	j=-1
	for ((k = 1; k < n; k++)); do
		c=$(((i + k) % n))
		if [ -n "${r_fio[c]}" ] && [ "${r_ver[c]}" != "${r_ver[i]}" ]; then
			j=$c
			break
		fi
	done
	[ "$j" -ge 0 ] || { guard[i]="no other fio"; continue; }
	want="libaioring: built for ${r_ver[i]}, loaded by ${r_ver[j]}: rebuild the engine against this fio's source"
	set +e
	got=$(cd "$scratch" && timeout 30 "${r_fio[j]}" --enghelp="${r_eng[i]}" 2>&1)
	rc=$?
	set -e
	if [ "$rc" != 0 ] && [ "$got" = "$want" ]; then
		guard[i]="refused by ${r_ver[j]#fio-}"
		say "guard: ${r_ver[i]} engine under ${r_ver[j]}: exit $rc: $got"
	else
		guard[i]="FAILED (${r_ver[j]#fio-})"
		IFS='|' read -r v en f eb t p s st w <<<"${rows[i]}"
		[ "$st" = PASS ] && failed=$((failed + 1))
		w="${w:+$w; }the ${r_ver[i]} engine under ${r_ver[j]} exited $rc saying: $(printf '%s' "$got" | head -n 3 | tr '\n' '|')"
		rows[i]="$v|$en|$f|$eb|$t|$p|$s|FAIL|$w"
	fi
done

# The table.
printf '\n%-10s %-22s %-9s %-11s %-22s %-10s %-17s %6s  %s\n' fio entry "fio build" engine tests "libaio" "version guard" time result
for ((i = 0; i < n; i++)); do
	IFS='|' read -r v en f eb t p s st w <<<"${rows[i]}"
	printf '%-10s %-22s %-9s %-11s %-22s %-10s %-17s %6s  %s\n' "$v" "${en:0:22}" "$f" "$eb" "$t" "$p" "${guard[i]}" "$s" "$st"
done
if [ "${#parity[@]}" -gt 0 ]; then
	printf '\nParity with built-in libaio (scripts/libaio-parity.sh): outcome of a short job setting each option\n'
	printf '%-10s %-20s %-12s %-12s %s\n' fio option libaio libaioring verdict
	printf '%s\n' "${parity[@]}"
fi
if [ "$failed" -gt 0 ]; then
	printf '\n'
	for r in "${rows[@]}"; do
		IFS='|' read -r v en f eb t p s st w <<<"$r"
		[ "$st" = FAIL ] && printf '%s (%s): %s\n' "$v" "$en" "$w"
	done
	printf '\n%s: %d of %d rows failed\n' "$me" "$failed" "${#rows[@]}"
	exit 1
fi
printf '\n%s: all %d rows passed\n' "$me" "${#rows[@]}"
