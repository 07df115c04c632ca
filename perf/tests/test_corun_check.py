# SPDX-License-Identifier: BSD-3-Clause
"""corun-check's verdict (aiorperf.corun_check.agreement) on fabricated
per-round ratios: no fio run."""

import unittest

from aiorperf.corun_check import AGREE, DISAGREE, agreement, markdown  # noqa

# Solo rounds on a shared guest spread 15-25%; a co-run's 1-3%.
SOLO = [1.20, 1.45, 1.10, 1.62, 1.31, 1.25, 1.50, 1.15, 1.40, 1.28]


class Agreement(unittest.TestCase):
    def test_a_co_run_inside_the_solo_interval_agrees(self):
        co = [1.33, 1.35, 1.34, 1.32, 1.36, 1.34, 1.33, 1.35, 1.34, 1.33]
        r = agreement(SOLO, co)
        self.assertEqual(r["verdict"], AGREE)
        self.assertLess(r["solo_lo"], r["co_estimate"])
        self.assertLess(r["co_estimate"], r["solo_hi"])
        self.assertLess(r["co_hi"] - r["co_lo"], r["solo_hi"] - r["solo_lo"])

    def test_a_co_run_outside_it_disagrees_and_says_keep_solo(self):
        co = [1.70, 1.72, 1.71, 1.69, 1.73, 1.70, 1.71, 1.72, 1.70, 1.71]
        r = agreement(SOLO, co)
        self.assertEqual(r["verdict"], DISAGREE)
        self.assertIn("keep the cell solo", r["reason"])
        self.assertIn("DISAGREE", markdown({"c": r}, "x", "a", "b"))

    def test_too_few_rounds_decide_nothing(self):
        r = agreement([1.2, 1.3], [1.25, 1.26])
        self.assertIsNone(r["verdict"])
        self.assertIn("fewer than 3 rounds", markdown({"c": r}, "x", "a",
                                                       "b"))

