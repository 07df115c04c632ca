# SPDX-License-Identifier: BSD-3-Clause
"""Fabricated samples, runner classes and A/B results that several test
files share (not a test file itself: discover loads test_*.py only)."""

from aiorperf import gate

CELL = "randread/4k/qd32/j1"
CELL1 = "randread/4k/qd1/j1"


def samples(cell, config, values, key="iops", ok=True):
    return [{"cell": cell, "config": config, "round": i + 1, "ok": ok,
             key: v} for i, v in enumerate(values)]


def config_samples(config, values, key="iops", cell=CELL, host=None):
    out = []
    for i, v in enumerate(values):
        s = {"cell": cell, "config": config, "round": i + 1, "ok": True,
             key: v}
        if host:
            s["host"] = host
        out.append(s)
    return out


RUNNER = {"cpu_model": "EPYC", "vcpus": 2, "kernel": "6.18.44-v1272",
          "virtualization": "PVM", "syscall_ns": 950.0}
RUNNER_B = dict(RUNNER, kernel="6.18.44-v1300", syscall_ns=215.0)


def fabricated():
    """A/B results: QD32 IOPS regressed 10%, QD1 IOPS unchanged, QD1 p99
    inconclusive; plus one floor that fails."""
    s = (samples(CELL, "base", [600e3, 610e3, 590e3, 605e3, 600e3]) +
         samples(CELL, "head", [540e3, 549e3, 531e3, 545e3, 540e3]) +
         samples(CELL1, "base", [100e3, 101e3, 99e3, 100e3, 100e3]) +
         samples(CELL1, "head", [100e3, 100e3, 100e3, 101e3, 99e3]) +
         samples(CELL1, "base", [2000, 2000, 2000, 2000, 2000],
                 "lat_p99_ns") +
         samples(CELL1, "head", [1500, 2600, 2000, 1800, 2300],
                 "lat_p99_ns") +
         samples(CELL, "libaio", [500e3] * 5))
    ab = gate.evaluate_ab(s, [CELL, CELL1], "base", ["head"],
                          ("iops", "p99"))
    floors = gate.evaluate_gate(gate.normalize_floors(
        {CELL: {"vs": "libaio", "config": "head", "min_ratio": 1.5}}), s)
    return s, ab, floors
