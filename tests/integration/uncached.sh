#!/usr/bin/env bash
# uncached=1 (RWF_DONTCACHE, Linux 6.14+): buffered I/O that leaves the
# page cache as it was, measured with fincore on the job's file, against
# the same job with uncached=0, which must leave the pages cached (so the
# test can fail).  Every file starts evicted (written, synced, then
# dd iflag=nocache: POSIX_FADV_DONTNEED), so the baseline is known.
#
# usage: AIOR_ENGINE=/abs/libaioring.so FIO=/path/to/fio uncached.sh SCENARIO
#   read          ext4 on a loop device: sequential 64k reads of a 64 MiB
#                 file; uncached=1 leaves at most 1 % of its pages cached,
#                 uncached=0 at least 90 %.
#   write         xfs on a loop device (ext4 where mkfs.xfs is missing):
#                 64 MiB written then read back with verify=crc32c and
#                 end_fsync=1; the same bounds.  First a reference: the
#                 same file written with pwritev2(RWF_DONTCACHE) and
#                 fsync'ed (python3); a file system whose pages stay
#                 cached even then (ext4 on 6.18 keeps written pages)
#                 skips, naming the file system and the kernel.
#   refuse-tmpfs  tmpfs has no RWF_DONTCACHE: the job fails at open,
#                 before any I/O, in one line naming the file and "tmpfs"
#                 (on a kernel without the flag: the line naming the
#                 kernel instead).
#   refuse-direct uncached=1 with direct=1: the job fails at init, before
#                 any I/O (fio has laid the file out by then), in one line
#                 naming both options.
# read and write need root (losetup, mount), mkfs.ext4/mkfs.xfs and
# fincore; on a kernel without RWF_DONTCACHE they skip after checking that
# the engine refused the job in the line naming the kernel.
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME="uncached-${1:-}"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

scenario=${1:?usage: uncached.sh read|write|refuse-tmpfs|refuse-direct}
fio=${FIO:-fio}
kernel=$(uname -r)
scratch_dir dir

# The refusals, as the engine words them (engine/flags.c).
re_kernel="^libaioring: .*: uncached=1 needs RWF_DONTCACHE, which this kernel \\(${kernel//./\\.}\\) does not support: it needs Linux 6\\.14 or later\$"
re_direct="^libaioring: job 'unc': uncached=1 is for buffered I/O and the job has direct=1: set direct=0 "

# job NAME ARGS...: one fio job under the engine; messages in NAME.log,
# fio's JSON in NAME.json.  Returns fio's exit status.
job() {
	local name=$1
	shift
	(cd "$dir" && timeout -k 5 120 "$fio" --name=unc \
		--ioengine="external:$AIOR_ENGINE" --engine_stats=1 "$@" \
		--output-format=json --output="$dir/$name.json") \
		>"$dir/$name.log" 2>&1
}

# cached FILE: pages of FILE in the page cache, and all its pages.
cached() {
	local pages size
	read -r pages size < <(fincore --bytes --noheadings --raw \
		--output PAGES,SIZE "$1")
	echo "$pages $(((size + 4095) / 4096))"
}

evict() {
	sync "$1"
	dd if="$1" iflag=nocache count=0 status=none
	local c
	read -r c _ < <(cached "$1")
	[ "$c" -eq 0 ] || die "could not evict $1 from the page cache ($c pages stay)"
}

# mkfs_mount TYPE VAR: a fresh TYPE file system on a loop device, its
# mount point in VAR.
mkfs_mount() {
	local type=$1 img=$dir/$1.img _m
	need_root
	need_cmd losetup mount "mkfs.$type"
	truncate -s 512M "$img"
	loop_attach _dev "$img" 512
	local force=-F
	[ "$type" = xfs ] && force=-f
	"mkfs.$type" -q "$force" "$_dev" >/dev/null 2>&1 ||
		skip "mkfs.$type failed on $_dev"
	_m=$dir/mnt-$type
	mkdir "$_m"
	mount -t "$type" "$_dev" "$_m" || skip "cannot mount $type from $_dev"
	on_exit "umount -l '$_m'"
	printf -v "$2" '%s' "$_m"
}

# refused_by_kernel NAME: did the engine refuse the job because this
# kernel has no RWF_DONTCACHE?  Then there is nothing to measure.
refused_by_kernel() {
	grep -Eq "$re_kernel" "$dir/$1.log" || return 1
	say "$(grep '^libaioring: ' "$dir/$1.log" | head -n1)"
	skip "kernel $kernel has no RWF_DONTCACHE (Linux 6.14 or later): refused as documented, nothing to measure"
}

# measure WHAT FILE ARGS...: the job with uncached=1, then uncached=0,
# each from an evicted file; prints and checks the pages left cached.
measure() {
	local what=$1 f=$2 u c n rc
	shift 2
	local -A left
	for u in 1 0; do
		evict "$f"
		rc=0
		job "$what-$u" --filename="$f" --uncached="$u" "$@" || rc=$?
		if [ "$rc" != 0 ]; then
			[ "$u" = 1 ] && { refused_by_kernel "$what-$u" || true; }
			cat "$dir/$what-$u.log" >&2
			die "the $what job with uncached=$u failed (exit $rc)"
		fi
		grep -q "^libaioring: job 'unc':.* submit_errors=0 " "$dir/$what-$u.log" ||
			{ cat "$dir/$what-$u.log" >&2; die "no counters, or submit errors (above)"; }
		grep -Eq '"error" : [1-9]' "$dir/$what-$u.json" &&
			{ cat "$dir/$what-$u.json" >&2; die "the $what job reported an error"; }
		# A written page is dropped when its writeback ends, which
		# end_fsync waited for; give the last ones a moment.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			read -r c n < <(cached "$f")
			[ "$u" = 0 ] || [ "$c" -le $((n / 100)) ] && break
			sleep 0.2
		done
		left[$u]=$c
		say "$what, $fs on a loop device: uncached=$u leaves $c of $n pages of the file cached"
	done
	[ "${left[1]}" -le $((n / 100)) ] ||
		die "$what: uncached=1 left ${left[1]} of $n pages cached (want at most 1 %)"
	[ "${left[0]}" -ge $((n * 9 / 10)) ] ||
		die "$what: uncached=0 left only ${left[0]} of $n pages cached: the test cannot tell the two apart"
}

