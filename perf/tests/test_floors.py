# SPDX-License-Identifier: BSD-3-Clause
"""aiorperf.floors --record: a runner class's floors, from results
files, into the gate's own floors file.
"""

import json
import os
import tempfile
import unittest

from aiorperf.gate import normalize_floors
from .fixtures import CELL, RUNNER, RUNNER_B, samples


def results_doc(runner, ratio, corun=False, fio="fio-3.33"):
    """A compare.py results.json: aioring = ratio x libaio, 6 rounds."""
    smp = (samples(CELL, "libaio", [100.0] * 6) +
           samples(CELL, "aioring", [100.0 * ratio] * 6))
    for s in smp:
        if corun:
            s["corun"] = {"configs": ["aioring", "libaio"]}
    return {"env": {"runner": runner, "fio_version": fio, "date_utc": "x",
                    "git_describe": "g"},
            "samples": smp, "settings": {"rounds": 6, "runtime": 1.0}}


class RecordFloors(unittest.TestCase):
    """floors --record (aiorperf.floors): this runner class's floors into
    the gate's own file."""

    def record(self, floors, *docs, margins=()):
        from aiorperf import floors as floors_py
        d = tempfile.mkdtemp()
        self.addCleanup(__import__("shutil").rmtree, d)
        path = os.path.join(d, "floors.json")
        with open(path, "w") as f:
            json.dump(floors, f)
        paths = []
        for i, doc in enumerate(docs):
            paths.append(os.path.join(d, "r%d.json" % i))
            with open(paths[-1], "w") as f:
                json.dump(doc, f)
        from contextlib import redirect_stderr, redirect_stdout
        import io
        err = io.StringIO()
        with redirect_stdout(io.StringIO()), redirect_stderr(err):
            rc = floors_py.main(["--record", path] + list(margins) + paths)
        with open(path) as f:
            return rc, json.load(f), err.getvalue()

    def test_a_class_is_recorded_then_replaced_and_another_added(self):
        portable = {CELL: [{"vs": "libaio", "min_ratio": 1.25},
                           {"count": "sys_submit", "max_per_io": 0.05}]}
        rc, got, _ = self.record(portable, results_doc(RUNNER, 3.0),
                                 results_doc(RUNNER, 4.0))
        self.assertEqual(rc, 0)
        self.assertEqual(got[CELL], portable[CELL])     # left as it was
        (entry,) = got["runner_classes"]
        self.assertEqual(entry["runner"]["kernel"], RUNNER["kernel"])
        (fl,) = entry["floors"][CELL]
        # The worst run, less the solo margin (20% by default).
        self.assertEqual((fl["min_ratio"], fl["run_mode"]), (2.4, "solo"))
        # Again on the same class: replaced; on another: added.
        rc, got2, _ = self.record(got, results_doc(RUNNER, 2.0, True),
                                  results_doc(RUNNER, 2.5, True),
                                  margins=["--co-run-margin", "0.1"])
        (entry,) = got2["runner_classes"]
        (fl,) = entry["floors"][CELL]
        self.assertEqual((fl["min_ratio"], fl["run_mode"]), (1.8, "co-run"))
        rc, got3, _ = self.record(got2, results_doc(RUNNER_B, 1.6),
                                  results_doc(RUNNER_B, 1.5))
        self.assertEqual(len(got3["runner_classes"]), 2)
        normalize_floors(got3)

    def test_runs_of_two_classes_or_modes_are_refused(self):
        fl = {CELL: {"vs": "libaio", "min_ratio": 1.25}}
        rc, got, err = self.record(fl, results_doc(RUNNER, 3.0),
                                   results_doc(RUNNER_B, 1.6))
        self.assertEqual(rc, 2)
        self.assertIn("two runner classes", err)
        self.assertNotIn("runner_classes", got)
        rc, _, err = self.record(fl, results_doc(RUNNER, 3.0),
                                 results_doc(RUNNER, 3.0, corun=True))
        self.assertEqual(rc, 2)
        self.assertIn("mix co-runs and solo runs", err)
        rc, _, err = self.record(fl, dict(results_doc(RUNNER, 3.0),
                                          env={"fio_version": "x"}))
        self.assertEqual(rc, 2)
        self.assertIn("records no runner class", err)

