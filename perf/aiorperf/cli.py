# SPDX-License-Identifier: BSD-3-Clause
"""Interleaved fio comparisons of libaioring builds, with verdicts.

Runs the same fio job under several engine configurations, interleaved
(every configuration once per round, the order rotating from round to
round, for N rounds), with one fio binary, one target and identical job
options; reports medians, spread and ratios, and judges:

  * A/B of engine builds: --engine base=PATH --engine head=PATH (any
    number of named builds; `head:vectored=0` runs one with options).
    Every other named build is judged against the first, per cell, twice
    (docs/perf/ab.md):
      - exact counts per request: instructions (engine, fio, libc, all),
        system calls by kind, context switches, each judged against its
        threshold and the A/A spread of repeats in the same run;
      - timed rounds (IOPS, p99 latency, CPU per I/O), in mirrored random
        order, busy rounds dropped and run again, added until every
        verdict is decisive or --budget is spent: the trimmed mean of the
        per-round ratios head/base with Yuen's interval (aiorperf/stats.py).
    Verdicts: REGRESSION / IMPROVEMENT / NO CHANGE / INCONCLUSIVE against
    --max-regression and --count-threshold (aiorperf/gate.py).
  * floors: --gate FLOORS.json (ratios to built-in engines, as before).
  * a stored baseline: --save-baseline NAME, --against-baseline NAME
    (each run normalised by its own interleaved built-in libaio; a
    baseline from another runner class is refused).

    python3 perf/compare.py --quick --gate jobs/floors-ci.json   # CI gate
    python3 perf/compare.py --engine base=old.so --engine head=new.so \\
        --quick --budget 5m                                      # A/B
    python3 perf/compare.py --engine base=old.so --engine head=new.so \\
        --quick --counts-only                           # A/B, counts only
    python3 perf/compare.py --quick --save-baseline main         # baseline
    python3 perf/compare.py --quick --against-baseline main
    python3 perf/compare.py history results/ --out trend/        # trend
    python3 perf/compare.py baseline list

Columns of the tables: n (rounds), medians over rounds of IOPS, MiB/s,
latency percentiles and CPU per I/O ((usr + sys) of the fio job threads x
runtime / I/Os, split usr/sys), ctx/IO (context switches of the job
threads per I/O, fio's `ctx`: a request that sleeps in io_getevents()
costs one), CoV and min..max of IOPS over rounds, xlibaio / xio_uring
(ratio of median IOPS to that anchor in the same cell), % raw aio (share
of fio's t/io_uring -a1 on the same target), busy (median cores the rest
of the machine used during the runs, from /proc/stat less fio's own, plus
stolen time; "!k": k runs were contended, over 0.25 cores or another fio
running, and an A/B of builds drops and reruns such rounds).

Outputs in --out DIR: results.json (every sample, the environment, the
verdicts), summary.md (also appended to $GITHUB_STEP_SUMMARY), table.txt,
junit.xml (one test case per judged floor, or cell and metric), bmf.json
(Bencher Metric Format), benchmark-bigger.json and benchmark-smaller.json
(github-action-benchmark's customBiggerIsBetter / customSmallerIsBetter
inputs: IOPS; p99 ns, CPU us per I/O and the counts), ratios.png
and ab.png / baseline.png (gnuplot).  With --client HOST[:PORT] every run
goes through fio's client/server on all hosts at once; the verdicts are
made on the aggregate ("all") and on every host, and every output has
both.

Exit status: 0 pass (no regression, no floor failed; inconclusive
verdicts pass unless --strict); 1 a REGRESSION or a FAILED floor; 2 usage
or set-up error, or a fio run failed; 3 something INCONCLUSIVE under
--strict; 130 interrupted.
"""

import argparse
import importlib
import json
import os
import re
import sys

from .gate import (MIN_ROUNDS, DEFAULT_AB_METRICS, DEFAULT_THRESHOLDS,
                   AB_METRICS, parse_thresholds)
