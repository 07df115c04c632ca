#!/usr/bin/env bash
# A file on a read-only mount: a tmpfs is mounted, a file written and
# checked through the engine, then the mount is remounted read-only.
#
# usage: AIOR_ENGINE=/abs/libaioring.so rofs.sh write|read
#   write   a write job fails: the message names the file and says
#           "Read-only file system"; the file is unchanged
#   read    a read job with verification passes (opens read-only)
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME="rofs-${1:-}"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

scenario=${1:?usage: rofs.sh write|read}
need_root
need_cmd sha256sum
mount_scratch mnt tmpfs size=64m
file=$mnt/target.dat

# Data with verify headers, written while the mount is writable.
run_job --env AIOR_FILE="$file" --env AIOR_SIZE=16m \
	"$AIOR_JOBS/verify-readonly.fio" -- --section=fill >/dev/null
mount -o remount,ro "$mnt" || die "cannot remount $mnt read-only"
touch "$mnt/probe" 2>/dev/null && die "$mnt is still writable after remount,ro"
before=$(sha256sum <"$file")

case $scenario in
write)
	run_job --env AIOR_FILE="$file" --env AIOR_SIZE=16m \
		--expect-exit nonzero \
		--expect-msg "^libaioring: $file: cannot open for reading and writing: Read-only file system" \
		"$AIOR_JOBS/refuse-readonly.fio"
	;;
read)
	run_job --env AIOR_FILE="$file" --env AIOR_SIZE=16m \
		--expect-stat 'reaped_ring>0' --expect-stat 'submitted==4096' \
		--expect-msg '^ +issued rwts: total=4096,0,0,' \
		"$AIOR_JOBS/verify-readonly.fio" -- --section=readback
	;;
*)
	die "unknown scenario '$scenario'"
	;;
esac
[ "$(sha256sum <"$file")" = "$before" ] || die "$file changed on a read-only mount"
say ok
