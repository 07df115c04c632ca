# SPDX-License-Identifier: BSD-3-Clause
"""Tables, Markdown, JUnit, BMF and the gnuplot charts of compare.py: what a
run's figures (samples.summarize) and verdicts look like.  Renders only."""

import os

from .gate import (COUNT_FLOORS, FAIL, IMPROVEMENT, INCONCLUSIVE,
                   NO_CHANGE, OTHER_CLASS, PASS, REGRESSION, median)
from .samples import CEILING
from .util import (f_count, f_iops, f_num, f_pct, f_ratio, f_us,
                   render_gnuplot)

COLUMNS = [
    ("cell", "cell"), ("config", "config"), ("n", "n"),
    ("IOPS", "median IOPS"), ("MiB/s", "median MiB/s"),
    ("p50us", "p50 us"), ("p99us", "p99 us"), ("p99.9us", "p99.9 us"),
    ("CPUus/IO", "CPU us/IO"), ("usr/sys", "usr/sys us"),
    ("ctx/IO", "ctx/IO"), ("CoV", "IOPS CoV"), ("min..max", "IOPS min..max"),
    ("xlibaio", "x libaio"), ("xio_uring", "x io_uring"),
    ("x1file", "x 1 file"), ("%ceil", "% raw aio"),
    ("busy", "busy"),
]


def table_rows(summary, cells, configs):
    """Rows of strings, one per (cell, config) that ran, in run order."""
    rows = []
    for cell in cells:
        row = summary.get(cell, {})
        for cfg in list(configs) + [CEILING]:
            st = row.get(cfg)
            if not st:
                continue
            raw = cfg == CEILING
            co = st.get("corun")
            rows.append({
                "cell": cell, "config": cfg + (" (co-run)" if co else ""),
                "n": str(st["n"]),
                "IOPS": f_iops(st["iops"]),
                "MiB/s": f_num(st["bw_kib"] and st["bw_kib"] / 1024.0, "%.0f"),
                "p50us": "-" if co else f_us(st["lat_p50_ns"]),
                "p99us": "-" if co else f_us(st["lat_p99_ns"]),
                "p99.9us": "-" if co else f_us(st["lat_p999_ns"]),
                "CPUus/IO": "-" if raw else f_num(st["cpu_us_per_io"], "%.3f"),
                "usr/sys": "-" if raw or st["usr_us_per_io"] is None else
                "%.3f/%.3f" % (st["usr_us_per_io"], st["sys_us_per_io"]),
                "ctx/IO": "-" if raw else f_num(st["ctx_per_io"], "%.4f"),
                "CoV": f_pct(st["iops_cov"]),
                "min..max": "%s..%s" % (f_iops(st["iops_min"]),
                                        f_iops(st["iops_max"])),
                "xlibaio": f_ratio(st["vs_libaio"]),
                "xio_uring": f_ratio(st["vs_io_uring"]),
                "x1file": f_ratio(st["vs_1file"]),
                "%ceil": f_pct(st["ceiling_share"]),
                # Median CPU (cores) the rest of the machine used during
                # the runs; "!k" = k runs flagged as contended.
                "busy": f_num(st["foreign_cpu"], "%.2f") + (
                    "!%d" % st["contended"] if st["contended"] else ""),
            })
    return rows


def _used_columns(rows):
    cols = []
    for name, title in COLUMNS:
        if name not in ("cell", "config") and all(r[name] == "-"
                                                  for r in rows):
            continue
        cols.append((name, title))
    return cols


def text_table(summary, cells, configs):
    rows = table_rows(summary, cells, configs)
    if not rows:
        return "(no successful runs)\n"
    cols = _used_columns(rows)
    width = {n: max(len(n), *(len(r[n]) for r in rows)) for n, _ in cols}
    lines = ["  ".join(n.ljust(width[n]) for n, _ in cols)]
    last = None
    for r in rows:
        vals = dict(r)
        if r["cell"] == last:
            vals["cell"] = ""
        elif last is not None:
            lines.append("")
        last = r["cell"]
        lines.append("  ".join(
            vals[n].ljust(width[n]) if n in ("cell", "config")
            else vals[n].rjust(width[n]) for n, _ in cols).rstrip())
    return "\n".join(lines) + "\n"


