#!/usr/bin/env bash
# Run one fio job file with the libaioring engine and check what came out.
#
# usage: run-job.sh [options] JOBFILE [-- FIO_ARGS...]
#        run-job.sh [options] --no-job -- FIO_ARGS...
#
# FIO_ARGS go before the job file (--section=NAME, --output-format...).
# fio runs in a scratch directory: give paths in FIO_ARGS absolute.
# The job file opens with a comment block with Purpose:, Needs: and
# Expect: (STYLE.md #12); every AIOR_ variable Needs: names must be set,
# by the caller or by --env/--tmp-*.  It sets ioengine= exactly once.
#
# options:
#   --engine PATH          the engine (else $AIOR_ENGINE); exported as
#                          AIOR_ENGINE, absolute
#   --env NAME=VALUE       export a variable for the job file
#   --tmp-file NAME        NAME := a path that does not exist yet, in a
#                          private directory on a RAM-backed file system
#                          ($AIOR_TEST_TMPDIR, default /dev/shm), removed
#                          at exit
#   --tmp-dir NAME         NAME := a fresh empty directory there
#   --tmp-files NAME N     NAME := N such paths joined by ':' (fio's
#                          filename=a:b:c)
#   --expect-exit 0|nonzero   fio's exit status (default 0); "nonzero" is
#                          a clean failure exit (1-123): a signal, a
#                          timeout or exec failure never counts as one
#   --expect-stat EXPR     for every engine_stats line: LHS OP RHS with OP
#                          one of == != >= <= > <, each side counters or
#                          integers joined by '+' ("reaped_ring>0",
#                          "submit_calls==submitted"); at least one line
#                          must exist
#   --expect-stat-lines N  exactly N engine_stats lines
#   --expect-msg REGEX     some line matches (grep -E)
#   --expect-no-msg REGEX  no line matches
#   --expect-msg-count N:REGEX   exactly N lines match
#   --expect-verified      every job read back as much as it wrote (fio's
#                          "issued rwts: total=R,W": R == W > 0), i.e. the
#                          verify phase ran over everything written
#   --timeout SECONDS      kill fio after this long (default 45: below
#                          the CTest timeouts, so a hang is reported and
#                          the scripts still clean up)
#   --fio PATH             the fio binary (default $FIO, else fio)
#
# AIOR_TEST_COALESCE=off|adaptive|always in the environment runs the job
# with that coalesce= engine option: a copy of the job file gets the line
# right after its ioengine=external: line, and --ioengine=external: in
# FIO_ARGS is followed by --coalesce=.  The suite runs once per mode.
#
# Always checked: no verify failure, crash, sanitizer report or assertion
# in the output.  With exit 0 expected, also: every job reports err= 0, no
# I/O error is printed, and every engine_stats line accounts for every
# request the kernel accepted (submitted == reaped_ring + reaped_syscall).
#
# On any failed expectation the whole fio output is printed; exit 1.
set -euo pipefail

me=run-job
fail() { printf '%s: FAIL: %s\n' "$me" "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

engine=${AIOR_ENGINE:-}
fio_bin=${FIO:-fio}
expect_exit=0
timeout_s=45
job=
no_job=0
verified=0
stat_lines=
stats=() msgs=() nomsgs=() counts=() fio_args=()
tmp_files=() tmp_dirs=() tmp_lists=()

while [ $# -gt 0 ]; do
	case $1 in
	--engine) engine=$2; shift 2 ;;
	--env)
		[[ $2 == [A-Za-z_]*=* ]] || fail "--env wants NAME=VALUE, got '$2'"
		export "${2?}"; shift 2 ;;
	--tmp-file) tmp_files+=("$2"); shift 2 ;;
	--tmp-dir) tmp_dirs+=("$2"); shift 2 ;;
	--tmp-files)
		[[ ${3:-} == [1-9]* ]] || fail "--tmp-files wants NAME COUNT"
		tmp_lists+=("$2:$3"); shift 3 ;;
	--expect-exit)
		case $2 in 0|nonzero) expect_exit=$2 ;;
		*) fail "--expect-exit wants 0 or nonzero, got '$2'" ;; esac
		shift 2 ;;
	--expect-stat) stats+=("$2"); shift 2 ;;
	--expect-stat-lines) stat_lines=$2; shift 2 ;;
	--expect-msg) msgs+=("$2"); shift 2 ;;
	--expect-no-msg) nomsgs+=("$2"); shift 2 ;;
	--expect-msg-count)
		[[ $2 == [0-9]*:* ]] || fail "--expect-msg-count wants N:REGEX"
		counts+=("$2"); shift 2 ;;
	--expect-verified) verified=1; shift ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--fio) fio_bin=$2; shift 2 ;;
	--no-job) no_job=1; shift ;;
	--) shift; fio_args=("$@"); break ;;
	-h|--help) usage ;;
	-*) fail "unknown option '$1' (--help)" ;;
	*)
		[ -z "$job" ] || fail "two job files: '$job' and '$1'"
		job=$1; shift ;;
	esac
done

