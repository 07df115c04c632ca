#!/usr/bin/env bash
# Parity with built-in libaio, under one fio: every option that fio's own
# libaio lists (fio --enghelp=libaio) must be accepted by the engine built
# for that fio, and a short job setting it must end the same way under
# both engines (runs, or fails with the same error).  Prints one line per
# option: fio version, option, outcome under libaio, outcome under the
# engine, verdict.  Exits 1 if any option differs, or if the fio's libaio
# has an option this script has no sample value for (a libaio option added
# by a newer fio fails here, by name, until the engine and this script
# learn it).
#
#   scripts/libaio-parity.sh [--fio FIO] --engine /abs/libaioring.so
#
# The one documented difference (docs/fio-versions.md): before fio
# 3.29 the engine refuses cmdprio_percentage and cmdprio_bssplit at init
# with one line naming the option and the fio; libaio runs them.  Such a
# line is the verdict "documented", anything else that differs "DIFFERS".
# Exit 77 if the fio has no built-in libaio.
set -euo pipefail

me=libaio-parity
die() { printf '%s: error: %s\n' "$me" "$*" >&2; exit 2; }

fio=fio
engine=
while [ $# -gt 0 ]; do
	case $1 in
	--fio) fio=${2:?--fio wants a path}; shift 2 ;;
	--engine) engine=${2:?--engine wants a path}; shift 2 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (--help)" ;;
	esac
done
[ -n "$engine" ] || die "--engine is required"
[[ $engine == /* ]] || engine=$PWD/$engine
[ -f "$engine" ] || die "$engine does not exist"
version=$("$fio" --version) || die "$fio --version failed"

# Not tmpfs if it can be helped: tmpfs refuses RWF_NOWAIT (EOPNOTSUPP)
# under both engines, a file system with a page cache lets nowait run.
work=$(mktemp -d "${TMPDIR:-/tmp}/aior-parity.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# The file both engines read, written once here rather than laid out by
# whichever run comes first.
head -c 1M /dev/zero >"$work/t.dat"

if ! "$fio" --enghelp=libaio >"$work/enghelp" 2>&1; then
	printf '%s: %s has no built-in libaio: nothing to compare\n' "$me" "$version" >&2
	exit 77
fi
mapfile -t opts < <(sed -n 's/^\([a-z_][a-z0-9_]*\) *: .*/\1/p' "$work/enghelp")
[ "${#opts[@]}" -gt 0 ] || die "fio --enghelp=libaio listed no option"

# A valid value for each option libaio has had (3.19 .. 3.42): the job
# sets it and nothing else of the kind.
sample() {
	case $1 in
	userspace_reap) echo "--userspace_reap" ;;
	cmdprio_percentage) echo "--cmdprio_percentage=10" ;;
	cmdprio_class) echo "--cmdprio_class=2" ;;
	cmdprio) echo "--cmdprio=3" ;;
	cmdprio_hint) echo "--cmdprio_hint=1" ;;
	cmdprio_bssplit) echo "--cmdprio_bssplit=4k/10:64k/50" ;;
	nowait) echo "--nowait=1" ;;
	libaio_vectored) echo "--libaio_vectored=1" ;;
	*) return 1 ;;
	esac
}

# outcome ENGINE ARG: "runs", "fails: error N" (the job's error, from
# fio's JSON), or "fails: <fio's first complaint>" when fio stopped before
# any job ran, with the engine's path and the scratch directory taken out
# so both engines compare.
outcome() {
	local eng=$1 arg=$2 rc line err
	rm -f "$work/out"
	# Every run starts with the whole file in the page cache: nowait
	# fails a buffered read of an uncached page (error 11), so the
	# outcome must not depend on what reclaim took since the last run.
	cat "$work/t.dat" >/dev/null
	set +e
	# $arg is one or more words: split on purpose.
	# shellcheck disable=SC2086
	(cd "$work" && timeout -k 5 60 "$fio" --name=parity --ioengine="$eng" \
		$arg --filename="$work/t.dat" --size=1m --rw=randread \
		--bs=4k --iodepth=4 --number_ios=64 --direct=0 --invalidate=0 \
		--output-format=json --output="$work/out") >"$work/log" 2>&1
	rc=$?
	set -e
	if [ "$rc" = 0 ]; then
		echo runs
		return
	fi
	# The engine's own one-line refusal first (fio then reports the
	# job's error 1 as well).
	line=$(grep -h -m1 "^libaioring: " "$work/log" "$work/out" 2>/dev/null || true)
	if [ -n "$line" ]; then
		echo "fails: $line" | sed "s|$work/||g; s|$engine|ENGINE|g"
		return
	fi
	err=$(sed -n 's/^ *"error" : \([0-9]*\),*$/\1/p' "$work/out" 2>/dev/null | head -n1)
	if [ -n "$err" ] && [ "$err" != 0 ]; then
		echo "fails: error $err"
		return
	fi
	line=$(grep -m1 -E '^(fio|libaioring|parity)?:? ?.*(error|unrecognized|invalid|needs|out of range|not supported|exclusive)' \
		"$work/log" "$work/out" -h 2>/dev/null || true)
	[ -n "$line" ] || line=$(grep -m1 . "$work/log" || echo "exit $rc")
	echo "fails: $line" | sed "s|$work/||g; s|$engine|ENGINE|g"
}

short() {
	case $1 in
	runs) echo runs ;;
	"fails: error "*) echo "error ${1#fails: error }" ;;
	"fails: libaioring:"*) echo refused ;;
	*) echo fails ;;
	esac
}

printf '%-10s %-20s %-12s %-12s %s\n' fio option libaio libaioring verdict
bad=0
for o in "${opts[@]}"; do
	if ! arg=$(sample "$o"); then
		printf '%-10s %-20s %-12s %-12s %s\n' "$version" "$o" ? ? \
			"UNKNOWN: a libaio option the engine was not taught (engine/options.c, this script)"
		bad=1
		continue
	fi
	a=$(outcome libaio "$arg")
	b=$(outcome "external:$engine" "$arg")
	if [ "$a" = "$b" ]; then
		verdict=same
	elif [[ $b == "fails: libaioring: job 'parity': $o needs fio 3.29 or later ($version "* ]]; then
		verdict="documented (${b#fails: })"
	else
		verdict="DIFFERS: libaio: $a | libaioring: $b"
		bad=1
	fi
	printf '%-10s %-20s %-12s %-12s %s\n' "$version" "$o" "$(short "$a")" "$(short "$b")" "$verdict"
done
# One refusal of fio's own: the two cmdprio modes together.
if printf '%s\n' "${opts[@]}" | grep -qx cmdprio_bssplit; then
	a=$(outcome libaio "--cmdprio_percentage=10 --cmdprio_bssplit=4k/10")
	b=$(outcome "external:$engine" "--cmdprio_percentage=10 --cmdprio_bssplit=4k/10")
	if [ "$a" = "$b" ]; then
		verdict=same
	elif [[ $b == "fails: libaioring: job 'parity': cmdprio_bssplit needs fio 3.29 or later ($version "* ]]; then
		verdict="documented (${b#fails: })"
	else
		verdict="DIFFERS: libaio: $a | libaioring: $b"
		bad=1
	fi
	printf '%-10s %-20s %-12s %-12s %s\n' "$version" "cmdprio_perc+bssplit" \
		"$(short "$a")" "$(short "$b")" "$verdict"
fi
exit "$bad"
