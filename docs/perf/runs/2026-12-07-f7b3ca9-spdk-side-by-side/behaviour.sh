#!/usr/bin/env bash
# The same fio jobs through the engine and through SPDK's spdk_bdev fio
# plugin on an aio bdev of the same file: what each path does with bad
# offsets, a read-only file, EAGAIN, an injected error, fio's
# client/server mode, reset_every and several files per job
# (docs/spdk.md, "Behaviour").  Each case's output, with its command, in
# OUT/<case>.<engine|spdk>.txt.  Root.  Hugepages, fs.aio-max-nr and
# every mount are given back on exit.  It changes machine-wide settings
# (hugepages, fs.aio-max-nr) for a few seconds: run it alone, on a shared
# machine under its CPU lock, as it was here:
#
#   flock /tmp/aior-cpu.lock behaviour.sh ENGINE.so SPDK_PLUGIN FAULTFS OUT
set -uo pipefail
eng=$1 plugin=$2 faultfs=$3 out=$4
spdklib=$(dirname "$(dirname "$(realpath "$plugin")")")/lib
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/aior-beh.XXXXXX)
huge=$work/huge
nr0=$(cat /proc/sys/vm/nr_hugepages)
aio0=$(cat /proc/sys/fs/aio-max-nr)
fpid=
cleanup() {
	[ -z "$fpid" ] || { umount "$work/fuse" 2>/dev/null; kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null; }
	umount "$work/ro" 2>/dev/null
	umount "$huge" 2>/dev/null
	echo "$aio0" >/proc/sys/fs/aio-max-nr
	echo "$nr0" >/proc/sys/vm/nr_hugepages
	rm -rf "$work"
	echo "restored: nr_hugepages $(cat /proc/sys/vm/nr_hugepages) (was $nr0), aio-max-nr $(cat /proc/sys/fs/aio-max-nr) (was $aio0)"
}
trap cleanup EXIT
echo 512 >/proc/sys/vm/nr_hugepages
mkdir "$huge" && mount -t hugetlbfs -o pagesize=2M nodev "$huge"

# conf NAME [readonly] FILE...: an SPDK JSON config, aior0..N on the files
conf() {
	local name=$1 ro=false i=0 sep=
	shift
	[ "$1" = readonly ] && { ro=true; shift; }
	{
		printf '{"subsystems":[{"subsystem":"bdev","config":['
		for f in "$@"; do
			printf '%s{"method":"bdev_aio_create","params":{"name":"aior%d","filename":"%s","block_size":512,"readonly":%s}}' \
				"$sep" "$i" "$f" "$ro"
			sep=, i=$((i + 1))
		done
		printf ',{"method":"bdev_wait_for_examine"}]}]}\n'
	} >"$work/$name.json"
	echo "$work/$name.json"
}

# one CASE PATH CMD...: run CMD with a time-out, keep its command,
# output and exit status
one() {
	local case=$1 path=$2 f
	shift 2
	f=$out/$case.$path.txt
	{ printf '$'; printf ' %q' "$@"; printf '\n\n'; } >"$f"
	timeout -k 5 60 "$@" >>"$f" 2>&1
	echo "exit status: $?" >>"$f"
	printf '%-28s %-7s %s\n' "$case" "$path" "$(tail -n 1 "$f")"
}
engine() {	# engine CASE FILES FIO-OPTIONS...
	local case=$1 files=$2
	shift 2
	one "$case" engine fio --name="$case" --ioengine=external:"$eng" \
		--engine_stats=1 --filename="$files" "$@"
}
spdk() {	# spdk CASE CONF BDEVS FIO-OPTIONS...
	local case=$1 c=$2 bdevs=$3
	shift 3
	one "$case" spdk env LD_PRELOAD="$plugin" LD_LIBRARY_PATH="$spdklib" fio --name="$case" \
		--ioengine=spdk_bdev --thread=1 --spdk_json_conf="$c" \
		"--env_context=--no-pci --huge-dir=$huge" --filename="$bdevs" "$@"
}

shm=/dev/shm/aior-beh
mkdir -p "$shm"
f=$shm/f.dat
head -c 64M /dev/urandom >"$f"
c1=$(conf one "$f")
base=(--direct=1 --bs=4k --iodepth=32)

