# SPDX-License-Identifier: BSD-3-Clause
"""What a run leaves behind: the tables printed, and in --out DIR
results.json, table.txt, summary.md (also appended to
$GITHUB_STEP_SUMMARY), junit.xml, bmf.json, benchmark-bigger.json,
benchmark-smaller.json and the charts; and the same files for a run
that could not start (error_outputs); and the plan of a --dry-run
(print_plan).

Writers only: the figures come from samples.summarize, the verdicts from
verdicts.judge; nothing here decides.
"""

import json
import os
import shutil
import time

from . import counts as cnt
from . import machine
from .gate import FAIL, INCONCLUSIVE, REGRESSION
from .plan import cell_configs, config_engine, fio_cmd, parse_cell_key
from . import report as rep
from .samples import hosts_in, summarize
from .stats import DEFAULT_LEVEL, LOOK_LEVEL, LOOKS
from .util import PROGRESS, fmt_secs, human_size, loud, notice
from .verdicts import EXIT_SETUP, ab_roles, verdict_groups


def write_outputs(st):
    """results.json, table.txt, summary.md, junit.xml, the dashboards'
    files, the charts; print the tables."""
    args, out = st.args, st.out
    cells = list(st.cells)
    summary = summarize(st.samples, cells, st.configs)
    by_host = {h: summarize(st.samples, cells, st.configs, host=h)
               for h in hosts_in(st.samples)}
    table = figures_text(st, summary, by_host)
    PROGRESS.clear()
    print()
    print(table, end="")
    extra_txt = verdicts_text(st)
    print(extra_txt, end="")
    charts, msgs = draw_charts(st, summary)
    st.notes += msgs
    st.env["loadavg_end"] = os.getloadavg()
    st.charts = [os.path.basename(c) for c in charts]
    doc = results_doc(st, summary, by_host)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(doc, f, indent=1, default=str)
        f.write("\n")
    st.doc = doc
    with open(os.path.join(out, "table.txt"), "w") as f:
        f.write(table + extra_txt)
    write_dashboards(st, summary)
    junit = rep.junit_xml(verdict_groups(st), st.failures,
                          strict=args.strict,
                          elapsed=time.monotonic() - st.t0,
                          setup_error=st.setup_error)
    with open(os.path.join(out, "junit.xml"), "w") as f:
        f.write(junit)
    md = markdown(st, summary, by_host)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(md)
    step_summary(md)
    print()
    for m in msgs:
        print(m)
    print("results: %s (results.json, summary.md, table.txt, junit.xml, "
          "bmf.json, testbed.txt, benchmark-{bigger,smaller}.json%s)"
          % (out, "".join(", " + os.path.basename(c) for c in charts)))


def figures_text(st, summary, by_host):
    """The terminal table of the figures: of all hosts, then of each;
    under it, the machine they hold on."""
    table = rep.text_table(summary, st.cells, st.configs)
    if by_host:
        table = "all hosts (%s):\n%s" % (", ".join(by_host), table)
        for h, sm in by_host.items():
            table += "\nhost %s:\n%s" % (h, rep.text_table(
                sm, st.cells, st.configs))
    return table + "".join(ln + "\n" for ln in runner_lines(st, summary))


def runner_lines(st, summary):
    """Which runner class the figures came from, and (--headline) how it
    and its ratios compare with a reference run's classes."""
    env = st.env or {}
    if env.get("clients"):
        lines = ["runner: fio client/server hosts %s (their runner class "
                 "is not measured from here)" % ", ".join(env["clients"])]
    else:
        lines = ["runner class: %s; %s" % (
            machine.label(env.get("runner")), env.get("fio_version"))]
    ref = getattr(st.args, "headline", None)
    if not ref or not env.get("runner"):
        return lines
    try:
        with open(ref) as f:
            classes = json.load(f)["runner_classes"]
    except (OSError, ValueError, KeyError) as e:
        return lines + ["(--headline %s not read: %s)" % (ref, e)]
    mine = {cell: (row.get("aioring") or {}).get("vs_libaio")
            for cell, row in summary.items()}
    lines.append("the README's headline ran on %d runner class(es):"
                 % len(classes))
    for c in machine.against_reference(classes, env["runner"], mine):
        lines.append("  %s %s: %s" % (
            "another class (%s)," % "; ".join(c["differences"])
            if c["differences"] else "SAME CLASS as this run,", c["label"],
            ", ".join("%s %.2fx libaio there, %.2fx here" % x
                      for x in c["cells"]) or "no cell in common"))
    return lines


