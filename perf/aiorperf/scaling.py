# SPDX-License-Identifier: BSD-3-Clause
"""Scaling with numjobs: a run over numjobs 1..N, then each job count as
a ratio to one job.

    python3 perf/compare.py scaling                       # randread 4k QD32
    python3 perf/compare.py scaling --runtime 3 --out results/scaling
    python3 perf/compare.py scaling --rw randwrite --configs aioring,libaio

N is the number of CPUs this process may use, or $AIOR_SCALING_MAX.  The
engine, built-in libaio and io_uring run interleaved as in any run, and
everything a run writes lands in --out (default results/scaling-<UTC
time>); scaling.md beside it adds the table of ratios to numjobs=1 and
names the machine it ran on.  The run's own options replace these
defaults (the last of a flag wins).  Exit status: the run's.
"""

import json
import os
import re
import sys
import time

from . import cli, machine, session
from .history import runner_class


def defaults():
    """The run's options when the command line does not give them."""
    n = os.environ.get("AIOR_SCALING_MAX") or str(len(os.sched_getaffinity(
        0)))
    if not re.fullmatch(r"[1-9][0-9]*", n):
        raise ValueError("AIOR_SCALING_MAX=%s: want a positive integer" % n)
    return ["--rw", "randread", "--bs", "4k", "--qd", "32", "--files", "0",
            "--no-ceiling", "--configs", "aioring,libaio,io_uring",
            "--jobs", ",".join(str(j) for j in range(1, int(n) + 1)),
            "--out", os.path.join("results", "scaling-" + time.strftime(
                "%Y%m%dT%H%M%SZ", time.gmtime()))]


def main(argv):
    """compare.py scaling."""
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    try:
        args = cli.parse_args(defaults() + argv)
    except ValueError as e:
        print("compare.py scaling: error: %s" % e, file=sys.stderr)
        return 2
    rc = session.run(args)
    results = os.path.join(args.out, "results.json")
    if args.dry_run or not os.path.isfile(results):
        return rc
    with open(results) as f:
        doc = json.load(f)
    text = table(doc)
    with open(os.path.join(args.out, "scaling.md"), "w") as f:
        f.write(text)
    print(text + "wrote %s" % os.path.join(args.out, "scaling.md"))
    return rc


def table(doc):
    """scaling.md: IOPS per (cell without numjobs, config) and job count,
    each with its ratio to one job and its CPU per I/O."""
    rows = {}
    for cell, by_cfg in doc["summary"].items():
        m = re.match(r"^(.*)/j(\d+)(/.*)?$", cell)
        if not m:
            continue
        base = m.group(1) + (m.group(3) or "")
        for cfg, s in by_cfg.items():
            if s and s.get("iops"):
                rows.setdefault((base, cfg), {})[int(m.group(2))] = s
    env = doc["env"]
    lines = ["## Scaling with numjobs\n",
             "On %s; %s.  IOPS, median of %s interleaved rounds; in "
             "brackets the ratio to numjobs=1 and CPU us per I/O.\n" % (
                 machine.label(runner_class(env)),
                 env.get("fio_version") or env.get("fio"),
                 doc["settings"].get("rounds"))]
    jobs = sorted({j for r in rows.values() for j in r})
    lines.append("| cell | config | " + " | ".join(
        "numjobs=%d" % j for j in jobs) + " |")
    lines.append("|---|---|" + "--:|" * len(jobs))
    for (base, cfg), by_j in sorted(rows.items()):
        one = by_j.get(1, {}).get("iops")
        cells = []
        for j in jobs:
            s = by_j.get(j)
            if not s:
                cells.append("-")
                continue
            ratio = " (%.2fx, %.2f us)" % (
                s["iops"] / one, s["cpu_us_per_io"]) if one else ""
            cells.append("%.1fk%s" % (s["iops"] / 1e3, ratio))
        lines.append("| `%s` | %s | %s |" % (base, cfg, " | ".join(cells)))
    return "\n".join(lines) + "\n"
