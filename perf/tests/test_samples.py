# SPDX-License-Identifier: BSD-3-Clause
"""The sample model (aiorperf.samples): a run's samples to medians and
ratios, the ceiling's share, co-run rows, hosts kept apart.
"""

import unittest

from aiorperf import report as compare_report
from aiorperf import samples as compare_samples
from .fixtures import CELL, samples


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

    def test_per_host_summaries_keep_hosts_apart(self):
        s = samples(CELL, "base", [100, 100, 100]) + \
            samples(CELL, "libaio", [50, 50, 50])
        for x in s:
            x["host"] = "all"
        h = samples(CELL, "base", [40, 40, 40])
        for x in h:
            x["host"] = "127.0.0.2:8766"
        summ = compare_samples.summarize(s + h, [CELL], ["base", "libaio"])
        self.assertEqual(summ[CELL]["base"]["iops"], 100)
        self.assertAlmostEqual(summ[CELL]["base"]["vs_libaio"], 2.0)
        one = compare_samples.summarize(s + h, [CELL], ["base"],
                                       host="127.0.0.2:8766")
        self.assertEqual(one[CELL]["base"]["iops"], 40)
        self.assertEqual(compare_samples.hosts_in(s + h),
                         ["127.0.0.2:8766"])

