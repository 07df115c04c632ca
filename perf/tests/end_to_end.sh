#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The harness end to end with the real fio and the real engine, kept
# short: an A/B run of the engine against a copy of itself, a baseline
# saved and a later run judged against it, `history` over the result
# directories with its PNG, and every junit.xml read back by a parser
# (xml.etree).  Checks the mechanics (files, exit codes, one test case per
# judged cell and metric, figures in the messages, a refused baseline),
# not the speed: verdicts of runs this short are not asserted (the
# sensitivity study measures those).
#
#   end_to_end.sh --engine /abs/libaioring.so [--fio FIO]
set -euo pipefail

fio=fio engine=
while [ $# -gt 0 ]; do
	case $1 in
	--fio) fio=$2; shift 2 ;;
	--engine) engine=$2; shift 2 ;;
	*) echo "end_to_end.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$engine" ] || { echo "end_to_end.sh: --engine is required" >&2; exit 2; }
perf=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/aior-roundtrip.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$engine" "$work/copy.so"

short=(--rw randread --bs 4k --qd 32 --files 0 --no-ceiling --size 256M
	--runtime 1 --ramp-time 0.3 --fio "$fio")
fail() { echo "end_to_end.sh: FAIL: $*"; exit 1; }
run() {     # run NAME ARGS...: compare.py into $work/NAME; exit code kept
	local name=$1; shift
	set +e
	python3 "$perf/compare.py" "${short[@]}" --out "$work/$name" "$@" \
		> "$work/$name.log" 2>&1
	rc=$?
	set -e
	echo "== $name: exit $rc"
	tail -n 12 "$work/$name.log"
}

# 1. A/B: engine vs a copy of itself, the sequential timed A/B on a short
#    budget (the builds co-run: IOPS and CPU judged) and the exact counts.
run ab --engine "base=$engine" --engine "head=$work/copy.so" \
	--configs base,head --budget 40s
case $rc in 0|1|3) ;; *) fail "A/B run exit $rc" ;; esac
grep -q "A/B: head vs base" "$work/ab/table.txt" || fail "no A/B table"
grep -q "exact counts per request" "$work/ab/table.txt" ||
	fail "no counts table"
grep -q "look 1:" "$work/ab.log" || fail "the sequential A/B never looked"

# 2. Baseline round trip.
bdir=$work/baselines
run base1 --engine "$engine" --configs aioring,libaio --save-baseline rt \
	--baseline-dir "$bdir"
[ "$rc" = 0 ] || fail "baseline run exit $rc"
[ -s "$bdir/rt.json" ] || fail "baseline rt.json not saved"
grep -q "baseline 'rt' saved" "$work/base1.log" || fail "no saved line"
run base2 --engine "$engine" --configs aioring --against-baseline rt \
	--baseline-dir "$bdir"
case $rc in 0|1) ;; *) fail "against-baseline run exit $rc" ;; esac
grep -q "against baseline 'rt'" "$work/base2/table.txt" ||
	fail "no baseline table"
# A baseline from another runner class is refused before any run.
python3 - "$bdir/rt.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["runner_class"]["kernel"] = "0.0-other"
json.dump(d, open(sys.argv[1].replace("rt.json", "other.json"), "w"))
EOF
set +e
python3 "$perf/compare.py" "${short[@]}" --engine "$engine" \
	--against-baseline other --baseline-dir "$bdir" --out "$work/x" \
	> "$work/other.log" 2>&1
rc=$?
set -e
echo "== other runner class: exit $rc: $(cat "$work/other.log")"
[ "$rc" = 2 ] || fail "other runner class: exit $rc, want 2"
grep -q "kernel" "$work/other.log" || fail "refusal does not name kernel"
# Nothing ran: the out dir has the reason (summary.md, a failing set-up
# case in junit.xml) and no sample.
python3 - "$work/x" <<'EOF' || fail "ran despite the refusal"
import json, os, sys
d = sys.argv[1]
doc = json.load(open(os.path.join(d, "results.json")))
assert "samples" not in doc and "runner class" in doc["error"], doc
assert "COULD NOT RUN" in open(os.path.join(d, "summary.md")).read()
assert '<error message="baseline' in open(os.path.join(d, "junit.xml")).read()
EOF

