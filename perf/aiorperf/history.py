# SPDX-License-Identifier: BSD-3-Clause
"""Named baselines, and trends over a directory of results.

Baselines.  `compare.py ... --save-baseline NAME` stores the run's
results.json as NAME.json in the baseline directory (--baseline-dir,
default $AIOR_BASELINE_DIR or ~/.cache/libaioring/baselines);
`--against-baseline NAME` judges a later run against it.  Absolute figures
of two runs taken at different times are not comparable, so each run is
normalised by its own interleaved built-in libaio (per round, config /
libaio), and the two runs' normalised values are compared (gate.
evaluate_baseline).  That still needs the same kind of machine: a
baseline records its runner class (machine.py: CPU model, vCPUs, kernel
build, virtualization, what one system call costs) and fio version, and
a run on another class or fio is refused, naming what differs
(--ignore-runner-class to judge anyway); so is a co-run (builds sharing
one CPU, whose IOPS are a share of it) against a solo run, or the
reverse (--ignore-run-mode).

History.  `compare.py history PATH...` reads every results.json under the
paths, orders the runs by date, and follows each cell's normalised ratio
(median over rounds of config / libaio; IOPS by default, --metric p99 or
cpu) across them: one line per cell (and per engine build when a run has
several), x = the commit (git describe of the run) or the date.  Step
changes are found by binary segmentation (stats.step_changes): a split
where the medians of the two sides differ by --step (default 5%) and by
3 standard errors; the noise per point is taken from successive
differences of the series, and is at least the typical standard error of
one run's median (from its rounds).  A series is one cell and config on
one runner class in one run mode (solo or co-run): the figures of two
kinds of machine, or of a co-run and a solo run, are never one line or
one step unless --across-runners says so, and history.md says which runs
were kept apart and why.  Writes history.json (every run with its runner
class), history.md, history.dat/.gp and history.png (gnuplot) into --out.
"""

import datetime
import json
import os
import re
import statistics

from .gate import AB_METRICS
from . import machine
from .plan import BUILTIN_CONFIGS
from .samples import CEILING, PRIMARY_HOSTS, host_of
from .util import render_gnuplot
from .stats import median, paired_ratios, step_changes

_BASELINE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class BaselineError(Exception):
    pass


def default_baseline_dir():
    return os.environ.get("AIOR_BASELINE_DIR") or os.path.join(
        os.environ.get("AIOR_CACHE",
                       os.path.expanduser("~/.cache/libaioring")),
        "baselines")


def runner_class(env):
    """The runner class of a run's env: as recorded, or (a run from
    before classes were recorded) what its env has of one."""
    env = env or {}
    if env.get("runner"):
        return env["runner"]
    return {"cpu_model": env.get("cpu_model"), "vcpus": env.get("nproc"),
            "kernel": env.get("kernel"), "virtualization": None,
            "syscall_ns": None}


def run_mode(doc):
    """"co-run" when the run's builds shared one CPU (run.run_corun),
    else "solo"."""
    return "co-run" if any(s.get("corun") for s in doc.get("samples") or ()
                           ) else "solo"


def check_runner_class(cur_env, base_doc, name):
    """Raise BaselineError when the runner classes or fio versions
    differ, naming what differs."""
    old_env = base_doc.get("env") or {}
    saved = base_doc.get("runner_class")    # as save_baseline stored it
    old = saved if saved and "vcpus" in saved else runner_class(old_env)
    diff = machine.differences(runner_class(cur_env), old, "here",
                               "in the baseline")
    if cur_env.get("fio_version") != old_env.get("fio_version"):
        diff.append("fio %s here, %s in the baseline" % (
            cur_env.get("fio_version"), old_env.get("fio_version")))
    if diff:
        raise BaselineError(
            "baseline %r was measured on another runner class: %s. Ratios "
            "to libaio depend on what a system call costs, so they do not "
            "carry from one class to another; save a baseline on this "
            "runner class (or --ignore-runner-class)" % (
                name, "; ".join(diff)))


def check_run_mode(mode, base_doc, name):
    """Raise BaselineError when this run's mode (solo, co-run) is not the
    baseline's."""
    old = run_mode(base_doc)
    if mode != old:
        raise BaselineError(
            "baseline %r is a %s run and this one a %s run: a co-run's "
            "builds share one CPU, so its IOPS are a share of a solo run's "
            "and the two do not compare; save a %s baseline (or "
            "--ignore-run-mode)" % (name, old, mode, mode))


def _check_name(name):
    if not _BASELINE_NAME.fullmatch(name or ""):
        raise BaselineError("bad baseline name %r (letters, digits, '_', "
                            "'.', '-')" % name)


def baseline_path(name, bdir):
    _check_name(name)
    return os.path.join(bdir, name + ".json")