# 1. bad offsets: past the end of a 64 MiB file, as fio is asked (offset
#    beyond the file; a size beyond it), an offset that is not a multiple
#    of the block size, and a file that shrank under the job (a reader
#    whose data ends before the size fio was told: faultfs --eof).  fio
#    lays out (extends) a file that is too short for the engine, so each
#    run gets a fresh 64 MiB copy.
o=$shm/o.dat
co=$(conf off "$o")
fresh() { cp "$f" "$o"; }
fresh; spdk offset-beyond-end "$co" aior0 "${base[@]}" --rw=randread --offset=128m --size=4m
fresh; engine offset-beyond-end "$o" "${base[@]}" --rw=randread --offset=128m --size=4m
ls -l "$o" >>"$out/offset-beyond-end.engine.txt"
fresh; spdk size-beyond-end "$co" aior0 "${base[@]}" --rw=read --size=128m
fresh; engine size-beyond-end "$o" "${base[@]}" --rw=read --size=128m
ls -l "$o" >>"$out/size-beyond-end.engine.txt"
fresh; spdk offset-unaligned "$co" aior0 "${base[@]}" --rw=randread --offset=1000 --size=4m
fresh; engine offset-unaligned "$o" "${base[@]}" --rw=randread --offset=1000 --size=4m

mkdir "$work/fuse"
"$faultfs" -f -o max_threads=64 --size=$((64 << 20)) --eof=$((32 << 20)) \
	--eio-read=$((1 << 20)) --eio-write=$((2 << 20)) "$work/fuse" 2>"$work/faultfs.err" &
fpid=$!
for _ in $(seq 100); do [ -e "$work/fuse/disk" ] && break; sleep 0.05; done
ff=$work/fuse/disk
cf=$(conf fuse "$ff")
engine eof-shrunk-file "$ff" --direct=1 --bs=4k --iodepth=8 --rw=read --offset=30m --size=4m
spdk eof-shrunk-file "$cf" aior0 --direct=1 --bs=4k --iodepth=8 --rw=read --offset=30m --size=4m

# 4. an injected error: a read covering 1 MiB fails with EIO; a write
#    past the file system's end fails with ENOSPC
engine eio-read "$ff" --direct=1 --bs=4k --iodepth=8 --rw=read --size=4m
spdk eio-read "$cf" aior0 --direct=1 --bs=4k --iodepth=8 --rw=read --size=4m
engine eio-read-continue "$ff" --direct=1 --bs=4k --iodepth=8 --rw=read --size=4m --continue_on_error=read
spdk eio-read-continue "$cf" aior0 --direct=1 --bs=4k --iodepth=8 --rw=read --size=4m --continue_on_error=read
engine eio-write "$ff" --direct=1 --bs=4k --iodepth=8 --rw=write --offset=1m --size=2m
spdk eio-write "$cf" aior0 --direct=1 --bs=4k --iodepth=8 --rw=write --offset=1m --size=2m
umount "$work/fuse"; kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null; fpid=
#    ... and an error other than EIO: ENOSPC, a write into a sparse file
#    on a full tmpfs (8 MiB of room under a 64 MiB file)
mkdir "$work/full" && mount -t tmpfs -o size=8m tmpfs "$work/full"
truncate -s 64m "$work/full/f.dat"
cn=$(conf full "$work/full/f.dat")
engine enospc-write "$work/full/f.dat" --direct=1 --bs=4k --iodepth=8 --rw=write --size=16m
truncate -s 0 "$work/full/f.dat"; truncate -s 64m "$work/full/f.dat"
spdk enospc-write "$cn" aior0 --direct=1 --bs=4k --iodepth=8 --rw=write --size=16m
umount "$work/full"

# 2. a read-only file (a read-only mount: root passes a file's mode bits)
mkdir "$work/ro" && mount -t tmpfs -o size=80m tmpfs "$work/ro"
fresh; cp "$o" "$work/ro/f.dat" && mount -o remount,ro "$work/ro" || exit 1
rf=$work/ro/f.dat
cr=$(conf ro "$rf")
crr=$(conf rro readonly "$rf")
engine readonly-read "$rf" "${base[@]}" --rw=randread --size=16m
spdk readonly-read "$cr" aior0 "${base[@]}" --rw=randread --size=16m
spdk readonly-read-ro-bdev "$crr" aior0 "${base[@]}" --rw=randread --size=16m
engine readonly-write "$rf" "${base[@]}" --rw=randwrite --size=16m
spdk readonly-write-ro-bdev "$crr" aior0 "${base[@]}" --rw=randwrite --size=16m
engine readonly-opt-read "$rf" "${base[@]}" --rw=randread --size=16m --readonly
umount "$work/ro"