def md_table(summary, cells, configs):
    rows = table_rows(summary, cells, configs)
    if not rows:
        return "_no successful runs_\n"
    cols = _used_columns(rows)
    out = ["| " + " | ".join(t for _, t in cols) + " |",
           "|" + "|".join("---" if n in ("cell", "config") else "---:"
                          for n, _ in cols) + "|"]
    for r in rows:
        cells_ = []
        for n, _ in cols:
            v = r[n].replace("|", "\\|")
            if n == "cell":
                v = "`%s`" % v
            elif n == "config" and r["config"] not in (
                    "libaio", "libaio-ur", "io_uring", "spdk-aio", CEILING):
                v = "**%s**" % v
            cells_.append(v)
        out.append("| " + " | ".join(cells_) + " |")
    return "\n".join(out) + "\n"


# ---- gate tables ----

def floor_text(g):
    if g["kind"] == "ceiling":
        return "%s per request <= %.4g" % (COUNT_FLOORS[g["metric"]],
                                           g["floor"])
    op = ">=" if g["kind"] == "min" else "<="
    return "%s %s %.2f" % (g["metric"], op, g["floor"])


def _vs_text(g):
    if g["kind"] == "ceiling":
        return "(exact count)"
    if g["ref_cell"] != g["cell"]:
        return "%s (1 file)" % g["ref_config"]
    return g["ref_config"] + (" co-run" if g.get("corun") else "")


def _gate_figures(g):
    """(value, interval, n) columns of a floor: a timed floor's ratio of
    medians, its interval and rounds; a count floor's worst repeat, the
    repeats' range and their number."""
    if g["kind"] == "ceiling":
        return (f_num(g["ratio"], "%.4g"),
                "-" if g["lo"] is None else "%.4g..%.4g" % (g["lo"],
                                                           g["hi"]),
                "%d rep" % g["n"])
    return (f_num(g["ratio"], "%.3f"),
            "-" if g["lo"] is None else "%.3f..%.3f" % (g["lo"], g["hi"]),
            str(g["n"]))


def _gate_verdict(g):
    return g["verdict"] + (" (%s)" % g["reason"] if g["reason"] else "")


def gate_text(results):
    head = ("cell", "subject", "vs", "floor", "ratio", "interval",
            "rounds", "CoV s/r", "verdict")
    rows = []
    for g in results:
        rows.append((g["cell"], g["config"], _vs_text(g), floor_text(g)) +
                    _gate_figures(g) + (
            "%s/%s" % (f_pct(g["cov_subject"]), f_pct(g["cov_ref"])),
            _gate_verdict(g)))
    w = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
         for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w[i]) for i, h in enumerate(head)).rstrip()]
    for r in rows:
        lines.append("  ".join(v.ljust(w[i]) for i, v in enumerate(r))
                     .rstrip())
    return "\n".join(lines) + "\n"


def gate_banner(results):
    n = {v: sum(1 for g in results if g["verdict"] == v)
         for v in (PASS, FAIL, INCONCLUSIVE, OTHER_CLASS)}
    if n[FAIL]:
        word = "GATE FAILED"
    elif n[INCONCLUSIVE]:
        word = "GATE INCONCLUSIVE"
    else:
        word = "GATE PASSED"
    return "%s: %d pass, %d fail, %d inconclusive%s" % (
        word, n[PASS], n[FAIL], n[INCONCLUSIVE],
        ", %d of another runner class" % n[OTHER_CLASS]
        if n[OTHER_CLASS] else "")


def gate_md(results):
    icon = {PASS: "PASS", FAIL: "**FAIL**", INCONCLUSIVE: "**INCONCLUSIVE**",
            OTHER_CLASS: "other runner class"}
    out = ["| cell | subject | vs | floor | median ratio | interval "
           "| rounds | CoV subj/ref | verdict |",
           "|---|---|---|---|---:|---:|---:|---:|---|"]
    for g in results:
        out.append("| `%s` | %s | %s | %s | %s | %s | %s | %s/%s | %s%s |"
                   % ((g["cell"], g["config"], _vs_text(g), floor_text(g))
                      + _gate_figures(g) + (
                          f_pct(g["cov_subject"]), f_pct(g["cov_ref"]),
                          icon[g["verdict"]],
                          " (%s)" % g["reason"] if g["reason"] else "")))
    return "\n".join(out) + "\n"


