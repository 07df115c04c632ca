#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The pull-request performance job in one command: build the engine at two
# git refs and run the interleaved A/B of the two builds.
#
#   scripts/perf-ab.sh BASE_REF [HEAD_REF] [-- compare.py arguments]
#
#   scripts/perf-ab.sh origin/main                   # main vs this HEAD
#   scripts/perf-ab.sh v0.1 HEAD -- --quick --max-regression 3% --out ab
#
# 1. Both refs are resolved first: one that does not exist stops here
#    (exit 2) before anything is built or run.
# 2. Each ref is checked out in a scratch `git worktree` and built against
#    the SAME configured fio tree (scripts/setup.sh prints it, or $FIO_SRC);
#    a build that fails stops here (exit 2), naming the ref and its log,
#    before any run.  The worktrees are removed again on every exit.
# 3. This checkout's perf/compare.py runs the A/B:
#        --engine base=<BASE build> --engine head=<HEAD build> [arguments]
#    exact counts per request (instructions, system calls, context
#    switches; --no-counts to skip) and timed rounds until every verdict is
#    decisive or --budget (default 5m) is spent (docs/perf/ab.md); its exit
#    status is this script's: 0 no regression, 1 regression (timed or
#    counted), 2 usage / set-up error / fio failed, 3 inconclusive under
#    --strict.
#
# HEAD_REF defaults to HEAD (the commit: uncommitted changes are not
# built).  Environment: PERF_AB_CMAKE_ARGS, extra cmake arguments for both
# builds; PERF_AB_KEEP=1 keeps the scratch directory (engines, build logs).
set -euo pipefail

out_dir=		# compare.py's --out, once the arguments are read
die() {		# message [log]: to stderr, and into the out dir for CI
	printf 'perf-ab: error: %s\n' "$*" >&2
	if [ -n "$out_dir" ]; then
		python3 "$repo/perf/compare.py" error --out "$out_dir" \
			--reason "perf-ab: $1" ${2:+--log "$2"} >/dev/null 2>&1 || true
	fi
	exit 2
}
say() { printf 'perf-ab: %s\n' "$*" >&2; }

usage="usage: scripts/perf-ab.sh BASE_REF [HEAD_REF] [-- compare.py arguments]"
case ${1:-} in
-h|--help) sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
''|--) die "$usage" ;;
esac
base_ref=$1; shift
head_ref=HEAD
if [ $# -gt 0 ] && [ "$1" != -- ]; then
	head_ref=$1; shift
fi
if [ $# -gt 0 ]; then
	[ "$1" = -- ] || die "unexpected argument '$1' ($usage)"
	shift
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
prev=
for a in "$@"; do	# where compare.py will write: set-up errors go there too
	case $a in --out=*) out_dir=${a#--out=} ;; esac
	[ "$prev" = --out ] && out_dir=$a
	prev=$a
done
git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 ||
	die "$repo is not a git repository: perf-ab builds git refs"

resolve() {	# ref -> full commit id, or die
	local sha
	sha=$(git -C "$repo" rev-parse --verify --quiet --end-of-options \
		"$1^{commit}" 2>/dev/null) || {
		if [ "$(git -C "$repo" rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
			die "ref '$1' does not exist in $repo (a shallow clone: fetch it, e.g. git fetch --unshallow, or actions/checkout with fetch-depth: 0)"
		fi
		die "ref '$1' does not exist in $repo"
	}
	printf '%s\n' "$sha"
}
base_sha=$(resolve "$base_ref")
head_sha=$(resolve "$head_ref")
say "base = $base_ref ($(git -C "$repo" log -1 --format='%h %s' "$base_sha"))"
say "head = $head_ref ($(git -C "$repo" log -1 --format='%h %s' "$head_sha"))"
if [ "$head_ref" = HEAD ] && [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
	say "note: uncommitted changes are not part of HEAD's build"
fi

# One fio for both builds (and for the runs).
fio_src=${FIO_SRC:-}
if [ -z "$fio_src" ]; then
	fio_src=$("$repo/scripts/setup.sh" | tail -n 1) ||
		die "scripts/setup.sh failed: no configured fio tree to build against"
else
	fio_src=$(FIO_SRC=$fio_src "$repo/scripts/setup.sh" | tail -n 1) ||
		die "FIO_SRC=$FIO_SRC: not a usable fio tree"
fi
say "fio tree: $fio_src"

work=$(mktemp -d "${TMPDIR:-/tmp}/perf-ab-XXXXXX")
worktrees=()
cleanup() {
	local wt
	for wt in "${worktrees[@]}"; do
		git -C "$repo" worktree remove --force "$wt" >/dev/null 2>&1 ||
			rm -rf "$wt"
	done
	git -C "$repo" worktree prune >/dev/null 2>&1 || true
	if [ "${PERF_AB_KEEP:-0}" = 1 ]; then
		say "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

first_error() {	# log -> its first error, on one line
	{ grep -m1 -A3 -E 'error:|CMake Error' "$1" || tail -n 1 "$1"; } |
		sed -e '/^ *$/,$d' | tr -s ' \t\n' ' ' | cut -c1-300
}

build() {	# name ref sha
	local name=$1 ref=$2 sha=$3 src=$work/src-$1 bld=$work/build-$1
	local log=$work/build-$1.log
	git -C "$repo" worktree add --detach --quiet "$src" "$sha" >"$log" 2>&1 ||
		die "$name ref '$ref' ($sha): git worktree add failed: $(tail -n 1 "$log")"
	worktrees+=("$src")
	say "building $name ($ref, ${sha:0:12}) in $bld"
	# shellcheck disable=SC2086  # PERF_AB_CMAKE_ARGS is a list of words
	if ! { cmake -S "$src" -B "$bld" -DFIO_SOURCE_DIR="$fio_src" \
		-DAIOR_BUILD_TESTS=OFF ${PERF_AB_CMAKE_ARGS:-} &&
		cmake --build "$bld" -j "$(nproc)"; } >>"$log" 2>&1 ||
		[ ! -f "$bld/libaioring.so" ]; then
		keep=$(mktemp "${TMPDIR:-/tmp}/perf-ab-$name-build-XXXXXX.log")
		cp "$log" "$keep"
		die "build of $name ref '$ref' (${sha:0:12}) failed: $(first_error "$log") (log: $keep)" "$keep"
	fi
	mkdir -p "$work/engines/$name"
	cp "$bld/libaioring.so" "$work/engines/$name/libaioring.so"
}
build base "$base_ref" "$base_sha"
build head "$head_ref" "$head_sha"
# The sources are no longer needed: drop the worktrees before the runs.
for wt in "${worktrees[@]}"; do
	git -C "$repo" worktree remove --force "$wt" >/dev/null 2>&1 || true
done
worktrees=()

cmd=(python3 "$repo/perf/compare.py"
     --engine "base=$work/engines/base/libaioring.so"
     --engine "head=$work/engines/head/libaioring.so"
     --label "base=$base_ref @ ${base_sha:0:12}"
     --label "head=$head_ref @ ${head_sha:0:12}" "$@")
say "running: ${cmd[*]}"
set +e
"${cmd[@]}"
rc=$?
set -e
say "compare.py exited $rc"
exit "$rc"
