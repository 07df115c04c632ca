# shellcheck shell=bash
# Helpers for the integration scripts: sourced, never run.
#
# Every script that sources this gets:
#   die MSG        fail the test (exit 1) saying why
#   skip MSG       the host cannot run the test (exit 77, CTest "skipped")
#   need_root, need_cmd CMD...
#   on_exit CMD    run CMD (a string, eval'ed) when the script exits, last
#                  registered first: unmount, detach, remove
#   scratch_dir VAR            VAR := a fresh private directory on a
#                  RAM-backed file system (AIOR_TEST_TMPDIR, default
#                  /dev/shm), removed on exit
#   mount_scratch VAR TYPE [OPTS]   VAR := the mount point of a fresh TYPE
#                  (tmpfs, ramfs) file system, unmounted on exit
#   loop_attach VAR FILE SECTOR     VAR := /dev/loopN, FILE attached with
#                  that logical sector size, buffered (--direct-io=off),
#                  detached on exit
#   run_job ARGS...             run-job.sh (the engine comes from the env)
#   aior_fio ARGS...            fio itself, with a sanitizer build's runtime
#                  preloaded when the engine needs one
#   deeper_than_ring VAR N      VAR := an iodepth (a power of two) at least
#                  twice the events the kernel gives a context asked for N
#
# The helpers that make things store the result in a variable instead of
# printing it: a $(...) subshell would lose the cleanup it registers.
#
# The engine comes from AIOR_ENGINE (CTest passes $<TARGET_FILE:aioring>).

set -euo pipefail

AIOR_INT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AIOR_REPO=$(cd "$AIOR_INT_DIR/../.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this
AIOR_JOBS=$AIOR_REPO/jobs
AIOR_TEST_NAME=${AIOR_TEST_NAME:-$(basename "$0" .sh)}

die() {
	printf '%s: FAIL: %s\n' "$AIOR_TEST_NAME" "$*" >&2
	exit 1
}

skip() {
	printf '%s: SKIP: %s\n' "$AIOR_TEST_NAME" "$*" >&2
	exit 77
}

say() {
	printf '%s: %s\n' "$AIOR_TEST_NAME" "$*"
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (mount, losetup)"
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs '$c' on PATH"
	done
}

# The cleanup stack: commands run in reverse order of registration, each
# allowed to fail (a half-built setup is torn down as far as it got).
_aior_cleanup=()
_aior_run_cleanup() {
	local rc=$? i
	for ((i = ${#_aior_cleanup[@]} - 1; i >= 0; i--)); do
		eval "${_aior_cleanup[i]}" >/dev/null 2>&1 || true
	done
	exit "$rc"
}
trap _aior_run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

on_exit() {
	_aior_cleanup+=("$1")
}

scratch_dir() {
	local base=${AIOR_TEST_TMPDIR:-/dev/shm} _sd
	[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
	_sd=$(mktemp -d "$base/aior-int.XXXXXX") || die "mktemp -d in $base failed"
	on_exit "rm -rf -- '$_sd'"
	printf -v "$1" '%s' "$_sd"
}

mount_scratch() {
	local type=$2 opts=${3:-} _md
	need_root
	_md=$(mktemp -d "${TMPDIR:-/tmp}/aior-mnt.XXXXXX") || die "mktemp -d failed"
	on_exit "rmdir -- '$_md'"
	mount -t "$type" ${opts:+-o "$opts"} "aior-$type" "$_md" ||
		skip "cannot mount a $type file system here"
	on_exit "umount -l -- '$_md'"
	printf -v "$1" '%s' "$_md"
}

loop_attach() {
	local file=$2 sector=$3 _ld i
	need_root
	need_cmd losetup
	# losetup -f races with other users of loop devices: retry a little.
	for i in 1 2 3 4 5; do
		if _ld=$(losetup -f --show --sector-size "$sector" \
			--direct-io=off "$file" 2>/dev/null); then
			on_exit "losetup -d '$_ld'"
			printf -v "$1" '%s' "$_ld"
			return 0
		fi
		sleep 0.2
	done
	skip "no loop device could be attached (losetup -f failed; loop module?)"
}

run_job() {
	"$AIOR_INT_DIR/run-job.sh" "$@"
}

# The kernel (fs/aio.c, ioctx_alloc and aio_setup_ring) gives a context
# asked for N events max(N, 4 * possible CPUs) * 2 + 2 of them, rounded up
# to whole pages of 32-byte events after a 32-byte header.
deeper_than_ring() {
	local _want=$2 _possible r _cpus=0 _page _nr _pages _ring _depth=1
	local -a _ranges
	_possible=$(cat /sys/devices/system/cpu/possible 2>/dev/null || true)
	IFS=, read -ra _ranges <<<"$_possible"
	for r in "${_ranges[@]}"; do
		if [[ $r == *-* ]]; then
			_cpus=$((_cpus + ${r#*-} - ${r%-*} + 1))
		else
			_cpus=$((_cpus + 1))
		fi
	done
	[ "$_cpus" -ge 1 ] || _cpus=$(getconf _NPROCESSORS_CONF)
	_page=$(getconf PAGESIZE)
	_nr=$((4 * _cpus > _want ? 4 * _cpus : _want))
	_nr=$((_nr * 2 + 2))
	_pages=$(((32 + _nr * 32 + _page - 1) / _page))
	_ring=$(((_pages * _page - 32) / 32))
	while [ "$_depth" -lt $((_ring * 2)) ]; do _depth=$((_depth * 2)); done
	[ "$_depth" -le 65536 ] ||
		skip "a ring holds $_ring events here: too many to outrun with fio's iodepth"
	say "$_cpus possible CPUs: a context asked for $_want events holds about $_ring; iodepth=$_depth"
	printf -v "$1" '%s' "$_depth"
}

[ -n "${AIOR_ENGINE:-}" ] || die "AIOR_ENGINE is not set (the engine's path)"
case $AIOR_ENGINE in
/*) ;;
*) AIOR_ENGINE=$PWD/$AIOR_ENGINE ;;
esac
[ -f "$AIOR_ENGINE" ] || die "AIOR_ENGINE=$AIOR_ENGINE does not exist"
export AIOR_ENGINE

# fio as the scripts run it directly (run_job does the same by itself).
# shellcheck source=sanitizer.sh
. "$AIOR_INT_DIR/sanitizer.sh"
_aior_san_env=()
aior_sanitizer_env "$AIOR_ENGINE" _aior_san_env
aior_fio() {
	env "${_aior_san_env[@]}" "${FIO:-fio}" "$@"
}
