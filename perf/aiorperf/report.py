# SPDX-License-Identifier: BSD-3-Clause
"""Summaries, tables, Markdown and the gnuplot chart of compare.py."""

import os
import shutil
import subprocess

from .gate import (FAIL, INCONCLUSIVE, PASS, base_cell, cov, median,
                   parse_cell_key, ratio)

# Pseudo-configuration name of fio's t/io_uring -a1 runs (raw aio ceiling).
CEILING = "raw-aio"


def _vals(samples, cell, config, key):
    return [s[key] for s in samples
            if s.get("cell") == cell and s.get("config") == config
            and s.get("ok") and s.get(key) is not None]


def summarize(samples, cells, configs):
    """cell -> config -> medians, spread and ratios (absent if never ran)."""
    out = {}
    for cell in cells:
        row = {}
        for cfg in list(configs) + [CEILING]:
            iops = _vals(samples, cell, cfg, "iops")
            if not iops:
                continue
            st = {"n": len(iops), "iops": median(iops),
                  "iops_min": min(iops), "iops_max": max(iops),
                  "iops_cov": cov(iops)}
            for key in ("bw_kib", "lat_p50_ns", "lat_p99_ns", "lat_p999_ns",
                        "cpu_us_per_io", "usr_us_per_io", "sys_us_per_io",
                        "ctx_per_io", "foreign_cpu"):
                st[key] = median(_vals(samples, cell, cfg, key))
            st["contended"] = sum(1 for s in samples if s.get("cell") == cell
                                  and s.get("config") == cfg and s.get("ok")
                                  and s.get("contended"))
            row[cfg] = st
        out[cell] = row
    for cell, row in out.items():
        files = parse_cell_key(cell)["files"] > 1
        ref_row = out.get(base_cell(cell), {}) if files else row
        ceil = row.get(CEILING) or (out.get(base_cell(cell), {})
                                    .get(CEILING) if files else None)
        for cfg, st in row.items():
            st["vs_libaio"] = ratio(st["iops"],
                                    ref_row.get("libaio", {}).get("iops"))
            st["vs_io_uring"] = ratio(st["iops"],
                                      ref_row.get("io_uring", {}).get("iops"))
            st["vs_1file"] = (ratio(st["iops"], ref_row.get(cfg, {})
                                    .get("iops")) if files else None)
            st["ceiling_share"] = (ratio(st["iops"], ceil["iops"])
                                   if ceil and cfg != CEILING else None)
    return out


# ---- number formatting ----

def f_iops(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e3:
        return "%.1fk" % (v / 1e3)
    return "%.0f" % v


def f_num(v, fmt="%.2f"):
    return "-" if v is None else fmt % v


def f_us(ns):
    if ns is None:
        return "-"
    us = ns / 1000.0
    return "%.1f" % us if us < 1000 else "%.0f" % us


def f_pct(v):
    return "-" if v is None else "%.1f%%" % (v * 100)


def f_ratio(v):
    return "-" if v is None else "%.2fx" % v


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
            rows.append({
                "cell": cell, "config": cfg, "n": str(st["n"]),
                "IOPS": f_iops(st["iops"]),
                "MiB/s": f_num(st["bw_kib"] and st["bw_kib"] / 1024.0, "%.0f"),
                "p50us": f_us(st["lat_p50_ns"]),
                "p99us": f_us(st["lat_p99_ns"]),
                "p99.9us": f_us(st["lat_p999_ns"]),
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
            elif n == "config" and r["config"].startswith("aioring"):
                v = "**%s**" % v
            cells_.append(v)
        out.append("| " + " | ".join(cells_) + " |")
    return "\n".join(out) + "\n"


# ---- gate tables ----

def _floor_text(g):
    op = ">=" if g["kind"] == "min" else "<="
    return "%s %s %.2f" % (g["metric"], op, g["floor"])


def _vs_text(g):
    if g["ref_cell"] != g["cell"]:
        return "%s (1 file)" % g["ref_config"]
    return g["ref_config"]


def gate_text(results):
    head = ("cell", "subject", "vs", "floor", "ratio", "rounds lo..hi",
            "CoV s/r", "verdict")
    rows = []
    for g in results:
        rows.append((
            g["cell"], g["config"], _vs_text(g), _floor_text(g),
            f_num(g["ratio"], "%.3f"),
            "-" if g["lo"] is None else "%.3f..%.3f" % (g["lo"], g["hi"]),
            "%s/%s" % (f_pct(g["cov_subject"]), f_pct(g["cov_ref"])),
            g["verdict"] + (" (%s)" % g["reason"] if g["reason"] else "")))
    w = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
         for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w[i]) for i, h in enumerate(head)).rstrip()]
    for r in rows:
        lines.append("  ".join(v.ljust(w[i]) for i, v in enumerate(r))
                     .rstrip())
    return "\n".join(lines) + "\n"


