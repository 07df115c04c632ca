#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Self-check of scripts/insn-per-io.py's reading of callgrind output, on
a fabricated callgrind.out (no valgrind, no fio): name compression, the
inclusive cost after calls= left out, inlined files kept with their object.

Run: python3 perf/tests/test_insn.py
"""

import importlib.util
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True     # keep the tree free of __pycache__
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    "insn", os.path.join(REPO, "scripts", "insn-per-io.py"))
insn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(insn)
sys.path.insert(0, os.path.join(REPO, "perf"))
from aiorperf import counts  # noqa: E402

CALLGRIND_OUT = """\
# callgrind format
version: 1
positions: line
events: Ir
summary: 1111

ob=(1) /usr/bin/fio
fl=(1) ???
fn=(1) td_io_queue
0 100
cob=(2) /opt/build/libaioring.so
cfi=(2) engine.c
cfn=(2) fio_aior_queue
calls=1 0
0 1000
+1 10

ob=(2)
fl=(2)
fn=(2)
5 400
fi=(3) /usr/include/libaio.h
+2 100
fe=(2)
-1 1
cob=(3) /usr/lib/x86_64-linux-gnu/libaio.so.1.0.2
cfn=(3) io_submit
calls=1 0
3 499

ob=(3)
fn=(3)
0 499

ob=(4) /usr/lib/x86_64-linux-gnu/libc.so.6
fn=(4) memcpy
0 1
"""


class SelfCost(unittest.TestCase):
    def setUp(self):
        fd, self.path = tempfile.mkstemp(suffix=".callgrind")
        with os.fdopen(fd, "w") as f:
            f.write(CALLGRIND_OUT)

    def tearDown(self):
        os.unlink(self.path)

    def test_self_cost_per_object(self):
        costs = insn.self_cost_by_object(self.path)
        # fio: 100 + 10, not the 1000 its call to the engine cost in all.
        self.assertEqual(costs["/usr/bin/fio"], 110)
        # The engine: its own lines, the inlined libaio.h line included;
        # the 499 of its call into libaio.so is libaio.so's.
        self.assertEqual(costs["/opt/build/libaioring.so"], 501)
        self.assertEqual(
            costs["/usr/lib/x86_64-linux-gnu/libaio.so.1.0.2"], 499)
        self.assertEqual(costs["/usr/lib/x86_64-linux-gnu/libc.so.6"], 1)
        # Every instruction counted once: the file's summary.
        self.assertEqual(sum(costs.values()), 1111)

    def test_parts(self):
        self.assertEqual(counts.part_of("/opt/build/libaioring.so"),
                         "libaioring.so")
        self.assertEqual(counts.part_of("/x/libaioring_wrong_fio.so"),
                         "libaioring.so")
        self.assertEqual(counts.part_of("/usr/lib/libaio.so.1.0.2"),
                         "libaio.so")
        self.assertEqual(counts.part_of("/usr/bin/fio"), "fio")
        self.assertEqual(counts.part_of("/lib64/ld-linux-x86-64.so.2"),
                         "libc")
        self.assertEqual(counts.part_of("/usr/lib/libz.so.1"), "other")


if __name__ == "__main__":
    unittest.main()
