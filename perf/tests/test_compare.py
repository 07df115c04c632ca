#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Self-check of compare.py's gate and parsing, on fabricated samples.

Run: python3 -m unittest discover -s perf/tests
  or python3 perf/tests/test_compare.py
Needs no fio and no engine.  Every test asserts values that a wrong gate
(wrong comparison direction, no noise check, no pairing...) would miss.
"""

import json
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True     # keep the tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from aiorperf import cli  # noqa: E402
from aiorperf import ceiling, fioout, plan, run, state, util  # noqa: E402
from aiorperf import report as compare_report  # noqa: E402
from aiorperf import samples as compare_samples  # noqa: E402
from aiorperf.gate import (FAIL, INCONCLUSIVE, OTHER_CLASS,  # noqa: E402
                          PASS, cov, evaluate_gate, judged_here,
                          needed_runs, normalize_floors, place_floors,
                          verdicts_exit_code as gate_exit_code)
from aiorperf.plan import base_cell, parse_cell_key  # noqa: E402

CELL = "randread/4k/qd32/j1"


def samples(cell, config, values, key="iops", ok=True):
    return [{"cell": cell, "config": config, "round": i + 1, "ok": ok,
             key: v} for i, v in enumerate(values)]


def gate(floors_json, smp, **kw):
    return evaluate_gate(normalize_floors(floors_json), smp, **kw)


class GateVerdicts(unittest.TestCase):
    def test_pass_when_every_round_clears_the_floor(self):
        smp = (samples(CELL, "aioring", [200, 202, 198]) +
               samples(CELL, "libaio", [100, 101, 99]))
        (g,) = gate({CELL: {"vs": "libaio", "min_ratio": 1.75}}, smp)
        self.assertEqual(g["verdict"], PASS, g["reason"])
        self.assertAlmostEqual(g["ratio"], 2.0)
        self.assertLessEqual(g["lo"], 2.0)
        self.assertGreaterEqual(g["hi"], 2.0)
        self.assertGreaterEqual(g["lo"], 1.75)
        self.assertEqual(g["n"], 3)
        self.assertEqual(gate_exit_code([g]), 0)

    def test_fail_when_every_round_misses_the_floor(self):
        smp = (samples(CELL, "aioring", [150, 151, 149]) +
               samples(CELL, "libaio", [100, 101, 99]))
        (g,) = gate({CELL: {"vs": "libaio", "min_ratio": 1.75}}, smp)
        self.assertEqual(g["verdict"], FAIL)
        self.assertAlmostEqual(g["ratio"], 1.5)
        self.assertRegex(g["reason"], r"interval 1\.4\d*\.\.1\.5\d* < 1\.750")
        self.assertEqual(gate_exit_code([g]), 1)
        self.assertEqual(gate_exit_code([g], strict=True), 1)

    def test_inconclusive_when_rounds_straddle_the_floor(self):
        # Quiet sides (CoV < 10%) but per-round ratios 1.65..1.85.
        smp = (samples(CELL, "aioring", [165, 185, 176]) +
               samples(CELL, "libaio", [100, 100, 100]))
        (g,) = gate({CELL: {"vs": "libaio", "min_ratio": 1.75}}, smp)
        self.assertEqual(g["verdict"], INCONCLUSIVE)
        self.assertIn("straddles", g["reason"])
        self.assertEqual(gate_exit_code([g]), 0)
        self.assertEqual(gate_exit_code([g], strict=True), 3)

    def test_noise_is_weighed_against_the_margin(self):
        # libaio's CoV is ~26% (the old CoV cutoff made this inconclusive),
        # but every round is far above 1.75: the interval clears it.
        smp = (samples(CELL, "aioring", [400, 400, 400]) +
               samples(CELL, "libaio", [70, 100, 120]))
        (g,) = gate({CELL: {"vs": "libaio", "min_ratio": 1.75}}, smp)
        self.assertEqual(g["verdict"], PASS, g["reason"])
        self.assertGreater(g["cov_ref"], 0.10)
        # The same noise against a floor close to the ratio: undecided.
        (g,) = gate({CELL: {"vs": "libaio", "min_ratio": 3.5}}, smp)
        self.assertEqual(g["verdict"], INCONCLUSIVE)
        # More rounds of the same spread narrow the interval: decided.
        smp = (samples(CELL, "aioring", [400] * 12) +
               samples(CELL, "libaio", [70, 100, 120] * 4))
        (g,) = gate({CELL: {"vs": "libaio", "min_ratio": 3.2}}, smp)
        self.assertEqual(g["verdict"], PASS, g["reason"])

    def test_ratio_is_of_medians_not_of_means(self):
        # Medians 200/100 = 2.0; the means would give 208.7/100.
        smp = (samples(CELL, "aioring", [196, 200, 230]) +
               samples(CELL, "libaio", [100, 100, 100]))
        (g,) = gate({CELL: {"vs": "libaio", "min_ratio": 1.6}}, smp)
        self.assertAlmostEqual(g["ratio"], 2.0)
        self.assertEqual(g["verdict"], PASS)

    def test_a_round_missing_on_one_side_is_not_paired(self):
        # libaio's round 1 failed: rounds 2 and 3 pair up (ratios 2.0 and
        # 2.2); round 1's subject value (1000) must not enter the spread.
        smp = (samples(CELL, "aioring", [1000, 200, 220, 210]) +
               samples(CELL, "libaio", [100, 100, 100, 100])[1:])
        (g,) = gate({CELL: {"vs": "libaio", "min_ratio": 1.5}}, smp)
        self.assertEqual(g["n"], 3)
        self.assertLess(g["hi"], 2.5)
        self.assertEqual(g["verdict"], PASS, g["reason"])

    def test_rounds_are_paired_by_round_number(self):
        # Paired per-round ratios are all 2.0 although the values drift
        # 3x: pairing by position in a shuffled list would straddle.
        smp = (samples(CELL, "aioring", [200, 400, 600]) +
               samples(CELL, "libaio", [100, 200, 300]))
        smp.reverse()
        (g,) = gate({CELL: {"vs": "libaio", "min_ratio": 1.9}}, smp)
        self.assertAlmostEqual(g["lo"], 2.0)
        self.assertAlmostEqual(g["hi"], 2.0)
        self.assertEqual(g["verdict"], PASS)

    def test_failed_runs_are_ignored_and_can_leave_too_few_rounds(self):
        smp = (samples(CELL, "aioring", [200, 200, 200]) +
               samples(CELL, "libaio", [100]) +
               [{"cell": CELL, "config": "libaio", "round": 2, "ok": False,
                 "iops": 1.0}])
        (g,) = gate({CELL: {"vs": "libaio", "min_ratio": 1.5}}, smp)
        self.assertEqual(g["verdict"], INCONCLUSIVE)
        self.assertEqual(g["n"], 1)
        self.assertIn("need 3", g["reason"])

    def test_missing_reference_is_inconclusive_not_pass(self):
        smp = samples(CELL, "aioring", [200, 200, 200])
        (g,) = gate({CELL: {"vs": "io_uring", "min_ratio": 1.0}}, smp)
        self.assertEqual(g["verdict"], INCONCLUSIVE)
        self.assertIn("reference not measured", g["reason"])

    def test_latency_floor_is_a_maximum(self):
        key = "lat_p50_ns"
        lower = (samples(CELL, "aioring", [900, 910, 905], key) +
                 samples(CELL, "libaio", [1000, 1010, 1005], key))
        floor = {CELL: {"vs": "libaio", "metric": "p50", "max_ratio": 1.0}}
        (g,) = gate(floor, lower)
        self.assertEqual(g["verdict"], PASS, g["reason"])
        self.assertEqual(g["kind"], "max")
        higher = (samples(CELL, "aioring", [1200, 1210, 1205], key) +
                  samples(CELL, "libaio", [1000, 1010, 1005], key))
        (g,) = gate(floor, higher)
        self.assertEqual(g["verdict"], FAIL)
        self.assertIn("> 1.000", g["reason"])

    def test_files_cell_is_compared_with_one_file_of_same_config(self):
        fcell = CELL + "/files64"
        smp = (samples(fcell, "aioring", [95, 96, 94]) +
               samples(CELL, "aioring", [100, 100, 100]) +
               samples(CELL, "libaio", [10, 10, 10]))
        floor = {fcell: {"vs": "aioring-1file", "min_ratio": 0.9}}
        (g,) = gate(floor, smp)
        self.assertEqual((g["ref_cell"], g["ref_config"]), (CELL, "aioring"))
        self.assertAlmostEqual(g["ratio"], 0.95)
        self.assertEqual(g["verdict"], PASS)
        smp_bad = (samples(fcell, "aioring", [80, 81, 79]) +
                   samples(CELL, "aioring", [100, 100, 100]))
        (g,) = gate(floor, smp_bad)
        self.assertEqual(g["verdict"], FAIL)

    def test_several_floors_per_cell_and_worst_wins(self):
        smp = (samples(CELL, "aioring", [200, 200, 200]) +
               samples(CELL, "libaio", [100, 100, 100]) +
               samples(CELL, "io_uring", [250, 250, 250]))
        res = gate({CELL: [{"vs": "libaio", "min_ratio": 1.75},
                           {"vs": "io_uring", "min_ratio": 1.0}]}, smp)
        self.assertEqual([r["verdict"] for r in res], [PASS, FAIL])
        self.assertEqual(gate_exit_code(res), 1)

    def test_subject_config_can_be_chosen(self):
        smp = (samples(CELL, "libaio-ur", [130, 130, 130]) +
               samples(CELL, "libaio", [100, 100, 100]))
        (g,) = gate({CELL: {"config": "libaio-ur", "vs": "libaio",
                            "min_ratio": 1.2}}, smp)
        self.assertEqual(g["verdict"], PASS)


class FloorsFile(unittest.TestCase):
    def test_bad_floors_are_rejected_with_the_cell_named(self):
        bad = [
            ({"randread/4k/qd32": {"vs": "libaio", "min_ratio": 1}},
             "bad cell key"),
            ({CELL: {"min_ratio": 1}}, "without \"vs\""),
            ({CELL: {"vs": "libaio"}}, "exactly one"),
            ({CELL: {"vs": "libaio", "min_ratio": 1, "max_ratio": 2}},
             "exactly one"),
            ({CELL: {"vs": "libaio", "min_ratio": -1}}, "> 0"),
            ({CELL: {"vs": "libaio", "min_ratio": "2"}}, "> 0"),
            ({CELL: {"vs": "libaio", "metric": "p42", "max_ratio": 1}},
             "unknown metric"),
            ({CELL: {"vs": "aioring", "min_ratio": 1}}, "with itself"),
            ([], "JSON object"),
        ]
        for data, msg in bad:
            with self.subTest(data=data):
                with self.assertRaises(ValueError) as cm:
                    normalize_floors(data)
                self.assertIn(msg, str(cm.exception))

    def test_comments_and_informational_keys_are_ignored(self):
        fl = normalize_floors({
            "_comment": "x",
            CELL: {"vs": "libaio", "min_ratio": 1.5,
                   "measured": {"aioring": 1, "libaio": 1}, "basis": "y"}})
        self.assertEqual(len(fl), 1)
        self.assertEqual(fl[0]["config"], "aioring")
        self.assertEqual(fl[0]["metric"], "iops")

    def test_needed_runs_include_the_one_file_reference(self):
        fl = normalize_floors({CELL + "/files64": {
            "vs": "aioring-1file", "min_ratio": 0.9}})
        self.assertEqual(needed_runs(fl), [(CELL + "/files64", "aioring"),
                                           (CELL, "aioring")])

    def test_bad_count_floors_and_classes_are_rejected(self):
        bad = [
            ({CELL: {"count": "sys_open", "max_per_io": 1}},
             "unknown count 'sys_open'"),
            ({CELL: {"count": "sys_submit"}}, "needs \"max_per_io\""),
            ({CELL: {"count": "sys_submit", "max_per_io": -0.1}}, ">= 0"),
            ({"runner_classes": {}}, "must be a list"),
            ({"runner_classes": [{"floors": {}}]},
             "runner_classes[0]: needs a \"runner\""),
            ({"runner_classes": [{"runner": {}, "floors": {CELL: {
                "vs": "libaio"}}}]}, "runner_classes[0]: %s: give exactly"
             % CELL),
        ]
        for data, msg in bad:
            with self.subTest(data=data):
                with self.assertRaises(ValueError) as cm:
                    normalize_floors(data)
                self.assertIn(msg, str(cm.exception))

    def test_shipped_floors_files_are_valid(self):
        jobs = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "jobs")
        for name in ("floors.json", "floors-ci.json"):
            path = os.path.join(jobs, name)
            if not os.path.exists(path):
                self.fail("%s is missing" % path)
            with open(path) as f:
                fl = normalize_floors(json.load(f))
            self.assertTrue(fl, name)
            with open(path) as f:
                raw = json.load(f)
            tables = [raw] + [c["floors"] for c in
                              raw.get("runner_classes", [])]
            for table in tables:
                for cell, spec in table.items():
                    if cell.startswith("_") or cell in (
                            "runner_classes", "co_run_cells"):
                        continue
                    for one in spec if isinstance(spec, list) else [spec]:
                        self.assertIn("measured", one, "%s %s" % (name,
                                                                  cell))
        # The CI gate's floors name the runner classes they hold on, and
        # judge the system calls that coalescing saves, on any runner.
        with open(os.path.join(jobs, "floors-ci.json")) as f:
            raw = json.load(f)
        for c in raw["runner_classes"]:
            self.assertTrue(c["runner"].get("syscall_ns"), c["runner"])
        counts = {(cell, one["count"]) for cell, spec in raw.items()
                  if isinstance(spec, list) for one in spec if "count" in one}
        for cell in ("randread/4k/qd32/j1", "randwrite/4k/qd32/j1"):
            for key in ("sys_submit", "sys_getevents", "sys_other"):
                self.assertIn((cell, key), counts)


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
    """perf/floors.py --record: this runner class's floors into the
    gate's own file."""

    def record(self, floors, *docs, margins=()):
        import floors as floors_py
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


