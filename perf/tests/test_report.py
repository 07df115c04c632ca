# SPDX-License-Identifier: BSD-3-Clause
"""CI-native outputs (aiorperf.report): JUnit XML read back with a parser,
verdict tables, Markdown, the chart without gnuplot, the dashboards'
formats.
"""

import os
import tempfile
import unittest
import xml.etree.ElementTree as ET

from aiorperf import gate, report
from aiorperf import samples as compare_samples
from .fixtures import CELL, CELL1, fabricated, samples


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
        s = (samples(CELL, "base", [1, 1, 1]) +
             samples(CELL, 'he"a<d>&', [1, 1, 1]))
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


class Chart(unittest.TestCase):
    def test_chart_is_skipped_without_gnuplot(self):
        s = compare_samples.summarize(
            samples(CELL, "aioring", [2, 2]) + samples(CELL, "libaio", [1, 1]),
            [CELL], ["aioring", "libaio"])
        with tempfile.TemporaryDirectory() as d:
            old = os.environ["PATH"]
            os.environ["PATH"] = d
            try:
                png, msg = report.chart(s, [CELL], ["aioring", "libaio"],
                                        d)
            finally:
                os.environ["PATH"] = old
            self.assertIsNone(png)
            self.assertIn("gnuplot not found", msg)
            with open(os.path.join(d, "ratios.dat")) as f:
                self.assertIn("2.0000", f.read())


class Dashboards(unittest.TestCase):
    def test_bencher_metric_format_and_github_action_benchmark(self):
        summary = {"c": {"base": {"iops": 100.0, "iops_min": 90.0,
                                  "iops_max": 110.0, "lat_p99_ns": 5000.0,
                                  "cpu_us_per_io": 1.5}}}
        rows = [{"cell": "c", "config": "base", "rep": 1,
                 "insn_engine": 300.0},
                {"cell": "c", "config": "base", "rep": 2,
                 "insn_engine": 302.0}]
        bmf = report.bmf_doc(summary, ["c"], ["base"], rows)
        m = bmf["c/base"]
        self.assertEqual(m["throughput"], {"value": 100.0,
                                           "lower_value": 90.0,
                                           "upper_value": 110.0})
        self.assertEqual(m["latency"], {"value": 5000.0})
        self.assertEqual(m["insn-engine"], {"value": 301.0,
                                            "lower_value": 300.0,
                                            "upper_value": 302.0})
        bigger, smaller = report.gab_docs(bmf)
        self.assertEqual([e["name"] for e in bigger],
                         ["c/base throughput"])
        self.assertEqual(bigger[0]["unit"], "IOPS")
        self.assertIn("c/base insn-engine", [e["name"] for e in smaller])
        for e in bigger + smaller:
            self.assertEqual(set(e) - {"range"}, {"name", "unit", "value"})