def verdicts_text(st):
    """The terminal tables of the verdicts: gate, A/B, counts, baseline,
    each under a line saying what was judged how."""
    args = st.args
    text = ""
    if st.gate is not None:
        text += "\nregression gate (%s; a floor passes when the %.3g%% " \
            "interval of its per-round ratio clears it):\n" % (
                args.gate, 100 * (LOOK_LEVEL if args.budget else
                                  DEFAULT_LEVEL))
        text += rep.gate_text(st.gate)
    if st.ab is not None:
        r = st.ab_roles
        text += "\nA/B: %s vs %s (max regression %s):\n" % (
            ", ".join(r["heads"]), r["base"], thresholds_text(args))
        text += rep.verdict_text(st.ab)
    if st.count_verdicts is not None:
        text += "\nexact counts per request (%s):\n" % counts_text(st)
        text += rep.count_text(st.count_verdicts)
    if st.baseline is not None:
        text += "\nagainst baseline %r (normalised by built-in libaio):\n" % (
            args.against_baseline)
        text += rep.verdict_text(st.baseline)
    return text


def draw_charts(st, summary):
    """ratios.png, and ab.png and baseline.png when there are such
    verdicts: ([paths drawn], [messages])."""
    charts, msgs = [], []
    png, msg = rep.chart(summary, list(st.cells), st.configs, st.out)
    msgs.append(msg)
    if png:
        charts.append(png)
    for name, res in (("ab", st.ab), ("baseline", st.baseline)):
        if res:
            p, m = rep.ab_chart(res, st.out, name)
            msgs.append(m)
            if p:
                charts.append(p)
    return charts, msgs


