#!/bin/bash
# The device stage's checks, inside the guest (tests/device/run.sh boots
# it; tests/device/init.sh chroots here, as pid 1).  The guest sees the
# host's tree read-only with a tmpfs overlay, so fio, the engine and the
# job files are the host's.
#
# usage (by init.sh only): guest.sh OUT
#   OUT holds guest.env (written by run.sh: AIOR_ENGINE, AIOR_REPO) and
#   receives results.txt (one line per check), log/ (every fio output)
#   and status (PASS, FAIL or SKIPPED, with counts).
#
# Every check runs the engine and, where libaio can run it, fio's built-in
# libaio on the same namespace, and prints one line:
#   check NAME: libaioring VERDICT (detail) | libaio VERDICT (detail)
# Only the engine's verdict decides the stage; libaio's is its result on
# the same job, shown beside it.  A check that cannot run here says
# "CANNOT RUN" and makes the stage SKIPPED (not passed).
#
# Talks to run.sh on /dev/ttyS1: "@@BOOTED", "@@DEL <id>" (device_del of
# a controller), "@@DONE <status>".  Every fio runs under timeout(1).
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

out=${1:?usage: guest.sh OUT}
ctl() { echo "$*" >/dev/ttyS1; }
bye() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 30
}
ctl "@@BOOTED"
grep -qw aior.probe /proc/cmdline && bye

# shellcheck source=/dev/null
. "$out/guest.env"
ENGINE=$AIOR_ENGINE
JOBS=$AIOR_REPO/jobs
log=$out/log
work=/tmp/aior-device
mkdir -p "$log" "$work"
results=$out/results.txt
: >"$results"
nfail=0 nskip=0 npass=0

say() { printf 'guest: %s\n' "$*"; }

# One result line; the engine's verdict counts.
report() {	# NAME ENGINE_VERDICT ENGINE_DETAIL LIBAIO_TEXT
	local l="check $1: libaioring $2 ($3) | libaio $4"
	printf '%s\n' "$l" | tee -a "$results"
	case $2 in
	PASS) npass=$((npass + 1)) ;;
	"CANNOT RUN") nskip=$((nskip + 1)) ;;
	*) nfail=$((nfail + 1)) ;;
	esac
}

# fio_run TAG TIMEOUT ARGS...: fio in a scratch directory, its output in
# $log/TAG.out; sets RC, SECS (wall time) and LOG.
fio_run() {
	local tag=$1 t=$2 s e
	shift 2
	LOG=$log/$tag.out
	mkdir -p "${LOG%/*}"
	s=$(date +%s%N)
	(cd "$work" && timeout -k 5 "$t" fio "$@") >"$LOG" 2>&1
	RC=$?
	e=$(date +%s%N)
	SECS=$(((e - s) / 100000000))
	SECS="$((SECS / 10)).$((SECS % 10))"
}

# A job file for libaio: the same job, ioengine=libaio, without the
# engine's own options (libaio has no reset_every, no engine_stats...).
libaio_job() {	# JOB -> prints the path of the copy
	local j
	j=$work/libaio-$(basename "$1")
	sed -e 's|^ioengine=external:.*|ioengine=libaio|' \
	    -e '/^\(ctx_mode\|ring_entries\|reap_mode\|wait_mode\|submit_mode\|vectored\|direct_fallback\|aio_block_size\|reset_every\|drain_timeout\|stall_timeout\|engine_stats\|engine_stats_file\|coalesce\)[[:space:]]*=/d' \
	    "$1" >"$j"
	echo "$j"
}

first_err() {	# LOG: fio's first error line, shortened
	grep -m1 -E 'io_u error|fio: pid=[0-9]+, err=|^libaioring: .*(not|refus|must|fail|still)|verify: bad' "$1" |
		cut -c1-160
}

# The engine's counters balance: every request the kernel accepted was
# reaped (engine_stats=1 lines on stderr).  Prints "" or the problem.
stats_balance() {	# LOG
	local n
	n=$(grep -c "^libaioring: job '.*': contexts=" "$1")
	[ "$n" -gt 0 ] || { echo "no engine_stats line"; return; }
	grep "^libaioring: job '.*': contexts=" "$1" | awk '
	{ delete kv
	  for (i = 1; i <= NF; i++)
		if (split($i, p, "=") == 2) kv[p[1]] = p[2] + 0
	  if (kv["submitted"] != kv["reaped_ring"] + kv["reaped_syscall"])
		printf "submitted=%d reaped=%d in %s ", kv["submitted"],
			kv["reaped_ring"] + kv["reaped_syscall"], $3 }'
}

