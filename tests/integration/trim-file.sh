#!/usr/bin/env bash
# Trim on a regular file: fill it through the engine, discard all of it
# (rw=trim: a punched hole on tmpfs), then the range must read back as
# zeros and occupy no space, while the file keeps its size.
#
# usage: AIOR_ENGINE=/abs/libaioring.so trim-file.sh
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME=trim-file
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_cmd cmp du stat
scratch_dir dir
file=$dir/target.dat
size=$((16 << 20))

run_job --env AIOR_FILE="$file" --env AIOR_SIZE=16m \
	--expect-stat-lines 2 \
	--expect-msg '^ +issued rwts: total=256,256,0,' \
	--expect-msg '^ +issued rwts: total=0,0,256,' \
	"$AIOR_JOBS/verify-trim.fio"

[ "$(stat -c %s "$file")" = "$size" ] || die "$file: size changed by the trim"
cmp -n "$size" "$file" /dev/zero ||
	die "$file: the trimmed range does not read back as zeros"
used=$(du -k "$file" | cut -f1)
[ "$used" -lt 1024 ] || die "$file: ${used} KiB still allocated after trimming all of it"
say ok
