#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `perf/compare.py insn` on the real fio and the engine built here, QD1:
# the engine's instructions land in libaioring.so and nowhere for built-in
# libaio; every per-request figure is in a sane range; the engine's own
# part repeats exactly and every total within a few instructions; and a
# bad --engine is refused with exit 2 before anything runs.
# Exit 77 when valgrind is not installed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
engine=${1:-$repo/build/libaioring.so}
command -v valgrind >/dev/null || {
	echo "SKIP: valgrind is not installed (apt-get install valgrind)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "insn test: FAIL: $*"; exit 1; }

set +e
python3 "$repo/perf/compare.py" insn --engine "$work/none.so" \
	>"$work/bad.log" 2>&1
rc=$?
set -e
cat "$work/bad.log"
[ "$rc" = 2 ] || fail "missing engine: exit $rc, want 2"
grep -q "none.so) not found" "$work/bad.log" || fail "missing engine not named"

python3 "$repo/perf/compare.py" insn --qd 1 --configs aioring,libaio \
	--engine "$engine" --ios 2000 --reps 2 --json "$work/insn.json"
python3 - "$work/insn.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = {r["config"]: r for r in doc["rows"]}
bad = []
eng, lib = rows["aioring"]["parts"], rows["libaio"]["parts"]
# What one request costs in user space: fio alone runs some 2000
# instructions, the engine some 250 (figures of 2026-12).
for name, r in rows.items():
    if r["reps"] != 2:
        bad.append("%s: %d repeats, want 2" % (name, r["reps"]))
    if not 500 < r["total"] < 50000:
        bad.append("%s: %.0f instructions per request" % (name, r["total"]))
    # Job threads only, the same offsets: repeats agree to a few
    # instructions (a whole-process count moved by hundreds).
    if not 0 <= r["spread"] < 25:
        bad.append("%s: repeats %.1f instructions apart" % (name, r["spread"]))
if not 50 < eng["libaioring.so"] < 5000:
    bad.append("aioring: libaioring.so %.0f per request" % eng["libaioring.so"])
if rows["aioring"]["part_spread"]["libaioring.so"] != 0:
    bad.append("aioring: the engine's own part moved %.2f between repeats"
               % rows["aioring"]["part_spread"]["libaioring.so"])
if abs(lib["libaioring.so"]) > 0.5:
    bad.append("libaio: libaioring.so %.1f per request, want 0" % lib["libaioring.so"])
if not doc.get("runner", {}).get("cpu_model"):
    bad.append("no machine named in the JSON")
if bad:
    sys.exit("insn test: FAIL: " + "; ".join(bad))
print("insn test: aioring %.0f +- %.1f (libaioring.so %.0f), libaio %.0f +- %.1f "
      "instructions per request"
      % (rows["aioring"]["total"], rows["aioring"]["spread"], eng["libaioring.so"],
         rows["libaio"]["total"], rows["libaio"]["spread"]))
PY