# judge_ok LOG RC VERIFY ENGINE: sets V (PASS/FAIL) and D (detail) for a
# run that must succeed; VERIFY=1: every job read back all it wrote.
judge_ok() {
	local f=$1 rc=$2 verify=$3 eng=$4 bad tot p
	V=FAIL
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		D="timed out after ${SECS}s"; return
	fi
	if [ "$rc" != 0 ]; then
		D="exit $rc: $(first_err "$f")"; return
	fi
	bad=$(grep -m1 -E 'verify: bad|bad magic|verify failed|got pattern|bad header|Segmentation|Assertion' "$f")
	[ -z "$bad" ] || { D="$bad"; return; }
	if grep -E ': \(groupid=[0-9]+, jobs=[0-9]+\): err=' "$f" | grep -qv 'err= 0:'; then
		D="a job reported an error"; return
	fi
	tot=$(sed -n 's/^ *issued rwts: total=\([0-9]*\),\([0-9]*\),\([0-9]*\).*/\1 \2 \3/p' "$f")
	if [ "$verify" = 1 ]; then
		while read -r r w _; do
			if [ "${w:-0}" -eq 0 ] || [ "$r" -ne "$w" ]; then
				D="wrote $w, read back $r"; return
			fi
		done <<<"$tot"
	fi
	if [ "$eng" = 1 ]; then
		p=$(stats_balance "$f")
		[ -z "$p" ] || { D="counters: $p"; return; }
	fi
	V=PASS
	D="exit 0, $(grep -c 'err= 0:' "$f") job(s)"
	[ "$verify" = 1 ] && D+=", all verified"
	D+=", ${SECS}s"
}

# pair_job NAME JOB VERIFY [FIO_ARGS...]: the job file with the engine and
# with libaio (a copy without the engine's options).  AIOR_* in the env.
pair_job() {
	local name=$1 job=$2 verify=$3 ev ed
	shift 3
	fio_run "$name.aior" 120 "$@" "$job"
	judge_ok "$LOG" "$RC" "$verify" 1
	ev=$V ed=$D
	fio_run "$name.libaio" 120 "$@" "$(libaio_job "$job")"
	judge_ok "$LOG" "$RC" "$verify" 0
	report "$name" "$ev" "$ed" "$V ($D)"
}

# pair_cmd NAME VERIFY -- FIO_ARGS...: a command-line job; the engine's
# ioengine goes first.
pair_cmd() {
	local name=$1 verify=$2 ev ed
	shift 3
	fio_run "$name.aior" 120 --ioengine="external:$ENGINE" --engine_stats=1 "$@"
	judge_ok "$LOG" "$RC" "$verify" 1
	ev=$V ed=$D
	fio_run "$name.libaio" 120 --ioengine=libaio "$@"
	judge_ok "$LOG" "$RC" "$verify" 0
	report "$name" "$ev" "$ed" "$V ($D)"
}

# The block device of namespace NSID on the controller with serial SERIAL.
dev_of() {	# SERIAL NSID
	local b
	for b in /sys/block/nvme*n*; do
		[ -e "$b/device/serial" ] || continue
		[ "$(tr -d ' ' <"$b/device/serial")" = "$1" ] || continue
		[ "$(cat "$b/nsid" 2>/dev/null)" = "$2" ] || continue
		echo "/dev/${b##*/}"
		return 0
	done
	return 1
}

say "kernel $(uname -r), $(fio --version), engine $ENGINE"
modprobe nvme || say "modprobe nvme failed"
for _ in $(seq 60); do
	dev_of aior-hot7 1 >/dev/null && dev_of aior-zns 1 >/dev/null && break
	sleep 0.5
done
D512=$(dev_of aior-main 1) D4K=$(dev_of aior-main 2) DBAD=$(dev_of aior-main 3)
DZNS=$(dev_of aior-zns 1)
for v in D512 D4K DBAD DZNS; do
	if [ -z "${!v}" ]; then
		say "FAIL: namespace $v did not appear"
		ls -l /sys/block >&2
		ctl "@@DONE FAIL"
		bye
	fi