# ---- chart ----

# Cells per panel of ratios.png: more are drawn as panels stacked.
CHART_CELLS_PER_PANEL = 14


def chart(summary, cells, configs, outdir):
    """Write ratios.dat/.gp and render ratios.png; return (path|None, msg)."""
    cols = [c for c in list(configs) + [CEILING] if c != "libaio"
            and any(c in summary.get(cell, {}) for cell in cells)]
    rows = [cell for cell in cells if summary.get(cell)]
    if not any(summary[cell].get(c, {}).get("vs_libaio") is not None
               for cell in rows for c in cols):
        return None, "chart skipped: no ratios vs libaio to plot"
    dat = os.path.join(outdir, "ratios.dat")
    with open(dat, "w") as f:
        f.write("cell " + " ".join('"%s"' % c for c in cols) + "\n")
        for cell in rows:
            vals = []
            for c in cols:
                v = summary[cell].get(c, {}).get("vs_libaio")
                vals.append("?" if v is None else "%.4f" % v)
            f.write('"%s" %s\n' % (cell, " ".join(vals)))
    # A wide matrix (--full: 42 cells) is cut into panels stacked in one
    # image, each as wide as a 14-cell chart, so that labels stay legible.
    per_panel = CHART_CELLS_PER_PANEL
    panels = [(a, min(a + per_panel, len(rows)) - 1)
              for a in range(0, len(rows), per_panel)]
    width = max(900, 24 * min(len(rows), per_panel) * max(1, len(cols))
                + 300)
    plots = "".join(
        'plot for [i=2:%d] "ratios.dat" every ::%d::%d using i:xtic(1) '
        "title columnheader(i)\n" % (len(cols) + 1, a, b) for a, b in panels)
    gp = os.path.join(outdir, "ratios.gp")
    with open(gp, "w") as f:
        f.write("""# Render with: gnuplot ratios.gp  (in this directory)
set terminal pngcairo size %d,%d noenhanced font ",10"
set output "ratios.png"
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -30 left
set ylabel "x libaio"
set yrange [0:*]
set grid ytics
set key outside right top
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 \\
    lc rgb "black"
set multiplot layout %d,1 \\
    title "IOPS ratio of medians vs built-in libaio (1.0 = libaio)"
%sunset multiplot
""" % (width, 560 * len(panels), len(panels), plots))
    return render_gnuplot(outdir, "ratios", "chart")


# ---- A/B and baseline verdicts ----

def _metric_value(r, v):
    """A metric's median in its own unit, for the tables."""
    if v is None:
        return "-"
    if r["metric"] == "iops":
        return f_iops(v) if r["kind"] == "ab" else "%.3f" % v
    if r["metric"] == "p99":
        return (f_us(v) + "us") if r["kind"] == "ab" else "%.3f" % v
    return ("%.3fus" % v) if r["kind"] == "ab" else "%.3f" % v


def _change(r):
    if r["estimate"] is None:
        return "-"
    return "%+.1f%%" % ((r["estimate"] - 1) * 100)


def _ci(r):
    if r["lo"] is None:
        return "-"
    return "%.3f..%.3f" % (r["lo"], r["hi"])


def _vs(r):
    return "%s vs %s" % (r["config"], r["vs"])


def verdict_rows(results):
    rows = []
    for r in results:
        rows.append({
            "cell": r["cell"], "host": r.get("host", "local"),
            "compare": _vs(r), "metric": r["metric"],
            "subject": _metric_value(r, r["subject_median"]),
            "ref": _metric_value(r, r["ref_median"]),
            "ratio": f_num(r["estimate"], "%.3f"), "change": _change(r),
            "ci": _ci(r), "n": str(r["n"]),
            "limit": "%.0f%%" % (r["threshold"] * 100),
            "verdict": r["verdict"],
            "reason": r.get("reason") or ""})
    return rows


VERDICT_HEAD = [("cell", "cell"), ("host", "host"), ("compare", "compare"),
                ("metric", "metric"), ("subject", "subject median"),
                ("ref", "reference median"), ("ratio", "ratio"),
                ("change", "change"), ("ci", "interval"), ("n", "rounds"),
                ("limit", "threshold"), ("verdict", "verdict")]


