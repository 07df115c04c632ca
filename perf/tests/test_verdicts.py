#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A/B and baseline verdicts (aiorperf.gate) on fabricated samples, and
what a run makes of them (aiorperf.verdicts: roles, judge, exit status).

Run: python3 -m unittest discover -s perf/tests  (or this file directly).
Every test checks a value a wrong rule would get wrong: the direction of
"worse" per metric, the threshold, the pairing, too few rounds.
"""

import argparse
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from aiorperf import gate, state, verdicts  # noqa: E402
from aiorperf.gate import (IMPROVEMENT, INCONCLUSIVE, NO_CHANGE,  # noqa: E402
                           REGRESSION)

CELL = "randread/4k/qd32/j1"


def smp(config, values, key="iops", cell=CELL, host=None):
    out = []
    for i, v in enumerate(values):
        s = {"cell": cell, "config": config, "round": i + 1, "ok": True,
             key: v}
        if host:
            s["host"] = host
        out.append(s)
    return out


def ab(samples, metrics=("iops",), **kw):
    return gate.evaluate_ab(samples, [CELL], "base", ["head"], metrics, **kw)


class Verdicts(unittest.TestCase):
    def test_identical_within_noise_is_no_change(self):
        s = smp("base", [100, 102, 98, 101, 99]) + \
            smp("head", [101, 101, 99, 100, 100])
        (r,) = ab(s)
        self.assertEqual(r["verdict"], NO_CHANGE, r["reason"])
        self.assertEqual(gate.verdicts_exit_code([r]), 0)

    def test_ten_percent_slower_is_a_regression(self):
        s = smp("base", [100, 102, 98, 101, 99]) + \
            smp("head", [90, 92, 88, 91, 89])
        (r,) = ab(s)
        self.assertEqual(r["verdict"], REGRESSION)
        self.assertAlmostEqual(r["estimate"], 0.9, places=2)
        self.assertLess(r["hi"], 1.0)
        self.assertIn("-10.0%", r["reason"])
        self.assertEqual(gate.verdicts_exit_code([r]), 1)

    def test_ten_percent_faster_is_an_improvement_not_a_regression(self):
        s = smp("base", [100, 102, 98, 101, 99]) + \
            smp("head", [110, 112, 108, 111, 109])
        (r,) = ab(s)
        self.assertEqual(r["verdict"], IMPROVEMENT)
        self.assertEqual(gate.verdicts_exit_code([r]), 0)

    def test_latency_and_cpu_are_worse_when_higher(self):
        s = (smp("base", [50, 51, 49, 50, 50], "lat_p99_ns") +
             smp("head", [60, 61, 59, 60, 60], "lat_p99_ns") +
             smp("base", [2.0, 2.0, 2.0, 2.0, 2.0], "cpu_us_per_io") +
             smp("head", [1.6, 1.6, 1.6, 1.6, 1.6], "cpu_us_per_io"))
        res = {r["metric"]: r for r in ab(s, metrics=("p99", "cpu"))}
        self.assertEqual(res["p99"]["verdict"], REGRESSION)
        self.assertEqual(res["cpu"]["verdict"], IMPROVEMENT)

    def test_a_small_real_change_under_the_threshold_is_not_a_regression(self):
        # 2% slower in every round: real, but under a 3% threshold, and
        # the interval (0.978..0.982) lies inside +-3%.
        s = smp("base", [100] * 5) + smp("head", [98, 98.2, 97.8, 98, 98])
        (r,) = ab(s, thresholds={"iops": 0.03})
        self.assertEqual(r["verdict"], NO_CHANGE)
        (r,) = ab(s, thresholds={"iops": 0.01})
        self.assertEqual(r["verdict"], REGRESSION)

    def test_a_wide_interval_is_inconclusive(self):
        # Per-round ratios from 0.85 to 1.12: cannot tell.
        s = smp("base", [100] * 5) + smp("head", [85, 112, 95, 104, 90])
        (r,) = ab(s)
        self.assertEqual(r["verdict"], INCONCLUSIVE)
        self.assertEqual(gate.verdicts_exit_code([r]), 0)
        self.assertEqual(gate.verdicts_exit_code([r], strict=True), 3)

    def test_past_threshold_but_interval_crosses_one_is_inconclusive(self):
        s = smp("base", [100] * 5) + smp("head", [80, 85, 90, 101, 95])
        (r,) = ab(s)
        self.assertLess(r["estimate"], 0.97)
        self.assertEqual(r["verdict"], INCONCLUSIVE)

    def test_too_few_paired_rounds_is_inconclusive(self):
        # Four rounds all 50% down: still not a verdict, because four
        # rounds on one side of 1 happen 1 time in 8 by chance alone.
        s = smp("base", [100, 101, 99, 100]) + smp("head", [50, 51, 49, 50])
        (r,) = ab(s)
        self.assertEqual(r["verdict"], INCONCLUSIVE)
        self.assertIn("4 paired round(s); need 5", r["reason"])

    def test_rounds_pair_by_number_and_failed_runs_drop(self):
        s = smp("base", [100, 100, 100, 100]) + \
            smp("head", [90, 90, 90, 90])
        s[5]["ok"] = False
        s[6]["ok"] = False          # head rounds 2 and 3 failed
        (r,) = ab(s)
        self.assertEqual(r["n"], 2)
        self.assertEqual(r["verdict"], INCONCLUSIVE)

    def test_pairing_sees_through_drift(self):
        # The machine slows down over the run; head is 10% slower in each
        # round.  Unpaired medians would overlap; paired ratios do not.
        s = smp("base", [100, 90, 80, 70, 60]) + \
            smp("head", [90, 81, 72, 63, 54])
        (r,) = ab(s)
        self.assertEqual(r["verdict"], REGRESSION)

    def test_every_head_against_the_first_and_per_host(self):
        s = (smp("base", [100] * 5, host="h1:1") +
             smp("head", [90] * 5, host="h1:1") +
             smp("base", [100] * 5, host="all") +
             smp("head", [100] * 5, host="all"))
        (r1,) = ab(s, host="h1:1")
        (ra,) = ab(s, host="all")
        self.assertEqual((r1["verdict"], r1["host"]), (REGRESSION, "h1:1"))
        self.assertEqual((ra["verdict"], ra["host"]), (NO_CHANGE, "all"))

    def test_cells_where_neither_ran_are_not_judged(self):
        self.assertEqual(ab(smp("libaio", [1, 1, 1])), [])


class Thresholds(unittest.TestCase):
    def test_forms(self):
        t = gate.parse_thresholds("3%")
        self.assertEqual(t, {"iops": 0.03, "p99": 0.03, "cpu": 0.03})
        self.assertEqual(gate.parse_thresholds("0.05")["cpu"], 0.05)
        self.assertEqual(gate.parse_thresholds("5")["iops"], 0.05)
        t = gate.parse_thresholds("iops=2%,p99=15%")
        self.assertEqual((t["iops"], t["p99"], t["cpu"]),
                         (0.02, 0.15, gate.DEFAULT_THRESHOLDS["cpu"]))

    def test_bad_values_name_the_problem(self):
        for bad, word in (("abc", "not a number"), ("150%", "between"),
                          ("lat=3%", "unknown metric"), ("0", "between")):
            with self.assertRaises(ValueError) as cm:
                gate.parse_thresholds(bad)
            self.assertIn(word, str(cm.exception))


class Baseline(unittest.TestCase):
    def test_normalised_by_each_runs_own_libaio(self):
        # The baseline machine day was 20% faster for everyone; the engine
        # kept its 1.2x over libaio: no change.
        old = smp("aioring", [240, 242, 238, 240, 240]) + \
            smp("libaio", [200, 200, 200, 200, 200])
        new = smp("aioring", [192, 193, 191, 192, 192]) + \
            smp("libaio", [160, 160, 160, 160, 160])
        (r,) = gate.evaluate_baseline(new, old, [CELL],
                                      [("aioring", "aioring")], ("iops",))
        self.assertEqual(r["verdict"], NO_CHANGE, r["reason"])
        self.assertAlmostEqual(r["estimate"], 1.0, places=2)
        # Unnormalised, that would have looked like a 20% loss.
        self.assertAlmostEqual(r["subject_median"], 1.2, places=2)

    def test_lost_ratio_to_libaio_is_a_regression(self):
        old = smp("aioring", [240] * 5) + smp("libaio", [200] * 5)
        new = smp("aioring", [212, 211, 213, 212, 212]) + \
            smp("libaio", [200] * 5)
        (r,) = gate.evaluate_baseline(new, old, [CELL],
                                      [("aioring", "aioring")], ("iops",))
        self.assertEqual(r["verdict"], REGRESSION)
        self.assertEqual(r["vs"], "baseline:aioring")

    def test_missing_libaio_is_inconclusive(self):
        old = smp("aioring", [240] * 5) + smp("libaio", [200] * 5)
        new = smp("aioring", [240] * 5)
        (r,) = gate.evaluate_baseline(new, old, [CELL],
                                      [("aioring", "aioring")], ("iops",))
        self.assertEqual(r["verdict"], INCONCLUSIVE)
        self.assertIn("this run not measured", r["reason"])


def run_state(samples, failures=(), **kw):
    """A run's state after its rounds: base and head judged on iops."""
    args = argparse.Namespace(
        engines={"base": "/b.so", "head": "/h.so"}, budget=None,
        metrics=["iops"], thresholds=dict(gate.DEFAULT_THRESHOLDS),
        count_thresholds={}, strict=False, against_baseline=None)
    return state.RunState(args=args, cells=[CELL],
                          configs=["base", "head", "libaio"],
                          samples=samples, failures=list(failures), **kw)