# 3. EAGAIN: a queue deeper than the ring (the engine's ring_entries=8;
#    SPDK's channel is io_setup(128) whatever the depth), then
#    fs.aio-max-nr too small for any context
engine eagain-deep-queue "$f" --direct=1 --bs=4k --rw=randread --iodepth=512 \
	--iodepth_batch_submit=64 --runtime=2 --time_based --ring_entries=8
engine eagain-deep-queue-ring512 "$f" --direct=1 --bs=4k --rw=randread --iodepth=512 \
	--iodepth_batch_submit=64 --runtime=2 --time_based
engine eagain-deep-queue-ring128 "$f" --direct=1 --bs=4k --rw=randread --iodepth=512 \
	--iodepth_batch_submit=64 --runtime=2 --time_based --ring_entries=128
spdk eagain-deep-queue "$c1" aior0 --direct=1 --bs=4k --rw=randread --iodepth=512 \
	--iodepth_batch_submit=64 --runtime=2 --time_based
aionr=$(cat /proc/sys/fs/aio-nr)
echo $((aionr + 16)) >/proc/sys/fs/aio-max-nr
engine eagain-aio-max-nr "$f" "${base[@]}" --rw=randread --size=16m
spdk eagain-aio-max-nr "$c1" aior0 "${base[@]}" --rw=randread --size=16m
echo "$aio0" >/proc/sys/fs/aio-max-nr

# 6. reset_every (the engine's drain; SPDK's aio bdev has a reset, the
#    fio plugin no option that sends one)
engine reset-every "$f" "${base[@]}" --rw=randread --size=64m --reset_every=1000
spdk reset-every "$c1" aior0 "${base[@]}" --rw=randread --size=64m --reset_every=1000

# 7. several files per job
for i in 1 2 3; do head -c 16M /dev/urandom >"$shm/m$i.dat"; done
c3=$(conf three "$shm/m1.dat" "$shm/m2.dat" "$shm/m3.dat")
engine three-files "$shm/m1.dat:$shm/m2.dat:$shm/m3.dat" "${base[@]}" --rw=randread --runtime=2 --time_based
spdk three-files "$c3" aior0:aior1:aior2 "${base[@]}" --rw=randread --runtime=2 --time_based

# CPU of the whole fio process (every thread, start-up included) beside
# fio's own figure for the job thread: 3 s of randread QD1 each
one cpu-whole-process engine /usr/bin/time -f "whole process: %U s user %S s sys %e s elapsed" \
	fio --name=cpu --ioengine=external:"$eng" --filename="$f" --direct=1 --bs=4k \
	--iodepth=1 --rw=randread --runtime=3 --time_based
one cpu-whole-process spdk /usr/bin/time -f "whole process: %U s user %S s sys %e s elapsed" \
	env LD_PRELOAD="$plugin" LD_LIBRARY_PATH="$spdklib" fio --name=cpu \
	--ioengine=spdk_bdev --thread=1 --spdk_json_conf="$c1" \
	"--env_context=--no-pci --huge-dir=$huge" --filename=aior0 --direct=1 --bs=4k \
	--iodepth=1 --rw=randread --runtime=3 --time_based

# 5. fio client/server (SPDK issue #1118): a server on 127.0.0.1:8766
#    started as each path needs it, and a job file sent by the client
cat >"$work/cs-engine.fio" <<JOB
[cs]
ioengine=external:$eng
filename=$f
direct=1
bs=4k
iodepth=32
rw=randread
size=16m
JOB
cat >"$work/cs-spdk.fio" <<JOB
[global]
ioengine=spdk_bdev
thread=1
spdk_json_conf=$c1
env_context=--no-pci --huge-dir=$huge
[cs]
filename=aior0
direct=1
bs=4k
iodepth=32
rw=randread
size=16m
JOB
for p in engine spdk; do
	if [ $p = spdk ]; then
		# The plugin refuses a server whose stdout and stderr are not
		# /dev/null ("daemon mode"; its first try, kept in
		# client-server.spdk-tty.*): so they are, here.
		env LD_PRELOAD="$plugin" LD_LIBRARY_PATH="$spdklib" fio --server=ip:127.0.0.1,8766 \
			>/dev/null 2>&1 &
	else
		fio --server=ip:127.0.0.1,8766 >"$out/client-server.$p.server.txt" 2>&1 &
	fi
	spid=$!
	sleep 1
	one client-server "$p" fio --client=ip:127.0.0.1,8766 "$work/cs-$p.fio"
	kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
done
rm -rf "$shm"
