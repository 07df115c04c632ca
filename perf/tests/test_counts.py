#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The exact counts and the sequential A/B, on fabricated data: count
verdicts against the A/A fence, strace and callgrind reading, the count
run's fio command, the trimmed log-ratio interval, the balanced order,
busy rounds dropped.  No fio, valgrind or strace run.

Run: python3 -m unittest test_counts   (in perf/tests)
"""

import math
import os
import random
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from aiorperf import counts, gate, plan, run, state, stats  # noqa: E402
from aiorperf import report  # noqa: E402


class CountVerdict(unittest.TestCase):
    def v(self, base, head, t=0.005, floor=1.0):
        return gate.count_verdict(base, head, t, floor)

    def test_identical_counts_are_no_change(self):
        verdict, d = self.v([526.0, 526.0], [526.0, 526.0])
        self.assertEqual(verdict, gate.NO_CHANGE)
        self.assertEqual(d["fence"], 0)

    def test_one_percent_more_engine_instructions_is_a_regression(self):
        verdict, d = self.v([526.0, 526.0], [531.3, 531.3])
        self.assertEqual(verdict, gate.REGRESSION)
        self.assertAlmostEqual(d["delta"], 5.3)

    def test_fewer_is_an_improvement(self):
        verdict, _ = self.v([526.0, 526.0], [500.0, 500.0])
        self.assertEqual(verdict, gate.IMPROVEMENT)

    def test_change_within_threshold_is_no_change(self):
        # 0.4% up, with a threshold of 0.5%: no change.
        verdict, _ = self.v([1000.0, 1000.0], [1004.0, 1004.0])
        self.assertEqual(verdict, gate.NO_CHANGE)

    def test_wide_a_a_spread_is_inconclusive(self):
        # The repeats of one build differ by 4, half the allowed 5 is 2.5.
        verdict, d = self.v([1000.0, 1004.0], [1020.0, 1020.0])
        self.assertEqual(verdict, gate.INCONCLUSIVE)
        self.assertIn("A/A spread", d["reason"])

    def test_one_repeat_has_no_fence(self):
        verdict, d = self.v([1000.0], [1100.0])
        self.assertEqual(verdict, gate.INCONCLUSIVE)
        self.assertIn("one repeat", d["reason"])

    def test_floor_keeps_near_zero_counts_quiet(self):
        # 0 -> 0.0001 io_getevents per request: under the 0.002 floor.
        verdict, _ = gate.count_verdict([0.0, 0.0], [0.0001, 0.0001],
                                        0.01, 0.002)
        self.assertEqual(verdict, gate.NO_CHANGE)
        # One more system call every 32 requests is well past it.
        verdict, _ = gate.count_verdict([0.0323, 0.0324], [0.0635, 0.0636],
                                        0.01, 0.002)
        self.assertEqual(verdict, gate.REGRESSION)

    def test_evaluate_counts_per_cell_and_key(self):
        rows = []
        for rep in (1, 2):
            rows.append({"cell": "c", "config": "base", "rep": rep,
                         "insn_engine": 300.0, "sys_total": 1.0})
            rows.append({"cell": "c", "config": "head", "rep": rep,
                         "insn_engine": 306.0, "sys_total": 1.0})
        res = gate.evaluate_counts(rows, ["c"], "base", ["head"],
                                   counts.COUNT_METRICS)
        by = {r["metric"]: r for r in res}
        self.assertEqual(by["insn_engine"]["verdict"], gate.REGRESSION)
        self.assertEqual(by["sys_total"]["verdict"], gate.NO_CHANGE)
        self.assertEqual(by["insn_fio"]["verdict"], gate.INCONCLUSIVE)
        self.assertEqual(gate.verdicts_exit_code(res), 1)
        res = gate.evaluate_counts(rows, ["c"], "base", ["head"],
                                   counts.COUNT_METRICS,
                                   {"insn_engine": 0.05})
        by = {r["metric"]: r for r in res}
        self.assertEqual(by["insn_engine"]["verdict"], gate.NO_CHANGE)


STRACE_JOB = """\
io_setup(64, [0x7f]) = 0
io_submit(0x7f, 1, [{...}]) = 1
io_submit(0x7f, 1, [{...}]) = 1
io_getevents(0x7f, 1, 1, [...], NULL) = 1
clock_gettime(CLOCK_MONOTONIC, {...}) = 0
--- SIGUSR1 {si_signo=SIGUSR1} ---
+++ exited with 0 +++
""".splitlines()
STRACE_HELPER = """\
clock_nanosleep(CLOCK_MONOTONIC, 0, {...}, NULL) = 0
futex(0x55, FUTEX_WAKE_PRIVATE, 1) = 0
""".splitlines()


class Reading(unittest.TestCase):
    def test_syscalls_of_a_job_thread_by_kind(self):
        self.assertEqual(counts.syscalls_of_trace(STRACE_JOB),
                         {"io_submit": 2, "io_getevents": 1, "other": 2})

    def test_a_thread_without_aio_calls_is_not_a_job(self):
        self.assertIsNone(counts.syscalls_of_trace(STRACE_HELPER))

    def test_syscall_keys(self):
        k = counts.keys_of_syscalls({"io_submit": 2, "io_getevents": 1,
                                     "other": 2})
        self.assertEqual(k["sys_total"], 5)
        self.assertEqual(k["sys_submit"], 2)

    def test_per_request_is_the_difference_over_added(self):
        self.assertEqual(counts.per_request({"a": 100}, {"a": 400}, 100),
                         {"a": 3.0})

    def test_the_engine_under_test_counts_whatever_its_name(self):
        parts = counts.parts_of({"/tmp/x/copy.so": 10, "/usr/bin/fio": 5,
                                 "/lib/libc.so.6": 1},
                                engine="/tmp/x/copy.so")
        self.assertEqual(parts["libaioring.so"], 10)
        self.assertEqual(parts["fio"], 5)
        self.assertEqual(counts.keys_of_insn(parts)["insn_total"], 16)
        self.assertEqual(counts.engine_of(
            ["fio", "--ioengine=external:/tmp/x/copy.so"]), "/tmp/x/copy.so")

    def test_count_run_replaces_time_with_a_number_of_requests(self):
        timed = ["fio", "--name=a", "--time_based=1", "--runtime=2000ms",
                 "--ramp_time=500ms", "--randrepeat=0",
                 "--output-format=json", "--lat_percentiles=1",
                 "--percentile_list=50:99", "--iodepth=32"]
        cmd = counts.count_cmd(timed, 1000, "/tmp/o.json")
        for gone in ("--time_based", "--runtime", "--ramp_time",
                     "--randrepeat=0", "--lat_percentiles"):
            self.assertFalse([a for a in cmd if a.startswith(gone)], gone)
        for want in ("--randrepeat=1", "--thread", "--number_ios=1000",
                     "--output=/tmp/o.json", "--iodepth=32"):
            self.assertIn(want, cmd)

    def test_count_ios_fit_the_target(self):
        t = {"size": 1 << 30}
        self.assertEqual(counts.count_ios("randread/4k/qd32/j1", t), 10000)
        # 128k requests: 2N of them must fit 80% of 1 GiB.
        n = counts.count_ios("randread/128k/qd32/j1", t)
        self.assertLessEqual(2 * n * 128 * 1024, 0.8 * (1 << 30))


class Sequential(unittest.TestCase):
    def test_t_quantile_against_tables(self):
        for p, df, want in ((0.99, 3, 4.541), (0.99, 5, 3.365),
                            (0.975, 10, 2.228), (0.95, 30, 1.697)):
            self.assertAlmostEqual(stats.t_quantile(p, df), want,
                                   delta=want * 0.005)

    def test_trimmed_interval_covers_and_resists_one_outlier(self):
        est, lo, hi = stats.trimmed_log_ci(
            [1.0, 0.99, 1.01, 1.0, 1.02, 0.98, 1.0, 0.99, 1.01, 1.6],
            0.98)
        self.assertAlmostEqual(est, 1.0, delta=0.01)
        self.assertLess(lo, 1.0)
        self.assertGreater(hi, 1.0)
        self.assertLess(hi, 1.05)
        self.assertEqual(stats.trimmed_log_ci([1.0, 1.0], 0.9),
                         (None, None, None))

    def test_the_interval_holds_its_level(self):
        # Identical builds, 6..32 rounds of 4% noise: the 90% interval
        # misses 1 in about 10% of fabricated runs, no more than 13%.
        rng = random.Random(7)
        for n in (6, 14, 32):
            miss = 0
            for _ in range(400):
                r = [math.exp(rng.gauss(0, 0.04)) for _ in range(n)]
                _, lo, hi = stats.trimmed_log_ci(r, 0.90)
                miss += not lo <= 1 <= hi
            self.assertLess(miss / 400.0, 0.13, n)

    def test_a_five_percent_loss_is_a_regression(self):
        rng = random.Random(3)
        smp = []
        for rnd in range(1, 15):
            b = 800e3 * math.exp(rng.gauss(0, 0.03))
            for cfg, v in (("base", b),
                           ("head", b * 0.95 * math.exp(rng.gauss(0, 0.02)))):
                smp.append({"cell": "c", "config": cfg, "round": rnd,
                            "ok": True, "iops": v})
        res = gate.evaluate_ab(smp, ["c"], "base", ["head"], ["iops"],
                               {"iops": 0.03}, level=stats.LOOK_LEVEL,
                               sequential=True)
        self.assertEqual(res[0]["verdict"], gate.REGRESSION)
        self.assertAlmostEqual(res[0]["estimate"], 0.95, delta=0.02)
        # Too few rounds for the first look: no verdict.
        res = gate.evaluate_ab(smp[:10], ["c"], "base", ["head"], ["iops"],
                               {"iops": 0.03}, level=stats.LOOK_LEVEL,
                               sequential=True)
        self.assertEqual(res[0]["verdict"], gate.INCONCLUSIVE)

    def test_balanced_order_mirrors_each_block(self):
        items = ["base", "head", "libaio", "io_uring"]
        for blk in range(5):
            a = plan.balanced_order(items, 2 * blk + 1, seed=11)
            b = plan.balanced_order(items, 2 * blk + 2, seed=11)
            self.assertEqual(sorted(a), sorted(items))
            self.assertEqual(a, b[::-1])
        self.assertEqual(plan.balanced_order(items, 3, seed=11),
                         plan.balanced_order(items, 3, seed=11))
        firsts = {plan.balanced_order(items, 2 * k + 1, seed=1)[0]
                  for k in range(40)}
        self.assertGreater(len(firsts), 1)

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


class Dashboards(unittest.TestCase):
    def test_bencher_metric_format_and_github_action_benchmark(self):
        summary = {"c": {"base": {"iops": 100.0, "iops_min": 90.0,
                                  "iops_max": 110.0, "lat_p99_ns": 5000.0,
                                  "cpu_us_per_io": 1.5}}}
        rows = [{"cell": "c", "config": "base", "rep": 1,
                 "insn_engine": 300.0},
                {"cell": "c", "config": "base", "rep": 2,
                 "insn_engine": 302.0}]
        bmf = report.bmf_doc(summary, ["c"], ["base"], rows)
        m = bmf["c/base"]
        self.assertEqual(m["throughput"], {"value": 100.0,
                                           "lower_value": 90.0,
                                           "upper_value": 110.0})
        self.assertEqual(m["latency"], {"value": 5000.0})
        self.assertEqual(m["insn-engine"], {"value": 301.0,
                                            "lower_value": 300.0,
                                            "upper_value": 302.0})
        bigger, smaller = report.gab_docs(bmf)
        self.assertEqual([e["name"] for e in bigger],
                         ["c/base throughput"])
        self.assertEqual(bigger[0]["unit"], "IOPS")
        self.assertIn("c/base insn-engine", [e["name"] for e in smaller])
        for e in bigger + smaller:
            self.assertEqual(set(e) - {"range"}, {"name", "unit", "value"})


if __name__ == "__main__":
    unittest.main()
