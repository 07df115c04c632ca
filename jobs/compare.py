#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Kept for existing scripts: the harness moved to perf/compare.py."""

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
target = os.path.join(os.path.dirname(here), "perf", "compare.py")
os.execv(sys.executable, [sys.executable, target] + sys.argv[1:])