def verdict_text(results):
    rows = verdict_rows(results)
    if not rows:
        return "(nothing judged)\n"
    cols = [c for c in VERDICT_HEAD if c[0] != "host" or any(
        r["host"] != "local" for r in rows)]
    for r in rows:
        if r["reason"] and r["verdict"] != NO_CHANGE:
            r["verdict"] += " (%s)" % r["reason"]
    w = {n: max(len(n), *(len(r[n]) for r in rows)) for n, _ in cols}
    lines = ["  ".join(n.ljust(w[n]) for n, _ in cols).rstrip()]
    for r in rows:
        lines.append("  ".join(r[n].ljust(w[n]) for n, _ in cols).rstrip())
    return "\n".join(lines) + "\n"


def verdict_md(results):
    rows = verdict_rows(results)
    if not rows:
        return "_nothing judged_\n"
    cols = [c for c in VERDICT_HEAD if c[0] != "host" or any(
        r["host"] != "local" for r in rows)]
    icon = {REGRESSION: "**REGRESSION**", IMPROVEMENT: "IMPROVEMENT",
            NO_CHANGE: "no change", INCONCLUSIVE: "*inconclusive*"}
    out = ["| " + " | ".join(t for _, t in cols) + " |",
           "|" + "|".join("---:" if n in ("subject", "ref", "ratio",
                                           "change", "n", "limit")
                          else "---" for n, _ in cols) + "|"]
    for r in rows:
        vals = []
        for n, _ in cols:
            v = r[n]
            if n == "cell":
                v = "`%s`" % v
            elif n == "verdict":
                v = icon.get(v, v) + (" (%s)" % r["reason"]
                                      if r["reason"] else "")
            vals.append(v.replace("|", "\\|"))
        out.append("| " + " | ".join(vals) + " |")
    return "\n".join(out) + "\n"


def verdict_banner(results, what="A/B"):
    n = {v: sum(1 for g in results if g["verdict"] == v)
         for v in (REGRESSION, IMPROVEMENT, NO_CHANGE, INCONCLUSIVE)}
    word = ("%s: REGRESSION" % what if n[REGRESSION] else
            "%s: INCONCLUSIVE" % what if n[INCONCLUSIVE] else
            "%s: PASSED" % what)
    return "%s: %d regression, %d improvement, %d no change, %d " \
        "inconclusive" % (word, n[REGRESSION], n[IMPROVEMENT],
                          n[NO_CHANGE], n[INCONCLUSIVE])


# ---- JUnit XML ----

def _floor_case(g):
    name = "%s vs %s %s" % (g["config"], _vs_text(g), floor_text(g))
    if g["verdict"] == OTHER_CLASS:
        msg = "%s: %s" % (g["verdict"], g["reason"])
    elif g["kind"] == "ceiling":
        msg = "%s: %s per request in %d repeat(s): %s (ceiling %.4g)%s" % (
            g["verdict"], COUNT_FLOORS[g["metric"]], g["n"],
            ", ".join("%.4g" % v for v in g.get("values") or ()) or "-",
            g["floor"], " (%s)" % g["reason"] if g["reason"] else "")
    else:
        msg = "%s: ratio of medians %s (floor %s %.3f), %.3g%% interval " \
            "of the per-round ratio %s over %d round(s), CoV %s/%s%s" % (
                g["verdict"], f_num(g["ratio"], "%.3f"),
                ">=" if g["kind"] == "min" else "<=", g["floor"],
                100 * (g.get("level") or 0.9),
                "-" if g["lo"] is None else "%.3f..%.3f" % (g["lo"],
                                                             g["hi"]),
                g["n"], f_pct(g["cov_subject"]), f_pct(g["cov_ref"]),
                " (%s)" % g["reason"] if g["reason"] else "")
    return "gate." + g["cell"], name, g["verdict"], msg


def _verdict_case(r):
    host = r.get("host", "local")
    cls = "%s.%s%s" % (r["kind"], r["cell"],
                       "" if host == "local" else "." + host)
    name = "%s %s" % (_vs(r), r["metric"])
    msg = ("%s: %s %s %s vs %s %s, %s %s (%s), %.0f%% CI %s, %s "
           "round(s), threshold %.0f%%%s" % (
               r["verdict"], r["label"], r["config"],
               _metric_value(r, r["subject_median"]), r["vs"],
               _metric_value(r, r["ref_median"]),
               "paired ratio" if r["kind"] == "ab" else
               "ratio of libaio-normalised medians",
               f_num(r["estimate"], "%.3f"), _change(r),
               100 * (r.get("level") or 0.9), _ci(r), r["n"],
               r["threshold"] * 100,
               " (%s)" % r["reason"] if r.get("reason") else ""))
    return cls, name, r["verdict"], msg


