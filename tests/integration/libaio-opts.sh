#!/usr/bin/env bash
# built-in libaio's options (cmdprio*, nowait) observed, not just accepted:
# each scenario runs the same fio job under fio's libaio and under the
# engine, checks what fio reports against the option's meaning, and
# compares the two engines.
#
# usage: AIOR_ENGINE=/abs/libaioring.so FIO=/path/to/fio libaio-opts.sh SCENARIO
#   cmdprio   cmdprio_percentage=25 cmdprio_class=2 cmdprio=0: fio's JSON
#             splits completion latency by priority ("prios"); the share at
#             class 2 is 25 % within 5 standard deviations on each engine,
#             and the two engines' shares differ by less than that bound
#             (fio's helper draws from the same seeded generator, so they
#             are normally equal).  fio before 3.29: the engine refuses
#             the job in one line naming the option and the fio.
#   bssplit   cmdprio_bssplit=4k/20/1/0:64k/100/2/3 with bssplit=4k/50:64k/50
#             and log_prio=1: in the latency log every 64k request is at
#             class 2 level 3, 20 % of the 4k ones at class 1 level 0 and
#             the rest at none; per-priority latency is in the JSON; the
#             same tallies under both engines.
#   nowait    nowait=1 buffered reads of a file on ext4 (a loop device)
#             whose every other 4k page is in the page cache, readahead
#             off (fadvise_hint=random), ignore_error=EAGAIN and
#             continue_on_error=read: the uncached half fails with EAGAIN,
#             the cached half reads, nothing is lost (ios = EAGAINs + reads
#             = blocks), no hang, and the engine's io_submit() EAGAIN
#             counter stays 0; the same counts as libaio.
#   atomic    fio's own atomic=1 on a buffered file.  3.38+ (RWF_ATOMIC,
#             which the kernel cannot do there): the same job error under
#             both engines, and one line from the engine saying why.
#             Before 3.38 (an open flag implying O_DIRECT): both engines
#             end the same way.
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME="libaio-opts-${1:-}"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

scenario=${1:?usage: libaio-opts.sh cmdprio|bssplit|nowait|atomic}
need_cmd python3
fio=${FIO:-fio}
fio_ver=$("$fio" --version)

scratch_dir dir

# fio's own libaio is the reference: a fio built without it cannot compare.
"$fio" --enghelp=libaio >"$dir/enghelp-libaio" 2>&1 ||
	skip "$fio_ver has no built-in libaio engine to compare with"