done
for v in D512 D4K DBAD DZNS; do
	n=${!v#/dev/}
	say "$v=${!v}: $(cat /sys/block/$n/queue/logical_block_size)-byte LBA, $(($(cat /sys/block/$n/size) / 2048)) MiB, zoned=$(cat /sys/block/$n/queue/zoned), scheduler: $(cat /sys/block/$n/queue/scheduler)"
done

# Which groups run (run.sh passes AIOR_DEVICE_CHECKS; default all).
groups=" ${AIOR_DEVICE_CHECKS:-jobs refuse zbd media queue uncached hot} "
want() { [[ $groups == *" $1 "* ]]; }

# ---------------------------------------------------------------- 1. jobs
# The integration job files that make sense on a block device, on both LBA
# sizes, O_DIRECT, beside libaio.
export AIOR_ENGINE=$ENGINE
verify_types="md5 crc64 crc32c crc32c-intel crc32 crc16 crc7 xxhash sha1 sha256 sha512 sha3-224 sha3-256 sha3-384 sha3-512"
for lbs in 512 4k; do
	want jobs || break
	[ "$lbs" = 512 ] && dev=$D512 || dev=$D4K
	export AIOR_FILE=$dev AIOR_FILES=$dev
	# Every checksum (verify-checksum.fio's two passes each), in one fio.
	args=(--filename="$dev" --size=1m --direct=1 --iodepth=16 --bs=4k
	      --rw=randwrite --do_verify=1 --verify_state_save=0)
	for v in $verify_types; do
		args+=(--name="$v" --verify="$v" --stonewall)
	done
	pair_cmd "$lbs/verify-every-checksum" 1 -- "${args[@]}"
	AIOR_SIZE=4m pair_job "$lbs/verify-pattern" "$JOBS/verify-pattern.fio" 1
	AIOR_SIZE=4m pair_job "$lbs/verify-mixed-bs" "$JOBS/verify-mixed-bs.fio" 1
	AIOR_SIZE=2m pair_job "$lbs/verify-flush" "$JOBS/verify-flush.fio" 1
	AIOR_SIZE=4m pair_job "$lbs/verify-reset" "$JOBS/verify-reset.fio" 1

	# Trim, then the range reads back as zeros.
	AIOR_SIZE=4m pair_job "$lbs/verify-trim" "$JOBS/verify-trim.fio" 0
	zeros() {	# the first 4 MiB of $dev hold no byte but 0
		[ "$(dd if="$dev" iflag=direct bs=64k count=64 2>/dev/null |
			tr -d '\0' | wc -c)" = 0 ]
	}
	AIOR_SIZE=4m fio_run "$lbs/trim-zero.aior" 60 "$JOBS/verify-trim.fio"
	judge_ok "$LOG" "$RC" 0 1
	if [ "$V" = PASS ] && ! zeros; then V=FAIL D="the trimmed range does not read back as zeros"; fi
	[ "$V" = PASS ] && D="trimmed 4 MiB reads back as zeros"
	ev=$V ed=$D
	AIOR_SIZE=4m fio_run "$lbs/trim-zero.libaio" 60 "$(libaio_job "$JOBS/verify-trim.fio")"
	judge_ok "$LOG" "$RC" 0 0
	if [ "$V" = PASS ] && ! zeros; then V=FAIL D="not zeros after trim"; fi
	[ "$V" = PASS ] && D="zeros after trim"
	report "$lbs/trim-reads-zeros" "$ev" "$ed" "$V ($D)"

	# iodepth 1..128, each read back.
	args=(--filename="$dev" --size=2m --direct=1 --bs=4k --rw=randwrite
	      --verify=crc32c --do_verify=1 --verify_state_save=0)
	for qd in 1 2 4 8 16 32 64 128; do
		args+=(--name="qd$qd" --iodepth="$qd" --stonewall)
	done
	pair_cmd "$lbs/iodepth-1-128" 1 -- "${args[@]}"
	# Deeper than the kernel's ring (engine only: ring_entries=4).
	AIOR_SIZE=4m AIOR_IODEPTH=256 AIOR_SUBMIT_MODE=batch \
		fio_run "$lbs/deep-queue.aior" 120 "$JOBS/verify-deep-queue.fio"
	judge_ok "$LOG" "$RC" 1 1
	if [ "$V" = PASS ] && ! grep -q 'eagain=[1-9]' "$LOG"; then
		V=FAIL D="no EAGAIN: the queue never outran the ring"
	fi
	report "$lbs/deep-queue-eagain" "$V" "$D" "n/a (ring_entries= is the engine's)"
done

# The 4K namespace refuses 512-byte I/O before any I/O (common/blocksize.c,
# engine/open.c); libaio's result on the same job beside it.
refuse() {	# NAME REGEX FIO_ARGS...
	local name=$1 re=$2 ev ed
	shift 2
	fio_run "4k/$name.aior" 60 --name=refuse --ioengine="external:$ENGINE" \
		--filename="$D4K" --size=1m --direct=1 --rw=randwrite --iodepth=4 "$@"
	ev=FAIL
	if [ "$RC" -ge 124 ]; then ed="timed out or killed (exit $RC)"
	elif [ "$RC" = 0 ]; then ed="exit 0: the job was not refused"
	elif ! grep -qE "$re" "$LOG"; then ed="exit $RC, no line matches /$re/"
	elif grep -qE 'issued rwts: total=[0-9]*,[1-9]' "$LOG"; then ed="refused after writing"
	else ev=PASS ed="exit $RC before any I/O: $(grep -m1 -E "$re" "$LOG")"
	fi
	case "$*" in
	*--aio_block_size=*)
		report "4k/$name" "$ev" "$ed" "n/a (aio_block_size= is the engine's)"
		return ;;
	esac
	fio_run "4k/$name.libaio" 60 --name=refuse --ioengine=libaio \
		--filename="$D4K" --size=1m --direct=1 --rw=randwrite --iodepth=4 "$@"
	report "4k/$name" "$ev" "$ed" "exit $RC ($(first_err "$LOG"))"
}
if want refuse; then
refuse refuse-bs-512 "^libaioring: $D4K: .*bs=512 .*logical block size 4096" --bs=512
refuse refuse-offset-512 "^libaioring: $D4K: offset=512 .*logical block size 4096" --bs=4k --offset=512
refuse refuse-override-2048 "^libaioring: $D4K: aio_block_size=2048: must not be smaller" --bs=4k --aio_block_size=2048
AIOR_FILE=$D4K AIOR_SIZE=4m fio_run "4k/override-8192.aior" 60 "$JOBS/verify-block-size.fio"
judge_ok "$LOG" "$RC" 1 1
if [ "$V" = PASS ] && ! grep -q "aio_block_size=8192 differs from the detected block size 4096" "$LOG"; then
	V=FAIL D="no notice that 8192 differs from 4096"
