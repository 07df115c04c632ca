# SPDX-License-Identifier: BSD-3-Clause
"""The exact counts (aiorperf.counts) on fabricated data: strace and
callgrind reading, per-request keys, the count run's fio command and its
number of requests.  No fio, valgrind or strace run.
"""

import os
import tempfile
import unittest

from aiorperf import counts


STRACE_JOB = """\
io_setup(64, [0x7f]) = 0
io_submit(0x7f, 1, [{...}]) = 1
io_submit(0x7f, 1, [{...}]) = 1
io_getevents(0x7f, 1, 1, [...], NULL) = 1
clock_gettime(CLOCK_MONOTONIC, {...}) = 0
--- SIGUSR1 {si_signo=SIGUSR1} ---
+++ exited with 0 +++
""".splitlines()
STRACE_HELPER = """\
clock_nanosleep(CLOCK_MONOTONIC, 0, {...}, NULL) = 0
futex(0x55, FUTEX_WAKE_PRIVATE, 1) = 0
""".splitlines()


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
        costs = counts.self_cost_by_object(self.path)
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



class Reading(unittest.TestCase):
    def test_syscalls_of_a_job_thread_by_kind(self):
        self.assertEqual(counts.syscalls_of_trace(STRACE_JOB),
                         {"io_submit": 2, "io_getevents": 1, "other": 2})

    def test_a_thread_without_aio_calls_is_not_a_job(self):
        self.assertIsNone(counts.syscalls_of_trace(STRACE_HELPER))

    def test_syscall_keys(self):
        k = counts.keys_of_syscalls({"io_submit": 2, "io_getevents": 1,
                                     "other": 2})
        self.assertEqual(k["sys_total"], 5)
        self.assertEqual(k["sys_submit"], 2)

    def test_per_request_is_the_difference_over_added(self):
        self.assertEqual(counts.per_request({"a": 100}, {"a": 400}, 100),
                         {"a": 3.0})

    def test_the_engine_under_test_counts_whatever_its_name(self):
        parts = counts.parts_of({"/tmp/x/copy.so": 10, "/usr/bin/fio": 5,
                                 "/lib/libc.so.6": 1},
                                engine="/tmp/x/copy.so")
        self.assertEqual(parts["libaioring.so"], 10)
        self.assertEqual(parts["fio"], 5)
        self.assertEqual(counts.keys_of_insn(parts)["insn_total"], 16)
        self.assertEqual(counts.engine_of(
            ["fio", "--ioengine=external:/tmp/x/copy.so"]), "/tmp/x/copy.so")

    def test_count_run_replaces_time_with_a_number_of_requests(self):
        timed = ["fio", "--name=a", "--time_based=1", "--runtime=2000ms",
                 "--ramp_time=500ms", "--randrepeat=0",
                 "--output-format=json", "--lat_percentiles=1",
                 "--percentile_list=50:99", "--iodepth=32"]
        cmd = counts.count_cmd(timed, 1000, "/tmp/o.json")
        for gone in ("--time_based", "--runtime", "--ramp_time",
                     "--randrepeat=0", "--lat_percentiles"):
            self.assertFalse([a for a in cmd if a.startswith(gone)], gone)
        for want in ("--randrepeat=1", "--thread", "--number_ios=1000",
                     "--output=/tmp/o.json", "--iodepth=32"):
            self.assertIn(want, cmd)

    def test_count_ios_fit_the_target(self):
        t = {"size": 1 << 30}
        self.assertEqual(counts.count_ios("randread/4k/qd32/j1", t), 10000)
        # 128k requests: 2N of them must fit 80% of 1 GiB.
        n = counts.count_ios("randread/128k/qd32/j1", t)
        self.assertLessEqual(2 * n * 128 * 1024, 0.8 * (1 << 30))

