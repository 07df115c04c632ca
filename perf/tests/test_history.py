# SPDX-License-Identifier: BSD-3-Clause
"""Baselines and history (aiorperf.history) on fabricated result files.

The chart test needs gnuplot (scripts/setup.sh installs it) and fails
without it: the chart is a deliverable, not an option.
"""

import io
import json
import os
import shutil
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

from aiorperf import cli, history

CELL = "randread/4k/qd32/j1"
CELL1 = "randread/4k/qd1/j1"
RUNNER = {"cpu_model": "Test CPU", "vcpus": 2, "kernel": "6.1.0-v1",
          "virtualization": "KVM", "syscall_ns": 950.0}
ENV = {"cpu_model": "Test CPU", "kernel": "6.1.0-v1", "fio_version":
       "fio-3.33", "nproc": 2, "runner": RUNNER}
# The same CPU string and kernel series, a newer guest build whose system
# calls cost a quarter as much: another class.
ENV_B = dict(ENV, kernel="6.1.0-v2", runner=dict(
    RUNNER, kernel="6.1.0-v2", syscall_ns=215.0))


def doc(ratios, date, git, cells=(CELL,), configs=("aioring", "libaio"),
        env=None):
    """A results document: per cell, aioring = ratio x libaio each round."""
    samples = []
    for cell in cells:
        r = ratios[cell] if isinstance(ratios, dict) else ratios
        for rnd, x in enumerate(r, 1):
            samples.append({"cell": cell, "config": "libaio", "round": rnd,
                            "ok": True, "iops": 100000.0})
            samples.append({"cell": cell, "config": configs[0],
                            "round": rnd, "ok": True, "iops": 100000.0 * x})
    e = dict(env or ENV, date_utc=date, git_describe=git)
    return {"env": e, "cells": list(cells), "configs": list(configs),
            "samples": samples, "settings": {"rounds": len(samples)}}


def write(d, name, document):
    os.makedirs(os.path.join(d, name), exist_ok=True)
    with open(os.path.join(d, name, "results.json"), "w") as f:
        json.dump(document, f)