[ -n "$job" ] || [ "$no_job" = 1 ] || fail "no job file (or --no-job)"
command -v "$fio_bin" >/dev/null || fail "fio not found ('$fio_bin')"
command -v timeout >/dev/null || fail "timeout(1) not found (coreutils)"

if [ -n "$engine" ]; then
	[[ $engine == /* ]] || engine=$PWD/$engine
	[ -f "$engine" ] || fail "engine '$engine' does not exist"
	export AIOR_ENGINE=$engine
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/aior-run.XXXXXX")
ramdirs=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local d
	rm -rf -- "$work"
	for d in "${ramdirs[@]}"; do rm -rf -- "$d"; done
}
trap cleanup EXIT

ram_dir() {
	local base=${AIOR_TEST_TMPDIR:-/dev/shm} _rd
	[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
	_rd=$(mktemp -d "$base/aior-job.XXXXXX")
	ramdirs+=("$_rd")
	printf -v "$1" '%s' "$_rd"
}
for v in "${tmp_files[@]}"; do
	ram_dir d
	export "$v=$d/target.dat"
done
for v in "${tmp_dirs[@]}"; do
	ram_dir d
	export "$v=$d"
done
for v in "${tmp_lists[@]}"; do
	ram_dir d
	list=
	for ((i = 1; i <= ${v#*:}; i++)); do
		list+=${list:+:}$d/target$i.dat
	done
	export "${v%%:*}=$list"
done

# The job file's contract: a header saying what it needs, one ioengine=.
if [ -n "$job" ]; then
	[ -f "$job" ] || fail "job file '$job' does not exist"
	# The header: the comment lines the file opens with.  "Needs:" runs
	# until the next "Word:" field; the variables are its AIOR_ words.
	header=$(awk '/^[;#]/ { sub(/^[;#][[:space:]]?/, ""); print; next } { exit }' "$job")
	[ -n "$header" ] ||
		fail "$job: a job file opens with a comment (Purpose:, Needs:, Expect:)"
	grep -q '^Purpose:' <<<"$header" || fail "$job: no 'Purpose:' in its header"
	grep -q '^Expect:' <<<"$header" || fail "$job: no 'Expect:' in its header"
	needs=$(awk '/^Needs:/ { on = 1 } on && /^[A-Z][a-z]+:/ && !/^Needs:/ { exit } on' <<<"$header" |
		grep -o 'AIOR_[A-Z0-9_]*' | sort -u || true)
	[ -n "$needs" ] || fail "$job: no 'Needs:' naming its AIOR_ variables in its header"
	for v in $needs; do
		[ -n "${!v:-}" ] || fail "$job needs $v, which is not set"
	done
	n=$(grep -c '^[[:space:]]*ioengine[[:space:]]*=' "$job" || true)
	[ "$n" = 1 ] || fail "$job sets ioengine= $n times: set it once (fio 3.33 frees it twice when redefined)"
fi

# The coalescing mode under test, when the suite runs in one.
if [ -n "${AIOR_TEST_COALESCE:-}" ]; then
	# shellcheck source=coalesce.sh
	. "$(dirname "${BASH_SOURCE[0]}")/coalesce.sh"
	if [ -n "$job" ]; then
		mkdir "$work/job"
		aior_coalesce_job "$job" "$work/job/$(basename "$job")"
		job=$work/job/$(basename "$job")
	fi
	aior_coalesce_args fio_args "${fio_args[@]}"
fi

# A sanitizer build of the engine needs its runtime preloaded into fio.
# shellcheck source=sanitizer.sh
. "$(dirname "${BASH_SOURCE[0]}")/sanitizer.sh"
san_env=()
[ -z "$engine" ] || aior_sanitizer_env "$engine" san_env

out=$work/fio.out
[ -z "$job" ] || [[ $job == /* ]] || job=$PWD/$job
cmd=("$fio_bin" "${fio_args[@]}")
[ -n "$job" ] && cmd+=("$job")
# fio runs in the scratch directory: whatever it leaves in its working
# directory (verify state files) goes with it.
mkdir "$work/cwd"
set +e
(cd "$work/cwd" && timeout -k 10 "$timeout_s" env "${san_env[@]}" "${cmd[@]}") >"$out" 2>&1
rc=$?
set -e

problems=()
problem() { problems+=("$*"); }

# Exit status.
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	problem "fio did not finish within ${timeout_s}s (hang?)"
elif [ "$rc" -ge 128 ]; then
	problem "fio died of signal $((rc - 128)) (exit $rc)"
elif [ "$rc" -ge 124 ]; then
	problem "fio could not be run (exit $rc)"
elif [ "$expect_exit" = 0 ] && [ "$rc" != 0 ]; then
	problem "fio exited $rc, expected 0"
elif [ "$expect_exit" = nonzero ] && [ "$rc" = 0 ]; then
	problem "fio exited 0, expected a failure"
fi

# What must never appear: data that did not verify, crashes, sanitizers.
bad='verify: bad|bad magic header|verify failed|verify type mismatch|got pattern .*wanted|bad header|Segmentation fault|Assertion .* failed|AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:'
if grep -Eq "$bad" "$out"; then
	problem "forbidden output: $(grep -E "$bad" "$out" | head -n3 | tr '\n' '|')"
fi

if [ "$expect_exit" = 0 ]; then
	errs=$(grep -E '^.*: \(groupid=[0-9]+, jobs=[0-9]+\): err=' "$out" || true)
	if [ -z "$errs" ]; then
		problem "no job reported a result line (err=)"
	elif grep -Evq 'err= 0:' <<<"$errs"; then
		problem "a job reported an error: $(grep -Ev 'err= 0:' <<<"$errs" | head -n1)"
	fi
	if grep -Eq 'io_u error|fio: pid=[0-9]+, err=[1-9]' "$out"; then
		problem "an I/O error was printed: $(grep -E 'io_u error|fio: pid=[0-9]+, err=[1-9]' "$out" | head -n1)"
	fi
fi

# The engine's counters: one line per job, key=value.
statre="^libaioring: job '.*': contexts="
nstat=$(grep -c "$statre" "$out" || true)
if [ -n "$stat_lines" ] && [ "$nstat" != "$stat_lines" ]; then
	problem "$nstat engine_stats line(s), expected $stat_lines"
fi
exprs=("${stats[@]}")
if [ "$expect_exit" = 0 ] && [ "$nstat" -gt 0 ]; then
	exprs+=("submitted==reaped_ring+reaped_syscall")
fi
if [ "${#exprs[@]}" -gt 0 ]; then
	if [ "$nstat" = 0 ]; then
		problem "no engine_stats line to check (${stats[*]}): engine_stats=1 missing, or the job never ran"
	else
		bad_stats=$(grep "$statre" "$out" | awk -v exprs="$(printf '%s\n' "${exprs[@]}")" '
		function side(s, kv, line,   n, t, i, v) {
			n = split(s, t, "+")
			v = 0
			for (i = 1; i <= n; i++) {
				if (t[i] ~ /^[0-9]+$/)
					v += t[i]
				else if (t[i] in kv)
					v += kv[t[i]]
				else {
					print "unknown counter \"" t[i] "\" in: " line
					return "x"
				}
			}
			return v
		}
		{
			delete kv
			for (i = 1; i <= NF; i++)
				if (split($i, p, "=") == 2 && p[2] ~ /^[0-9]+$/)
					kv[p[1]] = p[2] + 0
			n = split(exprs, ex, "\n")
			for (e = 1; e <= n; e++) {
				if (ex[e] == "")
					continue
				if (!match(ex[e], /(==|!=|>=|<=|>|<)/)) {
					print "bad expression \"" ex[e] "\""
					continue
				}
				l = substr(ex[e], 1, RSTART - 1)
				op = substr(ex[e], RSTART, RLENGTH)
				r = substr(ex[e], RSTART + RLENGTH)
				a = side(l, kv, $0); b = side(r, kv, $0)
				if (a == "x" || b == "x")
					continue
				ok = (op == "==" && a == b) || (op == "!=" && a != b) ||
				     (op == ">=" && a >= b) || (op == "<=" && a <= b) ||
				     (op == ">" && a > b) || (op == "<" && a < b)
				if (!ok)
					printf "%s does not hold (%s=%s, %s=%s) in job %s\n", ex[e], l, a, r, b, $3
			}
		}')
		while IFS= read -r line; do
			[ -n "$line" ] && problem "counters: $line"
		done <<<"$bad_stats"
	fi
fi

for re in "${msgs[@]}"; do
	grep -Eq -- "$re" "$out" || problem "no line matches /$re/"
done
for re in "${nomsgs[@]}"; do
	if grep -Eq -- "$re" "$out"; then
		problem "a line matches /$re/ but must not: $(grep -E -- "$re" "$out" | head -n1)"
	fi
done
for c in "${counts[@]}"; do
	want=${c%%:*} re=${c#*:}
	got=$(grep -Ec -- "$re" "$out" || true)
	[ "$got" = "$want" ] || problem "$got line(s) match /$re/, expected $want"
done

if [ "$verified" = 1 ]; then
	totals=$(sed -n 's/^ *issued rwts: total=\([0-9]*\),\([0-9]*\),.*/\1 \2/p' "$out")
	if [ -z "$totals" ]; then
		problem "no 'issued rwts' line: cannot tell whether anything was verified"
	else
		while read -r r w; do
			if [ "$w" -eq 0 ] || [ "$r" -ne "$w" ]; then
				problem "a job wrote $w and read back $r requests: the verify phase did not cover the writes"
			fi
		done <<<"$totals"
	fi
fi

if [ "${#problems[@]}" -gt 0 ]; then
	{
		printf '%s: command:' "$me"
		printf ' %q' "${san_env[@]}" "${cmd[@]}"
		printf '\n%s: exit status %s\n' "$me" "$rc"
		printf -- '----- fio output -----\n'
		cat "$out"
		printf -- '----- end of fio output -----\n'
		for p in "${problems[@]}"; do
			printf '%s: FAIL: %s\n' "$me" "$p"
		done
	} >&2
	exit 1
fi
printf '%s: ok (exit %s)%s\n' "$me" "$rc" "${job:+: $job}"
grep "$statre" "$out" || true
exit 0
