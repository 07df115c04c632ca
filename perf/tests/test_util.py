#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Small shared helpers (aiorperf.util).

Run: python3 -m unittest discover -s perf/tests  (or this file directly).
"""

import os
import sys
import unittest

sys.dont_write_bytecode = True     # keep the tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from aiorperf import util  # noqa: E402


class Sizes(unittest.TestCase):
    def test_sizes(self):
        self.assertEqual(util.parse_size("4k"), 4096)
        self.assertEqual(util.parse_size("1G"), 1 << 30)
        self.assertEqual(util.parse_size("512"), 512)


if __name__ == "__main__":
    unittest.main()