fi
report "4k/override-8192" "$V" "$D" "n/a (aio_block_size= is the engine's)"
fi


# ----------------------------------------------------------------- 2. zbd
# zonemode=zbd on the host-managed namespace (64 MiB zones): fio keeps
# writes at the write pointers and resets zones itself (BLKRESETZONE); the
# engine must pass wherever libaio passes.  Writes at QD > 1 to a zoned
# device need mq-deadline (it orders them per zone).
if want zbd; then
	zn=${DZNS#/dev/}
	echo mq-deadline >"/sys/block/$zn/queue/scheduler" 2>/dev/null
	zbd=(--filename="$DZNS" --direct=1 --zonemode=zbd)
	if ! grep -q '\[mq-deadline\]' "/sys/block/$zn/queue/scheduler"; then
		report zbd "CANNOT RUN" "no mq-deadline for $DZNS: $(cat "/sys/block/$zn/queue/scheduler")" "not run"
	else
		# Sequential writes across three zones, read back; run twice,
		# so the second run starts by resetting the zones the first
		# filled.
		for run in 1 2; do
			pair_cmd "zbd/seq-write-3-zones-verify-$run" 1 -- "${zbd[@]}" \
				--name=seq --rw=write --bs=256k --iodepth=8 \
				--size=192m --verify=crc32c --do_verify=1 \
				--verify_state_save=0
		done
		# Random writes to four open zones at a time, read back.
		pair_cmd "zbd/randwrite-open-zones-verify" 1 -- "${zbd[@]}" \
			--name=rand --rw=randwrite --bs=16k --iodepth=16 \
			--offset=256m --size=256m --io_size=8m --max_open_zones=4 \
			--verify=crc32c --do_verify=1 --verify_state_save=0
		# Zone resets under load: fio resets a zone once it is a
		# little used (zone_reset_threshold) while requests are in
		# flight on the others.
		for e in aior libaio; do
			if [ "$e" = aior ]; then
				ea=(--ioengine="external:$ENGINE" --engine_stats=1)
			else
				ea=(--ioengine=libaio)
			fi
			fio_run "zbd/zone-resets.$e" 120 "${ea[@]}" "${zbd[@]}" \
				--name=resets --rw=randwrite --bs=64k --iodepth=16 \
				--offset=512m --size=256m --io_size=48m \
				--zone_reset_threshold=0.05 --zone_reset_frequency=1
			judge_ok "$LOG" "$RC" 0 "$([ "$e" = aior ] && echo 1 || echo 0)"
			r=$(grep -o '[0-9]* zone resets' "$LOG" | head -n1)
			if [ "$V" = PASS ]; then
				D+=", ${r:-no zone resets line}"
				case $r in ""|"0 "*) V=FAIL ;; esac
			fi
			[ "$e" = aior ] && { ev=$V ed=$D; }
		done
		report "zbd/zone-resets-under-load" "$ev" "$ed" "$V ($D)"
		declare -A orc=() oerr=()
		# A write away from the write pointer (not through zonemode):
		# the device fails it; both engines report the same error.
		for e in aior libaio; do
			if [ "$e" = aior ]; then
				ea=(--ioengine="external:$ENGINE" --engine_stats=1)
			else
				ea=(--ioengine=libaio)
			fi
			blkzone reset -o 0 -c 1 "$DZNS" 2>/dev/null
			fio_run "zbd/write-off-pointer.$e" 60 "${ea[@]}" \
				--filename="$DZNS" --direct=1 --name=off --rw=write \
				--bs=4k --offset=64k --size=64k --iodepth=4
			orc[$e]=$RC oerr[$e]=$(first_err "$LOG")
			[ "$e" = aior ] && bal=$(stats_balance "$LOG")
		done
		ev=FAIL
		if [ "${orc[aior]}" -ge 124 ]; then ed="timed out (exit ${orc[aior]})"
		elif [ "${orc[aior]}" = 0 ]; then ed="exit 0: a write off the write pointer passed"
		elif [ -n "$bal" ]; then ed="counters: $bal"
		else ev=PASS ed="exit ${orc[aior]}: ${oerr[aior]}"
		fi
		report "zbd/write-off-write-pointer-fails" "$ev" "$ed" "exit ${orc[libaio]} (${oerr[libaio]})"
	fi