# 3. history over the three result directories, with its chart.
python3 "$perf/compare.py" history "$work/ab" "$work/base1" "$work/base2" \
	--out "$work/trend" --x date
head -c 8 "$work/trend/history.png" | od -c | grep -q "P   N   G" ||
	fail "history.png is not a PNG"

# 4. Every junit.xml parsed back.
python3 - "$work" <<'EOF'
import os, sys
import xml.etree.ElementTree as ET
work = sys.argv[1]
# The A/B's builds co-run: IOPS and CPU per I/O judged, not p99.
for name, kind, want in (("ab", "ab.", 2), ("ab", "count.", 9),
                         ("base2", "baseline.", 3)):
    root = ET.parse(os.path.join(work, name, "junit.xml")).getroot()
    cases = [c for c in root.iter("testcase")
             if c.get("classname").startswith(kind)]
    if len(cases) != want:
        sys.exit("FAIL: %s/junit.xml: %d %s test cases, want %d"
                 % (name, len(cases), kind, want))
    for c in cases:
        out = c.find("system-out").text
        if kind == "count.":
            # The same bytes under another path: not a regression.
            if "per request" not in out or "REGRESSION" in out:
                sys.exit("FAIL: %s: %r" % (name, out))
        elif "ratio" not in out or "CI" not in out:
            sys.exit("FAIL: %s: no figures in %r" % (name, out))
    print("ok  : %s/junit.xml: %d test cases, e.g. %s: %s" % (
        name, len(cases), cases[0].get("name"),
        cases[0].find("system-out").text))
EOF
# 5. spdk-aio (SPDK's fio plugin, docs/spdk.md): where it cannot run it is
#    skipped, said, and every output is still written and valid; where
#    it can (root, scripts/spdk-build.sh run), its row is in every output
#    and vm.nr_hugepages is given back.
run spdk-skip --engine "$engine" --configs aioring,libaio,spdk-aio \
	--spdk-plugin /nonexistent/spdk_bdev --rounds 1
[ "$rc" = 0 ] || fail "spdk-aio skipped: exit $rc, want 0"
grep -q "spdk-aio is skipped: .*scripts/spdk-build.sh" "$work/spdk-skip.log" ||
	fail "the skip does not name scripts/spdk-build.sh"
spdk_runs=0
if [ "$(id -u)" = 0 ] && [ -f "${AIOR_CACHE:-$HOME/.cache/libaioring}/spdk/spdk_bdev" ]; then
	hugepages=$(cat /proc/sys/vm/nr_hugepages)
	run spdk --engine "$engine" --configs aioring,libaio,spdk-aio --rounds 1
	[ "$rc" = 0 ] || fail "spdk-aio run: exit $rc"
	[ "$(cat /proc/sys/vm/nr_hugepages)" = "$hugepages" ] ||
		fail "vm.nr_hugepages not given back"
	spdk_runs=1
else
	echo "== spdk: not run (needs root and scripts/spdk-build.sh)"
fi
python3 - "$work" "$spdk_runs" <<'EOF'
import json, os, sys
import xml.etree.ElementTree as ET
work, ran = sys.argv[1], sys.argv[2] == "1"
for name in ["spdk-skip"] + (["spdk"] if ran else []):
    d = os.path.join(work, name)
    doc = json.load(open(os.path.join(d, "results.json")))
    ET.parse(os.path.join(d, "junit.xml"))
    bmf = json.load(open(os.path.join(d, "bmf.json")))
    summary = open(os.path.join(d, "summary.md")).read()
    table = open(os.path.join(d, "table.txt")).read()
    ok = [s for s in doc["samples"] if s["config"] == "spdk-aio" and s["ok"]]
    if name == "spdk-skip":
        assert "spdk-aio" not in doc["configs"] and not ok, doc["configs"]
        assert any(k.startswith("spdk-aio (every cell)")
                   for k in doc["skipped"]), doc["skipped"]
        assert "spdk-aio is skipped" in summary
    else:
        assert ok and "spdk-aio" in doc["configs"], doc["failures"]
        assert any(k.endswith("/spdk-aio") for k in bmf), list(bmf)
        assert "| spdk-aio |" in summary and "spdk-aio" in table
    print("ok  : %s: results.json, junit.xml, bmf.json, summary.md, "
          "table.txt" % name)
EOF
echo "end_to_end.sh: PASS"