def write_dashboards(st, summary):
    """What dashboards take as it is: Bencher (bmf.json, Bencher Metric
    Format) and github-action-benchmark (customBiggerIsBetter /
    customSmallerIsBetter)."""
    runner = (st.env or {}).get("runner")
    bmf = rep.bmf_doc(summary, list(st.cells), st.configs, st.count_rows,
                      runner)
    bigger, smaller = rep.gab_docs(bmf, machine.label(runner))
    for name, data in (("bmf.json", bmf), ("benchmark-bigger.json", bigger),
                       ("benchmark-smaller.json", smaller)):
        with open(os.path.join(st.out, name), "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
    # Bencher keeps a machine's figures apart by its testbed, which BMF
    # itself has no field for: `bencher run --testbed "$(cat
    # testbed.txt)"` (docs/ci.md).
    with open(os.path.join(st.out, "testbed.txt"), "w") as f:
        f.write(machine.slug(runner) + "\n")


def labelled(args, config):
    """A config with its build's label, if it has one."""
    lab = args.labels.get(config_engine(config))
    return "%s (%s)" % (config, lab) if lab else config


def counts_text(st):
    args = st.args
    return ("callgrind and strace over the job threads, fio's ctx; "
            "thresholds %s" % ", ".join(
                "%s %g%%" % (k, 100 * args.count_thresholds.get(k, v[1]))
                for k, v in cnt.COUNT_METRICS.items()))


def thresholds_text(args):
    return ", ".join("%s %.0f%%" % (m, args.thresholds[m] * 100)
                     for m in args.metrics)


def results_doc(st, summary, by_host):
    args = st.args
    doc = {
        "tool": "libaioring perf/compare.py",
        "runner_class": st.env.get("runner"),
        "runner_label": machine.label(st.env.get("runner")),
        "env": st.env,
        "settings": st.settings,
        "target": target_doc(st.target),
        "cells": list(st.cells), "configs": st.configs,
        "engines": args.engines, "labels": args.labels,
        "interrupted": st.interrupted,
        "elapsed_s": round(time.monotonic() - st.t0, 1),
        "failures": st.failures, "skipped": st.skipped,
        "notes": st.notes,
        "summary": summary,
        "gate": st.gate,
        "ab": st.ab, "ab_roles": st.ab_roles,
        "counts": st.count_rows,
        "count_verdicts": st.count_verdicts,
        "baseline": st.baseline,
        "samples": st.samples,
        "charts": st.charts,
    }
    if by_host:
        doc["summary_by_host"] = by_host
    if st.baseline is not None:
        bd = st.baseline_doc
        doc["against_baseline"] = {
            "name": args.against_baseline,
            "saved_utc": (bd.get("baseline") or {}).get("saved_utc"),
            "git_describe": (bd.get("env") or {}).get("git_describe"),
            "pairs": st.baseline_pairs}
    return doc


def target_doc(t):
    if not t:
        return None
    d = {k: v for k, v in t.items()
         if k not in ("cleanup", "files", "files_each")}
    d["files"] = {str(n): {"count": len(p), "dir": os.path.dirname(p[0]),
                           "size_each": t["files_each"].get(n)}
                  for n, p in t.get("files", {}).items()}
    return d


def markdown(st, summary, by_host):
    """summary.md: the headline and banners, the run's setting, each
    verdict's section, the figures, the gate, the notes."""
    return "\n".join(
        md_head(st) + md_setting(st, summary) + md_ab(st) + md_counts(st) +
        md_baseline(st) + md_figures(st, summary, by_host) + md_gate(st) +
        md_notes(st))


def md_head(st):
    """The title, then what decides: whether the run ran, every banner,
    and what disturbed it."""
    args = st.args
    title = "libaioring vs fio built-in engines"
    if st.ab_roles:
        title = "libaioring A/B: %s vs %s" % (
            ", ".join(labelled(args, h) for h in st.ab_roles["heads"]),
            labelled(args, st.ab_roles["base"]))
    lines = ["## " + title, ""]
    if st.rc == EXIT_SETUP:
        lines += ["**COULD NOT RUN (exit 2)**: %s" % (
            st.setup_error or "%d fio run(s) failed"
            % len(st.failures)), "",
            "No verdict below is a pass: the run is incomplete.", ""]
    for res, banner in (
            (st.ab, "A/B timed"),
            (st.count_verdicts, "A/B counts"),
            (st.baseline, "baseline %s" % args.against_baseline)):
        if res is not None:
            lines += ["**%s**" % rep.verdict_banner(res, banner), ""]
    if st.gate is not None:
        lines += ["**%s**" % rep.gate_banner(st.gate), ""]
    if st.interrupted:
        lines += ["> **Interrupted**: partial results.", ""]
    if st.failures:
        lines += ["> **%d fio run(s) failed** (see results.json)."
                  % len(st.failures), ""]
    if st.contended:
        lines += ["> **%d run(s) shared the machine with other load** "
                  "(`busy` column): the numbers are disturbed."
                  % st.contended, ""]
    return lines


def md_setting(st, summary):
    """Where and how it ran: machine, builds, target, rounds, load."""
    args, env, s = st.args, st.env, st.settings
    t = st.target or {}
    lines = ["- " + ln for ln in runner_lines(st, summary)]
    lines += ["- kernel `%s`, %s, %s CPUs, `%s`" % (
        env["kernel"], env["cpu_model"], env["nproc"], env["fio_version"])]
    for name, e in (env.get("engines") or {}).items():
        # A label (a git ref and commit) says what a build is; its path
        # is often a scratch copy, gone when the summary is read.
        lines.append("- engine **%s** %s, sha256 `%s`" % (
            name, "`%s`" % args.labels[name] if name in args.labels else
            "`%s`" % e.get("path", "-"), (e.get("sha256") or "-")[:16]))
    lines += [
        "- git `%s`" % env.get("git_describe"),
        "- target: %s; %s, runtime %gs + ramp %gs, direct=1" % (
            "%s `%s` (%s)" % (t.get("kind"), t.get("path"),
                              human_size(t.get("size") or 0))
            if t.get("path") else "not made (the run stopped before)",
            "%d clean round(s) at most, %s, in a budget of %s" % (
                LOOKS[-1], s["order"], fmt_secs(s["budget_s"]))
            if s.get("budget_s") else "%d round(s) interleaved (%s)" % (
                s["rounds"], s["order"]),
            s["runtime"], s["ramp_time"]),
        "- load average at start %s, at end %s" % (
            "/".join("%.2f" % x for x in env["loadavg_start"]),
            "/".join("%.2f" % x for x in env.get("loadavg_end", ()))),
    ]
    if env.get("clients"):
        lines.append("- fio client/server hosts: %s (tables: aggregate, "
                     "then each host)" % ", ".join(
                         "`%s`" % c for c in env["clients"]))
    if s.get("aior_opt"):
        lines.append("- engine options: `%s`" % " ".join(s["aior_opt"]))
    return lines


def md_ab(st):
    """The timed A/B's verdicts, and how they were reached."""
    if st.ab is None:
        return []
    args = st.args
    lines = ["", "### A/B verdicts", "",
             "Each head vs `%s`; %s; thresholds: %s." % (
                 st.ab_roles["base"],
                 "paired ratio = 10%% trimmed geometric mean over clean "
                 "rounds of head/base in the same round, Yuen's interval "
                 "at %.3g%% per look (rounds added until decisive; "
                 "docs/perf/ab.md)" % (LOOK_LEVEL * 100)
                 if args.budget else
                 "paired ratio = median over rounds of head/base in the "
                 "same round, 90% bootstrap CI over rounds",
                 thresholds_text(args)), "",
             rep.verdict_md(st.ab)]
    if "ab.png" in st.charts:
        # No image link: a PR comment or a step summary cannot
        # resolve a file of the artifact.
        lines += ["Chart: `ab.png` in the results (the artifact).", ""]
    return lines


def md_counts(st):
    """The exact counts' verdicts."""
    if st.count_verdicts is None:
        return []
    return ["", "### Exact counts per request", "",
            "Each build counted %d times in this run (%s); a count "
            "is judged against the larger of its threshold and its "
            "floor, and is inconclusive only when the spread between "
            "the repeats of one build (A/A) is over half of that."
            % (st.args.count_reps, counts_text(st)), "",
            rep.count_md(st.count_verdicts)]


def md_baseline(st):
    """The verdicts against --against-baseline."""
    if st.baseline is None:
        return []
    args = st.args
    ab = st.baseline_doc or {}
    return ["", "### Against baseline `%s`" % args.against_baseline, "",
            "Baseline saved %s at git `%s`; both runs normalised by their "
            "own interleaved built-in libaio (per round), then compared; "
            "thresholds: %s." % (
                (ab.get("baseline") or {}).get("saved_utc"),
                (ab.get("env") or {}).get("git_describe"),
                thresholds_text(args)), "",
            rep.verdict_md(st.baseline)]


def md_figures(st, summary, by_host):
    """The figures: all hosts (or this one), then each --client host."""
    lines = ["", "### Figures%s" % (" (all hosts)" if by_host else ""), "",
             rep.md_table(summary, st.cells, st.configs)]
    for h, sm in by_host.items():
        lines += ["#### host `%s`" % h, "",
                  rep.md_table(sm, st.cells, st.configs)]
    lines += ["Medians over rounds; `x libaio`/`x io_uring` are ratios of "
              "median IOPS (files cells: vs the same cell with 1 file); "
              "CPU = (usr+sys) of the fio job thread x runtime / I/Os; "
              "`% raw aio` = share of fio's `t/io_uring -a1` on the same "
              "target.", ""]
    return lines


def md_gate(st):
    """The floors of --gate, and the rule they were judged by."""
    if st.gate is None:
        return []
    args = st.args
    return ["### Regression gate: %s" % rep.gate_banner(st.gate), "",
            "Floors `%s`: a floor passes when the %.3g%% interval of "
            "its per-round ratio clears it, fails when the interval is "
            "below it, and is inconclusive only when the interval "
            "straddles it%s." % (
                args.gate, 100 * (LOOK_LEVEL if args.budget else
                                  DEFAULT_LEVEL),
                "; rounds were added until every floor was decided "
                "or the budget spent" if args.budget else ""),
            "", rep.gate_md(st.gate)]


def md_notes(st):
    """The notes, failed runs and skipped cells, folded away."""
    notes = [n for n in st.notes if n]
    for f in st.failures:
        notes.append("FAILED: %s %s round %s: %s" % (
            f["cell"], f["config"], f["round"], f["error"]))
    for k in st.skipped:
        notes.append("skipped: %s" % k)
    if not notes:
        return []
    return (["<details><summary>notes</summary>", ""] +
            ["- " + n.replace("\n", " ") for n in notes] +
            ["", "</details>", ""])


def step_summary(md):
    """Append to GitHub's job summary, when there is one."""
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:
        try:
            with open(step, "a") as f:
                f.write(md + "\n")
        except OSError as e:
            notice("cannot append to $GITHUB_STEP_SUMMARY: %s" % e)


def error_outputs(out, reason, log=None):
    """A run that could not start still leaves its reason where CI looks:
    summary.md (and the step summary), junit.xml with a failing set-up
    case, results.json, and the log it names (copied in)."""
    os.makedirs(out, exist_ok=True)
    lines = ["## libaioring perf: could not run", "",
             "**COULD NOT RUN (exit 2)**: %s" % reason, ""]
    if log and os.path.isfile(log):
        shutil.copy(log, os.path.join(out, os.path.basename(log)))
        with open(log, errors="replace") as f:
            tail = f.read().splitlines()[-30:]
        lines += ["The log is `%s` in this directory (the artifact); its "
                  "end:" % os.path.basename(log), "", "```"] + tail + \
                 ["```", ""]
    md = "\n".join(lines)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(md)
    with open(os.path.join(out, "junit.xml"), "w") as f:
        f.write(rep.junit_xml([], setup_error=reason))
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"tool": "libaioring perf/compare.py", "error": reason,
                   "log": os.path.basename(log) if log else None}, f,
                  indent=1)
        f.write("\n")
    step_summary(md)