# ver_ge MAJ MIN: is this fio MAJ.MIN or later?
ver_ge() {
	local v=${fio_ver#fio-} maj min
	maj=${v%%.*}
	min=${v#*.}
	min=${min%%[!0-9]*}
	[ "$maj" -gt "$1" ] || { [ "$maj" -eq "$1" ] && [ "$min" -ge "$2" ]; }
}

# has_cmdprio_helper: does this fio call cmdprio code the engine can use?
has_cmdprio_helper() {
	ver_ge 3 29
}

# run ENGINE NAME ARGS...: the job under one engine, JSON into NAME.json,
# messages into NAME.log; returns fio's exit status.
run() {
	local engine=$1 name=$2
	shift 2
	(cd "$dir" && timeout -k 5 120 "$fio" --name="$name" \
		--ioengine="$engine" "$@" --output-format=json \
		--output="$dir/$name.json") >"$dir/$name.log" 2>&1
}

both() {
	local e
	for e in libaio "external:$AIOR_ENGINE"; do
		local n=libaio
		[ "$e" = libaio ] || n=aior
		run "$e" "$n" "$@" || {
			cat "$dir/$n.log" "$dir/$n.json" >&2 2>/dev/null || true
			die "fio failed under $e"
		}
	done
}

# refused OPTION ARGS...: under a fio without the cmdprio helper the
# engine must refuse the job at init, in one line naming OPTION and the fio.
refused() {
	local opt=$1
	shift
	if run "external:$AIOR_ENGINE" aior "$@"; then
		die "$fio_ver has no cmdprio helper, but the engine ran a job with $opt"
	fi
	grep -q "^libaioring: job 'aior': $opt needs fio 3.29 or later ($fio_ver " \
		"$dir/aior.log" || {
		cat "$dir/aior.log" "$dir/aior.json" >&2 2>/dev/null || true
		die "no one-line refusal naming $opt and $fio_ver"
	}
	say "ok: $fio_ver: refused as documented: $(grep '^libaioring:' "$dir/aior.log" | head -n1)"
}

case $scenario in
cmdprio)
	args=(--filename="$dir/t.dat" --size=32m --rw=randread --bs=4k
		--iodepth=8 --number_ios=8192 --direct=0
		--cmdprio_percentage=25 --cmdprio_class=2 --cmdprio=0)
	if ! has_cmdprio_helper; then
		refused cmdprio_percentage "${args[@]}"
		exit 0
	fi
	both "${args[@]}"
	python3 - "$dir/libaio.json" "$dir/aior.json" <<'PY' || die "cmdprio share is wrong (above)"
import json, math, sys

def prios(path):
    text = open(path).read()
    job = json.loads(text[text.index("{"):])["jobs"][0]
    r = job["read"]
    got = {}
    for p in r.get("prios", r.get("clat_prio", [])):
        lat = p.get("clat_ns") or p.get("lat_ns")
        got[(p["prioclass"], p["prio"])] = lat["N"]
    return r["total_ios"], got

p, bad, shares = 0.25, 0, {}
for name, path in (("libaio", sys.argv[1]), ("libaioring", sys.argv[2])):
    n, got = prios(path)
    hi = got.get((2, 0), 0)
    bound = 5 * math.sqrt(n * p * (1 - p)) / n if n else 0
    share = hi / n if n else 0
    shares[name] = share
    ok = n > 0 and hi > 0 and abs(share - p) <= bound and sum(got.values()) == n
    print("cmdprio: %-10s %d reads, per priority %s: class 2 share %.4f "
          "(want %.2f +- %.4f) %s" % (name, n, dict(sorted(got.items())),
                                      share, p, bound, "ok" if ok else "FAIL"))
    bad |= not ok
diff = abs(shares["libaio"] - shares["libaioring"])
print("cmdprio: share libaio %.4f, libaioring %.4f, difference %.4f %s" % (
      shares["libaio"], shares["libaioring"], diff,
      "ok" if diff <= bound else "FAIL"))
bad |= diff > bound
sys.exit(bad)
PY
	;;
bssplit)
	if ! has_cmdprio_helper; then
		refused cmdprio_bssplit --filename="$dir/t.dat" --size=16m \
			--rw=randread --bssplit=4k/50:64k/50 --number_ios=64 \
			--cmdprio_bssplit=4k/20/1/0:64k/100/2/3
		exit 0
	fi
	# One run per engine, each with its own latency log (NAME_clat.1.log).
	for e in libaio aior; do
		eng=libaio
		[ "$e" = libaio ] || eng="external:$AIOR_ENGINE"
		run "$eng" "$e" --filename="$dir/t.dat" --size=64m \
			--rw=randread --bssplit=4k/50:64k/50 --iodepth=8 \
			--number_ios=4000 --direct=0 \
			--cmdprio_bssplit=4k/20/1/0:64k/100/2/3 --log_prio=1 \
			--write_lat_log="$e" || die "fio failed under $eng"
		[ -s "$dir/${e}_clat.1.log" ] || die "no clat log from $eng"
	done
	python3 - "$dir" <<'PY' || die "cmdprio_bssplit priorities are wrong (above)"