from . import counts as cnt
from . import history as hist
from .outputs import error_outputs
from .plan import (DEFAULT_CONFIGS, FULL, QUICK_CELLS, build_cells,
                   named_engines, parse_engine_specs, validate_cell)
from . import session
from .stats import LOOKS
from .util import (REPO, SetupError, csv_list, fmt_secs, notice,
                   parse_duration, parse_size)
from .verdicts import EXIT_PASS, EXIT_REGRESSION, EXIT_SETUP


AB_ROUNDS = 5           # default rounds when baselines are saved or judged
AB_BUDGET = 300.0       # default --budget of an A/B of builds, seconds
# --quick: more, shorter rounds than the default, in about the same time:
# a floor's interval narrows with the number of rounds, not their length.
QUICK_ROUNDS = 6
# The one door to the harness: compare.py SUBCOMMAND, each a function
# taking its arguments and returning the exit status, in this module or
# in the aiorperf module named (imported when called).
SUBCOMMANDS = {
    "run": (None, "run_main", "the comparison (the default)"),
    "history": (None, "history_main",
                "trends over result directories, step changes"),
    "baseline": (None, "baseline_main", "named baselines: list, show"),
    "error": (None, "error_main",
              "the outputs of a run that could not start"),
    "corun-check": (None, "corun_main",
                    "whether each cell's co-run ratio is its solo one"),
    "floors": ("floors", "main", "floors files from measured results"),
    "insn": ("insn", "main",
             "instructions per request by part, with their spread"),
    "insn-floors": ("insn", "floors_main",
                    "the engine's instructions against jobs/"
                    "insn-floors.json"),
    "profile": ("profile", "main", "where the CPU goes per I/O (perf)"),
    "scaling": ("scaling", "main", "numjobs 1..N, each a ratio to one job"),
    "sensitivity": ("sensitivity", "main",
                    "how small a regression the A/B catches"),
}


# ---- command line ----

