# SPDX-License-Identifier: BSD-3-Clause
"""Statistics of the harness (aiorperf.stats) on fabricated samples.
"""

import math
import random
import unittest

from aiorperf import stats


def rounds(values):
    return {i + 1: v for i, v in enumerate(values)}


class PairedRatios(unittest.TestCase):
    def test_rounds_pair_by_number_and_missing_rounds_drop(self):
        a = {1: 110.0, 2: 90.0, 4: 100.0}
        b = {1: 100.0, 2: 100.0, 3: 100.0, 4: 0.0}
        self.assertEqual(stats.paired_ratios(a, b), [(1, 1.1), (2, 0.9)])

    def test_pairing_cancels_drift_that_unpaired_medians_keep(self):
        # The machine slows down round after round (drift 100 -> 60); head
        # is exactly 10% slower than base in every round.
        base = rounds([100, 90, 80, 70, 60])
        head = rounds([90, 81, 72, 63, 54])
        st = stats.paired_ratio_ci(head, base, seed=1)
        self.assertAlmostEqual(st["estimate"], 0.9)
        self.assertAlmostEqual(st["lo"], 0.9)
        self.assertAlmostEqual(st["hi"], 0.9)
        self.assertEqual(st["n"], 5)
        # Unpaired, the same samples give a wide interval around 0.9.
        un = stats.ratio_ci(list(head.values()), list(base.values()), seed=1)
        self.assertAlmostEqual(un["estimate"], 72 / 80)
        self.assertLess(un["lo"], 0.8)
        self.assertGreater(un["hi"], 1.0)

    def test_ci_is_within_the_range_of_the_ratios_and_contains_median(self):
        base = rounds([100] * 7)
        head = rounds([97, 99, 100, 101, 103, 98, 102])
        st = stats.paired_ratio_ci(head, base, seed="x")
        self.assertAlmostEqual(st["estimate"], 1.0)
        self.assertGreaterEqual(st["lo"], 0.97)
        self.assertLessEqual(st["hi"], 1.03)
        self.assertLess(st["lo"], st["estimate"])
        self.assertGreater(st["hi"], st["estimate"])
        # Narrower than the full range: the bootstrap does more than min/max.
        self.assertGreater(st["lo"], 0.97)
        self.assertLess(st["hi"], 1.03)

    def test_the_interval_is_reproducible_and_seed_dependent(self):
        base = rounds([100, 100, 100, 100, 100, 100])
        head = rounds([95, 99, 101, 104, 97, 100])
        a = stats.paired_ratio_ci(head, base, seed="cell|m")
        b = stats.paired_ratio_ci(head, base, seed="cell|m")
        self.assertEqual((a["lo"], a["hi"]), (b["lo"], b["hi"]))

    def test_ratio_of_medians_is_reported_beside_the_paired_estimate(self):
        st = stats.paired_ratio_ci(rounds([200, 220, 180]),
                                   rounds([100, 100, 100]))
        self.assertAlmostEqual(st["ratio_of_medians"], 2.0)
        self.assertEqual(st["ratios"], [2.0, 2.2, 1.8])


class Basics(unittest.TestCase):
    def test_median_cov_ratio(self):
        self.assertEqual(stats.median([3, None, 1, 2]), 2)
        self.assertIsNone(stats.median([]))
        self.assertIsNone(stats.cov([5]))
        self.assertAlmostEqual(stats.cov([90, 110]), 0.1414, places=3)
        self.assertIsNone(stats.ratio(1, 0))
        self.assertEqual(stats.ratio(3, 2), 1.5)

    def test_bootstrap_of_one_value_is_that_value(self):
        self.assertEqual(stats.bootstrap_median_ci([1.2]), (1.2, 1.2))
        self.assertEqual(stats.bootstrap_median_ci([]), (None, None))

    def test_three_rounds_give_the_full_range(self):
        # With 3 values, the resampled median is min or max often enough
        # (7/27 each) that the 95% interval is exactly [min, max].
        lo, hi = stats.bootstrap_median_ci([0.9, 1.0, 1.1], seed=3)
        self.assertAlmostEqual(lo, 0.9)
        self.assertAlmostEqual(hi, 1.1)

    def test_cov(self):
        self.assertIsNone(stats.cov([5]))
        self.assertEqual(stats.cov([3, 3, 3]), 0.0)
        self.assertAlmostEqual(stats.cov([90, 100, 110]), 0.1)


class Steps(unittest.TestCase):
    def test_a_clear_step_is_found_where_it_happens(self):
        series = [1.00, 1.01, 0.99, 1.00, 0.90, 0.91, 0.89, 0.90]
        self.assertEqual(stats.step_changes(series), [4])

    def test_a_step_at_the_latest_run_is_found(self):
        series = [1.00, 1.01, 0.99, 1.00, 1.00, 0.88]
        self.assertEqual(stats.step_changes(series, noise=0.005), [5])

    def test_noise_without_a_step_is_not_a_step(self):
        series = [1.00, 0.96, 1.03, 0.98, 1.02, 0.97, 1.01, 0.99]
        self.assertEqual(stats.step_changes(series), [])

    def test_a_small_shift_below_min_step_is_ignored(self):
        series = [1.00, 1.00, 1.00, 0.98, 0.98, 0.98]
        self.assertEqual(stats.step_changes(series, min_step=0.05), [])
        self.assertEqual(stats.step_changes(series, min_step=0.01), [3])

    def test_two_steps(self):
        series = [1.0, 1.0, 1.0, 0.8, 0.8, 0.8, 1.0, 1.0, 1.0]
        self.assertEqual(stats.step_changes(series), [3, 6])

    def test_the_noise_floor_hides_a_step_inside_run_noise(self):
        series = [1.00, 1.00, 1.00, 0.94]
        self.assertEqual(stats.step_changes(series, noise=0.001), [3])
        self.assertEqual(stats.step_changes(series, noise=0.05), [])


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

