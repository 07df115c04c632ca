#!/usr/bin/env bash
# fio's output stays valid with the engine loaded: every output format
# (normal, json, json+, terse, mixes), to stdout and to --output=FILE,
# parses as fio's own, with each engine message provoked and found on
# stderr instead, and engine_stats_file holds one JSON line per job
# (output-formats.py does the runs and the checks), also through fio's
# client/server mode.
#
# The buffered-fallback notice needs a file system that refuses O_DIRECT:
# a ramfs mount (root); client/server mode, a fio server on 127.0.0.1.
# Without either every other check still runs, and then the test is
# skipped (exit 77) saying what was not checked.
#
# usage: AIOR_ENGINE=/abs/libaioring.so output-formats.sh [--no-stats-file]
#   --no-stats-file   (passed on) for an engine built before
#                     engine_stats_file existed
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME=${AIOR_TEST_NAME:-output-formats}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_cmd python3 dd
scratch_dir dir

# A ramfs mount where O_DIRECT is refused with EINVAL, if this host has one.
ramfs=()
if [ "$(id -u)" -ne 0 ]; then
	ramfs=(--no-ramfs "not root: no ramfs mount for the buffered-fallback notice")
else
	mnt=$(mktemp -d "${TMPDIR:-/tmp}/aior-mnt.XXXXXX")
	on_exit "rmdir -- '$mnt'"
	if ! mount -t ramfs aior-ramfs "$mnt" 2>/dev/null; then
		ramfs=(--no-ramfs "cannot mount ramfs: no buffered-fallback notice to provoke")
	else
		on_exit "umount -l -- '$mnt'"
		if dd if=/dev/zero of="$mnt/probe" bs=4096 count=1 \
			oflag=direct >/dev/null 2>&1; then
			ramfs=(--no-ramfs "ramfs takes O_DIRECT on this kernel: no buffered-fallback notice to provoke")
		else
			ramfs=(--ramfs "$mnt")
		fi
		rm -f -- "$mnt/probe"
	fi
fi

envs=()
for e in "${_aior_san_env[@]}"; do
	envs+=(--env "$e")
done
rc=0
python3 "$AIOR_INT_DIR/output-formats.py" --fio "$(command -v "${FIO:-fio}")" \
	--engine "$AIOR_ENGINE" --dir "$dir" "${ramfs[@]}" "${envs[@]}" "$@" ||
	rc=$?
case $rc in
0) say ok ;;
77) skip "a part of the test could not run here (above)" ;;
*) die "fio's output or the engine's messages are wrong (above)" ;;
esac
