# SPDX-License-Identifier: BSD-3-Clause
"""User-space instructions per request, by part: a figure that does not
move with the machine's speed, for the engine beside fio's own engines.

    python3 perf/compare.py insn --qd 1,32
    python3 perf/compare.py insn --qd 1 --configs aioring,libaio-ur \\
        --engine base=/tmp/base/libaioring.so --engine build/libaioring.so
    python3 perf/compare.py insn-floors             # build/libaioring.so
    python3 perf/compare.py insn-floors --update    # rewrite the floors

The count is the A/B's (counts.py), so the two never disagree: each
cell's fio job as a timed run has it (randread 4k on a written RAM-backed
file unless --rw, --bs, --target ... say otherwise), run for N and for 2N
requests per job under `valgrind --tool=callgrind --separate-threads=yes`;
the difference over N is what one more request costs, start-up and the
report cancelled.  Only the job threads count: fio's helper threads wake
on timers, so their work follows the wall clock, not the requests, and
would move a total by a quarter from one call to the next.  Every count
is taken --reps times, the configurations' order alternating; the table
gives the median and the spread (largest less smallest) of the repeats.
Two calls of randread at QD 1, 32 and 128 (docs/perf/runs/
2026-12-07-1eb0575-insn) agreed within the larger spread in 14 totals
of 15, the fifteenth 0.18 of an instruction off, the largest move 7.3;
the engine's own part (libaioring.so) repeats to the hundredth.

Parts: fio (its own code, and its built-in engines), libaioring.so, libc
(with the dynamic loader), rest (libaio.so, the vDSO, anything else).
Built-in libaio's engine is compiled into fio, so compare totals.  The
kernel is not counted (callgrind sees user space), nor cache misses or
stalls: fewer instructions is not always faster, but what a change to
the engine's code adds or removes per request shows without noise.

insn-floors counts each cell of jobs/insn-floors.json on the engine alone,
one repeat (its part is exact), and checks the libaioring.so part against
the floor: above it by more than the file's tolerance, a change added
instructions to the hot path (raise the floor in the same commit and say
why there and in the file's "why"); below it, a change saved some (lower
the floor with --update, so the gain is kept).  --measured reads
`compare.py insn --json` files instead of counting.

Exit status: 0 done (every cell on its floor), 1 a cell off its floor,
2 bad usage, a missing tool, or a count that failed.
"""

import argparse
import json
import os
import statistics
import sys

from . import cli, counts, machine
from .plan import build_cells, named_engines, parse_cell_key, parse_configs
from .targets import cleanup_target, new_target, prepare_target
from .session import engine_paths
from .state import RunState
from .util import REPO, SetupError

FLOORS = os.path.join(REPO, "jobs", "insn-floors.json")
ENGINE = "libaioring.so"
# Part -> the count key it is in (counts.keys_of_insn); rest is the
# total less these.
PART_KEYS = {"fio": "insn_fio", ENGINE: "insn_engine", "libc": "insn_libc"}
PARTS = list(PART_KEYS) + ["rest"]
DEFAULT_REPS = 3
# What a cell is when the command line does not say.
DEFAULT_CELL = ["--rw", "randread", "--bs", "4k", "--qd", "1"]
OTHER_OPTIONS = ("Other options are the run's (compare.py --help): "
                 "--configs, --engine, --aior-opt, --rw, --bs, --qd, "
                 "--jobs, --target, --size, --fio.")


# ---- counting ----

def count(args, ios, reps):
    """Rows of every configuration in every cell of a run's @args, @reps
    repeats of @ios requests: (rows, failures).  The configurations are
    args.configs, or the named builds (or aioring) with libaio and
    libaio-ur."""
    configs = parse_configs(args.configs or (
        named_engines(args.engines) or ["aioring"]) + ["libaio",
                                                        "libaio-ur"],
        args.engines)
    engine_paths(args, configs)         # a missing build: before any run
    cells = build_cells(args)
    st = RunState(args=args, cells=cells, configs=configs,
                  target=new_target())
    counter = counts.Counter(kinds=("insn",), ios=ios, reps=reps)
    try:
        prepare_target(args, cells, st.target)
        rows = counts.run_counts(st, configs[0], configs[1:], counter, cells)
    finally:
        cleanup_target(st.target)
    return summarize(rows, configs, cells), st.failures


def parts_of_row(r):
    """A count row's instructions by part."""
    parts = {p: r[k] for p, k in PART_KEYS.items()}
    parts["rest"] = r["insn_total"] - sum(parts.values())
    return parts