def junit_xml(groups, failures=(), strict=False, suite="libaioring-perf",
              elapsed=0.0, setup_error=None):
    """JUnit XML text: one <testcase> per judged floor / cell and metric.

    groups: [(name, results)] with results from evaluate_gate (floors),
    evaluate_ab or evaluate_baseline.  A FAIL or REGRESSION is a
    <failure> whose message carries the figures; INCONCLUSIVE is
    <skipped> (a <failure> under strict); fio runs that failed, and a
    set-up error (a build, a missing tool), are <error> cases.
    """
    import xml.etree.ElementTree as ET
    root = ET.Element("testsuites", name=suite)
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for gname, results in groups:
        ts = ET.SubElement(root, "testsuite", name="%s.%s" % (suite, gname))
        cnt = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for r in results:
            cls, name, verdict, msg = (
                _count_case(r) if r.get("kind") == "count" else
                _floor_case(r) if "floor" in r else _verdict_case(r))
            tc = ET.SubElement(ts, "testcase", classname=cls, name=name,
                               time="0")
            cnt["tests"] += 1
            if verdict in (FAIL, REGRESSION) or (
                    strict and verdict == INCONCLUSIVE):
                f = ET.SubElement(tc, "failure", message=msg,
                                  type=verdict.replace(" ", "_"))
                f.text = msg
                cnt["failures"] += 1
            elif verdict in (INCONCLUSIVE, OTHER_CLASS):
                ET.SubElement(tc, "skipped", message=msg)
                cnt["skipped"] += 1
            so = ET.SubElement(tc, "system-out")
            so.text = msg
        for k, v in cnt.items():
            ts.set(k, str(v))
            total[k] += v
    if setup_error:
        ts = ET.SubElement(root, "testsuite", name="%s.setup" % suite,
                           tests="1", errors="1")
        tc = ET.SubElement(ts, "testcase", classname="setup", name="set-up",
                           time="0")
        e = ET.SubElement(tc, "error", message=setup_error, type="setup")
        e.text = setup_error
        total["tests"] += 1
        total["errors"] += 1
    if failures:
        ts = ET.SubElement(root, "testsuite", name="%s.runs" % suite)
        for f in failures:
            tc = ET.SubElement(ts, "testcase", classname="run.%s" % f["cell"],
                               name="%s round %s" % (f["config"],
                                                     f["round"]), time="0")
            e = ET.SubElement(tc, "error", message=str(f.get("error")),
                              type="fio")
            e.text = " ".join(f.get("cmd") or [])
        ts.set("tests", str(len(failures)))
        ts.set("errors", str(len(failures)))
        total["tests"] += len(failures)
        total["errors"] += len(failures)
    for k, v in total.items():
        root.set(k, str(v))
    root.set("time", "%.1f" % elapsed)
    ET.indent(root) if hasattr(ET, "indent") else None
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' +
            ET.tostring(root, encoding="unicode") + "\n")