fi

# --------------------------------------------------------------- 3. media
# The failing namespace: reads of byte 2 MiB and writes of byte 3 MiB fail
# (blkdebug, EIO from QEMU, a media error on the NVMe queue).  Only that
# request fails, fio names its errno and offset, the others complete,
# nothing hangs, and the engine reaped every request it submitted.
media() {	# NAME RW OFFSET CONTINUE
	local name=$1 rw=$2 off=$3 coe=$4 e ea ev ed v d errs tot ign=()
	# Carry on past the media error (ENODATA) or EIO, counting it.
	# shellcheck disable=SC2054 # one fio option
	[ "$coe" = none ] || ign=(--ignore_error=61:5,61:5)
	for e in aior libaio; do
		if [ "$e" = aior ]; then
			ea=(--ioengine="external:$ENGINE" --engine_stats=1)
		else
			ea=(--ioengine=libaio)
		fi
		fio_run "media/$name.$e" 60 "${ea[@]}" --name="$name" \
			--filename="$DBAD" --direct=1 --rw="$rw" --bs=4k \
			--size=4m --iodepth=16 --continue_on_error="$coe" "${ign[@]}"
		v=FAIL
		errs=$(sed -n 's/^ *errors *: total=\([0-9]*\).*/\1/p' "$LOG")
		tot=$(sed -n 's/^ *issued rwts: total=\([0-9]*\),\([0-9]*\),.*/\1 \2/p' "$LOG")
		if [ "$RC" -ge 124 ]; then d="timed out or killed (exit $RC)"
		elif [ "$coe" = none ] && [ "$RC" = 0 ]; then d="exit 0 despite the media error"
		elif [ "$coe" != none ] && [ "${errs:-x}" != 1 ]; then d="exit $RC, ${errs:-no} error count, expected exactly 1"
		elif [ "$coe" != none ] && [ "$tot" != "1024 0" ] && [ "$tot" != "0 1024" ]; then d="issued $tot, not every request of 4 MiB"
		elif [ "$coe" = none ] && ! grep -qE "io_u error on file $DBAD: .*: $rw offset=$off," "$LOG"; then d="exit $RC, no 'io_u error on file $DBAD: ... $rw offset=$off' line"
		else
			v=PASS
			d="exit $RC in ${SECS}s"
			[ "$coe" = none ] && d+=": $(grep -m1 -E "io_u error on file $DBAD" "$LOG" | sed 's/^fio: //')"
			[ "$coe" != none ] && d+=": $(grep -m1 -E 'errors *: total=' "$LOG" | sed 's/^ *//'), issued ${tot% *}+${tot#* } of 1024"
		fi
		if [ "$e" = aior ]; then
			if [ "$v" = PASS ]; then
				local b
				b=$(stats_balance "$LOG")
				[ -z "$b" ] || { v=FAIL d="counters: $b"; }
				d+="; $(grep -o 'submitted=[0-9]*' "$LOG" | head -n1), reaped=$(grep "^libaioring: job" "$LOG" | awk '{for(i=1;i<=NF;i++){split($i,p,"=");k[p[1]]=p[2]}} END{print k["reaped_ring"]+k["reaped_syscall"]}')"
			fi
			ev=$v ed=$d
		fi
	done
	report "media/$name" "$ev" "$ed" "$v ($d)"
}
if want media; then
	media read-stops read 2097152 none
	media read-continues read 2097152 read
	media write-stops write 3145728 none
	media write-continues write 3145728 write
