#!/usr/bin/env bash
# Scenarios on loop devices with 4096-byte logical sectors, backed by files
# on a RAM-backed file system and run buffered (--direct-io=off), so that
# completions arrive asynchronously from the loop worker, unlike a tmpfs
# file, where the kernel completes aio inside io_submit().
#
# usage: AIOR_ENGINE=/abs/libaioring.so loopdev.sh SCENARIO
#   verify          4k and 16k random writes + verify, aligned buffers
#   bounce          buffers misaligned for the device (fio mem_align=):
#                   the kernel refuses them (built-in libaio fails with
#                   EINVAL), the engine bounces them and verify passes
#   refuse-bs       bs=512 on the 4096 device: refused before any I/O
#   refuse-offset   offset=512: refused likewise
#   refuse-smaller  aio_block_size=2048 (< detected 4096): refused
#   larger          aio_block_size=8192: accepted, with one notice
#   trim            fill, discard all of it, then it reads back as zeros
#   filelist        two devices in one job, a context each (eventfd wait)
#   reset           reset_every=64 while requests really are in flight
#   spin            wait_mode=spin: verify passes, never io_getevents()
#   syscall         reap_mode=syscall with asynchronous completions
#   deep            two devices, ring_entries=4 and iodepth twice what the
#                   ring holds: EAGAIN with requests really in flight
#   deep-single     the same with submit_mode=single (busy back to fio)
#   coalesce-adaptive   coalesce=adaptive: completions come from the loop
#                   worker, mostly after io_submit() returns, so not every
#                   call counts as inline; verify passes.  (The worker runs
#                   on another CPU and sometimes finishes within the call:
#                   a streak, and holds, can happen here.)
#   coalesce-always coalesce=always holds anyway: verify passes
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME="loopdev-${1:-}"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

scenario=${1:?usage: loopdev.sh SCENARIO}
need_root
need_cmd losetup sha256sum cmp

size_mb=32
scratch_dir dir

# A device of size_mb MiB, logical block size 4096, filled with random data
# (so that a refused job can be shown to have written nothing).
new_dev() {
	local var=$1 img=$dir/backing$2.img
	head -c "$((size_mb << 20))" /dev/urandom >"$img"
	loop_attach "$var" "$img" 4096
	local n=${!var#/dev/} lbs
	lbs=$(cat "/sys/block/$n/queue/logical_block_size")
	[ "$lbs" = 4096 ] || die "${!var}: logical block size $lbs, asked 4096 (losetup --sector-size)"
}

# The device's content is unchanged since snapshot().
snapshot() { sha256sum <"$1" >"$dir/before.sum"; }
unchanged() {
	sha256sum <"$1" | cmp -s - "$dir/before.sum" ||
		die "$1 changed: the refused job wrote to it"
}

refuse() {
	local dev=$1
	shift
	snapshot "$dev"
	run_job --env AIOR_FILE="$dev" --env AIOR_SIZE=16m \
		--expect-exit nonzero "$@" "$AIOR_JOBS/refuse-geometry.fio"
	unchanged "$dev"
}

new_dev dev 1
say "device $dev"

case $scenario in
verify)
	run_job --env AIOR_FILE="$dev" --env AIOR_SIZE=${size_mb}m \
		--env AIOR_MEM_ALIGN=0 --expect-stat-lines 2 \
		--expect-stat 'reaped_ring>0' --expect-stat 'bounces==0' \
		--expect-stat 'submit_errors==0' --expect-verified \
		"$AIOR_JOBS/verify-loopdev.fio"
	;;
bounce)
	n=${dev#/dev/}
	dma=$(cat "/sys/block/$n/queue/dma_alignment")
	align=$((dma + 1))	# the buffer alignment O_DIRECT needs
	[ "$align" -ge 2 ] || skip "$dev takes buffers at any address (dma_alignment=$dma): nothing to bounce"
	mis=$((align / 2))	# fio's buffers: page + mem_align
	say "dma_alignment=$dma: O_DIRECT needs $align-byte buffers; mem_align=$mis"
	# The control: the kernel really refuses these buffers.
	run_job --no-job --expect-exit nonzero \
		--expect-msg "io_u error on file $dev: Invalid argument" -- \
		--name=control --ioengine=libaio --filename="$dev" --size=1m \
		--rw=write --bs=4k --direct=1 --mem_align="$mis"
	run_job --env AIOR_FILE="$dev" --env AIOR_SIZE=${size_mb}m \
		--env AIOR_MEM_ALIGN="$mis" --expect-stat-lines 2 \
		--expect-stat 'bounces>0' --expect-stat 'submit_errors==0' \
		--expect-verified "$AIOR_JOBS/verify-loopdev.fio"
	# Aligned to what the device needs: no bounce.
	run_job --env AIOR_FILE="$dev" --env AIOR_SIZE=${size_mb}m \
		--env AIOR_MEM_ALIGN="$align" --expect-stat 'bounces==0' \
		--expect-verified "$AIOR_JOBS/verify-loopdev.fio"
	;;
refuse-bs)
	refuse "$dev" --env AIOR_BS=512 --env AIOR_OFFSET=0 \
		--env AIOR_BLOCK_SIZE=0 \
		--expect-msg "^libaioring: $dev: .*bs=512 .*logical block size 4096"
	;;
