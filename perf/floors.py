#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Derive (or refresh) a floors file from compare.py results.

Floors are never typed in by hand: they come from measured runs.

    # CI floors: measured ratio of medians minus a 20% noise margin
    python3 perf/floors.py --template jobs/floors-ci.json \\
        --margin 0.20 results/*/results.json > floors-ci.new.json

    # target floors (from the issue): keep the floors, refresh "measured"
    python3 perf/floors.py --template jobs/floors.json \\
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

sys.dont_write_bytecode = True     # keep the tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from aiorperf.gate import (METRICS, median, normalize_floors,  # noqa: E402
                           ratio)


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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--template", required=True,
                   help="floors file giving the cells and floor kinds")
    p.add_argument("--margin", type=float, default=0.20,
                   help="noise margin: floor = ratio x (1 - margin) for "
                        "min_ratio, x (1 + margin) for max_ratio")
    p.add_argument("--keep-floors", action="store_true",
                   help="keep the template's floors (targets); only "
                        "refresh \"measured\"")
    p.add_argument("results", nargs="+", help="compare.py results.json")
    args = p.parse_args(argv)

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
        print("compare_floors: not measured in these results: %s"
              % ", ".join(missing), file=sys.stderr)
    normalize_floors(out)
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
