# SPDX-License-Identifier: BSD-3-Clause
"""How small a regression does the A/B catch?  Measured, not assumed.

Builds the engine of this checkout several times: once as it is (the
base), once per planted cost, and a byte-identical copy of the base
(identical builds), then runs perf/compare.py's A/B of all of them
against the base, N times, and tabulates how often each was flagged.

Timed plants (CMake AIOR_PLANTED_DELAY_NS: a busy wait per request in
the engine's queue path), judged by the sequential timed A/B, every run

    --engine base=BASE --engine d0=COPY --engine d1=... --engine d70=...
    --rw randread --bs 4k --qd 32 --budget 5m --no-counts

Counted plants (engine/plant.h): AIOR_PLANTED_INSNS, +1% and +2% of the
base's own instructions per request in the study's cell (counted first),
and AIOR_PLANTED_SYSCALL_EVERY=32, one more system call per 32 requests;
judged by the exact counts alone, every run

    --engine base=BASE --engine c0=COPY --engine i1pct=... --engine s32=...
    --rw randread --bs 4k --qd 32 --counts-only

Per plant the table gives the loss or count change measured, the verdict
counts, how many runs flagged it (any metric or count REGRESSION: what
makes compare.py exit 1), and the smallest timed loss caught in at least
95% of the runs.

    perf/compare.py sensitivity \
        --table-dir docs/perf/runs/DATE-COMMIT-sensitivity  # 20 + 20 runs
    perf/compare.py sensitivity --runs 2 --count-runs 2 --budget 90s \
        --delays 0,640 --check --out build/sens            # CI, short

Runs are kept in OUT/runs/NN/ (timed) and OUT/count-runs/NN/, and a
later call resumes (--max-new K: a long study in chunks); the table is
rewritten each time.  --check exits 1 unless the largest timed delay is
flagged in all but max(1, N/20) runs, identical builds in at most
max(1, N/20) timed runs, every counted plant in every counted run, and
the identical copy in no counted run.  Exit status: 0 done (and the check
passed), 1 the check failed, 2 a build or a run failed, or bad usage.
"""

import argparse
import datetime
import fcntl
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types

from . import counts, gate, machine, stats
from .history import runner_class
from .plan import fio_cmd
from .util import REPO, parse_duration


# Measured 2026-12-05 on the project's 2-vCPU machine at QD32 (4 runs,
# under other load): 1 ns (the busy wait's two clock reads alone) cost
# 1.8% of the IOPS and 70 ns 6.8%; 40 and 110 ns aim at about 5% and 10%
# on that engine.  The table reports the loss measured in each run.
DEFAULT_DELAYS = "0,40,110"
DEFAULT_INSNS = "1,2"          # percent of the base's own instructions
DEFAULT_SYSCALL_EVERY = 32
CELL = "randread/4k/qd32/j1"


def log(msg):
    print("sensitivity: " + msg, file=sys.stderr, flush=True)


class Lock:
    """flock on a file around a command (a shared benchmark machine)."""

    def __init__(self, path, exclusive):
        self.path, self.ex, self.f = path, exclusive, None

    def __enter__(self):
        if self.path:
            self.f = open(self.path, "a")
            fcntl.flock(self.f, fcntl.LOCK_EX if self.ex else fcntl.LOCK_SH)
        return self

    def __exit__(self, *a):
        if self.f:
            fcntl.flock(self.f, fcntl.LOCK_UN)
            self.f.close()


def fio_source():
    if os.environ.get("FIO_SRC"):
        return os.environ["FIO_SRC"]
    p = subprocess.run([os.path.join(REPO, "scripts", "setup.sh")],
                       stdout=subprocess.PIPE, text=True)
    if p.returncode != 0 or not p.stdout.strip():
        raise SystemExit("sensitivity: error: scripts/setup.sh failed")
    return p.stdout.strip().splitlines()[-1]