def list_baselines(bdir):
    try:
        return sorted(f[:-5] for f in os.listdir(bdir)
                      if f.endswith(".json"))
    except OSError:
        return []


def save_baseline(doc, name, bdir):
    """Store a results document as baseline name; return its path."""
    path = baseline_path(name, bdir)
    if not any(s.get("config") == "libaio" and s.get("ok")
               for s in doc.get("samples", [])):
        raise BaselineError("cannot save baseline %r: the run has no "
                            "built-in libaio samples to normalise by" % name)
    out = dict(doc)
    out["baseline"] = {"name": name, "saved_utc": datetime.datetime.now(
        datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    out["runner_class"] = runner_class(doc.get("env"))
    os.makedirs(bdir, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=1, default=str)
        f.write("\n")
    os.replace(tmp, path)
    return path


def load_results(path):
    """An earlier run's results.json (or its directory), complete enough
    to become a baseline; raises BaselineError."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise BaselineError("%s: %s" % (path, e))
    if doc.get("failures") or doc.get("interrupted"):
        raise BaselineError("%s: the run is incomplete (failed "
                            "or interrupted runs)" % path)
    return doc


def load_baseline(name, bdir):
    path = baseline_path(name, bdir)
    try:
        with open(path) as f:
            doc = json.load(f)
    except FileNotFoundError:
        have = list_baselines(bdir)
        raise BaselineError("baseline %r not found in %s (%s)" % (
            name, bdir, "saved: " + ", ".join(have) if have
            else "none saved there yet"))
    except (OSError, ValueError) as e:
        raise BaselineError("baseline %s: unreadable: %s" % (path, e))
    if not isinstance(doc, dict) or not isinstance(doc.get("samples"), list):
        raise BaselineError("baseline %s: not a compare.py results file"
                            % path)
    return doc


def external_configs(configs):
    return [c for c in configs
            if c.split(":")[0] not in BUILTIN_CONFIGS and c != CEILING]


def baseline_pairs(cur_configs, base_configs):
    """[(config now, config in baseline)]: same names; else, when each
    side has exactly one engine build config, those two."""
    cur, old = external_configs(cur_configs), external_configs(base_configs)
    pairs = [(c, c) for c in cur if c in old]
    if not pairs and len(cur) == 1 and len(old) == 1:
        pairs = [(cur[0], old[0])]
    return pairs


# ---- history ----

def find_results(paths):
    """results.json files under paths (files or directories), sorted."""
    out = []
    for p in paths:
        if os.path.isfile(p):
            out.append(p)
            continue
        if not os.path.isdir(p):
            raise ValueError("%s: no such file or directory" % p)
        for root, dirs, files in os.walk(p):
            dirs.sort()
            if "results.json" in files:
                out.append(os.path.join(root, "results.json"))
    return out


def run_point(doc, metric="iops", ref="libaio"):
    """{series: (value, noise)} of one results document.

    value = median over rounds of config / ref (same round); noise = the
    standard error of that median's rounds (stdev / sqrt(n)).
    """
    key = AB_METRICS[metric][0]
    samples = [s for s in doc.get("samples", [])
               if s.get("ok") and host_of(s) in PRIMARY_HOSTS]
    cfgs = external_configs(doc.get("configs") or sorted(
        {s.get("config") for s in samples}))
    out = {}
    for cell in doc.get("cells") or []:
        ref_m = {s["round"]: s[key] for s in samples
                 if s.get("cell") == cell and s.get("config") == ref
                 and s.get(key)}
        for cfg in cfgs:
            m = {s["round"]: s[key] for s in samples
                 if s.get("cell") == cell and s.get("config") == cfg
                 and s.get(key) is not None}
            vals = [v for _, v in paired_ratios(m, ref_m)]
            if not vals:
                continue
            noise = (statistics.stdev(vals) / len(vals) ** 0.5
                     if len(vals) > 1 else None)
            out[(cell, cfg)] = (median(vals), noise)
    return out


def runner_label(env):
    """A short name of a run's runner class (or its --client hosts)."""
    if env.get("clients"):
        return ",".join(env["clients"])
    return "%s, %s" % (machine.label(runner_class(env)),
                       env.get("fio_version"))


def _label_of(doc, path, xmode):
    env = doc.get("env") or {}
    if xmode == "date":
        return (env.get("date_utc") or "?")[:16].replace("T", " ")
    g = env.get("git_describe")
    if not g:
        eng = env.get("engine") or {}
        g = (eng.get("sha256") or "")[:10] or os.path.basename(
            os.path.dirname(os.path.abspath(path)))
    return g


def class_groups(runs):
    """Give each run a "group": runs on one runner class (machine.
    same_class) with one fio, in one run mode, share it; its name is the
    label of its first run's class.  --client runs group by their hosts."""
    groups = []         # [(env of the first run, mode, name)]
    for r in runs:
        env = r["env"]
        for genv, mode, name in groups:
            if mode == r["mode"] and (
                    (env.get("clients") or genv.get("clients"))
                    and env.get("clients") == genv.get("clients")
                    or not env.get("clients") and not genv.get("clients")
                    and machine.same_class(runner_class(env),
                                           runner_class(genv))
                    and env.get("fio_version") == genv.get("fio_version")):
                r["group"] = name
                break
        else:
            name = runner_label(env) + ("" if r["mode"] == "solo"
                                        else ", co-run")
            groups.append((env, r["mode"], name))
            r["group"] = name
    return [name for _, _, name in groups]


def build_history(paths, metric="iops", xmode="commit", min_step=0.05,
                  across=False):
    """The trend of every series over the results under @paths; a series
    is a cell and config on one runner class and run mode (class_groups),
    or, with @across, on all of them together."""
    files = find_results(paths)
    runs, skipped = [], []
    for p in files:
        try:
            with open(p) as f:
                doc = json.load(f)
            pts = run_point(doc, metric)
        except (OSError, ValueError, KeyError, TypeError) as e:
            skipped.append("%s: %s" % (p, e))
            continue
        if not pts:
            skipped.append("%s: no cell with both an engine build and "
                           "libaio" % p)
            continue
        runs.append({"path": p, "date": (doc.get("env") or {})
                     .get("date_utc") or "", "label": _label_of(doc, p,
                                                                xmode),
                     "env": doc.get("env") or {}, "mode": run_mode(doc),
                     "points": pts})
    runs.sort(key=lambda r: (r["date"], r["path"]))
    # A series is one cell and config on one runner class in one run
    # mode: figures of two kinds of machine are not one line.
    groups = class_groups(runs)
    apart = []
    if len(groups) > 1:
        apart = ["%d runner classes or run modes (%s): %s" % (
            len(groups), "; ".join(
                "%s: %d run(s)" % (g, sum(1 for r in runs
                                          if r["group"] == g))
                for g in groups),
            "drawn as one line each (--across-runners)" if across else
            "kept apart, one line per class and mode, because a ratio to "
            "libaio depends on what a system call costs on the machine, "
            "and a co-run's IOPS are a share of one CPU "
            "(--across-runners joins them)")]
    for r in runs:
        r["runner"] = "all runners" if across else r["group"]
    keys = []
    for r in runs:
        for cell, cfg in r["points"]:
            if (r["runner"], cell, cfg) not in keys:
                keys.append((r["runner"], cell, cfg))
    one_cfg = len({c for _, _, c in keys}) == 1
    one_runner = len({m for m, _, _ in keys}) == 1
    series = []
    for runner, cell, cfg in keys:
        name = cell if one_cfg else "%s %s" % (cell, cfg)
        if not one_runner:
            name += " @ " + runner
        idx = [i for i, r in enumerate(runs) if r["runner"] == runner
               and (cell, cfg) in r["points"]]
        vals = [runs[i]["points"][(cell, cfg)][0] for i in idx]
        noises = [runs[i]["points"][(cell, cfg)][1] for i in idx
                  if runs[i]["points"][(cell, cfg)][1] is not None]
        noise = median(noises) if noises else None
        ks = step_changes(vals, min_step=min_step, noise=noise)
        steps = []
        for k in ks:
            before = median(vals[max(0, _prev(ks, k)):k])
            after = median(vals[k:_next(ks, k, len(vals))])
            steps.append({"index": idx[k], "label": runs[idx[k]]["label"],
                          "before": before, "after": after,
                          "change": (after - before) / before})
        series.append({"name": name, "cell": cell, "config": cfg,
                       "runner": runner,
                       "x": idx, "values": vals, "noise": noise,
                       "steps": steps})
    # The same label twice (two runs of one commit): make them distinct.
    seen = {}
    for r in runs:
        n = seen.get(r["label"], 0)
        seen[r["label"]] = n + 1
        if n:
            r["label"] = "%s#%d" % (r["label"], n + 1)
    return {"metric": metric, "x": xmode, "min_step": min_step,
            "runs": [{"path": r["path"], "date": r["date"],
                      "label": r["label"], "mode": r["mode"],
                      "runner": r["group"],
                      "runner_class": runner_class(r["env"])}
                     for r in runs],
            "series": series, "skipped": skipped, "apart": apart,
            "across_runners": across}


def _prev(ks, k):
    before = [x for x in ks if x < k]
    return before[-1] if before else 0


def _next(ks, k, n):
    after = [x for x in ks if x > k]
    return after[0] if after else n


def worse_steps(h):
    """[(series name, step)] of the steps for the worse still in effect:
    the last step of a series, when it made h's metric worse."""
    higher_better = AB_METRICS[h["metric"]][1]
    worse = []
    for s in h["series"]:
        for stp in s["steps"]:
            if stp["index"] <= s["x"][-1] and (
                    stp["change"] < 0 if higher_better else
                    stp["change"] > 0):
                if all(stp2["index"] <= stp["index"] for stp2 in s["steps"]):
                    worse.append((s["name"], stp))
    return worse


def history_markdown(h):
    m = AB_METRICS[h["metric"]][2]
    lines = ["## libaioring performance history", "",
             "%s of each engine build / built-in libaio, median over the "
             "rounds of each run (paired by round); %d run(s), x = %s; a "
             "step is a change of at least %.0f%% and 3 standard errors."
             % (m, len(h["runs"]), h["x"], h["min_step"] * 100), ""]
    for a in h.get("apart", ()):
        lines += ["**Kept apart**: %s." % a, ""]
    lines += ["| series | runner class | runs | first | last | "
              "min..max | steps |",
              "|---|---|---:|---:|---:|---:|---|"]
    for s in h["series"]:
        v = s["values"]
        steps = "; ".join("at `%s`: %.3f -> %.3f (%+.1f%%)" % (
            st["label"], st["before"], st["after"], st["change"] * 100)
            for st in s["steps"]) or "none"
        lines.append("| `%s` | %s | %d | %.3f | %.3f | %.3f..%.3f | %s |" % (
            s["name"].split(" @ ")[0], s["runner"], len(v), v[0], v[-1],
            min(v), max(v), steps))
    if h["skipped"]:
        lines += ["", "Skipped: " + "; ".join(h["skipped"])]
    return "\n".join(lines) + "\n"


# Distinct, and none of them the red of the step marks.
SERIES_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79",
                  "#637939", "#8c6d31", "#5254a3", "#6b6ecf", "#9c9ede",
                  "#31a354"]


def history_chart(h, outdir):
    """history.dat/.gp/.png; returns (png or None, message)."""
    runs, series = h["runs"], h["series"]
    if not runs or not series:
        return None, "history chart skipped: nothing to plot"
    dat = os.path.join(outdir, "history.dat")
    with open(dat, "w") as f:
        f.write("x label " + " ".join('"%s"' % s["name"] for s in series)
                + "\n")
        for i, r in enumerate(runs):
            vals = []
            for s in series:
                v = s["values"][s["x"].index(i)] if i in s["x"] else None
                vals.append("?" if v is None else "%.4f" % v)
            f.write('%d "%s" %s\n' % (i, r["label"].replace('"', "'"),
                                      " ".join(vals)))
    marks = []
    for n, s in enumerate(series):
        for st in s["steps"]:
            x = st["index"] - 0.5
            marks.append(
                'set arrow from %.1f, graph 0 to %.1f, graph 1 nohead dt 3 '
                'lw 2 lc rgb "red"\n'
                'set label "step %+.1f%%\\n%s" at %.1f, graph %.2f right '
                'offset -0.5,0 tc rgb "red"\n' % (
                    x, x, st["change"] * 100, s["name"][:30].replace(
                        '"', "'"), x, 0.95 - 0.08 * (n % 8)))
    width = max(900, 60 * len(runs) + 400)
    gp = os.path.join(outdir, "history.gp")
    ylabel = "%s / built-in libaio" % AB_METRICS[h["metric"]][2]
    with open(gp, "w") as f:
        f.write("""# Render with: gnuplot history.gp  (in this directory)
set terminal pngcairo size %d,600 noenhanced font ",10"
set output "history.png"
set title "libaioring over time: %s (red: step changes)"
set datafile missing "?"
set xtics rotate by -35 left
set ylabel "%s"
set grid ytics
set key outside right top
set offsets 0.5, 0.5, 0, 0
# One colour per series; red is the step changes' alone.
colours = "%s"
%splot for [i=3:%d] "history.dat" using 1:i:xtic(2) with linespoints \\
    lw 2 pt 7 lc rgb word(colours, (i - 3) %% words(colours) + 1) \\
    title columnheader(i)
""" % (width, ylabel, ylabel, " ".join(SERIES_COLOURS), "".join(marks),
       len(series) + 2))
    return render_gnuplot(outdir, "history", "history chart")


def write_history(h, outdir):
    os.makedirs(outdir, exist_ok=True)
    doc = dict(h)
    with open(os.path.join(outdir, "history.json"), "w") as f:
        json.dump(doc, f, indent=1, default=str)
        f.write("\n")
    md = history_markdown(h)
    png, msg = history_chart(h, outdir)
    if png:
        md += "\n![trend](history.png)\n"
    with open(os.path.join(outdir, "history.md"), "w") as f:
        f.write(md)
    return md, png, msg
