# SPDX-License-Identifier: BSD-3-Clause
"""aiorperf.sensitivity (`compare.py sensitivity`): its table and
--check, on fabricated runs (no fio, no build): the counting, the
re-judging of stored samples and both directions of the check.
"""

import contextlib
import io
import json
import math
import os
import random
import shutil
import tempfile
import unittest

from aiorperf import sensitivity

CELL = sensitivity.CELL


def fake_run(rdir, losses, seed, rounds=14, noise=0.01):
    """A results.json with base + one config per planted delay, each
    round's IOPS = base x (1 - loss) x noise."""
    rng = random.Random(seed)
    smp = []
    for r in range(1, rounds + 1):
        drift = 300000 * (1 + rng.uniform(-0.05, 0.05))   # shared by a round
        for name, loss in [("base", 0.0)] + list(losses.items()):
            iops = drift * (1 - loss) * (1 + rng.gauss(0, noise))
            smp.append({"cell": CELL, "config": name, "round": r, "ok": True,
                        "host": "local", "iops": iops,
                        "lat_p99_ns": 100000.0 * (1 + rng.gauss(0, noise)),
                        "cpu_us_per_io": 1e6 / iops * 0.95})
    os.makedirs(rdir)
    with open(os.path.join(rdir, "results.json"), "w") as f:
        json.dump({"configs": ["base"] + list(losses), "samples": smp,
                   "settings": {"budget_s": 300},
                   "env": {"kernel": "k", "cpu_model": "c", "nproc": 2,
                           "fio_version": "fio-3.33"}}, f)
    with open(os.path.join(rdir, "done.json"), "w") as f:
        json.dump({"rc": 0}, f)


def fake_count_run(rdir, plants, seed):
    """A --counts-only results.json: base and every plant counted twice;
    plants = {name: (extra engine instructions, extra syscalls)}."""
    rng = random.Random(seed)
    rows = []
    for rep in (1, 2):
        for name, (insn, sys_) in [("base", (0, 0))] + list(plants.items()):
            rows.append({"cell": CELL, "config": name, "rep": rep,
                         "insn_engine": 578.0 + insn,
                         "insn_fio": 2156 + rng.uniform(-0.2, 0.2),
                         "insn_libc": 11.45, "insn_total": 2746.0 + insn,
                         "sys_submit": 0.0323, "sys_getevents": 0.0,
                         "sys_other": 0.0001 + sys_,
                         "sys_total": 0.0324 + sys_, "ctx": 0.0})
    os.makedirs(rdir)
    with open(os.path.join(rdir, "results.json"), "w") as f:
        json.dump({"configs": ["base"] + list(plants), "samples": [],
                   "counts": rows}, f)
    with open(os.path.join(rdir, "done.json"), "w") as f:
        json.dump({"rc": 0}, f)


PLANTED = {"c0": {"planted_insns": 0},
           "i1pct": {"planted_insns": 6, "planted_share": 0.0104},
           "s32": {"planted_syscalls": 1, "per_requests": 32}}


class Table(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="aior-sens-test-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def study(self, losses, runs=20, check=True, plants=None):
        plants = plants or {"c0": (0, 0), "i1pct": (6, 0),
                            "s32": (8, 0.03125)}
        for i in range(1, runs + 1):
            fake_run(os.path.join(self.dir, "runs", "%02d" % i), losses, i)
            fake_count_run(os.path.join(self.dir, "count-runs", "%02d" % i),
                           plants, i)
        with open(os.path.join(self.dir, "planted.json"), "w") as f:
            json.dump(PLANTED, f)
        argv = ["--table-only", "--out", self.dir, "--runs", str(runs),
                "--delays", "0,100,320"] + (["--check"] if check else [])
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            rc = sensitivity.main(argv)
        with open(os.path.join(self.dir, "sensitivity.json")) as f:
            return rc, json.load(f)

    def test_counts_and_smallest_caught(self):
        rc, doc = self.study({"d0": 0.0, "d100": 0.01, "d320": 0.10})
        rows = {r["planted_ns"]: r for r in doc["rows"] if "planted_ns" in r}
        counted = {r["build"]: r for r in doc["rows"] if "build" in r}
        self.assertEqual(rc, 0)
        self.assertEqual(rows[320]["runs"], 20)
        self.assertEqual(rows[320]["flagged"], 20)
        self.assertEqual(rows[0]["flagged"], 0)
        self.assertAlmostEqual(rows[320]["loss_median"], 0.10, delta=0.01)
        # 1% is below the 3% IOPS threshold: never a regression.
        self.assertEqual(rows[100]["iops"].get("REGRESSION", 0), 0)
        self.assertEqual(counted["i1pct"]["flagged"], 20)
        self.assertEqual(counted["i1pct"]["planted_insns"], 6)
        self.assertEqual(counted["s32"]["flagged_by"].get("sys_total"), 20)
        self.assertEqual(counted["c0"]["flagged"], 0)
        self.assertEqual(doc["smallest_caught_95"]["planted_ns"], 320)
        with open(os.path.join(self.dir, "sensitivity.md")) as f:
            md = f.read()
        self.assertIn("**20/20**", md)
        self.assertIn("**0/20**", md)
        self.assertIn("1 system call per 32 requests", md)

    def test_check_fails_when_a_counted_plant_is_missed(self):
        rc, _ = self.study({"d0": 0.0, "d100": 0.0, "d320": 0.10}, runs=3,
                           plants={"c0": (0, 0), "i1pct": (0, 0),
                                   "s32": (8, 0.03125)})
        self.assertEqual(rc, 1)

    def test_check_fails_when_the_planted_loss_is_missed(self):
        rc, doc = self.study({"d0": 0.0, "d100": 0.0, "d320": 0.0}, runs=3)
        self.assertEqual(rc, 1)
        self.assertIsNone(doc["smallest_caught_95"])

    def test_check_fails_when_identical_builds_are_flagged(self):
        rc, _ = self.study({"d0": 0.10, "d100": 0.10, "d320": 0.10}, runs=3)
        self.assertEqual(rc, 1)

    def test_round_spread_is_the_sd_of_the_round_log_ratios(self):
        # Rounds of ratio e^+0.1, e^-0.1, e^+0.1, e^-0.1: sd 0.1155; a
        # dropped round and a round without the head are left out.
        smp = []
        for rnd, x in enumerate([0.1, -0.1, 0.1, -0.1, 5.0], 1):
            smp += [{"cell": CELL, "config": "base", "round": rnd,
                     "iops": 1000.0, "dropped": rnd == 5},
                    {"cell": CELL, "config": "d0", "round": rnd,
                     "iops": 1000.0 * math.exp(x), "dropped": rnd == 5}]
        smp.append({"cell": CELL, "config": "base", "round": 6,
                    "iops": 1.0})
        self.assertAlmostEqual(sensitivity.round_spread(smp, "d0"),
                               0.2 / math.sqrt(3), places=6)
        self.assertIsNone(sensitivity.round_spread(smp[:4], "d0"))

