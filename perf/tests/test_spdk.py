# SPDX-License-Identifier: BSD-3-Clause
"""Self-check of the spdk-aio config (SPDK's spdk_bdev fio plugin on an
aio bdev of the target): its fio command line, and its skip where it
cannot run (not root, plugin not built, --client).

  or python3 perf/tests/test_spdk.py
Needs no fio run, no SPDK and no root.
"""

import json
import tempfile
import unittest

from aiorperf import cli, plan, run, session, spdk, state

CELL = "randread/4k/qd32/j1"
TARGET = {"path": "/dev/shm/aior.dat", "size": 1 << 30, "pass_size": True,
          "readonly": False, "files": {}, "kind": "ram"}


def args(*argv):
    return cli.parse_args(list(argv))


class CommandLine(unittest.TestCase):
    def test_same_job_as_libaio_on_the_bdev_with_the_plugin_preloaded(self):
        a = args("--engine", "/x/libaioring.so")
        a.spdk = spdk.Setup("/c/spdk_bdev")
        a.spdk.conf, a.spdk.hugedir = "/o/spdk-aio.json", "/tmp/aior-huge-x"
        lib = plan.fio_cmd(a, TARGET, CELL, "libaio")
        cmd = plan.fio_cmd(a, TARGET, CELL, "spdk-aio")
        # The plugin goes into fio alone, through env(1).
        self.assertEqual(cmd[:4], ["env", "LD_PRELOAD=/c/spdk_bdev",
                                   "LD_LIBRARY_PATH=/lib", a.fio])
        # Every option of the cell as libaio has it, but the file.
        common = [x for x in lib if not x.startswith(("--ioengine",
                                                       "--filename"))]
        self.assertEqual([x for x in cmd[3:] if x in common], common)
        self.assertIn("--size=%d" % (1 << 30), cmd)
        self.assertIn("--direct=1", cmd)
        self.assertEqual([x for x in cmd if x.startswith("--filename")],
                         ["--filename=%s" % spdk.BDEV])
        self.assertEqual(cmd[-5:], [
            "--ioengine=spdk_bdev", "--thread=1",
            "--spdk_json_conf=/o/spdk-aio.json",
            "--env_context=--no-pci --huge-dir=/tmp/aior-huge-x",
            "--filename=%s" % spdk.BDEV])
        self.assertNotIn("LD_PRELOAD", " ".join(lib))

    def test_batches_at_qd128_as_every_config(self):
        a = args()
        cmd = plan.fio_cmd(a, TARGET, "randwrite/4k/qd128/j1", "spdk-aio")
        self.assertIn("--iodepth_batch_submit=32", cmd)
        self.assertIn("--iodepth_batch_complete_max=32", cmd)
        self.assertIn("--env_context=--no-pci", cmd)

    def test_json_conf_makes_one_aio_bdev_of_the_target(self):
        doc = spdk.json_conf("/dev/shm/aior.dat")
        (sub,) = doc["subsystems"]
        self.assertEqual(sub["subsystem"], "bdev")
        create = sub["config"][0]
        self.assertEqual(create["method"], "bdev_aio_create")
        self.assertEqual(create["params"], {"name": spdk.BDEV,
                                            "filename": "/dev/shm/aior.dat"})
        json.dumps(doc)

    def test_is_a_peer_not_an_engine_build(self):
        self.assertEqual(plan.parse_configs(["aioring", "spdk-aio"]),
                         ["aioring", "spdk-aio"])
        self.assertFalse(plan.is_external("spdk-aio"))
        self.assertIn("spdk-aio", plan.RESERVED_NAMES)

    def test_never_co_runs(self):
        st = state.RunState(args=None, cells=[CELL],
                            configs=["aioring", "libaio", "spdk-aio"])
        st.target = dict(TARGET)
        got = run.plan_runs(st, None, ("aioring", "libaio", "spdk-aio"))
        self.assertEqual(got, [(CELL, ("aioring", "libaio")),
                               (CELL, "spdk-aio")])

    def test_files_cells_leave_it_out(self):
        self.assertEqual(plan.cell_configs(CELL + "/files64",
                                           ["aioring", "spdk-aio"]),
                         ["aioring"])


class Skip(unittest.TestCase):
    def test_reasons(self):
        with tempfile.NamedTemporaryFile() as f:
            self.assertIsNone(spdk.refused(f.name, euid=0))
            self.assertRegex(spdk.refused(f.name, euid=1000), "needs root")
            self.assertRegex(spdk.refused(f.name, euid=0, remote=True),
                             "#1118")
        why = spdk.refused("/nonexistent/spdk_bdev", euid=0)
        self.assertIn("not built", why)
        self.assertIn("scripts/spdk-build.sh", why)

    def test_setup_skips_the_config_and_says_so(self):
        with tempfile.NamedTemporaryFile(suffix=".so") as eng:
            a = args("--engine", eng.name, "--configs",
                     "aioring,libaio,spdk-aio", "--qd", "1",
                     "--spdk-plugin", "/nonexistent/spdk_bdev")
            configs, cells, _, _ = session.setup(a)
        self.assertEqual(configs, ["aioring", "libaio"])
        self.assertEqual(a.spdk, None)
        self.assertEqual(len(a.setup_notes), 1)
        self.assertRegex(a.setup_notes[0],
                         r"^spdk-aio is skipped: .*scripts/spdk-build\.sh")
        self.assertRegex(a.skipped_configs[0], r"^spdk-aio \(every cell\): ")
        # Into the run's state: summary.md's notes and results.json's
        # "skipped".
        with tempfile.TemporaryDirectory() as d:
            a.out = d
            st = session.new_state(a, 0, cells, configs, None, None)
        self.assertEqual(st.skipped, a.skipped_configs)
        self.assertEqual(st.notes, a.setup_notes)

    def test_restore_of_nothing_is_harmless(self):
        sp = spdk.Setup("/c/spdk_bdev")
        self.assertIsNone(sp.restore())
        self.assertIsNone(sp.restore())