def print_plan(args, configs, cells, floors):
    """--dry-run: the configs, the A/B's roles, the rounds, every fio
    command (on a stand-in target) and the floors judged."""
    fake = {"path": "<target>", "size": args.size or (1 << 30),
            "pass_size": True, "readonly": False,
            "files": {n: ["<dir>/f%03d" % i for i in range(n)]
                      for n in {parse_cell_key(c)["files"]
                                for c in cells}}}
    print("configs: %s" % ", ".join(configs))
    base, heads = ab_roles(configs, args.engines)
    if heads:
        print("A/B: %s judged against %s (%s)" % (
            ", ".join(heads), base, thresholds_text(args)))
    if getattr(args, "co_run", None) == "anchors":
        print("co-run: every configuration in one fio on one CPU in %s"
              % (", ".join(args.co_run_cells) if args.co_run_cells else
                 "every one-job cell"))
    if args.budget:
        print("rounds: %d..%d clean, looked at after %s, within a "
              "budget of %s; runtime %gs, ramp %gs" % (
                  LOOKS[0], LOOKS[-1], ", ".join(map(str, LOOKS)),
                  fmt_secs(args.budget), args.runtime, args.ramp_time))
    else:
        print("rounds: %d, runtime %gs, ramp %gs" % (
            args.rounds, args.runtime, args.ramp_time))
    for cell in cells:
        for cfg in cell_configs(cell, configs):
            print("%s %s: %s" % (cell, cfg, " ".join(
                fio_cmd(args, fake, cell, cfg)[1:])))
    if floors is not None:
        for f in floors:
            print("floor %s %s %s %s%s" % (
                f["cell"], f["config"], "vs " + f["vs"] if f["vs"] else
                "counted:", rep.floor_text(f), " (another runner class: "
                "not judged here)" if f.get("elsewhere") else ""))


def announce(banner, results, bad, strict):
    """Print a verdict banner; loudly when a result is @bad or inconclusive."""
    verdicts = {r["verdict"] for r in results}
    if bad in verdicts or INCONCLUSIVE in verdicts:
        loud(banner + ("" if bad in verdicts or strict else
                       " (inconclusive is not a failure without --strict)"))
    else:
        print(banner)


def announce_verdicts(st):
    """The banners that end a run: the gate's, each verdict group's, and
    the failed fio runs."""
    args = st.args
    if st.gate is not None:
        announce(rep.gate_banner(st.gate), st.gate, FAIL, args.strict)
    for key, what in (("ab", "A/B timed"), ("count_verdicts", "A/B counts"),
                      ("baseline", "baseline %s" % args.against_baseline)):
        res = getattr(st, key)
        if res is not None:
            announce(rep.verdict_banner(res, what), res, REGRESSION,
                     args.strict)
    if st.failures:
        loud("%d fio run(s) FAILED; exit %d" % (len(st.failures),
                                               EXIT_SETUP))
