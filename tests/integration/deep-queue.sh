#!/usr/bin/env bash
# fio's queue deeper than the kernel's aio ring, on a RAM-backed file:
# EAGAIN from io_submit() must be backpressure, and the counters must show
# that it happened.  With ring_entries=4 the job's iodepth is twice what
# the kernel's ring holds (lib.sh: deeper_than_ring), so EAGAIN is certain
# here, where every request completes inside io_submit() and holds its
# ring slot until reaped.  (loopdev.sh deep: the same with requests really
# in flight.)
#
# usage: AIOR_ENGINE=/abs/libaioring.so deep-queue.sh batch|single
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME="deep-queue-${1:-}"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

mode=${1:?usage: deep-queue.sh batch|single}
deeper_than_ring depth 4
run_job --tmp-file AIOR_FILE --env AIOR_SIZE=32m --env AIOR_IODEPTH="$depth" \
	--env AIOR_SUBMIT_MODE="$mode" \
	--expect-stat 'eagain>0' --expect-stat 'submit_errors==0' \
	--expect-stat 'reaped_ring>0' --expect-verified \
	"$AIOR_JOBS/verify-deep-queue.fio"
say ok