def parse_args(argv):
    """The command line of a run, checked, with the defaults that hang on
    other options settled; a usage error exits 2 (argparse)."""
    p = argparse.ArgumentParser(
        prog="compare.py",
        usage="compare.py [SUBCOMMAND] [options]",
        description="Interleaved fio comparison of libaioring builds with "
                    "each other and with\nthe built-in libaio and io_uring "
                    "engines: A/B verdicts, floors, baselines.\n\n"
                    "subcommands (compare.py SUBCOMMAND --help):\n" +
                    "".join("  %-12s %s\n" % (name, what)
                            for name, (_, _, what) in SUBCOMMANDS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    add_run_args(p)
    add_target_args(p)
    add_tool_args(p)
    add_output_args(p)
    add_baseline_args(p)
    add_host_args(p)
    args = p.parse_args(argv)
    settle_engines(p, args)
    settle_rounds(p, args)
    settle_verdicts(p, args)
    settle_places(p, args)
    return args


def add_run_args(p):
    """What to run: builds, cells, and (add_round_args) rounds."""
    g = p.add_argument_group("what to run")
    g.add_argument("--configs", type=csv_list, default=None,
                   help="comma list of engine names (aioring, or the NAMEs "
                        "of --engine NAME=PATH), libaio, libaio-ur, "
                        "io_uring, spdk-aio (SPDK's fio plugin on an aio "
                        "bdev of the target: root and "
                        "scripts/spdk-build.sh, docs/spdk.md), or "
                        "NAME:key=val[:key=val] variants "
                        "(default %s; with named engines: the named "
                        "engines, libaio, io_uring)" % DEFAULT_CONFIGS)
    g.add_argument("--engine", action="append", default=[],
                   metavar="[NAME=]PATH",
                   help="a libaioring.so build; NAME=PATH names it "
                        "(repeatable: with two or more, every other named "
                        "build is judged against the first); a bare PATH "
                        "is the build called aioring (default: "
                        "build/libaioring.so of this repository)")
    g.add_argument("--label", action="append", default=[],
                   metavar="NAME=TEXT",
                   help="what a named build is (e.g. base='main @ "
                        "1a2b3c4d5e6f'): shown instead of its path in the "
                        "tables and summary.md (scripts/perf-ab.sh gives "
                        "each ref and commit)")
    g.add_argument("--aior-opt", action="append", default=[],
                   metavar="KEY=VAL", help="engine option for every engine "
                   "build config (repeatable)")
    g.add_argument("--rw", type=csv_list, help="e.g. randread,randwrite,read")
    g.add_argument("--bs", type=csv_list, help="e.g. 4k,128k")
    g.add_argument("--qd", type=lambda s: [int(x) for x in csv_list(s)],
                   help="e.g. 1,32,128 (qd >= 128 adds "
                        "iodepth_batch_submit=32 iodepth_batch_complete_max"
                        "=32 on all configs)")
    g.add_argument("--jobs", type=lambda s: [int(x) for x in csv_list(s)],
                   help="numjobs values, e.g. 1,2 (group_reporting)")
    g.add_argument("--files", type=int, default=None, metavar="N",
                   help="add a files<N> variant of every cell (N files per "
                        "job, aioring configs only, ratio vs 1 file); 0: "
                        "no files cells")
    g.add_argument("--full", action="store_true",
                   help="whole matrix: %s x %s x qd %s x jobs %s, plus "
                        "files64 for randread 4k" % (
                            ",".join(FULL["rw"]), ",".join(FULL["bs"]),
                            ",".join(map(str, FULL["qd"])),
                            ",".join(map(str, FULL["jobs"]))))
    g.add_argument("--quick", action="store_true",
                   help="CI size: %s; %d rounds of 1 s + 0.25 s ramp "
                        "(an A/B of builds: rounds of 1 s until decisive "
                        "within --budget, %d to %d of them)"
                        % (", ".join(QUICK_CELLS), QUICK_ROUNDS, LOOKS[0],
                           LOOKS[-1]))
    add_round_args(g)


def add_round_args(g):
    """How many rounds, and how long: into the group "what to run"."""
    g.add_argument("--rounds", type=int, default=None,
                   help="interleaved rounds, a fixed number (default 3; "
                        "--quick %d; %d when baselines are saved or judged: "
                        "no verdict below %d).  An A/B of builds adds "
                        "rounds until it is decisive instead: see --budget"
                        % (QUICK_ROUNDS, AB_ROUNDS, MIN_ROUNDS))
    g.add_argument("--budget", type=parse_duration, default=None,
                   metavar="TIME",
                   help="A/B of builds, or a --gate: add rounds (for an A/B "
                        "in balanced random order, rounds where a build "
                        "shared the machine dropped and run again) until "
                        "every verdict or floor is decisive, "
                        "at most %d clean rounds, looked at after %s, or "
                        "until one more round would overrun TIME (e.g. "
                        "5m, 90s; default %s for an A/B unless --rounds "
                        "is given, with --quick too)" % (
                            LOOKS[-1], ", ".join(map(str, LOOKS)),
                            fmt_secs(AB_BUDGET)))
    g.add_argument("--pin", choices=["auto", "off"], default="auto",
                   help="auto (default): in an A/B of builds, without "
                        "--cpus-allowed, pin the fio jobs to the last CPUs "
                        "of this process's set when it has more CPUs than "
                        "a cell has jobs (less migration noise; the other "
                        "CPUs keep fio's helper threads and the rest)")
    g.add_argument("--co-run", dest="co_run",
                   choices=["auto", "off", "anchors"], default="auto",
                   help="auto (default): in an A/B of builds on the "
                        "RAM-backed target, run the builds of each one-job "
                        "cell together in one fio, a job each, all on one "
                        "CPU, so that the host's interruptions hit them "
                        "alike: the per-round ratio of identical builds "
                        "spreads 1-3%% instead of 14-23%% on a shared "
                        "2-vCPU VM.  IOPS and CPU per I/O are judged, p99 "
                        "is not.  anchors: every configuration of such a "
                        "cell, the built-in engines too, in one fio (the CI "
                        "gate: its co-run ratios lie inside the solo ones' "
                        "intervals, `compare.py corun-check`).  off: one "
                        "configuration at a time (p99 judged)")
    g.add_argument("--runtime", type=float, default=None,
                   help="seconds per run (default 5; 1 with --quick or "
                        "--budget, an A/B's default)")
    g.add_argument("--ramp-time", "--ramp_time", dest="ramp_time",
                   type=float, default=None,
                   help="seconds of ramp per run (default 1; 0.25 with "
                        "--quick or --budget)")


def add_target_args(p):
    g = p.add_argument_group("target")
    g.add_argument("--target", help="file or block device (default: a new "
                   "RAM-backed file in /dev/shm)")
    g.add_argument("--size", type=parse_size, default=None,
                   help="target size to create (default 1G; disk 4G)")
    g.add_argument("--preset", choices=["ram", "disk"], default="ram",
                   help="disk: a preallocated ./bench-disk.dat (or "
                        "--target) on the local disk, kept between runs")
    g.add_argument("--allow-write", action="store_true",
                   help="allow write cells on a block device target")
    g.add_argument("--keep", action="store_true",
                   help="keep the files this run created")


def add_tool_args(p):
    g = p.add_argument_group("tools")
    g.add_argument("--fio", default="fio", help="fio binary (default: fio)")
    g.add_argument("--fio-src", help="configured fio source tree to build "
                   "t/io_uring from (default: $FIO_SRC, or the tree "
                   "scripts/setup.sh prepared)")
    g.add_argument("--tio", help="a ready t/io_uring binary")
    g.add_argument("--tio-cache", help="where t/io_uring is built "
                   "(default ~/.cache/libaioring/t_io_uring)")
    g.add_argument("--ceiling", dest="ceiling", action="store_true",
                   default=None, help="run fio's t/io_uring -a1 (raw aio "
                   "ceiling) in read cells (default, except with --quick)")
    g.add_argument("--no-ceiling", dest="ceiling", action="store_false",
                   help="skip the raw aio ceiling")
    g.add_argument("--spdk-plugin", metavar="PATH", default=None,
                   help="SPDK's spdk_bdev fio plugin, for config spdk-aio "
                   "(default: the one scripts/spdk-build.sh built, "
                   "~/.cache/libaioring/spdk/spdk_bdev)")


def add_output_args(p):
    """Outputs, and what is judged how: floors, A/B thresholds, counts."""
    g = p.add_argument_group("output and gate")
    g.add_argument("--out", help="output directory (default "
                   "results/<timestamp>/)")
    g.add_argument("--gate", metavar="FLOORS.json",
                   help="judge the run against a floors file")
    g.add_argument("--headline", metavar="HEADLINE.json",
                   help="under the table, compare this run's runner class "
                        "and x libaio with a reference run's (the "
                        "quick start gives docs/perf/headline.json, the "
                        "README's headline)")
    g.add_argument("--gate-all", action="store_true",
                   help="run and judge every floor of --gate's file (adds "
                        "its cells); without it, only the floors of the "
                        "cells this run was asked for")
    g.add_argument("--max-cov", type=float, default=None,
                   help=argparse.SUPPRESS)   # gone: floors use intervals
    g.add_argument("--strict", action="store_true",
                   help="an inconclusive floor or verdict exits 3 (and is "
                        "a JUnit failure)")
    g.add_argument("--max-regression", default=None, metavar="PCT",
                   help=("A/B and baseline threshold: a change smaller "
                         "than this is no change; e.g. 3%, or per metric "
                         "iops=3%,p99=10%,cpu=5% (default " + ",".join(
                             "%s=%.0f%%" % (k, v * 100)
                             for k, v in DEFAULT_THRESHOLDS.items()) +
                         ")").replace("%", "%%"))
    g.add_argument("--metrics", type=csv_list, default=None,
                   help="metrics judged by A/B and baseline verdicts "
                        "(default %s)" % ",".join(DEFAULT_AB_METRICS))
    g.add_argument("--no-counts", dest="counts", action="store_false",
                   default=True,
                   help="with two or more engine builds, skip the exact "
                        "counts (instructions, system calls and context "
                        "switches per request, judged exactly; on by "
                        "default: valgrind and strace needed)")
    g.add_argument("--counts-only", action="store_true",
                   help="an A/B of builds by the exact counts alone: no "
                        "timed rounds (a minute or two; for a quick CI "
                        "check of the engine's own cost)")
    g.add_argument("--count-reps", type=int, default=cnt.DEFAULT_REPS,
                   metavar="N", help="repeats of every count per build, "
                   "whose spread is the A/A noise fence (default %d)"
                   % cnt.DEFAULT_REPS)
    g.add_argument("--count-ios", type=int, default=cnt.DEFAULT_IOS,
                   metavar="N", help="requests per job of a count run "
                   "(and 2N for the second; default %d)" % cnt.DEFAULT_IOS)
    g.add_argument("--count-threshold", default=None, metavar="PCT",
                   help=("per count, e.g. insn_engine=0.5%,sys_total=1% "
                         "(defaults: " + ", ".join(
                             "%s=%g%%" % (k, v[1] * 100)
                             for k, v in cnt.COUNT_METRICS.items()) +
                         ")").replace("%", "%%"))


def add_baseline_args(p):
    g = p.add_argument_group("baselines")
    g.add_argument("--save-baseline", metavar="NAME",
                   help="store this run as baseline NAME (needs libaio in "
                        "the run: added if missing)")
    g.add_argument("--against-baseline", metavar="NAME",
                   help="judge this run against baseline NAME, each run "
                        "normalised by its own built-in libaio")
    g.add_argument("--baseline-dir", default=None,
                   help="where baselines live (default $AIOR_BASELINE_DIR "
                        "or ~/.cache/libaioring/baselines)")
    g.add_argument("--ignore-runner-class", action="store_true",
                   help="judge against a baseline from another runner "
                        "class (CPU model, vCPUs, kernel build, "
                        "virtualization, system call cost) or fio "
                        "version anyway")
    g.add_argument("--ignore-run-mode", action="store_true",
                   help="judge a co-run (builds sharing one CPU) against "
                        "a solo baseline, or the reverse, anyway")


def add_host_args(p):
    """Where and how fio runs: --client hosts, CPUs, quiet, dry run."""
    g = p.add_argument_group("many hosts (fio client/server)")
    g.add_argument("--client", dest="clients", action="append", default=[],
                   metavar="HOST[:PORT]",
                   help="run every configuration through fio --client on "
                        "all these hosts at once (repeatable; each runs "
                        "fio --server; default port 8765); the target and "
                        "the engine paths must exist on every host")
    g.add_argument("--cpus-allowed", metavar="CPUS",
                   help="pin every fio job to these CPUs (fio's "
                        "cpus_allowed, e.g. 1 or 0-3), the same for every "
                        "configuration: less scheduler noise on shared "
                        "runners")
    g.add_argument("--wait-quiet", type=float, default=0, metavar="SECS",
                   help="before each run, wait up to SECS for other fio "
                        "processes to end and the CPUs to idle (shared "
                        "machines)")
    g.add_argument("--dry-run", action="store_true",
                   help="print the plan and the fio commands, run nothing")


def settle_engines(p, args):
    """args.engines {name: path} and args.engine from --engine,
    args.labels from --label; args.setup_notes begun."""
    try:
        args.engines = parse_engine_specs(args.engine, os.path.join(
            REPO, "build", "libaioring.so"))
    except SetupError as e:
        p.error(str(e))
    args.engine = args.engines.get("aioring") or next(
        iter(args.engines.values()))
    args.setup_notes = []      # said while setting up; into the summary
    args.skipped_configs = []  # configs asked for that cannot run here
    args.labels = {}
    for lab in args.label:
        name, sep, text = lab.partition("=")
        if not sep or name not in args.engines or not text.strip():
            p.error("--label %r: want NAME=TEXT with NAME one of the "
                    "engines (%s)" % (lab, ", ".join(args.engines)))
        args.labels[name] = text.strip()


def settle_rounds(p, args):
    """Rounds or budget, runtime, ramp and the ceiling, from each other
    and --quick; --full, --max-cov and --aior-opt checked."""
    judged = len(named_engines(args.engines)) >= 2 or bool(
        args.save_baseline or args.against_baseline)
    ab = len(named_engines(args.engines)) >= 2
    if args.budget is not None and args.rounds is not None:
        p.error("--budget and --rounds exclude each other")
    if args.budget is None and args.rounds is None and ab:
        args.budget = AB_BUDGET
    if args.budget is not None and not ab and not args.gate:
        p.error("--budget needs an A/B of builds (two --engine NAME=PATH) "
                "or a --gate")
    if args.rounds is None:
        args.rounds = LOOKS[0] if args.budget else (
            AB_ROUNDS if judged else QUICK_ROUNDS if args.quick else 3)
    # Rounds added until decisive: many short runs beat a few long ones,
    # as the spread between runs hardly narrows with their length
    # (docs/perf/ab.md).
    short = args.quick or args.budget is not None
    if args.runtime is None:
        args.runtime = 1.0 if short else 5.0
    if args.ramp_time is None:
        args.ramp_time = 0.25 if short else 1.0
    if args.rounds < 1 or args.runtime <= 0 or args.ramp_time < 0:
        p.error("--rounds >= 1, --runtime > 0, --ramp-time >= 0")
    if args.ceiling is None:
        args.ceiling = not args.quick
    if args.quick and args.full:
        p.error("--quick and --full exclude each other")
    if args.max_cov is not None:
        notice("--max-cov is ignored: a floor is judged by the interval of "
               "its ratio, whatever each side's CoV")
    for o in args.aior_opt:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S+", o):
            p.error("--aior-opt %r: want key=val" % o)


def settle_verdicts(p, args):
    """Metrics, thresholds and the exact counts' settings."""
    ab = len(named_engines(args.engines)) >= 2
    args.metrics = args.metrics or list(DEFAULT_AB_METRICS)
    for m in args.metrics:
        if m not in AB_METRICS:
            p.error("--metrics: unknown metric %r (known: %s)" % (
                m, ", ".join(AB_METRICS)))
    try:
        args.thresholds = parse_thresholds(args.max_regression or "",
                                           args.metrics) \
            if args.max_regression else dict(DEFAULT_THRESHOLDS)
    except ValueError as e:
        p.error(str(e))
    try:
        args.count_thresholds = parse_count_thresholds(
            args.count_threshold)
    except ValueError as e:
        p.error(str(e))
    if args.count_reps < 1 or args.count_ios < 100:
        p.error("--count-reps >= 1, --count-ios >= 100")
    if args.counts_only and (not ab or not args.counts):
        p.error("--counts-only needs an A/B of builds (two --engine "
                "NAME=PATH) and the counts (not --no-counts)")
    if args.counts_only:
        args.ceiling = False


def settle_places(p, args):
    """The baseline directory and names, and the --client hosts."""
    args.baseline_dir = args.baseline_dir or hist.default_baseline_dir()
    for name in (args.save_baseline, args.against_baseline):
        if name is not None:
            try:
                hist.baseline_path(name, args.baseline_dir)
            except hist.BaselineError as e:
                p.error(str(e))
    args.hosts = []
    if args.clients:
        from . import remote
        for c in args.clients:
            try:
                args.hosts.append(remote.parse_host(c))
            except ValueError as e:
                p.error(str(e))
        if args.ceiling:
            args.ceiling = False        # t/io_uring runs only here



def parse_count_thresholds(text):
    """"insn_engine=0.5%,sys_total=1%" -> {key: fraction}."""
    out = {}
    for part in [t for t in (text or "").split(",") if t.strip()]:
        k, sep, v = part.partition("=")
        k = k.strip()
        if not sep or k not in cnt.COUNT_METRICS:
            raise ValueError("--count-threshold %r: want COUNT=PCT with "
                             "COUNT one of %s" % (part, ", ".join(
                                 cnt.COUNT_METRICS)))
        out[k] = parse_thresholds(v, ["iops"])["iops"]
    return out


def main(argv=None):
    """compare.py [SUBCOMMAND] ARGS: the subcommand's exit status (a run
    without one)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SUBCOMMANDS:
        return run_main(argv)
    module, entry, _ = SUBCOMMANDS[argv[0]]
    if module:
        fn = getattr(importlib.import_module("." + module, __package__),
                     entry)
    else:
        fn = globals()[entry]
    return fn(argv[1:])


def run_main(argv):
    """The comparison itself: parse, then run it (session.run)."""
    return session.run(parse_args(argv))


# ---- subcommands ----

def error_main(argv):
    p = argparse.ArgumentParser(
        prog="compare.py error",
        description="Write the outputs of a run that could not start (a "
                    "build that failed, say): summary.md, junit.xml with a "
                    "failing set-up case, results.json, and the log.  "
                    "scripts/perf-ab.sh uses it.")
    p.add_argument("--out", required=True)
    p.add_argument("--reason", required=True)
    p.add_argument("--log", help="a log file to copy in and quote")
    args = p.parse_args(argv)
    error_outputs(args.out, args.reason, args.log)
    return EXIT_SETUP


def corun_main(argv):
    """compare.py corun-check: each cell both solo and co-run, and
    whether the two ratios agree (corun_check.py); exit 1 when a cell's
    do not."""
    from . import corun_check
    p = argparse.ArgumentParser(
        prog="compare.py corun-check",
        description=corun_check.__doc__.split("\n\n")[1].replace(
            "\n", " ") + "  Other options are the run's (--engine, "
        "--runtime, --target, ...).")
    p.add_argument("--cells", type=csv_list, default=None,
                   help="cell keys (default: --quick's)")
    p.add_argument("--subject", default="aioring")
    p.add_argument("--anchor", default="libaio")
    p.add_argument("--rounds", type=int, default=12)
    own, rest = p.parse_known_args(argv)
    args = parse_args(["--quick"] + rest)
    args.cells = own.cells or build_cells(args)
    args.subject, args.anchor, args.rounds = own.subject, own.anchor, \
        own.rounds
    args.out = args.out or os.path.join("results", "corun-check")
    try:
        for c in args.cells:
            validate_cell(c)
        if own.rounds < 3:
            raise SetupError("--rounds: 3 at least")
        rows = corun_check.run_check(args)
    except (SetupError, RuntimeError, ValueError) as e:
        print("compare corun-check: error: %s" % e, file=sys.stderr)
        return EXIT_SETUP
    bad = [c for c, r in rows.items() if r["verdict"] != corun_check.AGREE]
    if bad:
        print("co-run and solo disagree (or too few rounds) in: %s: keep "
              "them solo" % ", ".join(bad))
        return EXIT_REGRESSION
    print("co-run and solo agree in every cell: %s" % os.path.abspath(
        args.out))
    return EXIT_PASS


def history_main(argv):
    p = argparse.ArgumentParser(
        prog="compare.py history",
        description="Trend of every cell over a directory of compare.py "
                    "results: PNG chart (one line per cell, x = commit or "
                    "date), step changes marked, Markdown and JSON "
                    "summary.  " + hist.__doc__.split("History.  ")[1]
        .split("\n\n")[0].replace("\n", " "))
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="result directories (searched for results.json) or "
                        "results.json files")
    p.add_argument("--out", default="history",
                   help="output directory (default ./history)")
    p.add_argument("--metric", choices=sorted(AB_METRICS), default="iops")
    p.add_argument("--x", dest="xmode", choices=["commit", "date"],
                   default="commit", help="x axis labels (default commit)")
    p.add_argument("--step", default="5%", metavar="PCT",
                   help="smallest step change marked (default 5%%)")
    p.add_argument("--across-runners", action="store_true",
                   help="one line per cell and config over every runner "
                        "class and run mode (default: one per class and "
                        "mode: a ratio to libaio depends on the machine)")
    p.add_argument("--fail-on-step", action="store_true",
                   help="exit 1 when the latest run of a series is past a "
                        "step for the worse")
    args = p.parse_args(argv)
    try:
        step = parse_thresholds(args.step, ["iops"])["iops"]
    except ValueError as e:
        p.error(str(e).replace("--max-regression", "--step"))
    try:
        h = hist.build_history(args.paths, args.metric, args.xmode, step,
                               args.across_runners)
    except ValueError as e:
        print("compare history: error: %s" % e, file=sys.stderr)
        return EXIT_SETUP
    if not h["runs"]:
        print("compare history: error: no usable results.json under %s%s"
              % (", ".join(args.paths), (": " + "; ".join(h["skipped"]))
                 if h["skipped"] else ""), file=sys.stderr)
        return EXIT_SETUP
    md, png, msg = hist.write_history(h, args.out)
    for a in h["apart"]:
        print("compare history: %s" % a, file=sys.stderr)
    print(md, end="")
    print(msg)
    print("history: %s (history.json, history.md%s)" % (
        os.path.abspath(args.out), ", history.png" if png else ""))
    worse = ["%s at %s (%+.1f%%)" % (name, stp["label"], stp["change"] * 100)
             for name, stp in hist.worse_steps(h)]
    if worse:
        print("steps for the worse, still in effect: " + "; ".join(worse))
        if args.fail_on_step:
            return EXIT_REGRESSION
    return EXIT_PASS


def baseline_main(argv):
    p = argparse.ArgumentParser(
        prog="compare.py baseline",
        description="Manage named baselines (see --save-baseline and "
                    "--against-baseline of a run).")
    p.add_argument("--baseline-dir", default=None,
                   help="default $AIOR_BASELINE_DIR or "
                        "~/.cache/libaioring/baselines")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list saved baselines")
    sp = sub.add_parser("save", help="store an earlier run's results")
    sp.add_argument("name")
    sp.add_argument("results", help="result directory or results.json")
    sp = sub.add_parser("show", help="print a baseline's runner class and "
                        "cells")
    sp.add_argument("name")
    args = p.parse_args(argv)
    bdir = args.baseline_dir or hist.default_baseline_dir()
    try:
        if args.cmd == "list":
            names = hist.list_baselines(bdir)
            print("baselines in %s:%s" % (bdir, "" if names else " none"))
            for n in names:
                d = hist.load_baseline(n, bdir)
                rc_ = d.get("runner_class") or {}
                print("  %-20s saved %s  git %s  %s, %s, %s" % (
                    n, (d.get("baseline") or {}).get("saved_utc"),
                    (d.get("env") or {}).get("git_describe"),
                    rc_.get("cpu_model"), rc_.get("kernel"),
                    rc_.get("fio_version")))
            return EXIT_PASS
        if args.cmd == "show":
            d = hist.load_baseline(args.name, bdir)
            print(json.dumps({"baseline": d.get("baseline"),
                              "runner_class": d.get("runner_class"),
                              "cells": d.get("cells"),
                              "configs": d.get("configs"),
                              "settings": d.get("settings")}, indent=1))
            return EXIT_PASS
        doc = hist.load_results(args.results)
        print("baseline %r saved: %s" % (args.name, hist.save_baseline(
            doc, args.name, bdir)))
        return EXIT_PASS
    except hist.BaselineError as e:
        print("compare baseline: error: %s" % e, file=sys.stderr)
        return EXIT_SETUP
