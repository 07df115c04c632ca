# SPDX-License-Identifier: BSD-3-Clause
"""The runner class (aiorperf.machine): what makes two machines one class,
the names a figure carries, and a run beside the README's headline.  Pure
functions on fabricated classes, and one real probe of this machine."""

import os
import subprocess
import tempfile
import unittest
from unittest import mock

from aiorperf import machine

# Issue 21's two guest builds: one CPU string, one kernel series.
A = {"cpu_model": "AMD EPYC", "vcpus": 2, "kernel": "6.18.44-fc-v1272",
     "virtualization": "PVM, container docker", "syscall_ns": 950.0}
B = dict(A, kernel="6.18.44-fc-v1300", syscall_ns=215.0)


class Classes(unittest.TestCase):
    def test_the_probes_noise_is_one_class_a_4x_cost_is_two(self):
        self.assertTrue(machine.same_class(A, dict(A, syscall_ns=1513.0)))
        self.assertEqual(machine.differences(A, dict(A, syscall_ns=215.0)),
                         ["one system call 950 ns here, 215 ns there"])

    def test_every_identity_key_counts(self):
        for k, v in (("cpu_model", "Intel Xeon"), ("vcpus", 4),
                     ("kernel", "6.1.0"), ("virtualization", "KVM")):
            with self.subTest(key=k):
                diff = machine.differences(A, dict(A, **{k: v}))
                self.assertEqual(len(diff), 1)
                self.assertTrue(diff[0].startswith(k + " "), diff)

    def test_an_unrecorded_class_is_never_the_same(self):
        self.assertEqual(machine.differences(A, None),
                         ["the runner class was not recorded there"])
        self.assertFalse(machine.same_class(None, A))

    def test_label_and_slug(self):
        self.assertEqual(machine.label(A), "AMD EPYC x2, 6.18.44-fc-v1272, "
                         "PVM, container docker, syscall 950 ns")
        self.assertEqual(machine.label(dict(A, syscall_ns=None))[-20:],
                         "syscall not measured")
        self.assertEqual(machine.slug(A), "amd-epyc-x2-6.18.44-fc-v1272-pvm")

    def test_a_run_beside_the_headline_classes(self):
        ref = [{"runner": A, "x_libaio": {"q1": 1.22, "q32": 4.11}},
               {"runner": B, "x_libaio": {"q32": 1.55, "q128": 0.96}}]
        (a, b) = machine.against_reference(ref, dict(B, syscall_ns=230.0),
                                           {"q1": 1.2, "q32": 1.6})
        self.assertEqual(a["cells"], [("q1", 1.22, 1.2), ("q32", 4.11, 1.6)])
        self.assertIn("kernel '6.18.44-fc-v1300' here, '6.18.44-fc-v1272' "
                      "there", a["differences"])
        self.assertEqual(b["differences"], [])
        self.assertEqual(b["cells"], [("q32", 1.55, 1.6)])


class ThisMachine(unittest.TestCase):
    def test_the_probe_measures_a_system_call(self):
        rc = machine.runner_class()
        if rc["syscall_ns"] is None:
            self.fail("no system call cost: %s" % rc["syscall_ns_why"])
        self.assertGreater(rc["syscall_ns"], 10)
        self.assertLess(rc["syscall_ns"], 100000)
        self.assertEqual(len(rc["syscall_ns_runs"]), 3)
        self.assertTrue(rc["kernel"] and rc["virtualization"])



class BootHypervisor(unittest.TestCase):
    """The hypervisor the kernel named at boot outlives the kernel log:
    read once, kept per boot, read back after the log has wrapped."""

    def dmesg(self, text):
        return mock.patch.object(
            machine.subprocess, "run", return_value=subprocess.
            CompletedProcess(["dmesg"], 0, stdout=text, stderr=""))

    def test_kept_for_the_boot_once_read(self):
        with tempfile.TemporaryDirectory() as d, \
                mock.patch.dict(os.environ, {"AIOR_CACHE": d}):
            with self.dmesg("[0.000000] Hypervisor detected: PVM\n"):
                self.assertEqual(machine.boot_hypervisor(), "PVM")
            # The ring has wrapped: the line is gone, the class is not.
            with self.dmesg("[9999.0] eth0: link up\n"):
                self.assertEqual(machine.boot_hypervisor(), "PVM")

    def test_not_in_the_log_and_never_read_is_none(self):
        with tempfile.TemporaryDirectory() as d, \
                mock.patch.dict(os.environ, {"AIOR_CACHE": d}), \
                self.dmesg("[9999.0] eth0: link up\n"):
            self.assertIsNone(machine.boot_hypervisor())
            self.assertEqual(os.listdir(d), [])

