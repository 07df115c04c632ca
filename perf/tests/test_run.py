# SPDX-License-Identifier: BSD-3-Clause
"""The round loop (aiorperf.run): what a round runs, co-run builds as one
item, looks of a gate, busy rounds dropped and co-runs kept.

No fio run.
"""

import unittest

from aiorperf import gate, run, state, stats


class Rounds(unittest.TestCase):
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

    def test_a_gate_looks_and_stops_when_decided(self):
        # No builds to judge: every round counts, looks at LOOKS.
        calls = []

        def decide(st):
            calls.append(len(st.samples))
            return len(calls) == 2
        r = run.Rounds(fixed=6, budget=3600.0, decide=decide)
        pg = run._Progress(est=1.0)
        st = state.RunState(args=None)
        done = [run.round_done(st, r, pg, ["c"], n) for n in range(1, 10)]
        self.assertEqual(done.index(True) + 1, stats.LOOKS[1])
        self.assertEqual(len(calls), 2)
        self.assertEqual(sum(m.startswith("look ") for m in r.log), 2)

    def test_a_busy_corun_is_kept_and_judged_without_p99(self):
        smp = []
        for rnd in range(1, 7):
            for cfg, iops in (("base", 100.0), ("head", 90.0)):
                smp.append({"cell": "c", "config": cfg, "round": rnd,
                            "ok": True, "iops": iops + rnd % 2,
                            "lat_p99_ns": 5000.0, "cpu_us_per_io": 1e6 /
                            iops, "contended": True,
                            "corun": {"configs": ["base", "head"],
                                      "cpu": 1}})
        self.assertEqual(run.drop_busy(smp, 2, ("base", "head")), [])
        res = gate.evaluate_ab(smp, ["c"], "base", ["head"],
                               sequential=True)
        self.assertEqual([r["metric"] for r in res], ["iops", "cpu"])
        self.assertEqual({r["verdict"] for r in res}, {gate.REGRESSION})

    def test_busy_rounds_are_dropped_from_the_verdicts(self):
        smp = []
        for rnd in (1, 2, 3):
            for cfg in ("base", "head", "libaio"):
                smp.append({"cell": "c", "config": cfg, "round": rnd,
                            "ok": True, "iops": 100.0,
                            "contended": rnd == 2 and cfg == "head"})
        judged = ("base", "head")
        self.assertEqual(run.drop_busy(smp, 2, judged), ["c"])
        self.assertEqual(run.drop_busy(smp, 1, judged), [])
        self.assertEqual(run.clean_rounds(smp, ["c"], judged), 2)
        self.assertTrue(all(s.get("dropped") for s in smp
                            if s["round"] == 2))
        self.assertEqual(sorted(gate._by_round(smp, "c", "base", "iops")),
                         [1, 3])