import collections, json, math, os, sys
d, bad, tallies = sys.argv[1], 0, {}
for name in ("libaio", "aior"):
    t = collections.Counter()
    for line in open(os.path.join(d, name + "_clat.1.log")):
        f = [x.strip() for x in line.split(",")]
        t[(int(f[3]), int(f[4], 0))] += 1
    tallies[name] = t
    four = {k[1]: v for k, v in t.items() if k[0] == 4096}
    big = {k[1]: v for k, v in t.items() if k[0] == 65536}
    n4 = sum(four.values())
    hi4 = four.get((1 << 13) | 0, 0)
    bound = 5 * math.sqrt(n4 * 0.2 * 0.8) / n4 if n4 else 0
    ok = (n4 > 0 and set(four) <= {0, 1 << 13} and
          abs(hi4 / n4 - 0.2) <= bound and
          big and set(big) == {(2 << 13) | 3})
    print("bssplit: %-6s 4k: %d requests, %s; 64k: %s  %s" % (
        name, n4, {hex(k): v for k, v in sorted(four.items())},
        {hex(k): v for k, v in sorted(big.items())}, "ok" if ok else "FAIL"))
    bad |= not ok
    text = open(os.path.join(d, name + ".json")).read()
    r = json.loads(text[text.index("{"):])["jobs"][0]["read"]
    ps = r.get("prios", r.get("clat_prio", []))
    if len(ps) < 3:
        print("bssplit: %s: fio's JSON has %d per-priority latency entries, want 3" % (name, len(ps)))
        bad = 1
same = tallies["libaio"] == tallies["aior"]
print("bssplit: tallies by (bs, prio) %s under both engines" % (
      "identical" if same else "DIFFERENT"))
if not same:
    print("  libaio %s\n  aior   %s" % (dict(tallies["libaio"]), dict(tallies["aior"])))
sys.exit(bad)
PY
	;;
nowait)
	need_root
	need_cmd losetup mkfs.ext4 mount dd
	img=$dir/ext4.img
	truncate -s 128M "$img"
	loop_attach dev "$img" 512
	mkfs.ext4 -q -F "$dev" >/dev/null 2>&1 || skip "mkfs.ext4 failed on $dev"
	mnt=$dir/mnt
	mkdir "$mnt"
	mount "$dev" "$mnt" || skip "cannot mount ext4 from $dev"
	on_exit "umount -l '$mnt'"
	f=$mnt/t.dat
	dd if=/dev/urandom of="$f" bs=1M count=32 conv=fsync status=none
	blocks=$((32 * 256))
	# fio 3.19's libaio has no nowait: then the engine is checked alone.
	engines=(libaio aior)
	grep -q '^nowait ' "$dir/enghelp-libaio" || {
		engines=(aior)
		say "$fio_ver's libaio has no nowait option: checking the engine alone"
	}
	for e in "${engines[@]}"; do
		eng=libaio
		[ "$e" = libaio ] || eng="external:$AIOR_ENGINE"
		# Drop the file's pages, then cache every other 4k page with
		# readahead off, so exactly half would need the disk.
		dd if="$f" iflag=nocache count=0 status=none
		(cd "$dir" && "$fio" --name=warm --ioengine=psync \
			--filename="$f" --rw=read:4k --bs=4k --size=32m \
			--invalidate=0 --fadvise_hint=random \
			--output=/dev/null) || die "could not warm the page cache"
		extra=()
		[ "$e" = aior ] && extra=(--engine_stats=1)
		run "$eng" "$e" "${extra[@]}" --filename="$f" --size=32m \
			--rw=read --bs=4k --iodepth=4 --direct=0 --invalidate=0 \
			--fadvise_hint=random --nowait=1 \
			--continue_on_error=read --ignore_error=EAGAIN || true
	done
	# The engine's counters line is on stderr, never in the --output file.
	grep -q "^libaioring: job 'aior':.* eagain=0 " "$dir/aior.log" || {
		cat "$dir/aior.log" "$dir/aior.json" >&2
		die "the engine's io_submit() EAGAIN path counted something (want eagain=0)"
	}
	python3 - "$dir" "$blocks" "${engines[@]}" <<'PY' || die "nowait outcome is wrong (above)"