class RunVerdicts(unittest.TestCase):
    def test_roles_are_the_first_named_build_against_the_others(self):
        engines = {"base": "/b.so", "head": "/h.so"}
        self.assertEqual(verdicts.ab_roles(
            ["libaio", "head", "base", "head:vectored=0"], engines),
            ("base", ["head", "head:vectored=0"]))
        self.assertEqual(verdicts.ab_roles(["base", "libaio"],
                                           {"base": "/b.so"}), (None, []))
        self.assertEqual(verdicts.ab_roles(["head", "libaio"], engines),
                         (None, []))

    def test_hosts_judged_are_the_runs_own_then_each_client(self):
        s = (smp("base", [1], host="h2:1") + smp("base", [1], host="all") +
             smp("base", [1], host="h1:1"))
        self.assertEqual(verdicts.judge_hosts(s), ["all", "h2:1", "h1:1"])

    def test_judge_fills_the_ab_and_the_exit_status_follows_it(self):
        st = run_state(smp("base", [100] * 5) + smp("head", [90] * 5))
        verdicts.judge(st)
        self.assertEqual(st.ab_roles, {"base": "base", "heads": ["head"]})
        self.assertEqual([r["verdict"] for r in st.ab], [REGRESSION])
        self.assertEqual([g for g, _ in verdicts.verdict_groups(st)],
                         ["ab"])
        self.assertEqual(verdicts.exit_status(st, 0),
                         verdicts.EXIT_REGRESSION)
        self.assertEqual(verdicts.exit_status(st, verdicts.EXIT_INTR),
                         verdicts.EXIT_INTR)

    def test_a_failed_run_exits_2_unless_interrupted(self):
        fail = {"cell": CELL, "config": "head", "round": 3,
                "error": "fio exited 1"}
        st = run_state(smp("base", [100] * 5) + smp("head", [100] * 5),
                       failures=[fail])
        verdicts.judge(st)
        self.assertEqual([r["verdict"] for r in st.ab], [NO_CHANGE])
        self.assertEqual(verdicts.exit_status(st, 0), verdicts.EXIT_SETUP)
        self.assertEqual(verdicts.exit_status(st, verdicts.EXIT_INTR),
                         verdicts.EXIT_INTR)

    def test_inconclusive_exits_3_only_under_strict(self):
        st = run_state(smp("base", [100] * 5) +
                       smp("head", [80, 120, 95, 70, 130]))
        verdicts.judge(st)
        self.assertEqual([r["verdict"] for r in st.ab], [INCONCLUSIVE])
        self.assertEqual(verdicts.exit_status(st, 0), verdicts.EXIT_PASS)
        st.args.strict = True
        self.assertEqual(verdicts.exit_status(st, 0),
                         verdicts.EXIT_INCONCLUSIVE)


if __name__ == "__main__":
    unittest.main()
