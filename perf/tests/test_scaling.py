# SPDX-License-Identifier: BSD-3-Clause
"""`compare.py scaling`'s table (aiorperf.scaling) on a fabricated
results.json: each job count as a ratio to one job, the machine named."""

import unittest

from aiorperf import scaling

RUNNER = {"cpu_model": "AMD EPYC", "vcpus": 2, "kernel": "6.18.44-fc-v1272",
          "virtualization": "PVM", "syscall_ns": 950.0}


def s(iops, cpu):
    return {"iops": iops, "cpu_us_per_io": cpu}


class Table(unittest.TestCase):
    def doc(self):
        return {"env": {"runner": RUNNER, "fio_version": "fio-3.33"},
                "settings": {"rounds": 3},
                "summary": {
                    "randread/4k/qd32/j1": {"aioring": s(400e3, 2.0),
                                            "libaio": s(200e3, 4.0)},
                    "randread/4k/qd32/j2": {"aioring": s(800e3, 2.1),
                                            "libaio": None},
                    "not-a-cell": {"aioring": s(1, 1)}}}

    def test_ratios_to_one_job_and_the_machine(self):
        text = scaling.table(self.doc())
        self.assertIn("AMD EPYC x2, 6.18.44-fc-v1272, PVM", text)
        self.assertIn("| numjobs=1 | numjobs=2 |", text)
        self.assertIn("| `randread/4k/qd32` | aioring | 400.0k (1.00x, "
                      "2.00 us) | 800.0k (2.00x, 2.10 us) |", text)
        # A configuration without a numjobs=2 figure shows "-" there.
        self.assertIn("| `randread/4k/qd32` | libaio | 200.0k (1.00x, "
                      "4.00 us) | - |", text)
        self.assertNotIn("not-a-cell", text)