def summarize(rows, configs, cells):
    """Per (cell, config): the median of the repeats' total and parts,
    and their spread (largest less smallest)."""
    out = []
    for cell in cells:
        for cfg in configs:
            reps = [parts_of_row(r) for r in rows
                    if r["cell"] == cell and r["config"] == cfg]
            if not reps:
                continue
            totals = [sum(p.values()) for p in reps]
            out.append({
                "cell": cell, "config": cfg, "reps": len(reps),
                "total": statistics.median(totals),
                "spread": max(totals) - min(totals),
                "parts": {p: statistics.median(x[p] for x in reps)
                          for p in PARTS},
                "part_spread": {p: max(x[p] for x in reps) -
                                min(x[p] for x in reps) for p in PARTS}})
    return out


def render(rows, ios, reps, runner):
    lines = ["user-space instructions per request (callgrind, job threads;"
             " %d and %d requests per job, the difference over %d; median"
             " of %d repeats, +- their spread)" % (ios, 2 * ios, ios, reps),
             "%-22s %-24s %8s %7s  %s" % (
                 "cell", "config", "total", "+-", "  ".join(
                     "%13s" % p for p in PARTS))]
    for r in rows:
        lines.append("%-22s %-24s %8.1f %7.2f  %s" % (
            r["cell"], r["config"], r["total"], r["spread"], "  ".join(
                "%13.1f" % r["parts"][p] for p in PARTS)))
    lines.append("on %s" % machine.label(runner))
    return "\n".join(lines)


def run_args(rest, p):
    """The run's own options of @rest, parsed by compare.py's parser;
    a usage error exits 2."""
    args = cli.parse_args(DEFAULT_CELL + ["--no-ceiling"] + rest)
    if args.clients:
        p.error("--client: counts are taken on this machine only")
    return args


def main(argv):
    """compare.py insn."""
    p = argparse.ArgumentParser(
        prog="compare.py insn", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=OTHER_OPTIONS + "\n\n" + __doc__.split("\n\n", 1)[1])
    p.add_argument("--reps", type=int, default=DEFAULT_REPS,
                   help="repeats of every count (default %d; 2 at least: "
                        "their spread is the table's)" % DEFAULT_REPS)
    p.add_argument("--ios", type=int, default=counts.DEFAULT_IOS,
                   help="N: requests per job of the shorter run (default "
                        "%d)" % counts.DEFAULT_IOS)
    p.add_argument("--json", metavar="FILE",
                   help="also write the figures to FILE as JSON")
    own, rest = p.parse_known_args(argv)
    if own.reps < 2:
        p.error("--reps %d: 2 at least (the spread needs two)" % own.reps)
    if own.ios < 1000:
        p.error("--ios %d: 1000 at least" % own.ios)
    args = run_args(rest, p)
    try:
        rows, failures = count(args, own.ios, own.reps)
    except SetupError as e:
        print("compare.py insn: error: %s" % e, file=sys.stderr)
        return 2
    runner = machine.runner_class()
    print(render(rows, own.ios, own.reps, runner))
    if own.json:
        with open(own.json, "w") as f:
            json.dump({"ios": own.ios, "reps": own.reps, "runner": runner,
                       "command": "python3 perf/compare.py insn " +
                       " ".join(argv), "rows": rows}, f, indent=1)
    return report_failures(failures)


def report_failures(failures):
    for f in failures:
        print("compare.py insn: %s %s: %s" % (f["cell"], f["config"],
                                              f["error"]), file=sys.stderr)
    return 2 if failures else 0


# ---- the engine's floors ----

def floors_key(cell):
    """A run's cell key -> the floors file's key ("randread/4k/qd32")."""
    c = parse_cell_key(cell)
    return "%s/%s/qd%d" % (c["rw"], c["bs"], c["qd"])


def check(floors, measured):
    """Verdict rows for @measured ({cell: instructions}) against the floors
    file's content: (cell, floor, measured, verdict), verdict one of
    "ok", "above", "below", "missing"."""
    tol = floors.get("tolerance", 0)
    rows = []
    for cell, floor in sorted(floors["cells"].items()):
        got = measured.get(cell)
        if got is None:
            verdict = "missing"
        elif got > floor + tol:
            verdict = "above"
        elif got < floor - tol:
            verdict = "below"
        else:
            verdict = "ok"
        rows.append((cell, floor, got, verdict))
    return rows


