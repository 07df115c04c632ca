# SPDX-License-Identifier: BSD-3-Clause
"""Small shared pieces: errors, messages, the progress line, sizes."""

import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys


# The repository this harness belongs to (its build/, scripts/).
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class Interrupted(Exception):
    pass


class SetupError(Exception):
    pass


def notice(msg):
    PROGRESS.clear()
    print("compare: " + msg, file=sys.stderr, flush=True)


def loud(msg):
    PROGRESS.clear()
    bar = "!" * min(78, max(20, len(msg) + 8))
    print("%s\n!!! %s\n%s" % (bar, msg, bar), file=sys.stderr, flush=True)


# ---- progress line ----

class Progress:
    """One live line on stderr (a tty); plain lines otherwise."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.shown = False

    def update(self, text):
        if not self.tty:
            return
        cols = shutil.get_terminal_size((120, 20)).columns
        sys.stderr.write("\r" + text[:cols - 1] + "\x1b[K")
        sys.stderr.flush()
        self.shown = True

    def done_line(self, text):
        """A run finished: keep the live line, or log it when not a tty."""
        if self.tty:
            self.update(text)
        else:
            print(text, file=sys.stderr, flush=True)

    def clear(self):
        if self.tty and self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


PROGRESS = Progress()



# ---- small helpers ----

def parse_size(text):
    """fio-style size: 512, 4k, 1G (binary multiples)."""
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(i?b?)\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError("bad size %r (e.g. 4k, 1G)" % text)
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    return int(m.group(1)) * mult[m.group(2).lower()]


def human_size(n):
    """Bytes as people read them: 1 GiB, 23.0 GiB, 256 MiB, 4 KiB."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            if n % (1 << shift) == 0:
                return "%d %s" % (n >> shift, unit)
            return "%.1f %s" % (n / float(1 << shift), unit)
    return "%d B" % n


def csv_list(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_duration(text):
    """"5m", "90s", "300" (seconds), "1h" -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text or "")
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            "%r: want a duration such as 5m, 90s or 300" % text)
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[
        m.group(2)]


def fio_ms(seconds):
    return "%dms" % int(round(seconds * 1000))


def cmd_out(cmd, cwd=None):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                           cwd=cwd)
        return p.stdout.strip() if p.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fmt_secs(s):
    s = int(round(s))
    return "%dm%02ds" % (s // 60, s % 60) if s >= 60 else "%ds" % s


def stop_group(p):
    """End a subprocess started in its own process group (fio and its
    job processes): SIGINT first, so fio can clean up, then SIGKILL."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        if p.poll() is not None:
            return
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


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


def f_count(v):
    """A per-request count: whole instructions, calls to 4 decimals."""
    if v is None:
        return "-"
    return "%.0f" % v if abs(v) >= 100 else "%.4f" % v


# ---- charts ----

def render_gnuplot(outdir, name, what):
    """Run NAME.gp in outdir into NAME.png; return (path|None, message).

    what names the chart in the message ("chart", "history chart").  A
    gnuplot built without cairo gets the libgd png terminal instead.
    """
    gnuplot = shutil.which("gnuplot")
    gp = os.path.join(outdir, name + ".gp")
    png = os.path.join(outdir, name + ".png")
    if not gnuplot:
        return None, ("%s skipped: gnuplot not found (apt-get install "
                      "gnuplot-nox); data in %s" % (what, outdir))
    for attempt in (0, 1):
        try:
            p = subprocess.run([gnuplot, name + ".gp"], cwd=outdir,
                               capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            return None, "%s skipped: gnuplot failed: %s" % (what, e)
        if p.returncode == 0 and os.path.exists(png):
            return png, "chart: %s" % png
        if attempt == 0 and "pngcairo" in p.stderr:
            with open(gp) as f:
                script = f.read().replace("pngcairo", "png", 1)
            with open(gp, "w") as f:
                f.write(script)
            continue
        break
    return None, "%s skipped: gnuplot exit %d: %s" % (
        what, p.returncode, p.stderr.strip()[-300:])
