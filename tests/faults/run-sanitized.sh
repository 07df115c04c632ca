#!/usr/bin/env bash
# Run the fio-driven tests against an AddressSanitizer + UBSan build of the
# engine, under the real /usr/bin/fio.
#
#   tests/faults/run-sanitized.sh BUILD_DIR [LABEL] [ctest arguments...]
#
# Configures BUILD_DIR with -DAIOR_SANITIZE=ON (the engine, the injecting
# engine and the tests), builds it, and runs `ctest -L LABEL` there
# (default: integration; "faults" works too).
#
# fio is not instrumented, so the sanitizer runtime must be the first
# library in the process: the script writes BUILD_DIR/fio-sanitized, a
# wrapper that execs /usr/bin/fio with LD_PRELOAD=libasan.so libubsan.so,
# and configures the tests to use it as their fio (-DAIOR_FIO=...).  Only
# fio gets the runtime, not every bash, sed or python3 a test runs (which
# `LD_PRELOAD=... ctest` would do).  Options:
#   ASAN_OPTIONS  detect_leaks=0 (fio leaks at exit by design; the leak
#                 check is valgrind's job, fault_valgrind_verify),
#                 log_path=BUILD_DIR/sanitizer-logs/asan
#   UBSAN_OPTIONS halt_on_error=1, print_stacktrace=1, log_path=.../ubsan
# Reports go to files, not stderr, so that tests which match fio's
# messages are not disturbed; every report fails this script, even from
# a test that expected fio to fail (a refusal test would otherwise hide
# a sanitizer abort behind its expected non-zero exit).
#
# Exit: 0 all passed and no sanitizer report; 1 otherwise; 77 no libasan.
set -euo pipefail

if [ $# -lt 1 ]; then
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit 2
fi
build=$1
label=${2:-integration}
shift $(( $# >= 2 ? 2 : 1 ))

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cc=${CC:-gcc}
asan=$("$cc" -print-file-name=libasan.so)
ubsan=$("$cc" -print-file-name=libubsan.so)
for lib in "$asan" "$ubsan"; do
	if [ ! -e "$lib" ]; then
		echo "run-sanitized: $cc has no ${lib##*/} (apt-get install" \
			"libgcc-12-dev)" >&2
		exit 77
	fi
done
asan=$(readlink -f "$asan")
ubsan=$(readlink -f "$ubsan")

fio_src=${FIO_SOURCE_DIR:-$("$repo/scripts/setup.sh" 2>/dev/null | tail -1)}
mkdir -p "$build"
build=$(cd "$build" && pwd)
logs=$build/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"

wrapper=$build/fio-sanitized
cat >"$wrapper" <<EOF
#!/bin/sh
# fio under the sanitizer runtime (written by tests/faults/run-sanitized.sh)
LD_PRELOAD="$asan $ubsan\${LD_PRELOAD:+ \$LD_PRELOAD}" \\
ASAN_OPTIONS="detect_leaks=0:log_path=$logs/asan\${ASAN_OPTIONS:+:\$ASAN_OPTIONS}" \\
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan\${UBSAN_OPTIONS:+:\$UBSAN_OPTIONS}" \\
exec /usr/bin/fio "\$@"
EOF
chmod +x "$wrapper"

cmake -S "$repo" -B "$build" -DFIO_SOURCE_DIR="$fio_src" \
	-DAIOR_SANITIZE=ON -DAIOR_WERROR=ON -DAIOR_FIO="$wrapper" >/dev/null
cmake --build "$build" -j"$(nproc)"

# Print every sanitizer report; return 1 if there was one.
dump_reports() {
	compgen -G "$logs/*" >/dev/null || return 0
	echo "run-sanitized: sanitizer reports:" >&2
	for f in "$logs"/*; do
		echo "==== $f" >&2
		cat "$f" >&2
	done
	return 1
}

# The wrapper must really load the runtime into fio: a one-line job.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
if ! "$wrapper" --name=probe --ioengine=external:"$build/libaioring.so" \
	--filename="$probe/f" --size=1m --bs=4k --direct=1 --rw=write \
	--engine_stats=1 >"$probe/out" 2>&1 ||
	! grep -q "^libaioring: job 'probe'" "$probe/out"; then
	cat "$probe/out" >&2
	dump_reports || true
	echo "run-sanitized: fio cannot run the sanitized engine" >&2
	exit 1
fi

rc=0
ctest --test-dir "$build" -L "$label" --output-on-failure "$@" || rc=1

dump_reports || rc=1
[ $rc -eq 0 ] && echo "run-sanitized: -L $label clean under ASan+UBSan"
exit $rc