class Baselines(unittest.TestCase):
    def test_round_trip_and_listing(self):
        with tempfile.TemporaryDirectory() as d:
            dd = doc([1.2, 1.21, 1.19], "2026-01-01T00:00:00Z", "v1")
            path = history.save_baseline(dd, "main", d)
            self.assertEqual(path, os.path.join(d, "main.json"))
            back = history.load_baseline("main", d)
            self.assertEqual(back["samples"], dd["samples"])
            self.assertEqual(back["runner_class"], RUNNER)
            self.assertEqual(back["baseline"]["name"], "main")
            self.assertEqual(history.list_baselines(d), ["main"])

    def test_missing_baseline_names_what_exists(self):
        with tempfile.TemporaryDirectory() as d:
            history.save_baseline(doc([1.2] * 3, "x", "v1"), "main", d)
            with self.assertRaises(history.BaselineError) as cm:
                history.load_baseline("mian", d)
            self.assertIn("baseline 'mian' not found in %s (saved: main)"
                          % d, str(cm.exception))

    def test_another_runner_class_is_refused_naming_the_difference(self):
        with tempfile.TemporaryDirectory() as d:
            history.save_baseline(doc([1.2] * 3, "x", "v1"), "main", d)
            b = history.load_baseline("main", d)
            history.check_runner_class(dict(ENV), b, "main")   # same: ok
            # The probe's run-to-run noise is no new class.
            history.check_runner_class(dict(ENV, runner=dict(
                RUNNER, syscall_ns=990.0)), b, "main")
            with self.assertRaises(history.BaselineError) as cm:
                history.check_runner_class(ENV_B, b, "main")
            msg = str(cm.exception)
            self.assertIn("kernel '6.1.0-v2' here, '6.1.0-v1' in the "
                          "baseline", msg)
            self.assertIn("one system call 215 ns here, 950 ns in the "
                          "baseline", msg)
            self.assertIn("--ignore-runner-class", msg)
            self.assertNotIn("cpu_model", msg)

    def test_the_class_stored_with_a_baseline_is_the_one_judged(self):
        with tempfile.TemporaryDirectory() as d:
            history.save_baseline(doc([1.2] * 3, "x", "v1"), "main", d)
            b = history.load_baseline("main", d)
            b["runner_class"]["kernel"] = "0.0-other"
            with self.assertRaises(history.BaselineError) as cm:
                history.check_runner_class(dict(ENV), b, "main")
            self.assertIn("'0.0-other' in the baseline", str(cm.exception))

    def test_same_kernel_name_other_syscall_cost_is_another_class(self):
        with tempfile.TemporaryDirectory() as d:
            history.save_baseline(doc([1.2] * 3, "x", "v1"), "main", d)
            b = history.load_baseline("main", d)
            with self.assertRaises(history.BaselineError) as cm:
                history.check_runner_class(dict(ENV, runner=dict(
                    RUNNER, syscall_ns=400.0)), b, "main")
            self.assertIn("one system call 400 ns here, 950 ns", str(
                cm.exception))

    def test_another_fio_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            history.save_baseline(doc([1.2] * 3, "x", "v1"), "main", d)
            b = history.load_baseline("main", d)
            with self.assertRaises(history.BaselineError) as cm:
                history.check_runner_class(dict(ENV, fio_version="fio-3.36"),
                                           b, "main")
            self.assertIn("fio fio-3.36 here, fio-3.33 in the baseline",
                          str(cm.exception))

    def test_a_baseline_from_before_runner_classes_is_another_class(self):
        old = dict(doc([1.2] * 3, "x", "v1"))
        old["env"] = {k: v for k, v in old["env"].items() if k != "runner"}
        with self.assertRaises(history.BaselineError) as cm:
            history.check_runner_class(ENV, old, "main")
        self.assertIn("virtualization 'KVM' here, ? in the baseline",
                      str(cm.exception))

    def test_co_run_against_solo_is_refused_both_ways(self):
        solo = doc([1.2] * 3, "x", "v1")
        corun = doc([1.2] * 3, "x", "v1")
        for s in corun["samples"]:
            s["corun"] = True
        history.check_run_mode("solo", solo, "main")
        history.check_run_mode("co-run", corun, "main")
        for mode, b in (("co-run", solo), ("solo", corun)):
            with self.assertRaises(history.BaselineError) as cm:
                history.check_run_mode(mode, b, "main")
            self.assertIn("--ignore-run-mode", str(cm.exception))
            self.assertIn("do not compare", str(cm.exception))

    def test_a_run_without_libaio_cannot_be_a_baseline(self):
        with tempfile.TemporaryDirectory() as d:
            dd = doc([1.2] * 3, "x", "v1")
            dd["samples"] = [s for s in dd["samples"]
                             if s["config"] != "libaio"]
            with self.assertRaises(history.BaselineError):
                history.save_baseline(dd, "main", d)

    def test_config_pairs(self):
        self.assertEqual(history.baseline_pairs(
            ["head", "libaio"], ["head", "base", "libaio"]),
            [("head", "head")])
        self.assertEqual(history.baseline_pairs(
            ["aioring", "libaio"], ["head", "libaio"]),
            [("aioring", "head")])
        self.assertEqual(history.baseline_pairs(
            ["a", "b", "libaio"], ["c", "libaio"]), [])

    def test_baseline_subcommand_saves_lists_and_refuses_failed_runs(self):
        with tempfile.TemporaryDirectory() as d:
            write(d, "r1", doc([1.2] * 3, "2026-01-01T00:00:00Z", "v1"))
            out = io.StringIO()
            with redirect_stdout(out):
                rc = cli.main(["baseline", "--baseline-dir", d + "/b",
                               "save", "nightly", os.path.join(d, "r1")])
                self.assertEqual(rc, 0)
                rc = cli.main(["baseline", "--baseline-dir", d + "/b",
                               "list"])
            self.assertEqual(rc, 0)
            self.assertIn("nightly", out.getvalue())
            bad = doc([1.2] * 3, "x", "v1")
            bad["failures"] = [{"cell": CELL}]
            write(d, "r2", bad)
            err = io.StringIO()
            with redirect_stderr(err):
                rc = cli.main(["baseline", "--baseline-dir", d + "/b",
                               "save", "x", os.path.join(d, "r2")])
            self.assertEqual(rc, 2)
            self.assertIn("incomplete", err.getvalue())


