# SPDX-License-Identifier: BSD-3-Clause
"""fio's output (aiorperf.fioout): metrics from its JSON, the engine's
counter lines on stdout or stderr, per job, and output it cannot use.
"""

import json
import unittest

from aiorperf import fioout


FIO_JSON = {
    "fio version": "fio-3.33",
    "jobs": [{
        "jobname": "aior-bench", "error": 0, "job_runtime": 2000,
        "usr_cpu": 25.0, "sys_cpu": 75.0, "ctx": 100,
        "read": {"iops": 500000.0, "bw": 2000000, "total_ios": 1000000,
                 "lat_ns": {"percentile": {"50.000000": 1500,
                                           "99.000000": 3000,
                                           "99.900000": 9000}}},
        "write": {"iops": 0.0, "bw": 0, "total_ios": 0,
                  "lat_ns": {"percentile": {}}},
    }]}


class FioOutput(unittest.TestCase):
    def test_metrics_cpu_per_io_and_latency(self):
        m = fioout.metrics_from_json(FIO_JSON, "randread")
        # (25% + 75%) x 2 s = 2 CPU s over 1e6 I/Os = 2 us per I/O.
        self.assertAlmostEqual(m["cpu_us_per_io"], 2.0)
        self.assertAlmostEqual(m["usr_us_per_io"], 0.5)
        self.assertAlmostEqual(m["sys_us_per_io"], 1.5)
        self.assertAlmostEqual(m["ctx_per_io"], 1e-4)
        self.assertEqual(m["iops"], 500000.0)
        self.assertEqual((m["lat_p50_ns"], m["lat_p99_ns"], m["lat_p999_ns"]),
                         (1500, 3000, 9000))

    def test_engine_stats_before_json_are_parsed(self):
        text = ("libaioring: job 'aior-bench': contexts=1 submitted=10 "
                "eagain=2\nlibaioring: job 'aior-bench': contexts=1 "
                "submitted=5 eagain=0\nfio: some warning\n"
                + json.dumps(FIO_JSON, indent=2))
        data, stats, other = fioout.parse_fio_output(text)
        self.assertEqual(stats, {"contexts": 2, "submitted": 15, "eagain": 2})
        self.assertEqual(other, ["fio: some warning"])
        self.assertEqual(data["jobs"][0]["job_runtime"], 2000)

    def test_engine_stats_on_stderr_are_parsed(self):
        err = ("fio: some warning\n"
               "libaioring: job 'aior-bench': contexts=1 submitted=10 "
               "eagain=2\nlibaioring: /x: aio_block_size=4096 differs\n"
               "libaioring: job 'aior-bench': contexts=1 submitted=5 "
               "eagain=0\n")
        data, stats, other = fioout.parse_fio_output(
            json.dumps(FIO_JSON, indent=2), err)
        self.assertEqual(stats, {"contexts": 2, "submitted": 15, "eagain": 2})
        self.assertEqual(other, ["libaioring: /x: aio_block_size=4096 differs"])
        self.assertEqual(data["jobs"][0]["job_runtime"], 2000)

    def test_unusable_output_raises(self):
        with self.assertRaises(ValueError):
            fioout.parse_fio_output("fio: engine failed to load\n")
        with self.assertRaises(ValueError):
            fioout.parse_fio_output('{"jobs": [')
        broken = json.loads(json.dumps(FIO_JSON))
        broken["jobs"][0]["error"] = 5
        with self.assertRaises(ValueError):
            fioout.metrics_from_json(broken, "randread")
        idle = json.loads(json.dumps(FIO_JSON))
        idle["jobs"][0]["read"]["total_ios"] = 0
        with self.assertRaises(ValueError):
            fioout.metrics_from_json(idle, "randread")

    def test_job_stats_are_kept_per_job(self):
        out = ("libaioring: job 'corun0': reaped_ring=10 eagain=1\n"
               "libaioring: job 'corun1': reaped_ring=7\n{}\n")
        self.assertEqual(fioout.job_stats(out), {
            "corun0": {"reaped_ring": 10, "eagain": 1},
            "corun1": {"reaped_ring": 7}})
        self.assertEqual(fioout.job_stats("{}\n", out.replace("{}\n", "")), {
            "corun0": {"reaped_ring": 10, "eagain": 1},
            "corun1": {"reaped_ring": 7}})

