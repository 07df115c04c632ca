# SPDX-License-Identifier: BSD-3-Clause
"""Derive (or refresh) a floors file from compare.py results.

Floors are never typed in by hand: they come from measured runs.

    # the floors of this runner class, recorded into the gate's file
    python3 perf/compare.py --quick --out r1 && ... (two runs or more)
    python3 perf/compare.py floors --record jobs/floors-ci.json \
        r1/results.json r2/results.json

--record writes the file in place: the runs' runner class (machine.py)
gets its own entry under "runner_classes" (replacing an older entry of
the same class), each floor the worst run's ratio less --margin (or
--co-run-margin for a cell the runs co-ran); the
portable floors and the other classes' entries stay as they are.  The
cells and floor kinds come from an entry of the same class, else the
first class's, else the file's portable timed floors.  All runs must be
of one runner class and one fio.

    # CI floors: measured ratio of medians minus a 20% noise margin
    python3 perf/compare.py floors --template jobs/floors-ci.json \\
        --margin 0.20 results/*/results.json > floors-ci.new.json

    # target floors (from the issue): keep the floors, refresh "measured"
    python3 perf/compare.py floors --template jobs/floors.json \\
        --keep-floors results/<run>/results.json > floors.new.json

The template gives the cells and floors (vs, metric, kind); every floor
gets a "measured" object: the subject's and the reference's medians, the
ratio of medians per results file and their median, the per-round ratio
range, and where the numbers come from.  With several results files the
ratio used is the median of the per-file ratios.
"""

import argparse
import json
import math
import os
import sys

from . import machine
from .gate import METRICS, normalize_floors
from .stats import median, ratio
from .history import runner_class


def per_round(samples, cell, config, key):
    return {s["round"]: s[key] for s in samples
            if s.get("cell") == cell and s.get("config") == config
            and s.get("ok") and s.get(key) is not None}


def measure(floor, docs):
    key = METRICS[floor["metric"]][0]
    runs, subj_meds, ref_meds, lo, hi, sources = [], [], [], [], [], []
    for path, doc in docs:
        subj = per_round(doc["samples"], floor["cell"], floor["config"], key)
        ref = per_round(doc["samples"], floor["ref_cell"],
                        floor["ref_config"], key)
        if not subj or not ref:
            continue
        sm, rm = median(subj.values()), median(ref.values())
        r = ratio(sm, rm)
        if r is None:
            continue
        runs.append(round(r, 4))
        subj_meds.append(sm)
        ref_meds.append(rm)
        pr = [subj[k] / ref[k] for k in subj if k in ref and ref[k]]
        if pr:
            lo.append(min(pr))
            hi.append(max(pr))
        env = doc.get("env", {})
        sources.append({
            "file": path, "date_utc": env.get("date_utc"),
            "git": env.get("git_describe"),
            "engine_sha256": (env.get("engine") or {}).get("sha256"),
            "rounds": doc.get("settings", {}).get("rounds"),
            "runtime_s": doc.get("settings", {}).get("runtime"),
            "contended_runs": sum(1 for s in doc["samples"]
                                  if s.get("contended"))})
    if not runs:
        return None
    unit = "ns" if floor["metric"].startswith("p") else (
        "IOPS" if floor["metric"] == "iops" else floor["metric"])
    return {
        "metric": floor["metric"], "unit": unit,
        floor["config"]: round(median(subj_meds), 1),
        floor["ref_config"] + ("-1file" if floor["ref_cell"] != floor["cell"]
                               else ""): round(median(ref_meds), 1),
        "ratio": round(median(runs), 4),
        "ratio_per_run": runs,
        "per_round_range": [round(min(lo), 4), round(max(hi), 4)]
        if lo else None,
        "sources": sources,
    }


def run_class(docs):
    """(runner class, fio version) of all @docs; raises ValueError when
    they are not one class and one fio."""
    (p0, d0) = docs[0]
    rc0, fio0 = runner_class(d0.get("env")), d0.get("env", {}).get(
        "fio_version")
    if not (d0.get("env") or {}).get("runner"):
        raise ValueError("%s records no runner class (a run from before "
                         "classes were recorded): run it again" % p0)
    for p, d in docs[1:]:
        diff = machine.differences(runner_class(d.get("env")), rc0, p, p0)
        if d.get("env", {}).get("fio_version") != fio0:
            diff.append("fio %s in %s, %s in %s" % (
                d["env"].get("fio_version"), p, fio0, p0))
        if diff:
            raise ValueError("the runs are of two runner classes: %s"
                             % "; ".join(diff))
    rc = dict(rc0)
    ns = [runner_class(d.get("env")).get("syscall_ns") for _, d in docs]
    if all(ns):
        rc["syscall_ns"] = round(median(ns), 1)
    return rc, fio0


def cell_mode(doc, cell, config):
    """"co-run" when @config co-ran in @cell of the run, else "solo"."""
    return "co-run" if any(s.get("corun") for s in doc.get("samples", ())
                           if s.get("cell") == cell
                           and s.get("config") == config) else "solo"


def worst_floor(fl, m, margin):
    """A floor the worst run clears by @margin."""
    if fl["kind"] == "min":
        return math.floor(min(m["ratio_per_run"]) * (1 - margin) * 100) / 100
    return math.ceil(max(m["ratio_per_run"]) * (1 + margin) * 100) / 100


