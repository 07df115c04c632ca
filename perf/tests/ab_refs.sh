#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/perf-ab.sh as a user runs it, on this repository's own history:
#  1. a ref that does not exist: one line naming it, exit 2, nothing built;
#  2. a build that fails: one line naming the ref, exit 2, no run;
#  3. HEAD~1 (or HEAD) vs HEAD: both built in scratch worktrees, a short
#     interleaved A/B, verdicts in results.json and junit.xml, exit 0/1,
#     and the scratch worktrees gone afterwards.
# Exit 77 when the source is not a git checkout (a release tarball).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
ab=$repo/scripts/perf-ab.sh
git -C "$repo" rev-parse --verify --quiet HEAD >/dev/null 2>&1 || {
	echo "SKIP: $repo is not a git checkout with a HEAD commit"; exit 77; }
work=$(mktemp -d /dev/shm/aior-perfab-XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work	# scratch worktrees, builds and kept logs
fail() { echo "perf-ab test: FAIL: $*"; exit 1; }
wt_before=$(git -C "$repo" worktree list | wc -l)

# 1. A ref that does not exist.
set +e
"$ab" no-such-ref-for-test HEAD -- --dry-run >"$work/1.log" 2>&1
rc=$?
set -e
cat "$work/1.log"
[ "$rc" = 2 ] || fail "missing ref: exit $rc, want 2"
[ "$(wc -l <"$work/1.log")" = 1 ] || fail "missing ref: want one line"
grep -q "ref 'no-such-ref-for-test' does not exist" "$work/1.log" ||
	fail "missing ref: the line does not name the ref"
echo "ok  : a missing ref stops it at once, exit 2, one line"

# 2. A build that fails (a bad value for a CMake option of the engine).
set +e
PERF_AB_CMAKE_ARGS=-DAIOR_PLANTED_DELAY_NS=not-a-number \
	"$ab" HEAD HEAD -- --dry-run --out "$work/2" >"$work/2.log" 2>&1
rc=$?
set -e
tail -n 1 "$work/2.log"
[ "$rc" = 2 ] || fail "failing build: exit $rc, want 2"
tail -n 1 "$work/2.log" | grep -q "build of base ref 'HEAD' (.*) failed: .*AIOR_PLANTED_DELAY_NS" ||
	fail "failing build: the last line does not name the ref and the error"
! grep -q "running:" "$work/2.log" || fail "failing build: compare.py ran"
echo "ok  : a failing build stops it before any run, exit 2, naming the ref"
# ... and says so where CI looks: summary.md, a failing JUnit case, the log.
grep -q "COULD NOT RUN (exit 2).*build of base ref 'HEAD'" "$work/2/summary.md" ||
	fail "failing build: summary.md does not say why"
grep -q '<error message="perf-ab: build of base' "$work/2/junit.xml" ||
	fail "failing build: no failing set-up case in junit.xml"
ls "$work/2"/perf-ab-base-build-*.log >/dev/null 2>&1 ||
	fail "failing build: the build log is not in the out dir"
echo "ok  : the failed build's reason and log are in the out dir (summary.md, junit.xml)"

# 3. Two refs of this repository, one short A/B.
base=HEAD~1
git -C "$repo" rev-parse --verify --quiet "HEAD~1^{commit}" >/dev/null || base=HEAD
set +e
"$ab" "$base" HEAD -- --configs base,head --rw randread --bs 4k --qd 8 \
	--rounds 3 --runtime 0.5 --ramp-time 0 --no-ceiling --size 64M \
	--out "$work/ab" >"$work/3.log" 2>&1
rc=$?
set -e
grep -E "^perf-ab:|head vs base" "$work/3.log" || true
case $rc in 0|1) ;; *) cat "$work/3.log"; fail "A/B: exit $rc" ;; esac
python3 - "$work/ab" <<'PY' || fail "A/B outputs"
import json, os, sys
import xml.etree.ElementTree as ET
out = sys.argv[1]
doc = json.load(open(os.path.join(out, "results.json")))
ab = [e for e in doc.get("ab") or [] if e["config"] == "head" and e["vs"] == "base"]
# On the RAM file the two builds co-run (one fio, one CPU): IOPS and CPU
# per I/O are judged, p99 is not.
co = [s for s in doc["samples"] if s["config"] in ("base", "head")]
assert co and all(s.get("corun", {}).get("configs") in (
    ["base", "head"], ["head", "base"]) for s in co), co[:1]
assert {e["metric"] for e in ab} == {"iops", "cpu"}, ab
# 3 clean rounds; a round a build shared with other load is run again
# (at most 6 in all, all judged if the machine stays busy).
assert all(3 <= e["n"] <= 6 for e in ab), [e["n"] for e in ab]
cv = [e for e in doc.get("count_verdicts") or []
      if e["config"] == "head" and e["vs"] == "base"]
assert {e["metric"] for e in cv} >= {"insn_engine", "sys_total", "ctx"}, cv
ie = next(e for e in cv if e["metric"] == "insn_engine")
assert ie["base_value"] > 50 and ie["head_value"] > 50, ie
cases = list(ET.parse(os.path.join(out, "junit.xml")).getroot()
             .iter("testcase"))
assert len(cases) >= len(ab) + len(cv)
assert any(c.get("classname", "").startswith("count.") for c in cases)
summary = open(os.path.join(out, "summary.md")).read()
assert "Exact counts per request" in summary
# The refs and their commits, not the scratch copies' paths.
assert "perf-ab-" not in summary and " @ " in summary, summary[:600]
assert "![" not in summary
print("ok  : results.json has head-vs-base verdicts (%s) and counts "
      "(engine instructions %.0f -> %.0f: %s); junit.xml parses"
      % (", ".join("%s %s" % (e["metric"], e["verdict"]) for e in ab),
         ie["base_value"], ie["head_value"], ie["verdict"]))
PY
[ "$(git -C "$repo" worktree list | wc -l)" = "$wt_before" ] ||
	fail "scratch worktrees left behind: $(git -C "$repo" worktree list)"
echo "ok  : $base vs HEAD built and compared (exit $rc); no worktree left"
echo "perf-ab test: passed"