def render_floors(rows, tol):
    out = ["%-22s %8s %10s  %s" % ("cell", "floor", "measured", "verdict")]
    for cell, floor, got, verdict in rows:
        out.append("%-22s %8.2f %10s  %s" % (
            cell, floor, "-" if got is None else "%.2f" % got, verdict))
    out.append("(tolerance %.2f instructions per request)" % tol)
    return "\n".join(out)


def read_measured(paths):
    """({floors cell: engine instructions}, [the machines they were
    counted on]) from `insn --json` files."""
    got, machines = {}, []
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        machines.append("%s (%s)" % (machine.label(doc["runner"]), path)
                        if doc.get("runner") else
                        "%s (machine not recorded)" % path)
        for row in doc["rows"]:
            if row["config"] == "aioring":
                got[floors_key(row["cell"])] = row["parts"][ENGINE]
    return got, machines


def measure(floors, engine):
    """{floors cell: engine instructions}: each rw and bs of the floors
    file counted once, all its queue depths."""
    by_rw = {}
    for key in floors["cells"]:
        rw, bs, qd = key.split("/")
        by_rw.setdefault((rw, bs), []).append(qd[len("qd"):])
    got = {}
    for (rw, bs), qds in sorted(by_rw.items()):
        args = cli.parse_args(["--rw", rw, "--bs", bs, "--qd", ",".join(qds),
                               "--configs", "aioring", "--engine", engine,
                               "--no-ceiling"])
        rows, failures = count(args, floors.get("ios", counts.DEFAULT_IOS),
                               1)
        if report_failures(failures):
            raise SetupError("a count failed")
        for r in rows:
            got[floors_key(r["cell"])] = r["parts"][ENGINE]
    return got


def floors_main(argv):
    """compare.py insn-floors."""
    p = argparse.ArgumentParser(
        prog="compare.py insn-floors",
        description="The engine's own instructions per request against "
                    "committed floors (jobs/insn-floors.json): a count, "
                    "not a timing, so CI checks it exactly whatever the "
                    "machine's load.  See `compare.py insn --help`.")
    p.add_argument("--floors", default=FLOORS)
    p.add_argument("--engine", default=os.path.join(REPO, "build",
                                                    "libaioring.so"))
    p.add_argument("--measured", action="append", metavar="JSON",
                   help="`compare.py insn --json` files instead of counting")
    p.add_argument("--update", action="store_true",
                   help="write what was measured as the new floors")
    args = p.parse_args(argv)
    try:
        with open(args.floors) as f:
            floors = json.load(f)
        floors["cells"]
    except (OSError, ValueError, KeyError) as e:
        p.error("--floors %s: %s" % (args.floors, e))
    try:
        if args.measured:
            measured, machines = read_measured(args.measured)
        else:
            if not os.path.isfile(args.engine):
                p.error("--engine %s: no such file (build first)"
                        % args.engine)
            measured = measure(floors, args.engine)
            machines = [machine.label(machine.runner_class())]
    except SetupError as e:
        print("compare.py insn-floors: error: %s" % e, file=sys.stderr)
        return 2
    if args.update:
        return update_floors(args.floors, floors, measured)
    rows = check(floors, measured)
    print(render_floors(rows, floors.get("tolerance", 0)))
    print("counted on %s" % "; ".join(machines))
    for cell, floor, got, verdict in rows:
        print_failure(cell, floor, got, verdict, args.floors)
    return 1 if any(r[3] != "ok" for r in rows) else 0


def update_floors(path, floors, measured):
    for cell in floors["cells"]:
        if cell in measured:
            floors["cells"][cell] = round(measured[cell], 2)
    with open(path, "w") as f:
        json.dump(floors, f, indent=1, sort_keys=True)
        f.write("\n")
    print("insn-floors: wrote %s" % path)
    return 0


def print_failure(cell, floor, got, verdict, path):
    if verdict == "above":
        print("insn-floors: FAIL %s: %.2f instructions per request, "
              "floor %.2f: the hot path grew; raise the floor in %s "
              "in the same commit, with the reason"
              % (cell, got, floor, os.path.relpath(path, REPO)))
    elif verdict == "below":
        print("insn-floors: FAIL %s: %.2f instructions per request, "
              "floor %.2f: lower the floor (--update) so the gain is "
              "kept" % (cell, got, floor))
    elif verdict == "missing":
        print("insn-floors: FAIL %s: not measured" % cell)
