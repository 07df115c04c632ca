#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""CI-native outputs (aiorperf.report): JUnit XML read back with a parser,
verdict tables, Markdown; and the exit codes of the command line.

Run: python3 -m unittest discover -s perf/tests  (or this file directly).
"""

import io
import os
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from aiorperf import cli, gate, report  # noqa: E402

CELL = "randread/4k/qd32/j1"
CELL1 = "randread/4k/qd1/j1"


def smp(cell, config, values, key="iops"):
    return [{"cell": cell, "config": config, "round": i + 1, "ok": True,
             key: v} for i, v in enumerate(values)]


def fabricated():
    """A/B results: QD32 IOPS regressed 10%, QD1 IOPS unchanged, QD1 p99
    inconclusive; plus one floor that fails."""
    s = (smp(CELL, "base", [600e3, 610e3, 590e3, 605e3, 600e3]) +
         smp(CELL, "head", [540e3, 549e3, 531e3, 545e3, 540e3]) +
         smp(CELL1, "base", [100e3, 101e3, 99e3, 100e3, 100e3]) +
         smp(CELL1, "head", [100e3, 100e3, 100e3, 101e3, 99e3]) +
         smp(CELL1, "base", [2000, 2000, 2000, 2000, 2000], "lat_p99_ns") +
         smp(CELL1, "head", [1500, 2600, 2000, 1800, 2300], "lat_p99_ns") +
         smp(CELL, "libaio", [500e3] * 5))
    ab = gate.evaluate_ab(s, [CELL, CELL1], "base", ["head"],
                          ("iops", "p99"))
    floors = gate.evaluate_gate(gate.normalize_floors(
        {CELL: {"vs": "libaio", "config": "head", "min_ratio": 1.5}}), s)
    return s, ab, floors


class JUnit(unittest.TestCase):
    def parse(self, **kw):
        s, ab, floors = fabricated()
        fails = [{"cell": CELL, "config": "io_uring", "round": 2,
                  "error": "fio exited 1", "cmd": ["fio", "--x"]}]
        text = report.junit_xml([("floors", floors), ("ab", ab)], fails,
                                **kw)
        return ET.fromstring(text.encode()), ab

    def test_one_testcase_per_judged_cell_and_metric_with_figures(self):
        root, ab = self.parse()
        cases = root.findall(".//testcase")
        judged = [c for c in cases if c.get("classname").startswith("ab.")]
        self.assertEqual(len(judged), len(ab))
        self.assertEqual(len(ab), 3)    # QD32 iops (no p99 samples), QD1 x2
        names = {(c.get("classname"), c.get("name")) for c in judged}
        self.assertIn(("ab." + CELL, "head vs base iops"), names)
        self.assertIn(("ab." + CELL1, "head vs base p99"), names)
        reg = [c for c in judged if c.find("failure") is not None]
        self.assertEqual(len(reg), 1)
        msg = reg[0].find("failure").get("message")
        # The figures are in the failure message.
        self.assertIn("REGRESSION", msg)
        self.assertIn("IOPS head 540.0k vs base 600.0k", msg)
        self.assertIn("-10.0%", msg)
        self.assertIn("CI 0.", msg)
        self.assertEqual(reg[0].get("classname"), "ab." + CELL)

    def test_inconclusive_is_skipped_or_under_strict_a_failure(self):
        root, _ = self.parse()
        sk = root.findall(".//testcase/skipped")
        self.assertEqual(len(sk), 1)
        self.assertIn("INCONCLUSIVE", sk[0].get("message"))
        root, _ = self.parse(strict=True)
        self.assertEqual(len(root.findall(".//testcase/skipped")), 0)
        self.assertEqual(int(root.get("failures")), 3)

    def test_counts_floors_and_fio_errors(self):
        root, _ = self.parse()
        self.assertEqual(int(root.get("tests")), 1 + 3 + 1)
        self.assertEqual(int(root.get("failures")), 2)  # floor + regression
        self.assertEqual(int(root.get("errors")), 1)
        self.assertEqual(int(root.get("skipped")), 1)
        fl = [c for c in root.findall(".//testcase")
              if c.get("classname") == "gate." + CELL]
        self.assertEqual(len(fl), 1)
        self.assertIn("FAIL: ratio of medians 1.080",
                      fl[0].find("failure").get("message"))
        err = root.find(".//testcase/error")
        self.assertEqual(err.get("message"), "fio exited 1")
        for ts in root.findall("testsuite"):
            self.assertEqual(int(ts.get("tests")),
                             len(ts.findall("testcase")))

    def test_names_with_xml_specials_are_escaped(self):
        s = smp(CELL, "base", [1, 1, 1]) + smp(CELL, 'he"a<d>&', [1, 1, 1])
        ab = gate.evaluate_ab(s, [CELL], "base", ['he"a<d>&'], ("iops",))
        root = ET.fromstring(report.junit_xml([("ab", ab)]).encode())
        self.assertEqual(root.find(".//testcase").get("name"),
                         'he"a<d>& vs base iops')


class Tables(unittest.TestCase):
    def test_verdict_text_and_markdown(self):
        _, ab, _ = fabricated()
        t = report.verdict_text(ab)
        self.assertIn("REGRESSION", t)
        self.assertIn("NO CHANGE", t)
        self.assertNotIn("host", t.splitlines()[0])     # local only
        md = report.verdict_md(ab)
        self.assertIn("**REGRESSION**", md)
        self.assertEqual(len(md.strip().splitlines()), 2 + len(ab))
        self.assertIn("A/B: REGRESSION: 1 regression, 0 improvement, 1 no "
                      "change, 1 inconclusive", report.verdict_banner(ab))

    def test_per_host_summaries_keep_hosts_apart(self):
        s = smp(CELL, "base", [100, 100, 100]) + \
            smp(CELL, "libaio", [50, 50, 50])
        for x in s:
            x["host"] = "all"
        h = smp(CELL, "base", [40, 40, 40])
        for x in h:
            x["host"] = "127.0.0.2:8766"
        summ = report.summarize(s + h, [CELL], ["base", "libaio"])
        self.assertEqual(summ[CELL]["base"]["iops"], 100)
        self.assertAlmostEqual(summ[CELL]["base"]["vs_libaio"], 2.0)
        one = report.summarize(s + h, [CELL], ["base"],
                               host="127.0.0.2:8766")
        self.assertEqual(one[CELL]["base"]["iops"], 40)
        self.assertEqual(report.hosts_in(s + h), ["127.0.0.2:8766"])


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


if __name__ == "__main__":
    unittest.main()
