#!/usr/bin/env bash
# O_DIRECT refused by the file system: a fresh ramfs mount, where open()
# with O_DIRECT fails with EINVAL (ramfs has no direct I/O; tmpfs has had
# it since Linux 6.6, so it no longer serves).  The script checks that
# first with dd, and fails if ramfs does take O_DIRECT here: then the test
# needs another file system.
#
# usage: AIOR_ENGINE=/abs/libaioring.so ramfs.sh fallback|no-fallback
#   fallback      direct_fallback=1 (default): the job runs buffered, says
#                 so once naming the file, verify passes
#   no-fallback   direct_fallback=0: the job fails naming the file
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME="ramfs-${1:-}"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

scenario=${1:?usage: ramfs.sh fallback|no-fallback}
need_root
need_cmd dd
mount_scratch mnt ramfs
file=$mnt/target.dat

# The premise: O_DIRECT is refused here with EINVAL.
if msg=$(dd if=/dev/zero of="$file" bs=4096 count=1 oflag=direct 2>&1); then
	die "ramfs accepted O_DIRECT on this kernel: pick a file system that refuses it"
fi
grep -q 'Invalid argument' <<<"$msg" ||
	die "O_DIRECT open on ramfs failed, but not with EINVAL: $msg"
rm -f -- "$file"

case $scenario in
fallback)
	run_job --env AIOR_FILE="$file" --env AIOR_SIZE=16m \
		--expect-msg-count "1:^libaioring: $file: the file system refuses O_DIRECT; using buffered I/O" \
		--expect-stat 'direct_fallbacks>0' --expect-stat 'bounces==0' \
		--expect-stat 'reaped_ring>0' --expect-verified \
		"$AIOR_JOBS/verify-fallback.fio"
	;;
no-fallback)
	run_job --env AIOR_FILE="$file" --env AIOR_SIZE=16m \
		--expect-exit nonzero \
		--expect-msg "^libaioring: $file: the file system refuses O_DIRECT \(EINVAL\) and direct_fallback=0" \
		--expect-no-msg 'using buffered I/O' \
		--expect-stat 'submitted==0' \
		"$AIOR_JOBS/refuse-no-fallback.fio"
	;;
*)
	die "unknown scenario '$scenario'"
	;;
esac
say ok
