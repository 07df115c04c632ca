# SPDX-License-Identifier: BSD-3-Clause
"""Small shared helpers (aiorperf.util)."""

import unittest

from aiorperf import util


class Sizes(unittest.TestCase):
    def test_sizes(self):
        self.assertEqual(util.parse_size("4k"), 4096)
        self.assertEqual(util.parse_size("1G"), 1 << 30)
        self.assertEqual(util.parse_size("512"), 512)