RUNNER = {"cpu_model": "EPYC", "vcpus": 2, "kernel": "6.18.44-v1272",
          "virtualization": "PVM", "syscall_ns": 950.0}
RUNNER_B = dict(RUNNER, kernel="6.18.44-v1300", syscall_ns=215.0)
FLOORS = {
    CELL: [{"vs": "libaio", "min_ratio": 1.25},
           {"count": "sys_submit", "max_per_io": 0.05},
           {"count": "sys_other", "max_per_io": 0.005}],
    "runner_classes": [{"runner": RUNNER, "fio_version": "fio-3.33",
                        "floors": {CELL: {"vs": "libaio",
                                          "min_ratio": 2.0}}}]}


def count_rows(cell, config, **per_request):
    """Two repeats of a count run: {key: [rep1, rep2]}."""
    return [dict({k: v[i] for k, v in per_request.items()}, cell=cell,
                 config=config, rep=i + 1) for i in range(2)]


class RunnerClassesAndCounts(unittest.TestCase):
    """Floors that travel: counts judge on any runner, timed floors of a
    runner class only on that class."""

    def timed(self, ratio):
        return (samples(CELL, "libaio", [100.0] * 6) +
                samples(CELL, "aioring", [100.0 * ratio * (1 + d) for d in
                                          (-.01, 0, .01, -.01, 0, .01)]))

    def test_on_the_recorded_class_its_floors_judge(self):
        fl = place_floors(normalize_floors(FLOORS), RUNNER, "fio-3.33")
        self.assertEqual(len(judged_here(fl)), 4)
        rows = count_rows(CELL, "aioring", sys_submit=[0.0322, 0.0321],
                          sys_other=[0.0, -0.0001])
        res = evaluate_gate(fl, self.timed(1.6), count_rows=rows)
        self.assertEqual([r["verdict"] for r in res],
                         [PASS, PASS, PASS, FAIL])
        self.assertIn("interval", res[3]["reason"])

    def test_on_another_class_its_floors_are_reported_not_failed(self):
        # The machine of issue 21: 1.6x libaio there, against a floor of
        # 2.0 recorded where a system call costs 950 ns.
        fl = place_floors(normalize_floors(FLOORS), RUNNER_B, "fio-3.33",
                          "jobs/floors-ci.json")
        self.assertEqual(len(judged_here(fl)), 3)
        self.assertEqual(needed_runs(judged_here(fl)),
                         [(CELL, "aioring"), (CELL, "libaio")])
        rows = count_rows(CELL, "aioring", sys_submit=[0.0322, 0.0321],
                          sys_other=[0.0, 0.0])
        res = evaluate_gate(fl, self.timed(1.6), count_rows=rows)
        self.assertEqual([r["verdict"] for r in res],
                         [PASS, PASS, PASS, OTHER_CLASS])
        why = res[3]["reason"]
        self.assertIn("measured on another runner class", why)
        self.assertIn("kernel '6.18.44-v1300' here, '6.18.44-v1272' "
                      "recorded", why)
        self.assertIn("one system call 215 ns here, 950 ns recorded", why)
        self.assertIn("perf/floors.py --record jobs/floors-ci.json", why)
        self.assertEqual(gate_exit_code(res, strict=True), 0)
        self.assertEqual(compare_report.gate_banner(res),
                         "GATE PASSED: 3 pass, 0 fail, 0 inconclusive, "
                         "1 of another runner class")

    def test_a_floor_recorded_co_run_judges_only_a_co_run(self):
        data = {"co_run_cells": [CELL], "runner_classes": [
            {"runner": RUNNER, "fio_version": "fio-3.33", "floors": {
                CELL: {"vs": "libaio", "min_ratio": 2.0,
                       "run_mode": "co-run"}}}]}
        fl = normalize_floors(data)
        here = place_floors(fl, RUNNER, "fio-3.33", corun=[CELL])
        self.assertIsNone(here[0]["elsewhere"])
        solo = place_floors(fl, RUNNER, "fio-3.33")
        self.assertEqual(solo[0]["elsewhere"],
                         ["a solo run here, co-run recorded"])
        with self.assertRaises(ValueError):
            normalize_floors({"co_run_cells": ["randread/4k"]})
        with self.assertRaises(ValueError):
            normalize_floors({"co_run_cells": CELL})

    def test_a_latency_floor_is_not_judged_on_a_co_run(self):
        smp = self.timed(1.6)
        for x in smp:
            x.update(corun={"configs": ["aioring", "libaio"]},
                     lat_p50_ns=1000.0)
        (r,) = evaluate_gate(normalize_floors({CELL: {
            "vs": "libaio", "metric": "p50", "max_ratio": 1.2}}), smp)
        self.assertEqual(r["verdict"], INCONCLUSIVE)
        self.assertIn("not judged in a co-run", r["reason"])

    def test_another_fio_is_another_class_too(self):
        fl = place_floors(normalize_floors(FLOORS), RUNNER, "fio-3.36")
        (other,) = [f for f in fl if f["elsewhere"]]
        self.assertIn("fio fio-3.36 here, fio-3.33 recorded",
                      other["elsewhere"])

    def test_coalescing_that_stops_holding_fails_on_any_runner(self):
        # coalesce=off: one io_submit() per request, whatever the timing.
        for runner in (RUNNER, RUNNER_B):
            fl = place_floors(normalize_floors(FLOORS), runner, "fio-3.33")
            rows = count_rows(CELL, "aioring", sys_submit=[1.0, 1.0],
                              sys_other=[0.0, 0.0])
            res = evaluate_gate(fl, self.timed(1.6), count_rows=rows)
            self.assertEqual(res[1]["verdict"], FAIL)
            self.assertEqual(res[1]["reason"], "1 per request > 0.05 in 2 "
                             "of 2 repeat(s)")
            self.assertEqual(gate_exit_code(res), 1)

    def test_one_system_call_per_32_requests_fails(self):
        fl = place_floors(normalize_floors(FLOORS), RUNNER_B, "fio-3.33")
        rows = count_rows(CELL, "aioring", sys_submit=[0.0322, 0.0322],
                          sys_other=[0.0312, 0.0313])
        res = evaluate_gate(fl, self.timed(1.6), count_rows=rows)
        self.assertEqual([r["verdict"] for r in res[:3]],
                         [PASS, PASS, FAIL])

    def test_one_repeat_over_the_ceiling_fails(self):
        fl = normalize_floors({CELL: {"count": "sys_submit",
                                      "max_per_io": 0.05}})
        res = evaluate_gate(fl, [], count_rows=count_rows(
            CELL, "aioring", sys_submit=[0.03, 0.06]))
        self.assertEqual(res[0]["verdict"], FAIL)
        self.assertIn("1 of 2 repeat(s)", res[0]["reason"])

    def test_a_count_not_taken_is_inconclusive(self):
        fl = normalize_floors({CELL: {"count": "sys_submit",
                                      "max_per_io": 0.05}})
        (r,) = evaluate_gate(fl, [], count_rows=[])
        self.assertEqual((r["verdict"], r["reason"]),
                         (INCONCLUSIVE, "not counted"))

    def test_count_floors_render_in_every_format(self):
        fl = place_floors(normalize_floors(FLOORS), RUNNER_B, "fio-3.33")
        res = evaluate_gate(fl, self.timed(1.6), count_rows=count_rows(
            CELL, "aioring", sys_submit=[0.0322, 0.0321],
            sys_other=[0.0, 0.0]))
        text = compare_report.gate_text(res)
        self.assertIn("io_submit calls per request <= 0.05", text)
        self.assertIn("OTHER CLASS", text)
        self.assertIn("io_submit calls per request <= 0.05",
                      compare_report.gate_md(res))
        xml = compare_report.junit_xml([("floors", res)])
        self.assertIn('skipped="1"', xml)
        self.assertIn("measured on another runner class", xml)


