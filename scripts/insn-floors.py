#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The engine's own user-space instructions per request, checked against
committed floors (jobs/insn-floors.json): a count, not a timing, so CI
checks it exactly whatever the machine's load.

    python3 scripts/insn-floors.py                  # check build/libaioring.so
    python3 scripts/insn-floors.py --update         # rewrite the floors
    python3 scripts/insn-floors.py --measured a.json --measured b.json

Each cell (rw x iodepth) runs scripts/insn-per-io.py on the engine alone
and takes the libaioring.so column: what the engine's own code runs per
request.  A cell off its floor by more than the file's tolerance fails:
above it, a change added instructions to the hot path (raise the floor in
the same commit and say why in its message and in the file's "why");
below it, a change saved some (lower the floor, so the gain is kept).
--measured reads insn-per-io.py --json files instead of running anything.
Exit 0 when every cell is on its floor, 1 when one is not, 2 on bad use.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOORS = os.path.join(REPO, "jobs", "insn-floors.json")
PART = "libaioring.so"


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


def render(rows, tol):
    out = ["%-22s %8s %10s  %s" % ("cell", "floor", "measured", "verdict")]
    for cell, floor, got, verdict in rows:
        out.append("%-22s %8.2f %10s  %s" % (
            cell, floor, "-" if got is None else "%.2f" % got, verdict))
    out.append("(tolerance %.2f instructions per request)" % tol)
    return "\n".join(out)


def read_measured(paths):
    """{cell: engine instructions} from insn-per-io.py --json files."""
    got = {}
    for path in paths:
        with open(path) as f:
            for row in json.load(f)["rows"]:
                if row["config"] == "aioring":
                    got[row["cell"]] = row["parts"][PART]
    return got


def measure(floors, engine, scratch):
    """Run insn-per-io.py once per rw of the floors file."""
    by_rw = {}
    for cell in floors["cells"]:
        rw, bs, qd = cell.split("/")
        by_rw.setdefault((rw, bs), []).append(qd[len("qd"):])
    paths = []
    for (rw, bs), qds in sorted(by_rw.items()):
        path = os.path.join(scratch, "%s-%s.json" % (rw, bs))
        subprocess.run([sys.executable,
                        os.path.join(REPO, "scripts", "insn-per-io.py"),
                        "--rw", rw, "--bs", bs, "--qd", ",".join(qds),
                        "--configs", "aioring", "--engine", engine,
                        "--ios", str(floors.get("ios", 20000)),
                        "--json", path], check=True)
        paths.append(path)
    return read_measured(paths)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--floors", default=FLOORS)
    ap.add_argument("--engine",
                    default=os.path.join(REPO, "build", "libaioring.so"))
    ap.add_argument("--measured", action="append", metavar="JSON")
    ap.add_argument("--update", action="store_true",
                    help="write what was measured as the new floors")
    args = ap.parse_args()

    try:
        with open(args.floors) as f:
            floors = json.load(f)
        floors["cells"]
    except (OSError, ValueError, KeyError) as e:
        ap.error("--floors %s: %s" % (args.floors, e))
    if args.measured:
        measured = read_measured(args.measured)
    else:
        if not os.path.isfile(args.engine):
            ap.error("--engine %s: no such file (build first)" % args.engine)
        with tempfile.TemporaryDirectory(prefix="aior-floors-") as scratch:
            measured = measure(floors, args.engine, scratch)

    if args.update:
        for cell in floors["cells"]:
            if cell in measured:
                floors["cells"][cell] = round(measured[cell], 2)
        with open(args.floors, "w") as f:
            json.dump(floors, f, indent=1, sort_keys=True)
            f.write("\n")
        print("insn-floors: wrote %s" % args.floors)
        return 0

    rows = check(floors, measured)
    print(render(rows, floors.get("tolerance", 0)))
    bad = [r for r in rows if r[3] != "ok"]
    for cell, floor, got, verdict in bad:
        if verdict == "above":
            print("insn-floors: FAIL %s: %.2f instructions per request, "
                  "floor %.2f: the hot path grew; raise the floor in %s "
                  "in the same commit, with the reason"
                  % (cell, got, floor, os.path.relpath(args.floors, REPO)))
        elif verdict == "below":
            print("insn-floors: FAIL %s: %.2f instructions per request, "
                  "floor %.2f: lower the floor (--update) so the gain is "
                  "kept" % (cell, got, floor))
        else:
            print("insn-floors: FAIL %s: not measured" % cell)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
