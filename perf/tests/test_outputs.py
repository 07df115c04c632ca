# SPDX-License-Identifier: BSD-3-Clause
"""The files a run writes (aiorperf.outputs): every file of --out from
one judged run, a run that stopped or could not start, a failed count.
"""

import io
import json
import os
import shutil
import tempfile
import unittest
import unittest.mock
import xml.etree.ElementTree as ET
from contextlib import redirect_stdout

from aiorperf import cli, outputs, state, targets, verdicts
from .fixtures import CELL, CELL1, fabricated


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