class Helpers(unittest.TestCase):
    def test_cell_keys(self):
        self.assertEqual(parse_cell_key("randwrite/128k/qd128/j2/files64"),
                         {"rw": "randwrite", "bs": "128k", "qd": 128,
                          "jobs": 2, "files": 64})
        self.assertEqual(base_cell(CELL + "/files64"), CELL)
        with self.assertRaises(ValueError):
            parse_cell_key("randread/4k/32/j1")

    def test_cov(self):
        self.assertIsNone(cov([5]))
        self.assertEqual(cov([3, 3, 3]), 0.0)
        self.assertAlmostEqual(cov([90, 100, 110]), 0.1)

    def test_sizes(self):
        self.assertEqual(util.parse_size("4k"), 4096)
        self.assertEqual(util.parse_size("1G"), 1 << 30)
        self.assertEqual(util.parse_size("512"), 512)


FIO_JSON = {
    "fio version": "fio-3.33",
    "jobs": [{
        "jobname": "aior-bench", "error": 0, "job_runtime": 2000,
        "usr_cpu": 25.0, "sys_cpu": 75.0, "ctx": 100,
        "read": {"iops": 500000.0, "bw": 2000000, "total_ios": 1000000,
                 "lat_ns": {"percentile": {"50.000000": 1500,
                                           "99.000000": 3000,
                                           "99.900000": 9000}}},
        "write": {"iops": 0.0, "bw": 0, "total_ios": 0,
                  "lat_ns": {"percentile": {}}},
    }]}