def build(builddir, name, option, value, fio_src, lock):
    """The engine with -D<option>=<value> in builddir/name -> its .so."""
    bdir = os.path.join(builddir, name)
    so = os.path.join(bdir, "libaioring.so")
    logf = os.path.join(builddir, "%s.log" % name)
    with Lock(lock, False), open(logf, "w") as lf:
        for cmd in (["cmake", "-S", REPO, "-B", bdir,
                     "-DFIO_SOURCE_DIR=%s" % fio_src,
                     "-DAIOR_BUILD_TESTS=OFF",
                     "-D%s=%d" % (option, value)],
                    ["cmake", "--build", bdir,
                     "-j%d" % (os.cpu_count() or 1)]):
            if subprocess.run(cmd, stdout=lf, stderr=lf).returncode != 0:
                raise SystemExit("sensitivity: error: build with "
                                 "%s=%d failed (log: %s)"
                                 % (option, value, logf))
    return so


def identical_copy(base, builddir, name):
    """The same bytes under another path (fio dlopen()s it as a separate
    module): identical builds."""
    copy = os.path.join(builddir, name, "libaioring-copy.so")
    os.makedirs(os.path.dirname(copy), exist_ok=True)
    shutil.copyfile(base, copy)
    return copy


def base_insns(args, base):
    """The base build's own instructions per request in the study's cell
    (the unit of the +1% / +2% plants), by compare.py's counter."""
    target = {"path": os.path.join(args.out, "insn-target.dat"),
              "size": 256 << 20, "pass_size": True, "readonly": False,
              "files": {}}
    subprocess.run(["fio", "--name=fill", "--filename=%s" % target["path"],
                    "--rw=write", "--bs=1m", "--size=256m",
                    "--ioengine=psync", "--output=/dev/null"], check=True)
    try:
        fake = types.SimpleNamespace(
            fio="fio", runtime=1, ramp_time=0, cpus_allowed=None,
            engines={"base": base}, engine=base, aior_opt=[])
        c = counts.Counter(reps=1)
        scratch = tempfile.mkdtemp(prefix="aior-sens-")
        try:
            r = c.measure(fio_cmd(fake, target, CELL, "base"), CELL, target,
                          scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        os.unlink(target["path"])
    return r["insn_engine"]


def engines(args):
    """{name: .so} of the timed study and of the counted study."""
    os.makedirs(args.build_dir, exist_ok=True)
    fio_src = fio_source()
    base = build(args.build_dir, "base", "AIOR_PLANTED_DELAY_NS", 0,
                 fio_src, args.lock)
    timed = {"base": base}
    for d in args.delays:
        timed["d%d" % d] = identical_copy(base, args.build_dir, "d0") \
            if d == 0 else build(args.build_dir, "d%d" % d,
                                 "AIOR_PLANTED_DELAY_NS", d, fio_src,
                                 args.lock)
    counted = {"base": base, "c0": identical_copy(base, args.build_dir,
                                                  "c0")}
    args.planted = {"c0": {"planted_insns": 0}}
    if args.insns:
        own = base_insns(args, base)
        log("base: %.1f of its own instructions per request in %s"
            % (own, CELL))
        for pct_ in args.insns:
            n = max(1, int(round(own * pct_ / 100.0)))
            name = "i%dpct" % pct_
            counted[name] = build(args.build_dir, name, "AIOR_PLANTED_INSNS",
                                  n, fio_src, args.lock)
            args.planted[name] = {"planted_insns": n,
                                  "planted_share": n / own}
    if args.syscall_every:
        name = "s%d" % args.syscall_every
        counted[name] = build(args.build_dir, name,
                              "AIOR_PLANTED_SYSCALL_EVERY",
                              args.syscall_every, fio_src, args.lock)
        args.planted[name] = {"planted_syscalls": 1,
                              "per_requests": args.syscall_every}
    with open(os.path.join(args.out, "planted.json"), "w") as f:
        json.dump(args.planted, f, indent=1)
    return timed, counted


def done(args, kind, idx):
    return os.path.isfile(os.path.join(args.out, kind, "%02d" % idx,
                                       "done.json"))


def run_one(args, engs, kind, idx):
    rdir = os.path.join(args.out, kind, "%02d" % idx)
    if os.path.isdir(rdir):
        shutil.rmtree(rdir)
    names = list(engs)
    cmd = [sys.executable, os.path.join(REPO, "perf", "compare.py")]
    for n in names:
        cmd += ["--engine", "%s=%s" % (n, engs[n])]
    cmd += ["--configs", ",".join(names), "--rw", "randread", "--bs", "4k",
            "--qd", "32", "--no-ceiling", "--size", args.size,
            "--out", rdir]
    if kind == "runs":
        cmd += ["--budget", "%gs" % args.budget, "--no-counts",
                "--runtime", str(args.runtime), "--ramp-time",
                str(args.ramp_time), "--wait-quiet", str(args.wait_quiet)]
        if args.max_regression:
            cmd += ["--max-regression", args.max_regression]
    else:
        cmd += ["--counts-only"]
    cmd += args.compare_args
    log("%s %d: %s" % ("timed run" if kind == "runs" else "counted run",
                       idx, " ".join(cmd[2:])))
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    el = time.monotonic() - t0
    os.makedirs(rdir, exist_ok=True)
    with open(os.path.join(rdir, "compare.log"), "w") as f:
        f.write(p.stdout)
    # Exit 2 with results: a run disturbed from outside (another tenant
    # took every aio context, say): kept, and left out of the table as a
    # failed run.  Without results: the study itself is broken.
    if p.returncode not in (0, 1, 2, 3) or not os.path.isfile(
            os.path.join(rdir, "results.json")):
        tail = p.stdout.strip().splitlines()[-5:]
        raise SystemExit("sensitivity: error: run %d: compare.py exited %d: "
                         "%s" % (idx, p.returncode, " | ".join(tail)))
    with open(os.path.join(rdir, "done.json"), "w") as f:
        json.dump({"rc": p.returncode, "elapsed_s": round(el, 1),
                   "cmd": cmd}, f)
    return True


def verdicts_of(rdir, thresholds=None):
    """{head: {metric: ab entry}} of one timed run's results.json.

    The verdicts are judged again from the run's samples with this
    checkout's aiorperf.gate (the sequential statistic when the run had a
    budget), so that a table over runs made in chunks reflects one version
    of the statistic (the one committed beside it).
    """
    with open(os.path.join(rdir, "results.json")) as f:
        doc = json.load(f)
    out = {}
    heads = [c for c in doc.get("configs", []) if c != "base"]
    smp = [s for s in doc.get("samples", []) if s.get("ok")]
    seq = bool((doc.get("settings") or {}).get("budget_s"))
    ab = gate.evaluate_ab(smp, [CELL], "base", heads, thresholds=thresholds,
                          level=stats.LOOK_LEVEL if seq else
                          stats.DEFAULT_LEVEL, sequential=seq) if smp else []
    for e in ab:
        if e.get("vs") == "base" and e.get("cell") == CELL and \
                e.get("host", "local") in ("local", "all"):
            out.setdefault(e["config"], {})[e["metric"]] = e
    for head, m in out.items():
        if "iops" in m:
            m["iops"] = dict(m["iops"], spread=round_spread(smp, head))
    return out, doc


def round_spread(samples, head):
    """Standard deviation of log(head/base) IOPS over the clean rounds:
    how far one round's ratio strays, what the interval must average out
    (None under 3 rounds)."""
    by = {}
    for s in samples:
        if s.get("cell") == CELL and not s.get("dropped") and s.get("iops"):
            by.setdefault(s["round"], {})[s["config"]] = s["iops"]
    xs = [math.log(r[head] / r["base"]) for r in by.values()
          if head in r and "base" in r]
    return statistics.stdev(xs) if len(xs) >= 3 else None


def count_verdicts_of(rdir):
    """{head: {count: entry}} of one counted run, judged again."""
    with open(os.path.join(rdir, "results.json")) as f:
        doc = json.load(f)
    rows = doc.get("counts") or []
    heads = [c for c in doc.get("configs", []) if c != "base"]
    out = {}
    for e in gate.evaluate_counts(rows, [CELL], "base", heads,
                                  counts.COUNT_METRICS):
        out.setdefault(e["config"], {})[e["metric"]] = e
    return out, doc


def run_dirs(args, kind):
    d = os.path.join(args.out, kind)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, x) for x in os.listdir(d)
                  if os.path.isfile(os.path.join(d, x, "done.json")))