def ab_chart(results, outdir, name="ab"):
    """Per cell and metric: change of the subject vs its reference, with
    its CI as an error bar and the thresholds as dashed lines."""
    rows = [r for r in results if r["estimate"] is not None
            and r["lo"] is not None]
    if not rows:
        return None, "%s chart skipped: nothing judged" % name
    dat = os.path.join(outdir, name + ".dat")
    code = {REGRESSION: 1, IMPROVEMENT: 2, NO_CHANGE: 3, INCONCLUSIVE: 4}
    with open(dat, "w") as f:
        f.write("# label change lo hi threshold verdict\n")
        for r in rows:
            lab = "%s %s %s%s" % (r["cell"], r["metric"], r["config"],
                                  "" if r.get("host", "local") in (
                                      "local", "all") else "@" + r["host"])
            f.write('"%s" %.3f %.3f %.3f %.3f %d\n' % (
                lab, (r["estimate"] - 1) * 100, (r["lo"] - 1) * 100,
                (r["hi"] - 1) * 100, r["threshold"] * 100,
                code.get(r["verdict"], 4)))
    width = max(900, 70 * len(rows) + 300)
    span = ab_chart_span(rows)
    gp = os.path.join(outdir, name + ".gp")
    with open(gp, "w") as f:
        f.write("""# Render with: gnuplot %s.gp  (in this directory)
set terminal pngcairo size %d,560 noenhanced font ",10"
set output "%s.png"
set title "change vs base, %%  (bars: the interval, cut at the frame; + is good for IOPS, bad for p99, CPU)"
set xtics rotate by -35 left
set ylabel "%% change"
set grid ytics
set yrange [-%.1f:%.1f]
set xrange [-0.6:%d.6]
set key outside right top
set arrow from graph 0, first 0 to graph 1, first 0 nohead lc rgb "black"
f = "%s.dat"
v(c, x) = (column(6) == c ? x : 1/0)
plot f using 0:(v(1, $2)):3:4:xtic(1) with yerrorbars pt 7 ps 1.5 lw 2 \\
        lc rgb "#d62728" title "REGRESSION", \\
     f using 0:(v(2, $2)):3:4 with yerrorbars pt 7 ps 1.5 lw 2 \\
        lc rgb "#2ca02c" title "IMPROVEMENT", \\
     f using 0:(v(3, $2)):3:4 with yerrorbars pt 7 ps 1.5 lw 2 \\
        lc rgb "#1f77b4" title "NO CHANGE", \\
     f using 0:(v(4, $2)):3:4 with yerrorbars pt 7 ps 1.5 lw 2 \\
        lc rgb "#7f7f7f" title "INCONCLUSIVE", \\
     f using 0:5 with points pt 2 ps 1.5 lc rgb "black" title "+-threshold", \\
     f using 0:(-$5) with points pt 2 ps 1.5 lc rgb "black" notitle
""" % (name, width, name, span, span, len(rows) - 1, name))
    return render_gnuplot(outdir, name, "%s chart" % name)


def ab_chart_span(rows):
    """The y range (+- percent) of an A/B chart: every estimate and
    threshold in view, with room; an interval wider than that is cut at
    the frame, so one wide interval cannot flatten the others."""
    ests = [abs(r["estimate"] - 1) * 100 for r in rows]
    thr = [r["threshold"] * 100 for r in rows]
    return max(2.0 * max(thr + [1.0]), 1.3 * max(ests + [0.0]))


# ---- exact counts (counts.py, gate.evaluate_counts) ----

def count_rows(results):
    return [{
        "cell": r["cell"], "compare": _vs(r), "count": r["metric"],
        "base": f_count(r.get("base_value")),
        "head": f_count(r.get("head_value")),
        "change": ("-" if r.get("delta") is None else
                   "%+.4g" % r["delta"] + (
                       "" if not r.get("base_value") else
                       " (%+.2f%%)" % (100.0 * r["delta"] / r["base_value"]))),
        "fence": f_count(r.get("fence")),
        "allowed": f_count(r.get("allowed")),
        "verdict": r["verdict"] + (" (%s)" % r["reason"]
                                   if r.get("reason") and
                                   r["verdict"] != NO_CHANGE else "")}
        for r in results]


COUNT_HEAD = [("cell", "cell"), ("compare", "compare"), ("count", "count"),
              ("base", "base"), ("head", "head"), ("change", "change"),
              ("fence", "A/A spread"), ("allowed", "allowed"),
              ("verdict", "verdict")]


def count_text(results):
    rows = count_rows(results)
    if not rows:
        return "(nothing counted)\n"
    w = {n: max(len(t), *(len(r[n]) for r in rows)) for n, t in COUNT_HEAD}
    lines = ["  ".join(t.ljust(w[n]) for n, t in COUNT_HEAD).rstrip()]
    for r in rows:
        lines.append("  ".join(r[n].ljust(w[n])
                               for n, _ in COUNT_HEAD).rstrip())
    return "\n".join(lines) + "\n"