refuse-offset)
	refuse "$dev" --env AIOR_BS=4k --env AIOR_OFFSET=512 \
		--env AIOR_BLOCK_SIZE=0 \
		--expect-msg "^libaioring: $dev: offset=512 .*logical block size 4096"
	;;
refuse-smaller)
	refuse "$dev" --env AIOR_BS=4k --env AIOR_OFFSET=0 \
		--env AIOR_BLOCK_SIZE=2048 \
		--expect-msg "^libaioring: $dev: aio_block_size=2048: must not be smaller than the detected block size.*4096"
	;;
larger)
	run_job --env AIOR_FILE="$dev" --env AIOR_SIZE=16m \
		--expect-msg-count "1:^libaioring: $dev: aio_block_size=8192 differs from the detected block size 4096" \
		--expect-stat 'reaped_ring>0' --expect-verified \
		"$AIOR_JOBS/verify-block-size.fio"
	;;
trim)
	n=${dev#/dev/}
	[ "$(cat "/sys/block/$n/queue/discard_max_bytes")" -gt 0 ] ||
		skip "$dev does not discard (backing file system cannot punch holes)"
	run_job --env AIOR_FILE="$dev" --env AIOR_SIZE=16m \
		--expect-stat-lines 2 \
		--expect-msg '^ +issued rwts: total=0,0,256,' \
		"$AIOR_JOBS/verify-trim.fio"
	cmp -n $((16 << 20)) "$dev" /dev/zero ||
		die "$dev: the trimmed range does not read back as zeros"
	cmp -s -i $((16 << 20)) -n $((1 << 20)) "$dev" /dev/zero &&
		die "$dev: past the trimmed range should still hold random data"
	;;
filelist)
	new_dev dev2 2
	run_job --env AIOR_FILES="$dev:$dev2" --env AIOR_SIZE=${size_mb}m \
		--expect-stat-lines 1 --expect-stat 'contexts==2' \
		--expect-stat 'reaped_ring>0' --expect-verified \
		"$AIOR_JOBS/verify-filelist.fio"
	;;
reset)
	new_dev dev2 2
	run_job --env AIOR_FILES="$dev:$dev2" --env AIOR_SIZE=${size_mb}m \
		--expect-stat 'resets>0' --expect-stat 'drains>=resets' \
		--expect-stat 'contexts==2' --expect-verified \
		"$AIOR_JOBS/verify-reset.fio"
	;;
spin)
	run_job --env AIOR_FILE="$dev" --env AIOR_SIZE=${size_mb}m \
		--env AIOR_REAP_MODE=ring --env AIOR_WAIT_MODE=spin \
		--env AIOR_SUBMIT_MODE=batch --env AIOR_VECTORED=1 \
		--expect-stat 'reaped_ring>0' --expect-stat 'getevents_calls==0' \
		--expect-stat 'reaped_syscall==0' --expect-verified \
		"$AIOR_JOBS/verify-modes.fio"
	;;
syscall)
	run_job --env AIOR_FILE="$dev" --env AIOR_SIZE=${size_mb}m \
		--env AIOR_REAP_MODE=syscall --env AIOR_WAIT_MODE=block \
		--env AIOR_SUBMIT_MODE=batch --env AIOR_VECTORED=0 \
		--expect-stat 'reaped_ring==0' --expect-stat 'reaped_syscall>0' \
		--expect-stat 'getevents_calls>0' --expect-verified \
		"$AIOR_JOBS/verify-modes.fio"
	;;
deep|deep-single)
	new_dev dev2 2
	mode="batch"
	[ "$scenario" = deep ] || mode=single
	deeper_than_ring depth 4
	run_job --env AIOR_FILE="$dev:$dev2" --env AIOR_SIZE=${size_mb}m \
		--env AIOR_IODEPTH="$depth" --env AIOR_SUBMIT_MODE=$mode \
		--expect-stat 'eagain>0' --expect-stat 'submit_errors==0' \
		--expect-stat 'contexts==2' --expect-verified \
		"$AIOR_JOBS/verify-deep-queue.fio"
	;;
coalesce-adaptive)
	run_job --env AIOR_FILE="$dev" --env AIOR_SIZE=${size_mb}m \
		--env AIOR_COALESCE=adaptive \
		--expect-stat 'inline_submits<submit_calls' \
		--expect-verified "$AIOR_JOBS/verify-coalesce.fio"
	;;
coalesce-always)
	run_job --env AIOR_FILE="$dev" --env AIOR_SIZE=${size_mb}m \
		--env AIOR_COALESCE=always \
		--expect-stat 'holds>0' --expect-stat 'submit_calls<submitted' \
		--expect-verified "$AIOR_JOBS/verify-coalesce.fio"
	;;
*)
	die "unknown scenario '$scenario'"
	;;
esac
say "ok"