def timed_rows(args, thresholds):
    rows, env = {}, None
    for d in run_dirs(args, "runs"):
        v, doc = verdicts_of(d, thresholds)
        env = env or doc.get("env")
        for delay in args.delays:
            name = "d%d" % delay
            r = rows.setdefault(delay, {"planted_ns": delay, "runs": 0,
                                        "failed_runs": 0,
                                        "losses": [], "iops": {},
                                        "flagged": 0, "flagged_by": {},
                                        "rounds": [], "spreads": [],
                                        "per_run": []})
            if doc.get("failures"):
                r["failed_runs"] += 1
                continue
            m = v.get(name) or {}
            if "iops" not in m:
                continue
            r["runs"] += 1
            est = m["iops"]["estimate"]
            r["losses"].append(None if est is None else 1 - est)
            r["rounds"].append(m["iops"]["n"])
            if m["iops"].get("spread") is not None:
                r["spreads"].append(m["iops"]["spread"])
            r["iops"][m["iops"]["verdict"]] = \
                r["iops"].get(m["iops"]["verdict"], 0) + 1
            bad = [k for k, e in m.items() if e["verdict"] == "REGRESSION"]
            if bad:
                r["flagged"] += 1
                for k in bad:
                    r["flagged_by"][k] = r["flagged_by"].get(k, 0) + 1
            r["per_run"].append({"run": os.path.basename(d),
                                 "iops_estimate": est,
                                 "ci": [m["iops"]["lo"], m["iops"]["hi"]],
                                 "rounds": m["iops"]["n"],
                                 "spread": m["iops"].get("spread"),
                                 "elapsed_s": doc.get("elapsed_s"),
                                 "verdicts": {k: e["verdict"]
                                              for k, e in m.items()}})
    for r in rows.values():
        ls = [x for x in r["losses"] if x is not None]
        r["loss_median"] = statistics.median(ls) if ls else None
        r["loss_min"] = min(ls) if ls else None
        r["loss_max"] = max(ls) if ls else None
        r["flag_rate"] = r["flagged"] / r["runs"] if r["runs"] else None
        r["rounds_median"] = statistics.median(r["rounds"]) \
            if r["rounds"] else None
        r["spread_median"] = statistics.median(r["spreads"]) \
            if r["spreads"] else None
        del r["losses"], r["rounds"], r["spreads"]
    return [rows[d] for d in args.delays if d in rows], env


