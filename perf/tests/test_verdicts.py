# SPDX-License-Identifier: BSD-3-Clause
"""What a run makes of its verdicts (aiorperf.verdicts): the A/B's roles,
the hosts judged, judge, the exit status.
"""

import argparse
import unittest

from aiorperf import gate, state, verdicts
from aiorperf.gate import INCONCLUSIVE, NO_CHANGE, REGRESSION
from .fixtures import CELL, config_samples as smp


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