import json, os, sys
d, blocks, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
res, bad = {}, 0
for name in names:
    text = open(os.path.join(d, name + ".json")).read()
    job = json.loads(text[text.index("{"):])["jobs"][0]
    r = job["read"]
    ok_reads = r["io_bytes"] // 4096
    errs = job["total_err"]
    res[name] = (r["total_ios"], ok_reads, errs, job["first_error"])
    good = (r["total_ios"] == blocks and ok_reads + errs == blocks and
            errs > 0 and ok_reads > 0 and
            (errs == 0 or job["first_error"] == 11))
    print("nowait: %-6s %d requests: %d read, %d failed (first error %d, "
          "EAGAIN=11) %s" % (name, r["total_ios"], ok_reads, errs,
                             job["first_error"], "ok" if good else "FAIL"))
    bad |= not good
# Half the pages were cached: about half must fail.  A miss also starts
# reading its page, so a later request may find it: allow 1 %.
for name, (n, ok_reads, errs, _) in res.items():
    if abs(errs - blocks // 2) > blocks // 100:
        print("nowait: %s: %d EAGAIN, want about %d" % (name, errs, blocks // 2))
        bad = 1
if "libaio" in res:
    diff = abs(res["libaio"][2] - res["aior"][2])
    print("nowait: EAGAIN libaio %d, libaioring %d, difference %d %s" % (
          res["libaio"][2], res["aior"][2], diff,
          "ok" if diff <= blocks // 100 else "FAIL"))
    bad |= diff > blocks // 100
sys.exit(bad)
PY
	;;
atomic)
	# fio's own atomic=1.  3.38 and later: RWF_ATOMIC on writes, which a
	# buffered file cannot do, so both engines must end with the same
	# error and the engine must say why in one line.  Before 3.38 it is
	# an open flag that implies O_DIRECT: both must end alike.
	rwf_atomic=0
	ver_ge 3 38 && rwf_atomic=1
	"$fio" --cmdhelp=atomic >/dev/null 2>&1 ||
		{ say "$fio_ver has no atomic= option: nothing to check"; exit 0; }
	rcs=()
	for e in libaio aior; do
		eng=libaio
		[ "$e" = libaio ] || eng="external:$AIOR_ENGINE"
		rc=0
		run "$eng" "$e" --filename="$dir/t.dat" --size=4m \
			--rw=randwrite --bs=4k --iodepth=4 --number_ios=64 \
			--direct=0 --atomic=1 || rc=$?
		rcs+=("$rc")
	done
	el=$(sed -n 's/^ *"error" : \([0-9]*\),*$/\1/p' "$dir/libaio.json" | head -n1)
	ea=$(sed -n 's/^ *"error" : \([0-9]*\),*$/\1/p' "$dir/aior.json" | head -n1)
	say "atomic=1, buffered file: exit libaio ${rcs[0]}, libaioring ${rcs[1]}; job error libaio ${el:-?}, libaioring ${ea:-?}"
	[ "${rcs[0]}" = "${rcs[1]}" ] && [ "${el:-x}" = "${ea:-y}" ] ||
		die "the engines end differently"
	if [ "$rwf_atomic" = 1 ]; then
		[ "$el" != 0 ] || die "an atomic write on a buffered file succeeded"
		# The engine's messages go to stderr only (aior.log).
		n=$(grep -c "^libaioring: .*: the kernel refused an atomic write (atomic=1, RWF_ATOMIC" \
			"$dir/aior.log" || true)
		[ "$n" = 1 ] || {
			cat "$dir/aior.log" >&2
			die "want one line saying why the atomic write was refused, got $n"
		}
		say "$(grep "^libaioring: " "$dir/aior.log" | head -n1)"
	fi
	;;
*)
	die "unknown scenario '$scenario'"
	;;
esac
say "ok under $fio_ver"