case $scenario in
read)
	need_cmd fincore dd
	fs=ext4
	mkfs_mount ext4 mnt
	f=$mnt/t.dat
	dd if=/dev/urandom of="$f" bs=1M count=64 conv=fsync status=none
	measure read "$f" --rw=read --bs=64k --iodepth=8 --size=64m \
		--direct=0 --invalidate=0
	;;
write)
	need_cmd fincore dd python3
	fs=xfs
	command -v mkfs.xfs >/dev/null 2>&1 || fs=ext4
	mkfs_mount "$fs" mnt
	f=$mnt/t.dat
	dd if=/dev/zero of="$f" bs=1M count=64 conv=fsync status=none
	evict "$f"
	# The reference: does this file system drop pages written with
	# RWF_DONTCACHE at all?  (pwritev2 needs no aio and no engine.)
	python3 - "$f" <<'PY' || die "the pwritev2(RWF_DONTCACHE) reference failed"
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
buf = b"\xa5" * 65536
for off in range(0, 64 << 20, 65536):
    try:
        os.pwritev(fd, [buf], off, 0x80)   # RWF_DONTCACHE
    except OSError as e:
        print("pwritev2 RWF_DONTCACHE: %s" % e)
        sys.exit(0)                        # the engine's job says why
os.fsync(fd)
PY
	for _ in 1 2 3 4 5; do
		read -r c n < <(cached "$f")
		[ "$c" -le $((n / 100)) ] && break
		sleep 0.2
	done
	say "reference, $fs on a loop device: pwritev2(RWF_DONTCACHE) and fsync leave $c of $n pages cached"
	if [ "$c" -gt $((n / 10)) ]; then
		job probe --filename="$f" --uncached=1 --rw=read --size=4k ||
			refused_by_kernel probe || true
		skip "$fs under kernel $kernel keeps pages written with RWF_DONTCACHE ($c of $n after pwritev2 and fsync): nothing to tell apart (mkfs.xfs gives a file system that drops them)"
	fi
	measure write "$f" --rw=write --bs=64k --iodepth=8 --size=64m \
		--direct=0 --invalidate=0 --end_fsync=1 --verify=crc32c \
		--do_verify=1
	grep -q '"verify_errors"' "$dir/write-1.json" &&
		grep -Eq '"verify_errors" : [1-9]' "$dir/write-1.json" &&
		die "verify errors with uncached=1"
	;;
refuse-tmpfs)
	need_cmd dd
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ]; then
		tdir=$dir
		[ "$(stat -f -c %T "$dir")" = tmpfs ] || {
			tdir=$(mktemp -d /dev/shm/aior-unc.XXXXXX)
			on_exit "rm -rf -- '$tdir'"
		}
	else
		mount_scratch tdir tmpfs
	fi
	f=$tdir/t.dat
	dd if=/dev/zero of="$f" bs=1M count=4 status=none
	before=$(md5sum <"$f")
	rc=0
	job tmpfs --filename="$f" --uncached=1 --rw=randwrite --bs=4k \
		--size=4m --direct=0 || rc=$?
	[ "$rc" != 0 ] || die "a job with uncached=1 on tmpfs ran"
	re_fs="^libaioring: ${f//./\\.}: uncached=1: its file system \\(tmpfs\\) does not support RWF_DONTCACHE \\(kernel ${kernel//./\\.} refused a read with it: EOPNOTSUPP\\); use a file on one that does, such as ext4 or xfs\$"
	n=$(grep -Ec "$re_fs" "$dir/tmpfs.log" || true)
	if [ "$n" != 1 ]; then
		if grep -Eq "$re_kernel" "$dir/tmpfs.log"; then
			say "kernel $kernel has no RWF_DONTCACHE: refused for that, as documented"
		else
			cat "$dir/tmpfs.log" >&2
			die "want one line naming $f and tmpfs, got $n"
		fi
	fi
	grep -q "submitted=[1-9]" "$dir/tmpfs.log" &&
		die "requests were submitted before the refusal"
	[ "$(md5sum <"$f")" = "$before" ] || die "the refused job wrote to $f"
	say "$(grep '^libaioring: ' "$dir/tmpfs.log" | head -n1)"
	;;
refuse-direct)
	f=$dir/t.dat
	rc=0
	job direct --filename="$f" --uncached=1 --direct=1 --rw=read \
		--size=4m || rc=$?
	[ "$rc" != 0 ] || die "a job with uncached=1 and direct=1 ran"
	n=$(grep -Ec "$re_direct" "$dir/direct.log" || true)
	[ "$n" = 1 ] || { cat "$dir/direct.log" >&2; die "want one line naming uncached=1 and direct=1, got $n"; }
	grep -q "submitted=" "$dir/direct.log" &&
		die "the refused job reached post_init (a counters line)"
	say "$(grep '^libaioring: ' "$dir/direct.log" | head -n1)"
	;;
*)
	die "unknown scenario '$scenario'"
	;;
esac
say ok
