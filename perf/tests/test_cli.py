# SPDX-License-Identifier: BSD-3-Clause
"""The command line (aiorperf.cli): usage and set-up errors exit 2 with
one clear line, --help of the command and its subcommands, a dry run.
"""

import io
import os
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

from aiorperf import cli


class ExitCodes(unittest.TestCase):
    def run_cli(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                rc = cli.main(list(argv))
            except SystemExit as e:
                rc = e.code
        return rc, out.getvalue(), err.getvalue()

    def test_usage_and_setup_errors_exit_2_with_one_clear_line(self):
        with tempfile.TemporaryDirectory() as d:
            cases = [
                (["--max-regression", "lots"], "not a number"),
                (["--engine", "io_uring=/x.so"], "built-in config name"),
                (["--engine", "a=/x.so", "--engine", "a=/y.so"],
                 "given twice"),
                (["--engine", "base=%s/none.so" % d, "--engine",
                  "head=%s/none.so" % d, "--dry-run"],
                 "engine base (%s/none.so) not found" % d),
                (["--against-baseline", "nope", "--baseline-dir", d,
                  "--engine", "/bin/true", "--dry-run"],
                 "baseline 'nope' not found in %s" % d),
                (["--save-baseline", "../x"], "bad baseline name"),
                (["--metrics", "iops,bw"], "unknown metric 'bw'"),
            ]
            for argv, want in cases:
                rc, out, err = self.run_cli(*argv)
                self.assertEqual(rc, 2, argv)
                self.assertIn(want, err, argv)

    def test_help_of_the_command_and_its_subcommands(self):
        for argv in (["--help"], ["history", "--help"],
                     ["baseline", "--help"]):
            rc, out, err = self.run_cli(*argv)
            self.assertEqual(rc, 0, argv)
            self.assertIn("usage:", out)
        rc, out, _ = self.run_cli("--help")
        self.assertIn("iops=3%,p99=10%,cpu=3%", out)
        self.assertIn("Exit status", out)

    def test_dry_run_names_the_ab_roles(self):
        rc, out, _ = self.run_cli("--engine", "base=/bin/true", "--engine",
                                  "head=/bin/true", "--quick",
                                  "--max-regression", "iops=4%",
                                  "--dry-run")
        self.assertEqual(rc, 0)
        self.assertIn("configs: base, head, libaio, io_uring", out)
        self.assertIn("A/B: head judged against base (iops 4%, p99 10%, "
                      "cpu 3%)", out)
        self.assertIn("rounds: 6..72 clean, looked at after 6, 9, 14, 21, "
                      "32, 48, 72, within a budget of 5m00s", out)
        self.assertIn("--cpus_allowed=", out)
        rc, out, _ = self.run_cli("--engine", "base=/bin/true", "--engine",
                                  "head=/bin/true", "--quick", "--rounds",
                                  "5", "--pin", "off", "--dry-run")
        self.assertEqual(rc, 0)
        self.assertIn("rounds: 5,", out)
        self.assertNotIn("--cpus_allowed=", out)
        rc, _, err = self.run_cli("--engine", "base=/bin/true", "--engine",
                                  "head=/bin/true", "--rounds", "5",
                                  "--budget", "5m", "--dry-run")
        self.assertEqual(rc, 2)
        self.assertIn("exclude each other", err)

    def test_history_and_baseline_subcommand_errors_exit_2(self):
        with tempfile.TemporaryDirectory() as d:
            rc, _, err = self.run_cli("history", os.path.join(d, "none"))
            self.assertEqual(rc, 2)
            self.assertIn("no such file or directory", err)
            rc, _, err = self.run_cli("history", d)
            self.assertEqual(rc, 2)
            self.assertIn("no usable results.json", err)
            rc, _, err = self.run_cli("baseline", "--baseline-dir", d,
                                      "save", "x", d)
            self.assertEqual(rc, 2)
            self.assertIn("results.json", err)

