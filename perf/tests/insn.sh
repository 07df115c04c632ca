#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/insn-per-io.py on the real fio and the engine built here, QD1:
# the engine's instructions land in libaioring.so and libaio.so and
# nowhere for built-in libaio; every per-request figure is in a sane range;
# and a bad --engine is refused with exit 2 before anything runs.
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
python3 "$repo/scripts/insn-per-io.py" --engine "$work/none.so" \
	>"$work/bad.log" 2>&1
rc=$?
set -e
cat "$work/bad.log"
[ "$rc" = 2 ] || fail "missing engine: exit $rc, want 2"
grep -q "none.so: no such file" "$work/bad.log" || fail "missing engine not named"

python3 "$repo/scripts/insn-per-io.py" --qd 1 --configs aioring,libaio \
	--engine "$engine" --ios 2000 --json "$work/insn.json"
python3 - "$work/insn.json" <<'PY'
import json, sys
rows = {r["config"]: r for r in json.load(open(sys.argv[1]))["rows"]}
bad = []
eng, lib = rows["aioring"]["parts"], rows["libaio"]["parts"]
# What one request costs in user space: fio alone runs some 2000
# instructions, libaio.so's io_submit() some 30 (figures of 2026-12).
for name, r in rows.items():
    if not 500 < r["total"] < 50000:
        bad.append("%s: %.0f instructions per request" % (name, r["total"]))
    if not 5 < r["parts"]["libaio.so"] < 500:
        bad.append("%s: libaio.so %.0f per request" % (name, r["parts"]["libaio.so"]))
if not 50 < eng["libaioring.so"] < 5000:
    bad.append("aioring: libaioring.so %.0f per request" % eng["libaioring.so"])
if abs(lib["libaioring.so"]) > 0.5:
    bad.append("libaio: libaioring.so %.1f per request, want 0" % lib["libaioring.so"])
if bad:
    sys.exit("insn test: FAIL: " + "; ".join(bad))
print("insn test: aioring %.0f (libaioring.so %.0f), libaio %.0f instructions per request"
      % (rows["aioring"]["total"], eng["libaioring.so"], rows["libaio"]["total"]))
PY