class FioOutput(unittest.TestCase):
    def test_metrics_cpu_per_io_and_latency(self):
        m = fioout.metrics_from_json(FIO_JSON, "randread")
        # (25% + 75%) x 2 s = 2 CPU s over 1e6 I/Os = 2 us per I/O.
        self.assertAlmostEqual(m["cpu_us_per_io"], 2.0)
        self.assertAlmostEqual(m["usr_us_per_io"], 0.5)
        self.assertAlmostEqual(m["sys_us_per_io"], 1.5)
        self.assertAlmostEqual(m["ctx_per_io"], 1e-4)
        self.assertEqual(m["iops"], 500000.0)
        self.assertEqual((m["lat_p50_ns"], m["lat_p99_ns"], m["lat_p999_ns"]),
                         (1500, 3000, 9000))

    def test_engine_stats_before_json_are_parsed(self):
        text = ("libaioring: job 'aior-bench': contexts=1 submitted=10 "
                "eagain=2\nlibaioring: job 'aior-bench': contexts=1 "
                "submitted=5 eagain=0\nfio: some warning\n"
                + json.dumps(FIO_JSON, indent=2))
        data, stats, other = fioout.parse_fio_output(text)
        self.assertEqual(stats, {"contexts": 2, "submitted": 15, "eagain": 2})
        self.assertEqual(other, ["fio: some warning"])
        self.assertEqual(data["jobs"][0]["job_runtime"], 2000)

    def test_engine_stats_on_stderr_are_parsed(self):
        err = ("fio: some warning\n"
               "libaioring: job 'aior-bench': contexts=1 submitted=10 "
               "eagain=2\nlibaioring: /x: aio_block_size=4096 differs\n"
               "libaioring: job 'aior-bench': contexts=1 submitted=5 "
               "eagain=0\n")
        data, stats, other = fioout.parse_fio_output(
            json.dumps(FIO_JSON, indent=2), err)
        self.assertEqual(stats, {"contexts": 2, "submitted": 15, "eagain": 2})
        self.assertEqual(other, ["libaioring: /x: aio_block_size=4096 differs"])
        self.assertEqual(data["jobs"][0]["job_runtime"], 2000)

    def test_unusable_output_raises(self):
        with self.assertRaises(ValueError):
            fioout.parse_fio_output("fio: engine failed to load\n")
        with self.assertRaises(ValueError):
            fioout.parse_fio_output('{"jobs": [')
        broken = json.loads(json.dumps(FIO_JSON))
        broken["jobs"][0]["error"] = 5
        with self.assertRaises(ValueError):
            fioout.metrics_from_json(broken, "randread")
        idle = json.loads(json.dumps(FIO_JSON))
        idle["jobs"][0]["read"]["total_ios"] = 0
        with self.assertRaises(ValueError):
            fioout.metrics_from_json(idle, "randread")

    def test_t_io_uring_output(self):
        out = ("Engine=aio\nIOPS=100.00K, BW=1MiB/s, IOS/call=1/1\n"
               "IOPS=780.51K, BW=3.05GiB/s, IOS/call=16/16\n"
               "IOPS=1.20M, BW=3.20GiB/s, IOS/call=16/16\n"
               "IOPS=819.68K, BW=3.20GiB/s, IOS/call=16/16\n"
               "Maximum IOPS=1.20M\n")
        self.assertAlmostEqual(ceiling.parse_tio(out, True), 819680.0)
        self.assertAlmostEqual(ceiling.parse_tio(out, False), 800095.0)
        with self.assertRaises(ValueError):
            ceiling.parse_tio("queue setup failed\n", True)


