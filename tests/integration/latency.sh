#!/usr/bin/env bash
# Latency accounting under the fio that loads the engine, whichever
# release: every request gets exactly one submission-latency sample and
# one completion-latency sample, and neither is zero.
#
# fio 3.31 and later let the engine stamp issue time (after io_submit());
# before 3.31 fio stamps it itself after queue(), and the engine must not
# stamp too, and reports submission latency when the request completes
# (engine/compat.h).  Counting the samples catches a request accounted
# twice or never; a zero minimum catches a stamp taken before the
# request started or the same instant twice.  Before 3.31 fio takes both
# submission stamps itself, the start and the issue right after queue();
# the engine's queue() makes no system call, so the two can fall on the
# same tick of fio's clock (fio 3.19 here: read slat min 0 or 10 ns in 4
# of 6 runs, where built-in libaio, which submits in between, shows ~1.5
# us).  For those releases the slat count is the engine's to answer for,
# its minimum is not.
#
# usage: AIOR_ENGINE=/abs/libaioring.so FIO=/path/to/fio latency.sh
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME=latency
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_cmd python3

scratch_dir dir
out=$dir/out.json
(cd "$dir" && timeout -k 5 60 "${FIO:-fio}" --name=lat \
	--ioengine="external:$AIOR_ENGINE" --filename="$dir/target.dat" \
	--size=16m --rw=randwrite --bs=4k --iodepth=16 --direct=1 \
	--iodepth_batch_submit=4 --verify=crc32c --do_verify=1 \
	--output-format=json --output="$out") >"$dir/fio.log" 2>&1 || {
	cat "$dir/fio.log" "$out" >&2 2>/dev/null || true
	die "fio failed"
}
python3 - "$out" "$("${FIO:-fio}" --version)" <<'PY' || die "latency accounting is wrong (above)"
import json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"fio-(\d+)\.(\d+)", sys.argv[2])
fio_stamps_slat = m is not None and (int(m.group(1)), int(m.group(2))) < (3, 31)
doc = json.loads(text[text.index("{"):])
job = doc["jobs"][0]
bad = 0
for ddir in ("write", "read"):
    d = job[ddir]
    n = d["total_ios"]
    for kind in ("slat_ns", "clat_ns"):
        s = d[kind]
        line = "%s %s: %d samples for %d requests, min %d ns, mean %.0f ns" % (
            ddir, kind, s["N"], n, s["min"], s["mean"])
        zero_ok = kind == "slat_ns" and fio_stamps_slat
        if n <= 0 or s["N"] != n or (s["min"] <= 0 and not zero_ok):
            print("latency: FAIL: " + line)
            bad = 1
        else:
            print("latency: " + line)
sys.exit(bad)
PY
say "ok under $("${FIO:-fio}" --version)"
