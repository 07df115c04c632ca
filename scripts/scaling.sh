#!/usr/bin/env bash
# Scaling with numjobs: the project's comparison command over numjobs
# 1..N (N = the CPUs this process may use, or AIOR_SCALING_MAX), for the
# engine, built-in libaio and io_uring, interleaved, then each job count as a ratio
# to one job.  Everything compare.py writes (results.json, summary.md, the
# PNG chart) lands in --out as usual; scaling.md beside it adds the table
# of ratios to numjobs=1.
#
# usage: scripts/scaling.sh [compare.py arguments...]
#   default cell: randread 4k QD32 on a RAM-backed file, 3 rounds of 5 s;
#   e.g. scripts/scaling.sh --runtime 3 --out results/scaling
#        scripts/scaling.sh --rw randwrite --configs aioring,libaio,io_uring
# Arguments given replace the defaults of the same flag (the last wins).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
n=${AIOR_SCALING_MAX:-$(nproc)}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "scaling: AIOR_SCALING_MAX=$n: want a positive integer" >&2; exit 2; }
out=$repo/results/scaling-$(date -u +%Y%m%dT%H%M%SZ)
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	[ "${args[i]}" = --out ] && [ $((i + 1)) -lt ${#args[@]} ] && out=${args[i + 1]}
	[[ ${args[i]} == --out=* ]] && out=${args[i]#--out=}
done

python3 "$repo/perf/compare.py" --rw randread --bs 4k --qd 32 --files 0 \
	--no-ceiling --configs aioring,libaio,io_uring --jobs "$(seq -s, 1 "$n")" \
	--out "$out" "$@"

# --dry-run, or a run that wrote nothing: no table to make.
[ -f "$out/results.json" ] || exit 0
python3 - "$out/results.json" "$out/scaling.md" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
rows = {}
for cell, by_cfg in d["summary"].items():
    m = re.match(r"^(.*)/j(\d+)(/.*)?$", cell)
    if not m:
        continue
    base = m.group(1) + (m.group(3) or "")
    for cfg, s in by_cfg.items():
        if s and s.get("iops"):
            rows.setdefault((base, cfg), {})[int(m.group(2))] = s
lines = ["## Scaling with numjobs (%s, %s CPUs, %s)\n" % (
             d["env"].get("kernel"), d["env"].get("nproc"),
             d["env"].get("fio_version") or d["env"].get("fio")),
         "IOPS, median of %s interleaved rounds; in brackets the ratio to "
         "numjobs=1 and CPU us per I/O.\n" % d["settings"].get("rounds"),
         ]
jobs = sorted({j for r in rows.values() for j in r})
lines.append("| cell | config | " + " | ".join("numjobs=%d" % j for j in jobs) + " |")
lines.append("|---|---|" + "--:|" * len(jobs))
for (base, cfg), by_j in sorted(rows.items()):
    one = by_j.get(1, {}).get("iops")
    cells = []
    for j in jobs:
        s = by_j.get(j)
        if not s:
            cells.append("-")
            continue
        ratio = " (%.2fx, %.2f us)" % (s["iops"] / one, s["cpu_us_per_io"]) \
            if one else ""
        cells.append("%.1fk%s" % (s["iops"] / 1e3, ratio))
    lines.append("| `%s` | %s | %s |" % (base, cfg, " | ".join(cells)))
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
print("wrote %s" % sys.argv[2])
PY