fi

# --------------------------------------------------------------- 4. queue
# nowait=1 and cmdprio* on the NVMe queue, under mq-deadline (which sorts
# by I/O priority class), and what adaptive coalescing did there.
iops() { sed -n 's/^ *\(read\|write\): IOPS=\([^,]*\),.*/\2/p' "$1" | head -n1; }
if want queue; then
	n=${D512#/dev/}
	q=(--filename="$D512" --direct=1 --size=32m --bs=4k --iodepth=32
	   --rw=randread --runtime=2 --time_based)
	for e in aior libaio; do
		if [ "$e" = aior ]; then
			ea=(--ioengine="external:$ENGINE" --engine_stats=1)
		else
			ea=(--ioengine=libaio)
		fi
		fio_run "queue/nowait.$e" 60 "${ea[@]}" --name=nowait "${q[@]}" --nowait=1
		judge_ok "$LOG" "$RC" 0 "$([ "$e" = aior ] && echo 1 || echo 0)"
		[ "$V" = PASS ] && D="exit 0, $(iops "$LOG") IOPS, no EAGAIN"
		[ "$e" = aior ] && { ev=$V ed=$D; }
	done
	report "queue/nowait=1" "$ev" "$ed" "$V ($D)"

	echo mq-deadline >"/sys/block/$n/queue/scheduler" 2>/dev/null
	if ! grep -q '\[mq-deadline\]' "/sys/block/$n/queue/scheduler"; then
		report "queue/cmdprio" "CANNOT RUN" "no mq-deadline: $(cat "/sys/block/$n/queue/scheduler")" "not run"
	else
		for e in aior libaio; do
			if [ "$e" = aior ]; then
				ea=(--ioengine="external:$ENGINE" --engine_stats=1)
			else
				ea=(--ioengine=libaio)
			fi
			fio_run "queue/cmdprio.$e" 60 "${ea[@]}" --name=cmdprio "${q[@]}" \
				--cmdprio_percentage=25 --cmdprio_class=1 --cmdprio=0 \
				--output-format=json --output="$log/queue/cmdprio.$e.json"
			judge_ok "$LOG" "$RC" 0 "$([ "$e" = aior ] && echo 1 || echo 0)"
			[ "$V" = PASS ] && D="exit 0, ${SECS}s"
			if [ "$RC" = 0 ]; then
				# Requests filed under each priority: about 25% RT.
				p=$(python3 - "$log/queue/cmdprio.$e.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]["read"]
prios = j.get("prios", [])
tot = sum(p["clat_ns"]["N"] for p in prios)
cls = {0: "none", 1: "RT", 2: "BE", 3: "IDLE"}
out = []
for p in prios:
    c = p.get("prioclass", p.get("prio", 0) >> 13)
    out.append("%s/%s: %.0f%% mean %.0f us" % (cls.get(c, c), p.get("prio", 0) & 7,
               100.0 * p["clat_ns"]["N"] / max(tot, 1), p["clat_ns"]["mean"] / 1000))
rt = sum(p["clat_ns"]["N"] for p in prios if p.get("prioclass", 0) == 1)
print(("ok " if tot and 15 <= 100.0 * rt / tot <= 35 else "bad ") + ", ".join(out))
PY
)
				D="$D; ${p#* }"
				[ "${p%% *}" = ok ] || V=FAIL
			fi
			[ "$e" = aior ] && { ev=$V ed=$D; }
		done
		report "queue/cmdprio-mq-deadline" "$ev" "$ed" "$V ($D)"
	fi
	echo none >"/sys/block/$n/queue/scheduler" 2>/dev/null

	# Adaptive coalescing on a device with a queue: its counters, from
	# engine_stats_file.  It holds only where io_submit() completes
	# requests inside the call; an NVMe queue does not.
	for rw in randread randwrite; do
		rm -f "$log/queue/coalesce-$rw.jsonl"
		fio_run "queue/coalesce-$rw.aior" 60 --ioengine="external:$ENGINE" \
			--engine_stats_file="$log/queue/coalesce-$rw.jsonl" \
			--name="coalesce-$rw" "${q[@]/--rw=randread/--rw=$rw}"
		judge_ok "$LOG" "$RC" 0 0
		c=$(python3 -c 'import json,sys
j = json.loads(open(sys.argv[1]).readline())
bal = j["submitted"] == j["reaped_ring"] + j["reaped_syscall"]
print("ok" if bal else "bad", " ".join("%s=%s" % (k, j[k]) for k in ("submitted", "submit_calls", "holds", "inline_submits", "reaped_ring", "reaped_syscall", "getevents_calls")))' \
			"$log/queue/coalesce-$rw.jsonl" 2>&1)
		[ "${c%% *}" = ok ] || V=FAIL
		report "queue/adaptive-coalescing-$rw" "$V" "$(iops "$LOG") IOPS; ${c#* }" "n/a (coalescing is the engine's)"
	done
fi

# ------------------------------------------------------------ 5. uncached
# uncached=1 (RWF_DONTCACHE, kernel 6.14) on this 6.1 kernel: refused
# before any I/O, naming the kernel.  Only for an engine that has it.
if want uncached; then
	if fio --enghelp="$ENGINE" 2>/dev/null | grep -q '^ *uncached'; then
		fio_run "uncached/refused.aior" 60 --ioengine="external:$ENGINE" \
			--name=uncached --filename="$D512" --size=4m --bs=4k \
			--rw=read --direct=0 --uncached=1
		ev=FAIL
		if [ "$RC" -ge 124 ]; then ed="timed out (exit $RC)"
		elif [ "$RC" = 0 ]; then ed="exit 0: uncached=1 ran on $(uname -r)"
		elif ! grep 'uncached=1' "$LOG" | grep -qF "$(uname -r)"; then ed="exit $RC, no uncached=1 line naming $(uname -r)"
		else ev=PASS ed="exit $RC: $(grep -m1 'uncached=1' "$LOG")"
		fi
		report "uncached/refused-on-$(uname -r)" "$ev" "$ed" "n/a (libaio has no uncached=)"
	else
		say "uncached: this engine has no uncached= option: not checked"
		echo "note uncached: not checked, $ENGINE has no uncached= option" >>"$results"
	fi
fi

# ---------------------------------------------------------------- 6. hot
# Hot-remove of a controller (device_del through QEMU's monitor, asked of
# run.sh on ttyS1) while a read, a write and a verify job run on it: the
# job ends within a bound, non-zero, naming the device; the engine reaps
# every request it submitted; a read that returns 0 bytes is an error.
# Each job would run hot_runtime seconds; one that has not ended
# hot_bound seconds after device_del is killed and fails.
hot_runtime=20 hot_bound=40
hot() {	# KIND ENGINE CONTROLLER
	local kind=$1 e=$2 id=$3 dev n ea args pid i t0 t1 c
	dev=$(dev_of "aior-$id" 1) n=${dev#/dev/}
	if [ "$e" = aior ]; then
		ea=(--ioengine="external:$ENGINE" --engine_stats=1)
	else
		ea=(--ioengine=libaio)
	fi
	case $kind in
	read) args=(--rw=randread --time_based --runtime="$hot_runtime") ;;
	write) args=(--rw=randwrite --time_based --runtime="$hot_runtime") ;;
	read-zero) args=(--rw=randread --time_based --runtime=10
			 --continue_on_error=read "--ignore_error=5,5") ;;
	verify) args=(--rw=randwrite --verify=crc32c --verify_backlog=16
		      --loops=1000 --runtime="$hot_runtime"
		      --verify_state_save=0) ;;
	esac
	LOG=$log/hot/$kind.$e.out
	mkdir -p "${LOG%/*}"
	(cd "$work" && exec timeout -k 5 $((hot_bound + 60)) fio "${ea[@]}" \
		--name="hot-$kind" --filename="$dev" --direct=1 --bs=4k \
		--iodepth=32 --size=16m "${args[@]}") >"$LOG" 2>&1 &
	pid=$!
	# Remove it once requests flow (completions in /sys/block/N/stat).
	for i in $(seq 100); do
		c=$(awk '{ print $1 + $5 }' "/sys/block/$n/stat")
		[ "$c" -gt 2000 ] && break
		sleep 0.2
	done
	t0=$(date +%s%N)
	ctl "@@DEL $id"
	for i in $(seq $((hot_bound * 5))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	t1=$(date +%s%N)
	if kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		RC=$?
		HV=FAIL HD="still running ${hot_bound}s after device_del (exit $RC when killed)"
		return
	fi
	wait "$pid"
	RC=$?
	SECS=$(((t1 - t0) / 100000000))
	SECS="$((SECS / 10)).$((SECS % 10))"
	HV=FAIL
	HMSG=$(grep -m1 -E "io_u error on file $dev|^libaioring: .*$dev" "$LOG" | sed 's/^fio: //')
	if [ "$RC" = 0 ] && [ -e "/sys/block/$n" ]; then HD="exit 0, $dev still there: the controller was not removed"
	elif [ "$RC" = 0 ]; then HD="exit 0 ${SECS}s after device_del, at the end of its runtime=${hot_runtime}"
		HD+=", $(sed -n 's/^ *issued rwts: \(.*\) dropped.*/\1/p' "$LOG")"
	elif [ "$RC" -ge 124 ]; then HD="timed out or killed (exit $RC)"
	elif [ -z "$HMSG" ]; then HD="exit $RC, no message naming $dev"
	else
		HV=PASS HD="exit $RC, ${SECS}s after device_del: $HMSG"
	fi
	if [ "$e" = aior ] && [ "$HV" = PASS ]; then
		c=$(stats_balance "$LOG")
		[ -z "$c" ] || { HV=FAIL HD="counters: $c"; }
		HD+="; $(grep "^libaioring: job" "$LOG" | awk '{for(i=1;i<=NF;i++){split($i,p,"=");k[p[1]]=p[2]}} END{printf "submitted=%d reaped=%d", k["submitted"], k["reaped_ring"]+k["reaped_syscall"]}')"
	fi
}
if want hot; then
	i=0
	for kind in read write verify; do
		i=$((i + 1)); hot "$kind" aior "hot$i"; ev=$HV ed=$HD
		i=$((i + 1)); hot "$kind" libaio "hot$i"
		report "hot-remove/$kind" "$ev" "$ed" "$HV ($HD)"
	done
	# The reads of a removed namespace return 0 bytes without an error
	# (libaio's read job above runs on "successfully"): the engine must
	# make each one EIO.  Carrying on past EIO, its job counts far more
	# errors than could have been in flight (32) at the removal.
	hot read-zero aior hot7
	errs=$(sed -n 's/^ *errors *: total=\([0-9]*\).*/\1/p' "$LOG")
	ev=FAIL
	if [ "$RC" -ge 124 ]; then ed="timed out or killed (exit $RC)"
	elif [ "${errs:-0}" -le 32 ]; then ed="exit $RC, ${errs:-no} errors: the 0-byte reads were not made errors"
	else
		c=$(stats_balance "$LOG")
		if [ -n "$c" ]; then ed="counters: $c"
		else
			ev=PASS
			ed="exit $RC, $(grep -m1 -E 'errors *: total=' "$LOG" | sed 's/^ *//') in the 10s after device_del, more than the 32 in flight; $(grep "^libaioring: job" "$LOG" | awk '{for(i=1;i<=NF;i++){split($i,p,"=");k[p[1]]=p[2]}} END{printf "submitted=%d reaped=%d", k["submitted"], k["reaped_ring"]+k["reaped_syscall"]}')"
		fi
	fi
	report "hot-remove/read-0-bytes-is-EIO" "$ev" "$ed" "see hot-remove/read: exit 0, every 0-byte read taken as done"
fi

status=PASS
[ "$nskip" -gt 0 ] && status=SKIPPED
[ "$nfail" -gt 0 ] && status=FAIL
say "$status: $npass passed, $nfail failed, $nskip could not run, at $(cut -d' ' -f1 /proc/uptime)s of uptime"
echo "$status $npass passed, $nfail failed, $nskip could not run" >"$out/status"
ctl "@@DONE $status $npass passed, $nfail failed, $nskip could not run"
bye