def gate_banner(results):
    n = {v: sum(1 for g in results if g["verdict"] == v)
         for v in (PASS, FAIL, INCONCLUSIVE)}
    if n[FAIL]:
        word = "GATE FAILED"
    elif n[INCONCLUSIVE]:
        word = "GATE INCONCLUSIVE"
    else:
        word = "GATE PASSED"
    return "%s: %d pass, %d fail, %d inconclusive" % (
        word, n[PASS], n[FAIL], n[INCONCLUSIVE])


def gate_md(results):
    icon = {PASS: "PASS", FAIL: "**FAIL**", INCONCLUSIVE: "**INCONCLUSIVE**"}
    out = ["| cell | subject | vs | floor | median ratio | per-round "
           "lo..hi | CoV subj/ref | verdict |",
           "|---|---|---|---|---:|---:|---:|---|"]
    for g in results:
        out.append("| `%s` | %s | %s | %s | %s | %s | %s/%s | %s%s |" % (
            g["cell"], g["config"], _vs_text(g), _floor_text(g),
            f_num(g["ratio"], "%.3f"),
            "-" if g["lo"] is None else "%.3f..%.3f" % (g["lo"], g["hi"]),
            f_pct(g["cov_subject"]), f_pct(g["cov_ref"]),
            icon[g["verdict"]],
            " (%s)" % g["reason"] if g["reason"] else ""))
    return "\n".join(out) + "\n"


# ---- chart ----

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
    png = os.path.join(outdir, "ratios.png")
    gp = os.path.join(outdir, "ratios.gp")
    width = max(900, 110 * len(rows) * max(1, len(cols)) // 2 + 300)
    with open(gp, "w") as f:
        f.write("""# Render with: gnuplot ratios.gp  (in this directory)
set terminal pngcairo size %d,560 noenhanced font ",10"
set output "ratios.png"
set title "IOPS ratio of medians vs built-in libaio (1.0 = libaio)"
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
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 \\
    lc rgb "black"
plot for [i=2:%d] "ratios.dat" using i:xtic(1) title columnheader(i)
""" % (width, len(cols) + 1))
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return None, ("chart skipped: gnuplot not found (apt-get install "
                      "gnuplot-nox); data in %s" % dat)
    try:
        p = subprocess.run([gnuplot, "ratios.gp"], cwd=outdir,
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return None, "chart skipped: gnuplot failed: %s" % e
    if p.returncode != 0 or not os.path.exists(png):
        if "pngcairo" in p.stderr:
            # gnuplot built without cairo: the libgd png terminal.
            with open(gp) as f:
                script = f.read().replace("pngcairo", "png", 1)
            with open(gp, "w") as f:
                f.write(script)
            p = subprocess.run([gnuplot, "ratios.gp"], cwd=outdir,
                               capture_output=True, text=True, timeout=60)
        if p.returncode != 0 or not os.path.exists(png):
            return None, "chart skipped: gnuplot exit %d: %s" % (
                p.returncode, p.stderr.strip()[-300:])
    return png, "chart: %s" % png
