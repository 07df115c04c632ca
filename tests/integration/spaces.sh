#!/usr/bin/env bash
# Paths with spaces: the engine copied into a directory whose name has a
# space, loaded as ioengine=external:<that path>, writing a target file
# whose name has a space; both from a job file and from the command line.
#
# usage: AIOR_ENGINE=/abs/libaioring.so spaces.sh
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME=spaces
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

scratch_dir dir
mkdir "$dir/engine dir"
engine="$dir/engine dir/lib aioring.so"
cp -- "$AIOR_ENGINE" "$engine"
file="$dir/target file.dat"

run_job --engine "$engine" --env AIOR_FILE="$file" --env AIOR_SIZE=16m \
	--env AIOR_VERIFY=crc32c --expect-stat 'reaped_ring>0' \
	--expect-verified "$AIOR_JOBS/verify-checksum.fio"
[ -s "$file" ] || die "'$file' was not written"
rm -f -- "$file"

run_job --no-job --expect-stat 'reaped_ring>0' --expect-verified -- \
	--name='spaces on the command line' "--ioengine=external:$engine" \
	"--filename=$file" --size=16m --rw=randwrite --bs=4k --iodepth=16 \
	--direct=1 --verify=crc32c --engine_stats=1
[ -s "$file" ] || die "'$file' was not written"
say ok
