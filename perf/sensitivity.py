#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""How small a slowdown does the A/B gate catch?  Measured, not assumed.

Builds the engine of this checkout several times: once as it is (the
base), and once per planted delay with the test-only CMake option
AIOR_PLANTED_DELAY_NS (a fixed busy wait per request in the engine's
queue path).  Delay 0 is a second copy of the base build: identical
builds.  Then it runs N short interleaved A/B runs of perf/compare.py,

    --engine base=BASE --engine d0=COPY --engine d70=... --engine d320=...
    --configs base,d0,d70,d140,d320 --rw randread --bs 4k --qd 32 ...

each judging every planted build against the base (the same verdict a
two-engine PR run gives: compare.py judges each named engine against the
first one), and tabulates per planted delay: the loss it measured, the
verdict counts, how many runs flagged it as a regression, and the smallest
loss caught in at least 95% of the runs.

    perf/sensitivity.py                          # 20 runs, docs/perf/
    perf/sensitivity.py --runs 3 --check --out build/sens   # CI

Runs are kept in OUT/runs/NN/ and a later call resumes (--max-new K runs
only K more: a long study in chunks); the table is rewritten each time.
--check exits 1 unless the largest delay is flagged in all but
max(1, N/20) runs and identical builds in at most max(1, N/20) runs.
Exit status: 0 done (and the check passed), 1 the check failed, 2 a build
or a run failed, or bad usage.
"""

import argparse
import datetime
import fcntl
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# Measured in the study's cell on the project's 2-vCPU machine (a QD32
# request takes about 1.35 us with coalescing): 70 ns cost 9.5% of the
# IOPS, 140 ns 15%, and the 320 ns CI checks 27% (the plant's own clock
# reads add to its nominal time).  Calibrate again when the engine's cost
# moves.
DEFAULT_DELAYS = "0,70,140,320"
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


def build(builddir, delay, fio_src, lock):
    """The engine with AIOR_PLANTED_DELAY_NS=delay -> path of the .so."""
    bdir = os.path.join(builddir, "d%d" % delay)
    so = os.path.join(bdir, "libaioring.so")
    logf = os.path.join(builddir, "d%d.log" % delay)
    with Lock(lock, False), open(logf, "w") as lf:
        for cmd in (["cmake", "-S", REPO, "-B", bdir,
                     "-DFIO_SOURCE_DIR=%s" % fio_src,
                     "-DAIOR_BUILD_TESTS=OFF",
                     "-DAIOR_PLANTED_DELAY_NS=%d" % delay],
                    ["cmake", "--build", bdir, "-j%d" % (os.cpu_count() or 1)]):
            if subprocess.run(cmd, stdout=lf, stderr=lf).returncode != 0:
                raise SystemExit("sensitivity: error: build with "
                                 "AIOR_PLANTED_DELAY_NS=%d failed (log: %s)"
                                 % (delay, logf))
    return so


def engines(args):
    os.makedirs(args.build_dir, exist_ok=True)
    fio_src = fio_source()
    out = {}
    base = build(args.build_dir, 0, fio_src, args.lock)
    out["base"] = base
    for d in args.delays:
        if d == 0:
            # Identical builds: the same bytes under another path (fio
            # dlopen()s it as a separate module).
            copy = os.path.join(args.build_dir, "d0", "libaioring-copy.so")
            shutil.copyfile(base, copy)
            out["d0"] = copy
        else:
            out["d%d" % d] = build(args.build_dir, d, fio_src, args.lock)
    return out


def done(args, idx):
    return os.path.isfile(os.path.join(args.out, "runs", "%02d" % idx,
                                       "done.json"))


def run_one(args, engs, idx):
    rdir = os.path.join(args.out, "runs", "%02d" % idx)
    if os.path.isdir(rdir):
        shutil.rmtree(rdir)
    names = ["base"] + ["d%d" % d for d in args.delays]
    cmd = [sys.executable, os.path.join(HERE, "compare.py")]
    for n in names:
        cmd += ["--engine", "%s=%s" % (n, engs[n])]
    cmd += ["--configs", ",".join(names), "--rw", "randread", "--bs", "4k",
            "--qd", "32", "--rounds", str(args.rounds), "--runtime",
            str(args.runtime), "--ramp-time", str(args.ramp_time),
            "--no-ceiling", "--size", args.size, "--wait-quiet",
            str(args.wait_quiet), "--out", rdir]
    if args.max_regression:
        cmd += ["--max-regression", args.max_regression]
    cmd += args.compare_args
    log("run %d/%d: %s" % (idx, args.runs, " ".join(cmd[2:])))
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    el = time.monotonic() - t0
    os.makedirs(rdir, exist_ok=True)
    with open(os.path.join(rdir, "compare.log"), "w") as f:
        f.write(p.stdout)
    if p.returncode not in (0, 1, 3) or not os.path.isfile(
            os.path.join(rdir, "results.json")):
        tail = p.stdout.strip().splitlines()[-5:]
        raise SystemExit("sensitivity: error: run %d: compare.py exited %d: "
                         "%s" % (idx, p.returncode, " | ".join(tail)))
    with open(os.path.join(rdir, "done.json"), "w") as f:
        json.dump({"rc": p.returncode, "elapsed_s": round(el, 1),
                   "cmd": cmd}, f)
    return True


def verdicts_of(rdir, thresholds=None):
    """{head: {metric: ab entry}} of one run's results.json.

    The verdicts are judged again from the run's samples with this
    checkout's aiorperf.gate, so that a table over runs made in chunks
    reflects one version of the statistic (the one committed beside it).
    """
    sys.path.insert(0, HERE)
    from aiorperf import gate
    with open(os.path.join(rdir, "results.json")) as f:
        doc = json.load(f)
    out = {}
    heads = [c for c in doc.get("configs", []) if c != "base"]
    smp = [s for s in doc.get("samples", []) if s.get("ok")]
    ab = gate.evaluate_ab(smp, [CELL], "base", heads,
                          thresholds=thresholds) if smp else []
    for e in ab:
        if e.get("vs") == "base" and e.get("cell") == CELL and \
                e.get("host", "local") in ("local", "all"):
            out.setdefault(e["config"], {})[e["metric"]] = e
    return out, doc


def table(args):
    rows, runs = {}, []
    rdirs = sorted(d for d in os.listdir(os.path.join(args.out, "runs"))
                   if os.path.isfile(os.path.join(args.out, "runs", d,
                                                  "done.json")))
    env = None
    sys.path.insert(0, HERE)
    from aiorperf import gate, stats
    thresholds = gate.parse_thresholds(args.max_regression) \
        if args.max_regression else dict(gate.DEFAULT_THRESHOLDS)
    for d in rdirs:
        v, doc = verdicts_of(os.path.join(args.out, "runs", d), thresholds)
        env = env or doc.get("env")
        runs.append(d)
        for delay in args.delays:
            name = "d%d" % delay
            r = rows.setdefault(delay, {"planted_ns": delay, "runs": 0,
                                        "losses": [], "iops": {},
                                        "flagged": 0, "flagged_by": {},
                                        "per_run": []})
            m = v.get(name) or {}
            if "iops" not in m:
                continue
            r["runs"] += 1
            est = m["iops"]["estimate"]
            r["losses"].append(None if est is None else 1 - est)
            r["iops"][m["iops"]["verdict"]] = \
                r["iops"].get(m["iops"]["verdict"], 0) + 1
            bad = [k for k, e in m.items() if e["verdict"] == "REGRESSION"]
            if bad:
                r["flagged"] += 1
                for k in bad:
                    r["flagged_by"][k] = r["flagged_by"].get(k, 0) + 1
            r["per_run"].append({"run": d, "iops_estimate": est,
                                 "ci": [m["iops"]["lo"], m["iops"]["hi"]],
                                 "verdicts": {k: e["verdict"]
                                              for k, e in m.items()}})
    for r in rows.values():
        ls = [x for x in r["losses"] if x is not None]
        r["loss_median"] = statistics.median(ls) if ls else None
        r["loss_min"] = min(ls) if ls else None
        r["loss_max"] = max(ls) if ls else None
        r["flag_rate"] = r["flagged"] / r["runs"] if r["runs"] else None
        del r["losses"]
    caught = [r for d, r in rows.items() if d > 0 and r["runs"] and
              r["flag_rate"] >= 0.95]
    smallest = min(caught, key=lambda r: r["loss_median"]) if caught else None
    doc = {"tool": "libaioring perf/sensitivity.py",
           "date_utc": datetime.datetime.now(datetime.timezone.utc)
           .strftime("%Y-%m-%dT%H:%M:%SZ"),
           "command": args.command, "cell": CELL,
           "settings": {"rounds": args.rounds, "runtime": args.runtime,
                        "ramp_time": args.ramp_time, "size": args.size,
                        "wait_quiet": args.wait_quiet,
                        "thresholds": thresholds,
                        "level": stats.DEFAULT_LEVEL,
                        "max_regression": args.max_regression,
                        "compare_args": args.compare_args,
                        "engines": "base + one build per planted delay, "
                                   "all in each interleaved run"},
           "machine": {k: (env or {}).get(k) for k in (
               "kernel", "cpu_model", "nproc", "fio_version")},
           "git": subprocess.run(["git", "-C", REPO, "describe", "--always",
                                  "--dirty"], stdout=subprocess.PIPE,
                                 text=True).stdout.strip(),
           "runs": len(runs),
           "rows": [rows[d] for d in args.delays if d in rows],
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


def markdown(doc):
    s = doc["settings"]
    lines = [
        "# Sensitivity of the A/B gate, measured",
        "",
        "How often `perf/compare.py`'s A/B verdict flags a build with a "
        "known, planted slowdown (a fixed busy wait per request, CMake "
        "`-DAIOR_PLANTED_DELAY_NS=N`, test-only) as a regression, and how "
        "often it flags an identical build.  Cell `%s` on a RAM-backed "
        "file; each run interleaves the base build and every planted "
        "build, %d rounds of %gs (+%gs ramp), and judges each against the "
        "base with %s." % (
            doc["cell"], s["rounds"], s["runtime"], s["ramp_time"],
            "`--max-regression %s`" % s["max_regression"]
            if s["max_regression"] else "compare.py's default thresholds "
            "(%s; %.0f%% bootstrap intervals)" % (", ".join(
                "%s %g%%" % (k, v * 100) for k, v in
                sorted(s["thresholds"].items())), s["level"] * 100)),
        "",
        "Made by (%s, git `%s`, %s, %s CPUs, kernel %s, %s):" % (
            doc["date_utc"], doc["git"], doc["machine"].get("cpu_model"),
            doc["machine"].get("nproc"), doc["machine"].get("kernel"),
            doc["machine"].get("fio_version")),
        "",
        "    " + doc["command"],
        "",
        "| planted delay | measured IOPS loss (median, min..max) | runs | "
        "IOPS: regression / inconclusive / no change / improvement | "
        "flagged as regression (any metric) | flagged by |",
        "|---:|---|---:|---|---:|---|"]
    for r in doc["rows"]:
        v = r["iops"]
        lines.append("| %s | %s (%s..%s) | %d | %d / %d / %d / %d | "
                     "**%d/%d** | %s |" % (
                         "%d ns" % r["planted_ns"] if r["planted_ns"] else
                         "0 (identical builds)",
                         pct(r["loss_median"]), pct(r["loss_min"]),
                         pct(r["loss_max"]), r["runs"],
                         v.get("REGRESSION", 0), v.get("INCONCLUSIVE", 0),
                         v.get("NO CHANGE", 0), v.get("IMPROVEMENT", 0),
                         r["flagged"], r["runs"],
                         ", ".join("%s %d" % kv for kv in
                                   sorted(r["flagged_by"].items())) or "-"))
    sm = doc["smallest_caught_95"]
    lines += ["",
              "Smallest loss caught in at least 95%% of the runs: %s." % (
                  "a planted %d ns per request, measured as a %s IOPS loss"
                  % (sm["planted_ns"], pct(sm["loss_median"])) if sm else
                  "none of the planted sizes"),
              "",
              "A run is *flagged* when any metric of the planted build gets "
              "the verdict REGRESSION (what makes `compare.py` exit 1).  "
              "The measured loss is 1 - the A/B estimate (median of the "
              "per-round IOPS ratios planted/base); the same planted "
              "nanoseconds cost a larger share on a faster machine.  "
              "Per-run figures: `sensitivity.json`.", ""]
    return "\n".join(lines)


def check(doc, delays):
    ok = True
    rows = {r["planted_ns"]: r for r in doc["rows"]}
    top = max(delays)
    for d, want_flag in ((top, True), (0, False)):
        r = rows.get(d)
        if not r or not r["runs"]:
            if d in delays:
                log("check: no runs for delay %d" % d)
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
            log("check: identical builds flagged in %d/%d runs (allowed "
                "<= %d): %s" % (r["flagged"], r["runs"], allow,
                                "ok" if good else "FAILED"))
        ok = ok and good
    return ok


def main(argv=None):
    sys.path.insert(0, HERE)
    from aiorperf import gate
    p = argparse.ArgumentParser(
        prog="sensitivity.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--delays", default=DEFAULT_DELAYS,
                   help="planted ns per request, comma list; 0 = identical "
                        "builds (default %s)" % DEFAULT_DELAYS)
    p.add_argument("--rounds", type=int, default=10)
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
    args = p.parse_args(argv)
    try:
        args.delays = sorted({int(x) for x in args.delays.split(",") if x})
    except ValueError:
        p.error("--delays %r: want ns, e.g. %s" % (args.delays,
                                                   DEFAULT_DELAYS))
    if not args.delays or min(args.delays) < 0:
        p.error("--delays: want ns >= 0")
    if args.runs < 1 or args.rounds < 3:
        p.error("--runs >= 1 and --rounds >= 3")
    args.out = os.path.abspath(args.out)
    args.table_dir = os.path.abspath(args.table_dir or args.out)
    args.build_dir = os.path.join(args.out, "builds")
    args.command = " ".join(["perf/sensitivity.py"] + [
        a for a in (argv if argv is not None else sys.argv[1:])])
    os.makedirs(os.path.join(args.out, "runs"), exist_ok=True)
    cmdfile = os.path.join(args.out, "command.txt")
    if not args.table_only:
        with open(cmdfile, "w") as f:
            f.write(args.command + "\n")
        engs = engines(args)
        log("engines: %s" % ", ".join("%s=%s" % kv for kv in engs.items()))
        todo = [i for i in range(1, args.runs + 1) if not done(args, i)]
        if args.max_new is not None:
            todo = todo[:args.max_new]
        # The exclusive lock is taken for --per-lock runs at a time.
        for k in range(0, len(todo), args.per_lock):
            with Lock(args.lock, True):
                for i in todo[k:k + args.per_lock]:
                    run_one(args, engs, i)
    if os.path.isfile(cmdfile):
        with open(cmdfile) as f:
            args.command = f.read().strip()
    doc = table(args)
    if args.check:
        return 0 if check(doc, args.delays) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
