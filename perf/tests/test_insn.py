# SPDX-License-Identifier: BSD-3-Clause
"""aiorperf.insn on fabricated data (no valgrind, no fio): the table's
medians and spreads of repeats, and insn-floors' verdicts, through
`compare.py insn-floors` too.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

from aiorperf import insn
from aiorperf.util import REPO


class Table(unittest.TestCase):
    """The median and spread of repeats, by part."""

    def row(self, cfg, fio, engine, libc, total, rep):
        return {"cell": "randread/4k/qd1/j1", "config": cfg, "rep": rep,
                "insn_fio": fio, "insn_engine": engine, "insn_libc": libc,
                "insn_total": total}

    def test_median_and_spread_of_repeats(self):
        rows = [self.row("aioring", 2200, 252, 14, 2500, 1),
                self.row("aioring", 2210, 252, 14, 2516, 2),
                self.row("aioring", 2205, 252, 14, 2503, 3),
                self.row("libaio", 2480, 0, 28, 2580, 1)]
        out = insn.summarize(rows, ["aioring", "libaio", "io_uring"],
                             ["randread/4k/qd1/j1"])
        self.assertEqual([r["config"] for r in out], ["aioring", "libaio"])
        a = out[0]
        self.assertEqual((a["reps"], a["total"], a["spread"]), (3, 2503, 16))
        self.assertEqual(a["parts"], {"fio": 2205, "libaioring.so": 252,
                                      "libc": 14, "rest": 34})
        self.assertEqual(a["part_spread"]["libaioring.so"], 0)
        self.assertEqual(a["part_spread"]["fio"], 10)
        self.assertEqual(out[1]["spread"], 0)

    def test_floors_cell_names(self):
        self.assertEqual(insn.floors_key("randwrite/4k/qd32/j1"),
                         "randwrite/4k/qd32")


class Floors(unittest.TestCase):
    """compare.py insn-floors: a cell off its floor either way fails."""

    FLOORS = {"tolerance": 0.5, "cells": {"randread/4k/qd1": 300.0,
                                          "randread/4k/qd32": 340.0}}

    def verdicts(self, measured):
        return {c: v for c, _, _, v in insn.check(self.FLOORS, measured)}

    def test_on_floor(self):
        self.assertEqual(self.verdicts({"randread/4k/qd1": 300.4,
                                        "randread/4k/qd32": 339.6}),
                         {"randread/4k/qd1": "ok", "randread/4k/qd32": "ok"})

    def test_above_and_below_and_missing(self):
        self.assertEqual(self.verdicts({"randread/4k/qd1": 301.0}),
                         {"randread/4k/qd1": "above",
                          "randread/4k/qd32": "missing"})
        self.assertEqual(self.verdicts({"randread/4k/qd1": 299.0,
                                        "randread/4k/qd32": 340.0}),
                         {"randread/4k/qd1": "below",
                          "randread/4k/qd32": "ok"})

    def test_too_low_floor_fails_the_command(self):
        """The whole door: a measurement over a floor set too low exits 1
        and names the cell; the same measurement on its floor exits 0."""
        with tempfile.TemporaryDirectory() as d:
            meas = os.path.join(d, "m.json")
            with open(meas, "w") as f:
                json.dump({"rows": [
                    {"cell": "randread/4k/qd1/j1", "config": "aioring",
                     "total": 2500, "parts": {"libaioring.so": 300.2}},
                    {"cell": "randread/4k/qd1/j1", "config": "libaio-ur",
                     "total": 2500, "parts": {"libaioring.so": 0}}]}, f)
            for floor, rc in ((250.0, 1), (300.0, 0)):
                path = os.path.join(d, "floors.json")
                with open(path, "w") as f:
                    json.dump({"tolerance": 0.5,
                               "cells": {"randread/4k/qd1": floor}}, f)
                p = subprocess.run(
                    [sys.executable,
                     os.path.join(REPO, "perf", "compare.py"),
                     "insn-floors", "--floors", path, "--measured", meas],
                    capture_output=True, text=True)
                self.assertEqual(p.returncode, rc, p.stdout + p.stderr)
                if rc:
                    self.assertIn("FAIL randread/4k/qd1", p.stdout)