def count_md(results):
    rows = count_rows(results)
    if not rows:
        return "_nothing counted_\n"
    right = ("base", "head", "change", "fence", "allowed")
    out = ["| " + " | ".join(t for _, t in COUNT_HEAD) + " |",
           "|" + "|".join("---:" if n in right else "---"
                          for n, _ in COUNT_HEAD) + "|"]
    for r in rows:
        v = dict(r, cell="`%s`" % r["cell"])
        if r["verdict"].startswith(REGRESSION):
            v["verdict"] = "**%s**" % r["verdict"]
        out.append("| " + " | ".join(v[n].replace("|", "\\|")
                                     for n, _ in COUNT_HEAD) + " |")
    return "\n".join(out) + "\n"


def _count_case(r):
    cls = "count.%s" % r["cell"]
    name = "%s %s" % (_vs(r), r["metric"])
    msg = ("%s: %s per request, %s %s vs %s %s (change %s, allowed %s, A/A "
           "spread %s over %s repeat(s))%s" % (
               r["verdict"], r["label"], r["config"],
               f_count(r.get("head_value")), r["vs"],
               f_count(r.get("base_value")),
               "-" if r.get("delta") is None else "%+.4g" % r["delta"],
               f_count(r.get("allowed")), f_count(r.get("fence")),
               r.get("reps", 0),
               " (%s)" % r["reason"] if r.get("reason") else ""))
    return cls, name, r["verdict"], msg


# ---- dashboards: Bencher Metric Format, github-action-benchmark ----

def _bench_name(cell, config, host=None):
    return "%s/%s%s" % (cell, config, "" if host in (None, "local", "all")
                        else "@" + host)


def bmf_doc(summary, cells, configs, count_rows=None, runner=None):
    """Bencher Metric Format: {benchmark: {measure: {value, lower_value,
    upper_value}}}, one benchmark per cell and config (medians over
    rounds, bounded by the rounds' min and max IOPS), and the exact
    counts per request of each build (median of its repeats, bounded by
    them).  BMF holds numbers only, so of the @runner class it carries
    what is one: "runner-class" {syscall-ns, bounded by the probe's
    runs}; its name is Bencher's testbed (testbed.txt)."""
    doc = {}
    if runner and runner.get("syscall_ns"):
        runs = runner.get("syscall_ns_runs") or [runner["syscall_ns"]]
        doc["runner-class"] = {
            "syscall-ns": {"value": runner["syscall_ns"],
                           "lower_value": min(runs),
                           "upper_value": max(runs)}}
    for cell in cells:
        for cfg in list(configs) + [CEILING]:
            st = (summary.get(cell) or {}).get(cfg)
            if not st or st.get("iops") is None:
                continue
            m = {"throughput": {"value": st["iops"],
                                "lower_value": st["iops_min"],
                                "upper_value": st["iops_max"]}}
            if st.get("lat_p99_ns") is not None:
                m["latency"] = {"value": st["lat_p99_ns"]}
            if cfg != CEILING and st.get("cpu_us_per_io") is not None:
                m["cpu-us-per-io"] = {"value": st["cpu_us_per_io"]}
            doc[_bench_name(cell, cfg)] = m
    for r in count_rows or []:
        name = _bench_name(r["cell"], r["config"])
        for key, v in r.items():
            if key in ("cell", "config", "rep") or v is None:
                continue
            slot = doc.setdefault(name, {}).setdefault(
                key.replace("_", "-"), {"values": []})
            slot["values"].append(v)
    for m in doc.values():
        for slot in m.values():
            vals = slot.pop("values", None)
            if vals:
                slot.update(value=median(vals), lower_value=min(vals),
                            upper_value=max(vals))
    return doc


def gab_docs(bmf, runner=None):
    """github-action-benchmark's two custom formats from a BMF doc:
    (customBiggerIsBetter entries, customSmallerIsBetter entries); each
    entry's "extra" names the @runner class it was measured on."""
    units = {"throughput": "IOPS", "latency": "ns p99",
             "cpu-us-per-io": "us CPU/IO", "syscall-ns": "ns per getppid()"}
    bigger, smaller = [], []
    for name, m in bmf.items():
        for measure, slot in m.items():
            e = {"name": "%s %s" % (name, measure),
                 "unit": units.get(measure, "per request"),
                 "value": slot["value"]}
            if "lower_value" in slot:
                e["range"] = "%.6g..%.6g" % (slot["lower_value"],
                                             slot["upper_value"])
            if runner:
                e["extra"] = "runner class: " + runner
            (bigger if measure == "throughput" else smaller).append(e)
    return bigger, smaller
