# SPDX-License-Identifier: BSD-3-Clause
"""Where `compare.py profile` puts a perf sample (aiorperf.profile): the
class of a symbol by object and name, on fabricated perf report lines."""

import unittest

from aiorperf import profile


class Classify(unittest.TestCase):
    def test_kernel_symbols_by_path(self):
        k = "[kernel.kallsyms]"
        self.assertEqual(profile.classify(k, "aio_read"), "kernel aio path")
        self.assertEqual(profile.classify(k, "__x64_sys_io_submit"),
                         "kernel aio path")
        self.assertEqual(profile.classify(k, "entry_SYSCALL_64"),
                         "syscall entry")
        self.assertEqual(profile.classify(k, "shmem_file_read_iter"),
                         "file system")
        self.assertEqual(profile.classify(k, "blk_mq_submit_bio"),
                         "block layer")
        self.assertEqual(profile.classify(k, "schedule"), "kernel other")
        self.assertEqual(profile.classify("nvme.ko", "nvme_queue_rq"),
                         "block layer")

    def test_user_space_by_object(self):
        self.assertEqual(profile.classify("/b/libaioring.so", "x"), "engine")
        self.assertEqual(profile.classify("libaio.so.1.0.2", "io_submit"),
                         "engine")
        # Built-in libaio lives in fio: its engine functions are the
        # engine's class, the rest of fio is fio's.
        self.assertEqual(profile.classify("fio", "fio_libaio_commit"),
                         "engine")
        self.assertEqual(profile.classify("fio", "td_io_queue"), "fio")
        self.assertEqual(profile.classify("libc.so.6", "memcpy"), "libc")
        self.assertEqual(profile.classify("[vdso]", "clock_gettime"), "libc")
        self.assertEqual(profile.classify("libz.so.1", "inflate"), "other")