def counted_rows(args, planted):
    rows, env = {}, None
    for d in run_dirs(args, "count-runs"):
        v, doc = count_verdicts_of(d)
        env = env or doc.get("env")
        for name, what in planted.items():
            r = rows.setdefault(name, dict(what, build=name, runs=0,
                                           failed_runs=0, flagged=0,
                                           flagged_by={}, deltas={},
                                           per_run=[]))
            if doc.get("failures"):
                r["failed_runs"] += 1
                continue
            m = v.get(name) or {}
            if not m:
                continue
            r["runs"] += 1
            bad = [k for k, e in m.items() if e["verdict"] == "REGRESSION"]
            if bad:
                r["flagged"] += 1
                for k in bad:
                    r["flagged_by"][k] = r["flagged_by"].get(k, 0) + 1
            for k in ("insn_engine", "sys_total"):
                if k in m and m[k].get("delta") is not None:
                    r["deltas"].setdefault(k, []).append(m[k]["delta"])
            r["per_run"].append({"run": os.path.basename(d),
                                 "verdicts": {k: e["verdict"]
                                              for k, e in m.items()}})
    for r in rows.values():
        r["delta_median"] = {k: statistics.median(v)
                             for k, v in r.pop("deltas").items()}
        r["flag_rate"] = r["flagged"] / r["runs"] if r["runs"] else None
    return [rows[n] for n in planted if n in rows], env