class History(unittest.TestCase):
    def make(self, d):
        # QD32 steps down 10% at commit v5; QD1 stays flat with noise.
        qd32 = [1.20, 1.21, 1.19, 1.20, 1.08, 1.09, 1.07]
        qd1 = [1.05, 1.04, 1.06, 1.05, 1.05, 1.04, 1.06]
        for i, (a, b) in enumerate(zip(qd32, qd1)):
            write(d, "run%d" % i, doc(
                {CELL: [a * 0.995, a, a * 1.005],
                 CELL1: [b * 0.995, b, b * 1.005]},
                "2026-01-%02dT00:00:00Z" % (i + 1), "v%d" % (i + 1),
                cells=(CELL, CELL1)))
        # Unordered on disk: history orders by date.
        os.rename(os.path.join(d, "run0"), os.path.join(d, "zz-first"))

    def test_series_steps_and_order(self):
        with tempfile.TemporaryDirectory() as d:
            self.make(d)
            h = history.build_history([d])
            self.assertEqual([r["label"] for r in h["runs"]],
                             ["v%d" % i for i in range(1, 8)])
            s = {x["name"]: x for x in h["series"]}
            self.assertEqual(set(s), {CELL, CELL1})
            self.assertAlmostEqual(s[CELL]["values"][0], 1.20)
            (step,) = s[CELL]["steps"]
            self.assertEqual(step["label"], "v5")
            self.assertAlmostEqual(step["change"], -0.1, places=2)
            self.assertEqual(s[CELL1]["steps"], [])

    def test_two_runner_classes_are_two_series_in_their_own_colours(self):
        with tempfile.TemporaryDirectory() as d:
            # The same CPU string and kernel series, another guest build:
            # 4.1x libaio on one, 1.55x on the other.
            write(d, "a", doc([4.1] * 3, "2026-01-01T00:00:00Z", "v1"))
            write(d, "b", doc([1.55] * 3, "2026-01-02T00:00:00Z", "v2",
                              env=ENV_B))
            # The probe's noise (950 -> 960 ns) is the same class.
            write(d, "c", doc([4.1] * 3, "2026-01-03T00:00:00Z", "v3",
                              env=dict(ENV, runner=dict(
                                  RUNNER, syscall_ns=960.0))))
            h = history.build_history([d])
            names = sorted(x["name"] for x in h["series"])
            self.assertEqual(len(names), 2, names)
            self.assertTrue(all(" @ " in n for n in names), names)
            self.assertTrue(any("6.1.0-v2" in n and "215 ns" in n
                                for n in names), names)
            # One class's series never takes the other's figure: no step.
            self.assertTrue(all(x["steps"] == [] for x in h["series"]))
            (apart,) = h["apart"]
            self.assertIn("kept apart", apart)
            self.assertIn("2 run(s)", apart)
            self.assertIn("1 run(s)", apart)
            self.assertEqual([r["runner_class"]["kernel"] for r in h["runs"]],
                             ["6.1.0-v1", "6.1.0-v2", "6.1.0-v1"])
            # Told to, one line over both classes: then it is a step.
            h = history.build_history([d], across=True)
            (ser,) = h["series"]
            self.assertEqual(ser["values"], [4.1, 1.55, 4.1])
            self.assertIn("--across-runners", h["apart"][0])

    def test_a_co_run_and_a_solo_run_are_two_series(self):
        with tempfile.TemporaryDirectory() as d:
            write(d, "a", doc([1.2] * 3, "2026-01-01T00:00:00Z", "v1"))
            co = doc([1.0] * 3, "2026-01-02T00:00:00Z", "v2")
            for smp in co["samples"]:
                smp["corun"] = True
            write(d, "b", co)
            h = history.build_history([d])
            names = sorted(x["name"] for x in h["series"])
            self.assertEqual(len(names), 2, names)
            self.assertTrue(any(n.endswith(", co-run") for n in names))
            self.assertEqual([r["mode"] for r in h["runs"]],
                             ["solo", "co-run"])
            self.assertNotIn("red", " ".join(history.SERIES_COLOURS))
            self.assertNotIn("#d62728", history.SERIES_COLOURS)
            self.assertEqual(len(set(history.SERIES_COLOURS)),
                             len(history.SERIES_COLOURS))

    def test_command_writes_chart_markdown_json_and_can_fail_on_step(self):
        if not shutil.which("gnuplot"):
            self.fail("gnuplot not installed (scripts/setup.sh installs "
                      "gnuplot-nox)")
        with tempfile.TemporaryDirectory() as d:
            self.make(d)
            out = os.path.join(d, "trend")
            buf = io.StringIO()
            with redirect_stdout(buf):
                rc = cli.main(["history", d, "--out", out])
            self.assertEqual(rc, 0)
            with open(os.path.join(out, "history.png"), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
            with open(os.path.join(out, "history.md")) as f:
                md = f.read()
            self.assertIn("at `v5`: 1.200 -> 1.080 (-10.0%)", md)
            self.assertIn("![trend](history.png)", md)
            # Every row names the runner class its figures came from.
            self.assertIn("| `%s` | Test x2, 6.1.0-v1, KVM, syscall "
                          "950 ns, fio-3.33 | 7 |" % CELL, md)
            with open(os.path.join(out, "history.json")) as f:
                runs = json.load(f)["runs"]
            self.assertEqual(len(runs), 7)
            self.assertEqual({r["runner_class"]["syscall_ns"]
                              for r in runs}, {950.0})
            with open(os.path.join(out, "history.gp")) as f:
                self.assertIn("step -10.0%", f.read())
            self.assertIn("steps for the worse, still in effect",
                          buf.getvalue())
            with redirect_stdout(io.StringIO()):
                rc = cli.main(["history", d, "--out", out, "--fail-on-step"])
            self.assertEqual(rc, 1)
            with redirect_stdout(io.StringIO()):
                rc = cli.main(["history", d, "--out", out, "--fail-on-step",
                               "--step", "15%"])
            self.assertEqual(rc, 0)

    def test_only_a_last_step_for_the_worse_is_still_in_effect(self):
        def series(name, *changes):
            return {"name": name, "x": list(range(8)), "steps": [
                {"index": 2 + 2 * i, "label": "v%d" % (2 + 2 * i),
                 "change": c} for i, c in enumerate(changes)]}
        h = {"metric": "iops", "series": [
            series("recovered", -0.10, +0.08), series("fell", +0.06, -0.10),
            series("flat")]}
        self.assertEqual([(n, s["label"]) for n, s in
                          history.worse_steps(h)], [("fell", "v4")])
        h = {"metric": "p99", "series": [series("slower", +0.2),
                                         series("faster", -0.2)]}
        self.assertEqual([n for n, _ in history.worse_steps(h)], ["slower"])

    def test_unusable_files_are_skipped_and_said(self):
        with tempfile.TemporaryDirectory() as d:
            self.make(d)
            os.makedirs(os.path.join(d, "broken"))
            with open(os.path.join(d, "broken", "results.json"), "w") as f:
                f.write("{not json")
            h = history.build_history([d])
            self.assertEqual(len(h["runs"]), 7)
            self.assertEqual(len(h["skipped"]), 1)
            self.assertIn("broken", h["skipped"][0])