def record(path, results, margins, argv):
    """--record: this runner class's floors into @path, in place."""
    with open(path) as f:
        data = json.load(f)
    normalize_floors(data)
    docs = []
    for r in results:
        with open(r) as f:
            docs.append((r, json.load(f)))
    rc, fio = run_class(docs)
    classes = data.setdefault("runner_classes", [])
    same = [i for i, c in enumerate(classes)
            if machine.same_class(rc, c["runner"])
            and c.get("fio_version") == fio]
    if same:
        tmpl = classes[same[0]]["floors"]
    elif classes:
        tmpl = classes[0]["floors"]
    else:
        tmpl = {cell: [f for f in (spec if isinstance(spec, list)
                                   else [spec]) if "count" not in f]
                for cell, spec in data.items()
                if not cell.startswith("_") and cell not in (
                    "runner_classes", "co_run_cells")}
    floors, missing = {}, []
    for cell, spec in tmpl.items():
        if cell.startswith("_"):
            continue
        for one in spec if isinstance(spec, list) else [spec]:
            (fl,) = normalize_floors({cell: one})
            m = measure(fl, docs)
            if m is None:
                missing.append("%s vs %s" % (cell, fl["vs"]))
                continue
            new = {k: v for k, v in one.items()
                   if k not in ("min_ratio", "max_ratio", "measured",
                                "basis", "run_mode")}
            modes = {cell_mode(d, cell, fl["config"]) for _, d in docs}
            if len(modes) > 1:
                raise ValueError("%s: the runs mix co-runs and solo runs "
                                 "of it: record from runs of one mode"
                                 % cell)
            new["run_mode"] = modes.pop()
            # A co-run's ratio moves less from run to run than a solo
            # run's: each has its own margin.
            mg = margins[new["run_mode"]]
            new["%s_ratio" % fl["kind"]] = worst_floor(fl, m, mg)
            new["measured"] = m
            new["basis"] = ("worst of %d %s run(s) %.3f, %s %.0f%%" % (
                len(m["ratio_per_run"]), new["run_mode"],
                min(m["ratio_per_run"]) if fl["kind"] == "min" else
                max(m["ratio_per_run"]),
                "less" if fl["kind"] == "min" else "plus", mg * 100))
            floors.setdefault(cell, []).append(new)
    if missing:
        raise ValueError("not measured in these results: %s (run them "
                         "with the cells and configs of the floors)"
                         % ", ".join(missing))
    entry = {"runner": rc, "label": machine.label(rc), "fio_version": fio,
             "recorded": {"command": "python3 perf/compare.py floors " +
                          " ".join(argv), "margins": margins,
                          "runs": len(docs)},
             "floors": floors}
    if same:
        classes[same[0]] = entry
    else:
        classes.append(entry)
    normalize_floors(data)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    print("floors: %s %s runner class %s (%s): %s" % (
        path, "updated for" if same else "recorded for new",
        machine.label(rc), fio, "; ".join(
            "%s %s" % (cell, ", ".join("%s %s" % (
                f.get("metric", "iops"), f.get("min_ratio",
                                               f.get("max_ratio")))
                for f in fs)) for cell, fs in floors.items())))
    return 0


def main(argv):
    p = argparse.ArgumentParser(
        prog="compare.py floors", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--record", metavar="FLOORS.json",
                   help="record the floors of the results' runner class "
                        "into this floors file, in place")
    p.add_argument("--template",
                   help="floors file giving the cells and floor kinds")
    p.add_argument("--margin", type=float, default=0.20,
                   help="noise margin: floor = ratio x (1 - margin) for "
                        "min_ratio, x (1 + margin) for max_ratio")
    p.add_argument("--co-run-margin", type=float, default=0.20,
                   help="with --record: the margin of a floor measured "
                        "co-run (--margin is a solo one's)")
    p.add_argument("--keep-floors", action="store_true",
                   help="keep the template's floors (targets); only "
                        "refresh \"measured\"")
    p.add_argument("results", nargs="+", help="compare.py results.json")
    args = p.parse_args(argv)
    if args.record:
        try:
            return record(args.record, args.results, {
                "solo": args.margin, "co-run": args.co_run_margin}, argv)
        except (OSError, ValueError) as e:
            print("floors: error: %s" % e, file=sys.stderr)
            return 2
    if not args.template:
        p.error("give --template or --record")

    with open(args.template) as f:
        tmpl = json.load(f)
    normalize_floors(tmpl)          # validates
    docs = []
    for path in args.results:
        with open(path) as f:
            docs.append((path, json.load(f)))

    out, missing = {}, []
    for cell, spec in tmpl.items():
        if cell.startswith("_"):
            out[cell] = spec
            continue
        specs = spec if isinstance(spec, list) else [spec]
        new = []
        for one in specs:
            (fl,) = normalize_floors({cell: one})
            m = measure(fl, docs)
            one = dict(one)
            if m is None:
                missing.append("%s vs %s" % (cell, fl["vs"]))
                new.append(one)
                continue
            one["measured"] = m
            if not args.keep_floors:
                name = "%s_ratio" % fl["kind"]
                if fl["kind"] == "min":
                    one[name] = math.floor(m["ratio"] * (1 - args.margin)
                                           * 100) / 100
                else:
                    one[name] = math.ceil(m["ratio"] * (1 + args.margin)
                                          * 100) / 100
                one["basis"] = ("measured ratio %.3f %s %.0f%% noise margin"
                                % (m["ratio"], "-" if fl["kind"] == "min"
                                   else "+", args.margin * 100))
            new.append(one)
        out[cell] = new if isinstance(spec, list) else new[0]
    if missing:
        print("compare.py floors: not measured in these results: %s"
              % ", ".join(missing), file=sys.stderr)
    normalize_floors(out)
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 1 if missing else 0

