# SPDX-License-Identifier: BSD-3-Clause
"""fio's t/io_uring, the raw aio ceiling (aiorperf.ceiling): its output
read back.
"""

import unittest

from aiorperf import ceiling


class TioOutput(unittest.TestCase):
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

