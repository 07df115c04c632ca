#!/usr/bin/env bash
# Held requests are submitted before fio sleeps (thinktime, rate): run
# jobs/coalesce-wait.fio with coalesce=always on a RAM-backed file, and
# check from fio's JSON that no request's submission latency (slat: from
# fio queueing it to the real io_submit()) reaches its job's sleep (50 ms
# thinktime; 20 ms between rate-limited requests), while the engine did
# hold requests in both jobs.
#
# usage: AIOR_ENGINE=/abs/libaioring.so coalesce-wait.sh
# lib.sh helpers assign the variables they are named through printf -v:
# shellcheck disable=SC2154
set -euo pipefail
AIOR_TEST_NAME=${AIOR_TEST_NAME:-coalesce-wait}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_cmd python3
scratch_dir dir
out=$dir/fio.json
AIOR_FILE=$dir/target.dat AIOR_COALESCE=always \
	aior_fio --output-format=json --output="$out" \
	"$AIOR_JOBS/coalesce-wait.fio" >"$dir/fio.log" 2>&1 ||
	die "fio failed: $(tail -n 5 "$dir/fio.log" "$out" | tr '\n' '|')"

holds=$(grep -o ' holds=[0-9]*' "$out" "$dir/fio.log" | cut -d= -f2 || true)
[ "$(wc -w <<<"$holds")" = 2 ] ||
	die "expected 2 engine_stats lines, got: $(grep -h 'holds=' "$out" "$dir/fio.log" || true)"
for h in $holds; do
	[ "$h" -gt 0 ] || die "a job never held a request (holds=0): nothing was tested"
done

python3 - "$out" <<'PY' || die "see above"
import json, sys
text = open(sys.argv[1]).read()
doc = json.loads(text[text.index("\n{") + 1 if not text.startswith("{") else 0:])
# job name: (reads it must complete, the sleep no slat may reach, in ms),
# as jobs/coalesce-wait.fio sets them.
expect = {"thinktime": (2048, 50), "rate": (160, 20)}
bad = sorted(job["jobname"] for job in doc["jobs"]) != sorted(expect)
if bad:
    print("FAIL: expected jobs %s, fio reported %s" % (
        sorted(expect), [job["jobname"] for job in doc["jobs"]]))
for job in doc["jobs"]:
    r = job["read"]
    ios, sleep_ms = expect.get(job["jobname"], (0, 0))
    slat_max_ms = r["slat_ns"]["max"] / 1e6
    print("%s: %d reads, slat max %.3f ms, clat max %.3f ms, err %d" % (
        job["jobname"], r["total_ios"], slat_max_ms,
        r["clat_ns"]["max"] / 1e6, job["error"]))
    if job["error"] or r["total_ios"] < ios:
        print("FAIL: %s did not complete its %d reads" % (job["jobname"], ios))
        bad = True
    if slat_max_ms >= sleep_ms:
        print("FAIL: %s: a request waited %.1f ms before io_submit(), its "
              "sleeps are %d ms: held across a sleep" % (
                  job["jobname"], slat_max_ms, sleep_ms))
        bad = True
sys.exit(1 if bad else 0)
PY
say ok