class Plan(unittest.TestCase):
    def args(self, *argv):
        return cli.parse_args(list(argv))

    def test_default_quick_and_full_cells(self):
        self.assertEqual(plan.build_cells(self.args()), [
            "randread/4k/qd1/j1", "randread/4k/qd32/j1",
            "randread/4k/qd32/j1/files64", "randread/4k/qd128/j1",
            "randwrite/4k/qd32/j1"])
        q = self.args("--quick")
        self.assertEqual(plan.build_cells(q), plan.QUICK_CELLS)
        self.assertEqual((q.rounds, q.runtime, q.ramp_time), (6, 1.0, 0.25))
        full = plan.build_cells(self.args("--full"))
        self.assertEqual(len([c for c in full if "files" not in c]), 36)
        self.assertEqual(len([c for c in full if "files" in c]), 6)

    def test_matrix_flags_and_files(self):
        cells = plan.build_cells(self.args("--rw", "randwrite", "--qd",
                                              "1,128", "--files", "8"))
        self.assertEqual(cells, ["randwrite/4k/qd1/j1",
                                 "randwrite/4k/qd1/j1/files8",
                                 "randwrite/4k/qd128/j1",
                                 "randwrite/4k/qd128/j1/files8"])
        self.assertNotIn("files", " ".join(
            plan.build_cells(self.args("--files", "0"))))

    def test_fio_command_is_identical_but_for_the_engine(self):
        a = self.args("--engine", "/x/libaioring.so", "--aior-opt",
                      "wait_mode=spin")
        t = {"path": "/t", "size": 1 << 30, "pass_size": True,
             "readonly": False, "files": {}}
        cmds = {c: plan.fio_cmd(a, t, "randread/4k/qd128/j2", c)
                for c in ("aioring", "libaio", "libaio-ur", "io_uring",
                          "aioring:reap_mode=syscall")}
        common = [x for x in cmds["libaio"] if not x.startswith(
            "--ioengine")]
        for c, cmd in cmds.items():
            self.assertEqual(cmd[:len(common)], common, c)
        self.assertIn("--iodepth_batch_submit=32", common)
        self.assertIn("--iodepth_batch_complete_max=32", common)
        self.assertIn("--numjobs=2", common)
        self.assertEqual(cmds["aioring"][len(common):], [
            "--ioengine=external:/x/libaioring.so", "--wait_mode=spin"])
        self.assertEqual(cmds["libaio-ur"][len(common):], [
            "--ioengine=libaio", "--userspace_reap=1",
            "--iodepth_batch_complete_min=0"])
        self.assertEqual(cmds["aioring:reap_mode=syscall"][-1],
                         "--reap_mode=syscall")

    def test_corun_is_one_fio_with_a_job_per_build_on_one_cpu(self):
        a = self.args("--engine", "base=/b.so", "--engine", "head=/h.so",
                      "--cpus-allowed", "0-1")
        t = {"path": "/dev/shm/t", "size": 1 << 28, "pass_size": True,
             "readonly": False, "files": {}, "kind": "ram"}
        cmd = plan.corun_cmd(a, t, "randread/4k/qd32/j1", ["head", "base"],
                             run.corun_cpu(a))
        self.assertEqual(run.corun_cpu(a), 1)
        self.assertEqual([x for x in cmd if x.startswith("--cpus_allowed")],
                         ["--cpus_allowed=1"])
        self.assertNotIn("--group_reporting=1", cmd)
        i, j = cmd.index("--name=corun0"), cmd.index("--name=corun1")
        # The cell's options come before the first job: global to both.
        self.assertIn("--iodepth=32", cmd[:i])
        self.assertEqual(cmd[i + 1:j], ["--ioengine=external:/h.so"])
        self.assertEqual(cmd[j + 1:], ["--ioengine=external:/b.so"])
        self.assertTrue(plan.corun_applies("randread/4k/qd32/j1", t))
        self.assertFalse(plan.corun_applies("randread/4k/qd32/j2", t))
        self.assertFalse(plan.corun_applies("randread/4k/qd32/j1",
                                            dict(t, kind="file")))

    def test_corun_builds_are_one_item_of_a_round(self):
        st = state.RunState(args=None, cells=[
            "randread/4k/qd1/j1", "randread/4k/qd32/j2"],
            configs=["base", "head", "libaio"])
        st.target = {"kind": "ram", "readonly": False, "files": {}}
        got = run.plan_runs(st, None, ("base", "head"))
        self.assertEqual(got, [
            ("randread/4k/qd1/j1", ("base", "head")),
            ("randread/4k/qd1/j1", "libaio"),
            ("randread/4k/qd32/j2", "base"), ("randread/4k/qd32/j2", "head"),
            ("randread/4k/qd32/j2", "libaio")])
        self.assertEqual(len(run.plan_runs(st, None, ())), 6)

    def test_job_stats_are_kept_per_job(self):
        out = ("libaioring: job 'corun0': reaped_ring=10 eagain=1\n"
               "libaioring: job 'corun1': reaped_ring=7\n{}\n")
        self.assertEqual(fioout.job_stats(out), {
            "corun0": {"reaped_ring": 10, "eagain": 1},
            "corun1": {"reaped_ring": 7}})
        self.assertEqual(fioout.job_stats("{}\n", out.replace("{}\n", "")), {
            "corun0": {"reaped_ring": 10, "eagain": 1},
            "corun1": {"reaped_ring": 7}})

    def test_bad_config_is_refused(self):
        with self.assertRaises(util.SetupError):
            plan.parse_configs(["aioring", "spdk"])
        with self.assertRaises(util.SetupError):
            plan.parse_configs(["aioring:nokey"])


