#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""CI-native outputs (aiorperf.report): JUnit XML read back with a parser,
verdict tables, Markdown; the files a run writes (aiorperf.outputs); and
the exit codes of the command line.

Run: python3 -m unittest discover -s perf/tests  (or this file directly).
"""

import io
import json
import os
import shutil
import signal
import sys
import tempfile
import unittest
import unittest.mock
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from aiorperf import cli, gate, outputs, report, state  # noqa: E402
from aiorperf import samples, session, targets, util, verdicts  # noqa: E402

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
        summ = samples.summarize(s + h, [CELL], ["base", "libaio"])
        self.assertEqual(summ[CELL]["base"]["iops"], 100)
        self.assertAlmostEqual(summ[CELL]["base"]["vs_libaio"], 2.0)
        one = samples.summarize(s + h, [CELL], ["base"],
                               host="127.0.0.2:8766")
        self.assertEqual(one[CELL]["base"]["iops"], 40)
        self.assertEqual(samples.hosts_in(s + h), ["127.0.0.2:8766"])


def run_state(out, **kw):
    """A judged A/B run of fabricated(), as the command line leaves it
    for outputs.write_outputs."""
    s, _, _ = fabricated()
    args = cli.parse_args(["--engine", "base=/bin/true", "--engine",
                           "head=/bin/true", "--rounds", "5", "--label",
                           "head=main @ 1a2b3c"])
    target = targets.new_target()
    target.update(path="/dev/shm/x/aior-bench.dat", kind="ram", size=1 << 30)
    st = state.RunState(
        args=args, out=out, cells=[CELL, CELL1],
        configs=["base", "head", "libaio"], samples=s, notes=["a note"],
        t0=0.0, target=target,
        settings={"rounds": 5, "runtime": 1.0, "ramp_time": 0.25,
                  "order": "rotating by round", "budget_s": None,
                  "aior_opt": []},
        env={"kernel": "6.1.0", "cpu_model": "a CPU", "nproc": 2,
             "runner": {"cpu_model": "a CPU", "vcpus": 2,
                        "kernel": "6.1.0-v1", "virtualization": "PVM",
                        "syscall_ns": 950.0},
             "fio_version": "fio-3.33", "git_describe": "v0-1-gabc",
             "loadavg_start": (0.5, 0.25, 0.0), "engines": {
                 "base": {"path": "/bin/true", "sha256": "ab" * 32}}},
        **kw)
    verdicts.judge(st)
    st.rc = verdicts.exit_status(st, 0)
    return st


class Outputs(unittest.TestCase):
    """Every file of --out from one judged run; no gnuplot is run."""

    def write(self, **kw):
        d = tempfile.mkdtemp(prefix="aior-outputs-")
        self.addCleanup(shutil.rmtree, d)
        step = os.path.join(d, "step.md")
        env = {"PATH": os.path.join(d, "nothing"),
               "GITHUB_STEP_SUMMARY": step}
        st = run_state(d, **kw)
        with unittest.mock.patch.dict(os.environ, env), \
                redirect_stdout(io.StringIO()) as printed:
            outputs.write_outputs(st)
        files = {}
        for name in os.listdir(d):
            with open(os.path.join(d, name)) as f:
                files[name] = f.read()
        return st, files, printed.getvalue()

    def test_every_file_is_written_and_the_summary_leads_with_verdicts(self):
        st, files, printed = self.write()
        self.assertEqual(sorted(files), sorted([
            "results.json", "table.txt", "summary.md", "junit.xml",
            "testbed.txt",
            "bmf.json", "benchmark-bigger.json", "benchmark-smaller.json",
            "ratios.dat", "ratios.gp", "ab.dat", "ab.gp", "step.md"]))
        md = files["summary.md"]
        self.assertTrue(md.startswith(
            "## libaioring A/B: head (main @ 1a2b3c) vs base\n\n"
            "**A/B timed: REGRESSION: 1 regression"), md[:200])
        self.assertIn("- engine **base** `/bin/true`, sha256 "
                      "`abababababababab`", md)
        self.assertIn("### A/B verdicts", md)
        self.assertIn("same round, 90% bootstrap CI over rounds;", md)
        self.assertIn("- a note", md)
        self.assertEqual(files["step.md"], md + "\n")
        self.assertIn("REGRESSION", files["table.txt"])
        self.assertIn("results: %s" % st.out, printed)
        # Every output names the machine the figures came from.
        runner = "a x2, 6.1.0-v1, PVM, syscall 950 ns"
        self.assertIn("- runner class: %s; fio-3.33" % runner, md)
        self.assertIn("runner class: %s" % runner, files["table.txt"])
        self.assertEqual(files["testbed.txt"], "a-cpu-x2-6.1.0-v1-pvm\n")
        for e in json.loads(files["benchmark-bigger.json"]):
            self.assertEqual(e["extra"], "runner class: " + runner)
        self.assertEqual(json.loads(files["bmf.json"])["runner-class"][
            "syscall-ns"]["value"], 950.0)
        ET.fromstring(files["junit.xml"].encode())
        doc = json.loads(files["results.json"])
        self.assertEqual(doc["runner_class"]["syscall_ns"], 950.0)
        self.assertEqual(doc["runner_label"], runner)
        self.assertEqual(doc["ab_roles"], {"base": "base",
                                           "heads": ["head"]})
        self.assertEqual(doc["labels"], {"head": "main @ 1a2b3c"})
        self.assertEqual(doc["target"]["path"], "/dev/shm/x/aior-bench.dat")
        self.assertEqual(doc["target"]["files"], {})
        self.assertEqual(len(doc["samples"]), len(st.samples))
        self.assertEqual(doc["charts"], [])
        self.assertIsNone(doc["counts"])
        self.assertIn("loadavg_end", doc["env"])
        self.assertEqual(doc, json.loads(json.dumps(st.doc, default=str)))

    def test_a_run_that_stopped_never_headlines_a_pass(self):
        st, files, _ = self.write(setup_error="fio binary 'x' not found")
        st.rc = verdicts.EXIT_SETUP
        md = outputs.markdown(st, {}, {})
        self.assertIn("**COULD NOT RUN (exit 2)**: fio binary 'x' not "
                      "found", md)
        self.assertIn("No verdict below is a pass", md)

    def test_a_count_that_failed_is_a_note_not_a_crash(self):
        # counts.run_counts names the round of a failed count "count N".
        st, _, _ = self.write(failures=[
            {"cell": CELL, "config": "head", "round": "count 2",
             "error": "count: valgrind exited 1", "cmd": ["fio"]}])
        md = outputs.markdown(st, {}, {})
        self.assertIn("- FAILED: %s head round count 2: count: valgrind "
                      "exited 1" % CELL, md)

    def test_a_run_that_could_not_start_leaves_its_reason(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "build.log")
            with open(log, "w") as f:
                f.write("cc: error: no such file\n")
            out = os.path.join(d, "out")
            with unittest.mock.patch.dict(os.environ,
                                          {"GITHUB_STEP_SUMMARY": ""}):
                outputs.error_outputs(out, "head: build failed", log)
            with open(os.path.join(out, "summary.md")) as f:
                md = f.read()
            self.assertIn("**COULD NOT RUN (exit 2)**: head: build failed",
                          md)
            self.assertIn("cc: error: no such file", md)
            with open(os.path.join(out, "results.json")) as f:
                self.assertEqual(json.load(f)["log"], "build.log")
            root = ET.parse(os.path.join(out, "junit.xml")).getroot()
            self.assertIsNotNone(root.find(".//error"))
            self.assertTrue(os.path.isfile(os.path.join(out, "build.log")))


class Session(unittest.TestCase):
    def test_interrupted_before_the_first_run_still_writes(self):
        # Ctrl-C while t/io_uring is built: nothing measured, no
        # environment taken yet; the run still leaves its files.
        def interrupted(args, version):
            raise util.Interrupted()
        handlers = [(s, signal.getsignal(s))
                    for s in (signal.SIGINT, signal.SIGTERM)]
        for s, h in handlers:
            self.addCleanup(signal.signal, s, h)
        d = tempfile.mkdtemp(prefix="aior-session-")
        self.addCleanup(shutil.rmtree, d)
        args = cli.parse_args(["--engine", "/bin/true", "--configs",
                               "aioring", "--rw", "randread", "--qd", "1",
                               "--files", "0", "--out", d])
        st = session.new_state(args, 0.0, ["randread/4k/qd1/j1"],
                               ["aioring"], None, None)
        with unittest.mock.patch.object(session, "build_tio", interrupted):
            rc = session.measure(st, "fio-3.33", ["/bin/true"])
        self.assertEqual((rc, st.interrupted), (verdicts.EXIT_INTR, True))
        self.assertIn("kernel", st.env)
        st.rc = verdicts.exit_status(st, rc)
        with unittest.mock.patch.dict(os.environ, {
                "PATH": os.path.join(d, "nothing"),
                "GITHUB_STEP_SUMMARY": ""}), \
                redirect_stdout(io.StringIO()):
            outputs.write_outputs(st)
        with open(os.path.join(d, "summary.md")) as f:
            self.assertIn("**Interrupted**", f.read())


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
