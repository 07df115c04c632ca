# SPDX-License-Identifier: BSD-3-Clause
"""The plan (aiorperf.plan): cells from the command line, cell keys, fio
command lines solo and co-run, configs, the balanced order.
"""

import unittest

from aiorperf import cli, plan, run, util
from aiorperf.plan import base_cell, parse_cell_key
from .fixtures import CELL


class Plan(unittest.TestCase):
    def args(self, *argv):
        return cli.parse_args(list(argv))

    def test_default_quick_and_full_cells(self):
        self.assertEqual(plan.build_cells(self.args()), [
            "randread/4k/qd1/j1", "randread/4k/qd32/j1",
            "randread/4k/qd32/j1/files64", "randread/4k/qd128/j1",
            "randwrite/4k/qd32/j1"])
        q = self.args("--quick")
        self.assertEqual(plan.build_cells(q), plan.QUICK_CELLS)
        self.assertEqual((q.rounds, q.runtime, q.ramp_time), (6, 1.0, 0.25))
        full = plan.build_cells(self.args("--full"))
        self.assertEqual(len([c for c in full if "files" not in c]), 36)
        self.assertEqual(len([c for c in full if "files" in c]), 6)

    def test_matrix_flags_and_files(self):
        cells = plan.build_cells(self.args("--rw", "randwrite", "--qd",
                                              "1,128", "--files", "8"))
        self.assertEqual(cells, ["randwrite/4k/qd1/j1",
                                 "randwrite/4k/qd1/j1/files8",
                                 "randwrite/4k/qd128/j1",
                                 "randwrite/4k/qd128/j1/files8"])
        self.assertNotIn("files", " ".join(
            plan.build_cells(self.args("--files", "0"))))

    def test_fio_command_is_identical_but_for_the_engine(self):
        a = self.args("--engine", "/x/libaioring.so", "--aior-opt",
                      "wait_mode=spin")
        t = {"path": "/t", "size": 1 << 30, "pass_size": True,
             "readonly": False, "files": {}}
        cmds = {c: plan.fio_cmd(a, t, "randread/4k/qd128/j2", c)
                for c in ("aioring", "libaio", "libaio-ur", "io_uring",
                          "aioring:reap_mode=syscall")}
        common = [x for x in cmds["libaio"] if not x.startswith(
            "--ioengine")]
        for c, cmd in cmds.items():
            self.assertEqual(cmd[:len(common)], common, c)
        self.assertIn("--iodepth_batch_submit=32", common)
        self.assertIn("--iodepth_batch_complete_max=32", common)
        self.assertIn("--numjobs=2", common)
        self.assertEqual(cmds["aioring"][len(common):], [
            "--ioengine=external:/x/libaioring.so", "--wait_mode=spin"])
        self.assertEqual(cmds["libaio-ur"][len(common):], [
            "--ioengine=libaio", "--userspace_reap=1",
            "--iodepth_batch_complete_min=0"])
        self.assertEqual(cmds["aioring:reap_mode=syscall"][-1],
                         "--reap_mode=syscall")

    def test_corun_is_one_fio_with_a_job_per_build_on_one_cpu(self):
        a = self.args("--engine", "base=/b.so", "--engine", "head=/h.so",
                      "--cpus-allowed", "0-1")
        t = {"path": "/dev/shm/t", "size": 1 << 28, "pass_size": True,
             "readonly": False, "files": {}, "kind": "ram"}
        cmd = plan.corun_cmd(a, t, "randread/4k/qd32/j1", ["head", "base"],
                             run.corun_cpu(a))
        self.assertEqual(run.corun_cpu(a), 1)
        self.assertEqual([x for x in cmd if x.startswith("--cpus_allowed")],
                         ["--cpus_allowed=1"])
        self.assertNotIn("--group_reporting=1", cmd)
        i, j = cmd.index("--name=corun0"), cmd.index("--name=corun1")
        # The cell's options come before the first job: global to both.
        self.assertIn("--iodepth=32", cmd[:i])
        self.assertEqual(cmd[i + 1:j], ["--ioengine=external:/h.so"])
        self.assertEqual(cmd[j + 1:], ["--ioengine=external:/b.so"])
        self.assertTrue(plan.corun_applies("randread/4k/qd32/j1", t))
        self.assertFalse(plan.corun_applies("randread/4k/qd32/j2", t))
        self.assertFalse(plan.corun_applies("randread/4k/qd32/j1",
                                            dict(t, kind="file")))

    def test_bad_config_is_refused(self):
        with self.assertRaises(util.SetupError):
            plan.parse_configs(["aioring", "spdk"])
        with self.assertRaises(util.SetupError):
            plan.parse_configs(["aioring:nokey"])

    def test_cell_keys(self):
        self.assertEqual(parse_cell_key("randwrite/128k/qd128/j2/files64"),
                         {"rw": "randwrite", "bs": "128k", "qd": 128,
                          "jobs": 2, "files": 64})
        self.assertEqual(base_cell(CELL + "/files64"), CELL)
        with self.assertRaises(ValueError):
            parse_cell_key("randread/4k/32/j1")

    def test_balanced_order_mirrors_each_block(self):
        items = ["base", "head", "libaio", "io_uring"]
        for blk in range(5):
            a = plan.balanced_order(items, 2 * blk + 1, seed=11)
            b = plan.balanced_order(items, 2 * blk + 2, seed=11)
            self.assertEqual(sorted(a), sorted(items))
            self.assertEqual(a, b[::-1])
        self.assertEqual(plan.balanced_order(items, 3, seed=11),
                         plan.balanced_order(items, 3, seed=11))
        firsts = {plan.balanced_order(items, 2 * k + 1, seed=1)[0]
                  for k in range(40)}
        self.assertGreater(len(firsts), 1)

