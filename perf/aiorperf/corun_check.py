# SPDX-License-Identifier: BSD-3-Clause
"""Does a co-run give the same ratio as solo runs?  (compare.py
corun-check)

A co-run (run.run_corun) puts the engine and an anchor in one fio on one
CPU: the host's interruptions hit both alike, and their per-round ratio
spreads a few percent instead of the 15-25% of solo runs on a shared
guest.  It measures the ratio of what a request costs each in CPU; the
solo ratio is of throughputs with a CPU each.  The two agree where both
sides are CPU-bound, but that is to be shown per cell, not assumed:
before a cell's gate or headline uses `--co-run anchors`, this runs the
cell both ways, interleaved round by round on the same target, and says
whether the co-run ratio's estimate lies inside the solo ratio's
interval.

    python3 perf/compare.py corun-check --cells randread/4k/qd1/j1 \
        --rounds 12 --out results/corun-check

Each round: the subject solo, the anchor solo (their order alternating),
then both co-run (the job order alternating).  The intervals are
stats.trimmed_log_ci at 95%.  agreement() is pure; run_check touches
the machine.
"""

import json
import os
import statistics

from .stats import trimmed_log_ci

LEVEL = 0.95
AGREE, DISAGREE = "AGREE", "DISAGREE"


def agreement(solo, co, level=LEVEL):
    """The verdict of one cell from its per-round ratios: AGREE when the
    co-run estimate lies inside the solo interval.  Returns a dict."""
    s, c = trimmed_log_ci(solo, level), trimmed_log_ci(co, level)
    d = {"solo": list(solo), "co_run": list(co), "level": level,
         "solo_estimate": s[0], "solo_lo": s[1], "solo_hi": s[2],
         "co_estimate": c[0], "co_lo": c[1], "co_hi": c[2],
         "solo_cov": _cov(solo), "co_cov": _cov(co)}
    if s[0] is None or c[0] is None:
        return dict(d, verdict=None, reason="fewer than 3 rounds")
    inside = s[1] <= c[0] <= s[2]
    return dict(d, verdict=AGREE if inside else DISAGREE, reason="" if
                inside else "co-run %.3f outside the solo interval "
                "%.3f..%.3f: keep the cell solo" % (c[0], s[1], s[2]))


def _cov(v):
    return statistics.stdev(v) / statistics.fmean(v) if len(v) > 1 else None


def markdown(rows, runner_label, subject, anchor):
    out = ["Co-run against solo, %s / %s IOPS per round (%.0f%% intervals "
           "of the trimmed geometric mean); runner class: %s" % (
               subject, anchor, LEVEL * 100, runner_label), "",
           "| cell | rounds | solo ratio (interval) | solo CoV | co-run "
           "ratio (interval) | co-run CoV | verdict |",
           "|---|--:|---|--:|---|--:|---|"]
    for cell, r in rows.items():
        if r["verdict"] is None:
            out.append("| `%s` | %d | - | - | - | - | %s |" % (
                cell, len(r["solo"]), r["reason"]))
            continue
        out.append("| `%s` | %d | %.3f (%.3f..%.3f) | %.1f%% | %.3f "
                   "(%.3f..%.3f) | %.1f%% | %s |" % (
                       cell, len(r["solo"]), r["solo_estimate"],
                       r["solo_lo"], r["solo_hi"], 100 * r["solo_cov"],
                       r["co_estimate"], r["co_lo"], r["co_hi"],
                       100 * r["co_cov"], r["verdict"]))
    return "\n".join(out) + "\n"


def run_check(args):
    """Measure every cell both ways; write corun-check.json and .md into
    args.out; return {cell: agreement dict}."""
    from . import machine
    from .plan import corun_cmd, fio_cmd, parse_cell_key
    from .fioout import metrics_from_json, parse_fio_output
    from .load import run_child
    from .targets import cleanup_target, new_target, prepare_target
    from .util import PROGRESS
    subject, anchor = args.subject, args.anchor
    target = new_target()
    prepare_target(args, args.cells, target)
    cpu = max(os.sched_getaffinity(0))

    def iops(cmd, rw):
        rc, out, err, _, _ = run_child(cmd, args.runtime + args.ramp_time
                                       + 120, "corun-check")
        if rc != 0:
            raise RuntimeError("fio exited %d: %s" % (rc, err.strip()[-300:]))
        data, _, _ = parse_fio_output(out, err)
        return {j["jobname"]: metrics_from_json({"jobs": [j]}, rw)["iops"]
                for j in data["jobs"]}
    per = {c: {"solo": [], "co": []} for c in args.cells}
    try:
        for rnd in range(args.rounds):
            for cell in args.cells:
                PROGRESS.update("corun-check: round %d/%d %s" % (
                    rnd + 1, args.rounds, cell))
                rw = parse_cell_key(cell)["rw"]
                pair = [subject, anchor] if rnd % 2 == 0 else \
                    [anchor, subject]
                solo = {c: iops(fio_cmd(args, target, cell, c), rw)[
                    "aior-bench"] for c in pair}
                co = iops(corun_cmd(args, target, cell, pair, cpu), rw)
                co = {c: co["corun%d" % i] for i, c in enumerate(pair)}
                per[cell]["solo"].append(solo[subject] / solo[anchor])
                per[cell]["co"].append(co[subject] / co[anchor])
    finally:
        PROGRESS.clear()
        cleanup_target(target)
    rows = {c: agreement(v["solo"], v["co"]) for c, v in per.items()}
    runner = machine.runner_class()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "corun-check.json"), "w") as f:
        json.dump({"runner_class": runner, "subject": subject,
                   "anchor": anchor, "rounds": args.rounds,
                   "runtime": args.runtime, "ramp_time": args.ramp_time,
                   "cells": rows}, f, indent=1)
        f.write("\n")
    md = markdown(rows, machine.label(runner), subject, anchor)
    with open(os.path.join(args.out, "corun-check.md"), "w") as f:
        f.write(md)
    print(md, end="")
    return rows