def table(args):
    thresholds = gate.parse_thresholds(args.max_regression) \
        if args.max_regression else dict(gate.DEFAULT_THRESHOLDS)
    trows, env = timed_rows(args, thresholds)
    planted = {}
    pfile = os.path.join(args.out, "planted.json")
    if os.path.isfile(pfile):
        with open(pfile) as f:
            planted = json.load(f)
    crows, cenv = counted_rows(args, planted)
    env = env or cenv
    caught = [r for r in trows if r["planted_ns"] > 0 and r["runs"] and
              r["flag_rate"] >= 0.95]
    smallest = min(caught, key=lambda r: r["loss_median"]) if caught else None
    doc = {"tool": "libaioring perf/compare.py sensitivity",
           "date_utc": datetime.datetime.now(datetime.timezone.utc)
           .strftime("%Y-%m-%dT%H:%M:%SZ"),
           "command": args.command, "cell": CELL,
           "settings": {"budget_s": args.budget, "runtime": args.runtime,
                        "ramp_time": args.ramp_time, "size": args.size,
                        "wait_quiet": args.wait_quiet,
                        "co_run": co_run_of(args.compare_args),
                        "thresholds": thresholds,
                        "looks": list(stats.LOOKS),
                        "look_level": stats.LOOK_LEVEL,
                        "family_level": stats.FAMILY_LEVEL,
                        "count_thresholds": {
                            k: {"threshold": v[1], "floor": v[2]}
                            for k, v in counts.COUNT_METRICS.items()},
                        "max_regression": args.max_regression,
                        "compare_args": args.compare_args,
                        "engines": "timed: base + a copy + one build per "
                                   "planted delay; counted: base + a copy + "
                                   "one build per counted plant; all of a "
                                   "kind in each run"},
           "machine": {k: (env or {}).get(k) for k in (
               "kernel", "cpu_model", "nproc", "fio_version")},
           "runner": runner_class(env),
           "git": subprocess.run(["git", "-C", REPO, "describe", "--always",
                                  "--dirty"], stdout=subprocess.PIPE,
                                 text=True).stdout.strip(),
           "runs": len(run_dirs(args, "runs")),
           "count_runs": len(run_dirs(args, "count-runs")),
           "rows": trows + crows,
           "smallest_caught_95": None if smallest is None else {
               "planted_ns": smallest["planted_ns"],
               "loss_median": smallest["loss_median"]}}
    os.makedirs(args.table_dir, exist_ok=True)
    with open(os.path.join(args.table_dir, "sensitivity.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    md = markdown(doc)
    with open(os.path.join(args.table_dir, "sensitivity.md"), "w") as f:
        f.write(md)
    print(md)
    return doc


def pct(x):
    return "-" if x is None else "%.1f%%" % (x * 100)


def plant_text(r):
    if "planted_ns" in r:
        return "%d ns" % r["planted_ns"] if r["planted_ns"] else \
            "0 (identical builds)"
    if "planted_syscalls" in r:
        return "%d system call per %d requests" % (r["planted_syscalls"],
                                                   r["per_requests"])
    if r.get("planted_insns"):
        return "%d instructions (+%s of the engine's own)" % (
            r["planted_insns"], pct(r.get("planted_share")))
    return "0 (identical builds)"


def markdown(doc):
    """sensitivity.md: what was run, the timed plants, the counted ones,
    and how to read them."""
    return "\n".join(md_intro(doc) + md_timed(doc) + md_counted(doc) +
                     md_reading(doc))


def co_run_of(compare_args):
    """compare.py's --co-run as the study passed it (default auto)."""
    a = list(compare_args)
    for i, x in enumerate(a):
        if x.startswith("--co-run="):
            return x.split("=", 1)[1]
        if x == "--co-run" and i + 1 < len(a):
            return a[i + 1]
    return "auto"


def md_intro(doc):
    return [
        "# Sensitivity of the A/B, measured",
        "",
        "How often `perf/compare.py`'s A/B flags a build with a known, "
        "planted cost as a regression, and how often it flags an identical "
        "build (the same bytes under another path).  Cell `%s` on a "
        "RAM-backed file; each run puts the base build and every planted "
        "build of its kind in one A/B and judges each against the base."
        % doc["cell"],
        "",
        "Made by (%s, git `%s`, on %s, %s):" % (
            doc["date_utc"], doc["git"], machine.label(
                doc.get("runner") or runner_class(doc["machine"])),
            doc["machine"].get("fio_version")),
        "",
    ] + ["    " + ln for ln in doc["command"].splitlines()] + [""]


def md_timed(doc):
    """The timed plants: how they were judged, a row each, and the
    smallest loss caught."""
    s = doc["settings"]
    lines = [
        "## Timed plants",
        "",
        "A busy wait per request (CMake `-DAIOR_PLANTED_DELAY_NS=N`, "
        "test-only), judged by the sequential timed A/B: a budget of %s s "
        "per run, rounds of %gs (+%gs ramp) in mirrored random order, %s, "
        "looked at after %s clean rounds at %.1f%% each (%.0f%% over the "
        "run), %s." % (
            "%g" % s["budget_s"], s["runtime"], s["ramp_time"],
            "the builds one after the other (`--co-run off`)"
            if s.get("co_run") == "off" else "all the builds together in "
            "one fio on one CPU (a co-run, docs/perf/ab.md)",
            ", ".join(map(str, s["looks"])), s["look_level"] * 100,
            s["family_level"] * 100,
            "`--max-regression %s`" % s["max_regression"]
            if s["max_regression"] else "compare.py's default thresholds "
            "(%s)" % ", ".join("%s %g%%" % (k, v * 100) for k, v in
                               sorted(s["thresholds"].items()))),
        "",
        "| planted | measured IOPS loss (median, min..max) | runs | "
        "clean rounds (median) | round-to-round spread (median) | IOPS: "
        "regression / inconclusive / no change / improvement | flagged as "
        "regression (any metric) | flagged by |",
        "|---:|---|---:|---:|---:|---|---:|---|"]
    for r in [r for r in doc["rows"] if "planted_ns" in r]:
        v = r["iops"]
        lines.append("| %s | %s (%s..%s) | %d | %s | %s | %d / %d / %d / "
                     "%d | **%d/%d** | %s |" % (
                         plant_text(r),
                         pct(r["loss_median"]), pct(r["loss_min"]),
                         pct(r["loss_max"]), r["runs"],
                         "-" if r.get("rounds_median") is None else
                         "%g" % r["rounds_median"],
                         pct(r.get("spread_median")),
                         v.get("REGRESSION", 0), v.get("INCONCLUSIVE", 0),
                         v.get("NO CHANGE", 0), v.get("IMPROVEMENT", 0),
                         r["flagged"], r["runs"],
                         ", ".join("%s %d" % kv for kv in
                                   sorted(r["flagged_by"].items())) or "-"))
    sm = doc["smallest_caught_95"]
    lines += ["",
              "Smallest timed loss caught in at least 95%% of the runs: %s."
              % ("a planted %d ns per request, measured as a %s IOPS loss"
                 % (sm["planted_ns"], pct(sm["loss_median"])) if sm else
                 "none of the planted sizes"),
              ""] + md_spread(doc)
    return lines


def md_spread(doc):
    """What the identical builds' spread means for NO CHANGE."""
    same = [r for r in doc["rows"] if r.get("planted_ns") == 0 and
            r.get("spread_median")]
    if not same:
        return []
    s, thr = same[0]["spread_median"], doc["settings"]["thresholds"]["iops"]
    # Yuen's half-width is about t x s / sqrt(n) (a 10% trim costs little
    # on these rounds); t ~ 2.5 at the per-look level.
    need = (2.5 * s / thr) ** 2
    return ["The *round-to-round spread* is the standard deviation of one "
            "clean round's log(planted / base) IOPS ratio: the noise the "
            "interval must average out.  At the identical builds' %s, "
            "the interval narrows to the +-%g%% that NO CHANGE needs after "
            "about %d clean rounds; these runs had %s." % (
                pct(s), thr * 100, math.ceil(need),
                "%g" % same[0]["rounds_median"]
                if same[0].get("rounds_median") is not None else "-"), ""]


def md_counted(doc):
    """The counted plants: their thresholds and a row each."""
    s = doc["settings"]
    lines = ["## Counted plants",
             "",
             "Exact counts alone (`--counts-only`): `-DAIOR_PLANTED_INSNS=N` "
             "(N nops per request in the engine's own code, N from the "
             "base's own count in this cell) and "
             "`-DAIOR_PLANTED_SYSCALL_EVERY=K` (one getppid() every K "
             "requests).  Thresholds: %s (relative, with an absolute "
             "floor per request)." % ", ".join(
                 "%s %g%% (floor %g)" % (k, v["threshold"] * 100,
                                         v["floor"])
                 for k, v in s["count_thresholds"].items()),
             "",
             "| planted | runs | change measured (median, per request) | "
             "flagged as regression (any count) | flagged by |",
             "|---|---:|---|---:|---|"]
    for r in [r for r in doc["rows"] if "planted_ns" not in r]:
        lines.append("| %s | %d | %s | **%d/%d** | %s |" % (
            plant_text(r), r["runs"], ", ".join(
                "%s %+.4g" % kv for kv in sorted(
                    r["delta_median"].items())) or "-",
            r["flagged"], r["runs"], ", ".join(
                "%s %d" % kv for kv in sorted(r["flagged_by"].items()))
            or "-"))
    return lines


def md_reading(doc):
    """What flagged means, the failed runs, what the loss is."""
    return ["",
            "A run *flags* a build when any metric or count of it gets the "
            "verdict REGRESSION (what makes `compare.py` exit 1).  A run "
            "in which a fio run or a count failed (exit 2) is not in the "
            "rows: failed runs, timed %d, counted %d.  " % (
                max([r.get("failed_runs", 0) for r in doc["rows"]
                     if "planted_ns" in r] or [0]),
                max([r.get("failed_runs", 0) for r in doc["rows"]
                     if "planted_ns" not in r] or [0])) +
            "The measured loss is 1 - the A/B estimate (trimmed geometric "
            "mean of the per-round IOPS ratios planted/base); the same "
            "planted nanoseconds cost a larger share on a faster machine.  "
            "Per-run figures: `sensitivity.json`.", ""]


def check(doc, delays):
    ok = True
    rows = {r["planted_ns"]: r for r in doc["rows"] if "planted_ns" in r}
    top = max(delays) if delays else None
    for d, want_flag in ((top, True), (0, False)):
        r = rows.get(d)
        if d is None or not r or not r["runs"]:
            if d in delays:
                log("check: no timed runs for delay %d" % d)
                ok = False
            continue
        allow = max(1, r["runs"] // 20)
        if want_flag:
            good = r["runs"] - r["flagged"] <= allow
            log("check: planted %d ns (%s loss) flagged in %d/%d runs "
                "(need >= %d): %s" % (d, pct(r["loss_median"]), r["flagged"],
                                      r["runs"], r["runs"] - allow,
                                      "ok" if good else "FAILED"))
        else:
            good = r["flagged"] <= allow
            log("check: identical builds flagged in %d/%d timed runs "
                "(allowed <= %d): %s" % (r["flagged"], r["runs"], allow,
                                         "ok" if good else "FAILED"))
        ok = ok and good
    for r in [r for r in doc["rows"] if "planted_ns" not in r]:
        planted = bool(r.get("planted_insns") or r.get("planted_syscalls"))
        good = r["runs"] > 0 and (r["flagged"] == r["runs"] if planted
                                  else r["flagged"] == 0)
        log("check: %s flagged in %d/%d counted runs (need %s): %s" % (
            plant_text(r), r["flagged"], r["runs"],
            "all" if planted else "none", "ok" if good else "FAILED"))
        ok = ok and good
    return ok


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(os.path.join(args.out, "runs"), exist_ok=True)
    cmdfile = os.path.join(args.out, "command.txt")
    if not args.table_only:
        with open(cmdfile, "w") as f:
            f.write(args.command + "\n")
        run_missing(args)
    if os.path.isfile(cmdfile):
        with open(cmdfile) as f:
            args.command = f.read().strip()
    doc = table(args)
    if args.check:
        return 0 if check(doc, args.delays) else 1
    return 0


def parse_args(argv):
    """The command line, checked; exits 2 on a usage error."""
    p = new_parser()
    args = p.parse_args(argv)
    try:
        args.delays = sorted({int(x) for x in args.delays.split(",") if x})
        args.insns = sorted({int(x) for x in args.insns.split(",") if x})
    except ValueError:
        p.error("--delays %r / --insns %r: want whole numbers, e.g. %s / %s"
                % (args.delays, args.insns, DEFAULT_DELAYS, DEFAULT_INSNS))
    if (args.delays and min(args.delays) < 0) or \
            (args.insns and min(args.insns) < 1) or args.syscall_every < 0:
        p.error("--delays >= 0 ns, --insns >= 1%, --syscall-every >= 0")
    try:
        args.budget = parse_duration(args.budget)
    except argparse.ArgumentTypeError as e:
        p.error("--budget %s" % e)
    if args.count_runs is None:
        args.count_runs = args.runs
    if args.runs < 0 or args.count_runs < 0:
        p.error("--runs and --count-runs >= 0")
    args.out = os.path.abspath(args.out)
    args.table_dir = os.path.abspath(args.table_dir or args.out)
    args.build_dir = os.path.join(args.out, "builds")
    args.command = " ".join(["perf/compare.py", "sensitivity"] + [
        a for a in (argv if argv is not None else sys.argv[1:])])
    return args


def new_parser():
    """The options of the study."""
    p = argparse.ArgumentParser(
        prog="compare.py sensitivity",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--runs", type=int, default=20,
                   help="timed runs (default 20)")
    p.add_argument("--count-runs", type=int, default=None,
                   help="counted runs (default: --runs)")
    p.add_argument("--delays", default=DEFAULT_DELAYS,
                   help="planted ns per request, comma list; 0 = identical "
                        "builds; empty: no timed runs (default %s)"
                        % DEFAULT_DELAYS)
    p.add_argument("--insns", default=DEFAULT_INSNS,
                   help="instruction plants in percent of the base's own "
                        "per request, comma list; empty: none (default %s)"
                        % DEFAULT_INSNS)
    p.add_argument("--syscall-every", type=int,
                   default=DEFAULT_SYSCALL_EVERY, metavar="K",
                   help="the system-call plant: one per K requests; 0: none "
                        "(default %d)" % DEFAULT_SYSCALL_EVERY)
    p.add_argument("--budget", default="5m",
                   help="compare.py --budget of a timed run (default 5m)")
    p.add_argument("--runtime", type=float, default=1.0)
    p.add_argument("--ramp-time", type=float, default=0.25)
    p.add_argument("--size", default="256M")
    p.add_argument("--wait-quiet", type=float, default=1.0, metavar="SECS",
                   help="compare.py --wait-quiet: before each fio run, wait "
                        "up to SECS for a quiet machine (default 1)")
    p.add_argument("--max-regression", default=None,
                   help="passed to compare.py (default: its own, %s)" %
                        ", ".join("%s %d%%%%" % (k, round(v * 100)) for k, v in
                                  gate.DEFAULT_THRESHOLDS.items()))
    p.add_argument("--out", default=os.path.join(REPO, "build",
                                                 "sensitivity"),
                   help="runs and builds go here (default build/"
                        "sensitivity)")
    p.add_argument("--table-dir", default=None,
                   help="where sensitivity.{md,json} go (default: --out)")
    p.add_argument("--max-new", type=int, default=None, metavar="K",
                   help="run at most K more runs in this call (chunks)")
    p.add_argument("--lock", default=os.environ.get("AIOR_BENCH_LOCK"),
                   help="flock this file: exclusive around each run, "
                        "shared around builds (default $AIOR_BENCH_LOCK)")
    p.add_argument("--per-lock", type=int, default=1, metavar="K",
                   help="with --lock: K runs per exclusive hold (default 1)")
    p.add_argument("--check", action="store_true",
                   help="exit 1 unless the largest delay is flagged and "
                        "identical builds are not (see above)")
    p.add_argument("--table-only", action="store_true")
    p.add_argument("compare_args", nargs="*",
                   help="after --: more perf/compare.py arguments")
    return p


def run_missing(args):
    """The timed and the counted runs not yet in OUT (at most --max-new
    of each), --per-lock at a time under the exclusive lock."""
    timed, counted = engines(args)
    kinds = (("runs", timed, args.runs if args.delays else 0),
             ("count-runs", counted, args.count_runs))
    for kind, engs, n in kinds:
        log("%s engines: %s" % (kind, ", ".join(
            "%s=%s" % kv for kv in engs.items())))
        todo = [i for i in range(1, n + 1) if not done(args, kind, i)]
        if args.max_new is not None:
            todo = todo[:args.max_new]
        # The exclusive lock is taken for --per-lock runs at a time.
        for k in range(0, len(todo), args.per_lock):
            with Lock(args.lock, True):
                for i in todo[k:k + args.per_lock]:
                    run_one(args, engs, kind, i)