class Summary(unittest.TestCase):
    def test_ratios_and_ceiling_share(self):
        fcell = CELL + "/files64"
        smp = (samples(CELL, "aioring", [300, 310, 290]) +
               samples(CELL, "libaio", [200, 200, 200]) +
               samples(CELL, "io_uring", [150, 150, 150]) +
               samples(CELL, compare_samples.CEILING, [400, 400, 400]) +
               samples(fcell, "aioring", [270, 270, 270]))
        s = compare_samples.summarize(smp, [CELL, fcell],
                                     ["aioring", "libaio", "io_uring"])
        a = s[CELL]["aioring"]
        self.assertAlmostEqual(a["vs_libaio"], 1.5)
        self.assertAlmostEqual(a["vs_io_uring"], 2.0)
        self.assertAlmostEqual(a["ceiling_share"], 0.75)
        self.assertIsNone(a["vs_1file"])
        f = s[fcell]["aioring"]
        self.assertAlmostEqual(f["vs_1file"], 0.9)
        self.assertAlmostEqual(f["vs_libaio"], 1.35)
        table = compare_report.text_table(s, [CELL, fcell],
                                          ["aioring", "libaio", "io_uring"])
        self.assertIn("1.50x", table)
        self.assertIn("0.90x", table)
        self.assertIn("75.0%", table)

    def test_a_corun_row_is_a_share_without_solo_ratios(self):
        smp = (samples(CELL, "base", [150, 150]) +
               samples(CELL, "libaio", [200, 200]))
        for x in smp[:2]:
            x.update(corun={"configs": ["base", "head"], "cpu": 1},
                     lat_p99_ns=9e6)
        s = compare_samples.summarize(smp, [CELL], ["base", "libaio"])
        self.assertIsNone(s[CELL]["base"]["vs_libaio"])
        self.assertAlmostEqual(s[CELL]["libaio"]["vs_libaio"], 1.0)
        table = compare_report.text_table(s, [CELL], ["base", "libaio"])
        self.assertIn("base (co-run)", table)
        self.assertNotIn("9000", table)

    def test_chart_is_skipped_without_gnuplot(self):
        s = compare_samples.summarize(
            samples(CELL, "aioring", [2, 2]) + samples(CELL, "libaio", [1, 1]),
            [CELL], ["aioring", "libaio"])
        with tempfile.TemporaryDirectory() as d:
            old = os.environ["PATH"]
            os.environ["PATH"] = d
            try:
                png, msg = compare_report.chart(s, [CELL],
                                                ["aioring", "libaio"], d)
            finally:
                os.environ["PATH"] = old
            self.assertIsNone(png)
            self.assertIn("gnuplot not found", msg)
            with open(os.path.join(d, "ratios.dat")) as f:
                self.assertIn("2.0000", f.read())


if __name__ == "__main__":
    unittest.main()
