# SPDX-License-Identifier: BSD-3-Clause
"""Compare libaioring with fio's built-in libaio and io_uring engines.

Runs the same fio job under several engine configurations, interleaved
(A B C D A B C D ... for N rounds), with one fio binary, one target and
identical job options; reports medians, spread and ratios; optionally
gates on a floors file.  Standard library only; gnuplot for the chart.

    python3 perf/compare.py --quick --gate jobs/floors-ci.json   # CI gate
    python3 perf/compare.py                  # default cells, 3 rounds
    python3 perf/compare.py --gate jobs/floors.json             # targets
    python3 perf/compare.py --full           # the whole matrix

Exit status: 0 done (gate passed, or inconclusive without --strict);
1 a floor FAILED; 2 a fio run failed, or a usage/setup error;
3 a floor was inconclusive under --strict; 130 interrupted.
"""

import argparse
import datetime
import hashlib
import itertools
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

from .gate import (DEFAULT_MAX_COV, FAIL, INCONCLUSIVE,
                   cell_key, evaluate_gate, gate_exit_code,
                   needed_runs, normalize_floors, parse_cell_key)
from . import report as rep
from .report import CEILING

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

BUILTIN_CONFIGS = {
    "libaio": ["--ioengine=libaio"],
    "libaio-ur": ["--ioengine=libaio", "--userspace_reap=1",
                  "--iodepth_batch_complete_min=0"],
    "io_uring": ["--ioengine=io_uring"],
}
DEFAULT_CONFIGS = "aioring,libaio,libaio-ur,io_uring"

FULL = {"rw": ["randread", "randwrite", "read"], "bs": ["4k", "128k"],
        "qd": [1, 32, 128], "jobs": [1, 2]}
# Unspecified dimensions when some matrix flag is given without --full.
PARTIAL = {"rw": ["randread"], "bs": ["4k"], "qd": [1, 32, 128], "jobs": [1]}
DEFAULT_CELLS = ["randread/4k/qd1/j1", "randread/4k/qd32/j1",
                 "randread/4k/qd128/j1", "randwrite/4k/qd32/j1",
                 "randread/4k/qd32/j1/files64"]
QUICK_CELLS = ["randread/4k/qd1/j1", "randread/4k/qd32/j1",
               "randwrite/4k/qd32/j1"]
# A run during which the rest of the machine used more CPU than this
# (in cores, averaged over the run) is flagged as contended.
FOREIGN_CPU_LIMIT = 0.25
BATCH_QD = 128          # qd >= this: iodepth_batch_submit/complete_max=32
BATCH = 32
READ_RW = ("read", "randread")
WRITE_RW = ("write", "randwrite", "rw", "readwrite", "randrw", "trimwrite")
KNOWN_RW = READ_RW + WRITE_RW

EXIT_GATE_FAIL, EXIT_RUN_FAIL, EXIT_INTR = 1, 2, 130


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
    for unit, shift in (("G", 30), ("M", 20), ("k", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return "%d%s" % (n >> shift, unit)
    return str(n)


def csv_list(text):
    return [t.strip() for t in text.split(",") if t.strip()]


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


# ---- plan: cells and configurations ----

def parse_configs(tokens):
    """Config tokens: aioring, libaio, libaio-ur, io_uring, or
    aioring:key=val[:key=val...] (an aioring variant with engine options)."""
    out = []
    for t in tokens:
        if t in BUILTIN_CONFIGS or t == "aioring":
            pass
        elif t.startswith("aioring:"):
            for kv in t.split(":")[1:]:
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=[^\s:,]+", kv):
                    raise SetupError("bad engine option %r in config %r "
                                     "(want key=val)" % (kv, t))
        else:
            raise SetupError("unknown config %r (known: aioring, libaio, "
                             "libaio-ur, io_uring, aioring:key=val...)" % t)
        if t not in out:
            out.append(t)
    return out


def build_cells(args):
    """Ordered list of cell keys; files cells follow their base cell."""
    dims = {"rw": args.rw, "bs": args.bs, "qd": args.qd, "jobs": args.jobs}
    files_n = args.files
    if args.quick and not any(dims.values()):
        base = list(QUICK_CELLS)
    elif args.full or any(dims.values()):
        src = FULL if args.full else PARTIAL
        vals = {k: (v if v else src[k]) for k, v in dims.items()}
        base = [cell_key(rw, bs, qd, j) for rw, bs, qd, j in itertools.product(
            vals["rw"], vals["bs"], vals["qd"], vals["jobs"])]
        if files_n is None and args.full:
            # The per-file-context target: randread 4k cells, 64 files.
            base += [k + "/files64" for k in base
                     if k.startswith("randread/4k/")]
    else:
        base = list(DEFAULT_CELLS)
    if files_n is not None:
        base = [k for k in base if parse_cell_key(k)["files"] == 1]
        if files_n > 1:
            base += [k + "/files%d" % files_n for k in list(base)]
    return order_cells(base)


def order_cells(keys):
    seen, plain, files = set(), [], {}
    for k in keys:
        if k in seen:
            continue
        seen.add(k)
        c = parse_cell_key(k)
        if c["files"] > 1:
            files.setdefault(cell_key(c["rw"], c["bs"], c["qd"], c["jobs"]),
                             []).append(k)
        else:
            plain.append(k)
    out = []
    for k in plain:
        out.append(k)
        out += files.pop(k, [])
    for base, fk in files.items():      # a files cell needs its base cell
        out.append(base)
        out += fk
    return out


def validate_cell(key):
    c = parse_cell_key(key)
    if c["rw"] not in KNOWN_RW:
        raise SetupError("cell %s: unknown rw %r" % (key, c["rw"]))
    if c["qd"] < 1 or c["jobs"] < 1:
        raise SetupError("cell %s: qd and jobs must be >= 1" % key)
    parse_size(c["bs"])
    return c


def cell_configs(cell, configs):
    """Configurations run in a cell: files cells run the aioring ones."""
    if parse_cell_key(cell)["files"] > 1:
        return [c for c in configs if c.split(":")[0] == "aioring"]
    return list(configs)


# ---- fio command and output ----

def engine_args(config, engine, aior_opts):
    if config in BUILTIN_CONFIGS:
        return list(BUILTIN_CONFIGS[config])
    out = ["--ioengine=external:%s" % engine]
    out += ["--%s" % o for o in aior_opts]
    out += ["--%s" % kv for kv in config.split(":")[1:]]
    return out


def fio_cmd(args, target, cell, config):
    c = parse_cell_key(cell)
    cmd = [args.fio, "--name=aior-bench", "--rw=%s" % c["rw"],
           "--bs=%s" % c["bs"], "--iodepth=%d" % c["qd"],
           "--numjobs=%d" % c["jobs"], "--group_reporting=1", "--direct=1",
           "--time_based=1", "--runtime=%s" % fio_ms(args.runtime),
           "--ramp_time=%s" % fio_ms(args.ramp_time),
           "--norandommap=1", "--randrepeat=0",
           "--output-format=json", "--lat_percentiles=1",
           "--percentile_list=50:99:99.9"]
    if c["files"] > 1:
        cmd.append("--filename=%s" % ":".join(target["files"][c["files"]]))
    else:
        cmd.append("--filename=%s" % target["path"])
        if target["pass_size"]:
            cmd.append("--size=%d" % target["size"])
    if target["readonly"]:
        cmd.append("--readonly")
    if c["qd"] >= BATCH_QD:
        cmd += ["--iodepth_batch_submit=%d" % BATCH,
                "--iodepth_batch_complete_max=%d" % BATCH]
    return cmd + engine_args(config, args.engine, args.aior_opt)


_STATS_RE = re.compile(r"^libaioring: job '([^']*)': (.*)$")
_KV_RE = re.compile(r"([A-Za-z_]+)=(\d+)")


def parse_fio_output(text):
    """fio's stdout -> (decoded JSON, engine stats dict|None, other lines).

    With --output-format=json fio still prints log_info() lines (such as
    the engine's counters) before the JSON document.
    """
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith("{")),
                 None)
    if start is None:
        raise ValueError("no JSON document in fio's output")
    body = "\n".join(lines[start:])
    data, _ = json.JSONDecoder().raw_decode(body)
    stats, other = None, []
    for ln in lines[:start]:
        m = _STATS_RE.match(ln)
        kvs = _KV_RE.findall(m.group(2)) if m else []
        if kvs:
            stats = stats or {}
            for k, v in kvs:
                stats[k] = stats.get(k, 0) + int(v)
        elif ln.strip():
            other.append(ln)
    return data, stats, other


def _percentile(pct, want):
    for k, v in (pct or {}).items():
        try:
            if abs(float(k) - want) < 1e-6:
                return float(v)
        except ValueError:
            pass
    return None


def metrics_from_json(data, rw):
    """Metrics of one fio run (group_reporting: one jobs[] entry)."""
    jobs = data.get("jobs") or []
    if not jobs:
        raise ValueError("fio JSON has no jobs")
    dirs = ["read"] if rw in READ_RW else (
        ["write"] if rw in ("write", "randwrite") else ["read", "write"])
    m = {"iops": 0.0, "bw_kib": 0.0, "total_ios": 0, "ctx": 0,
         "cpu_s": 0.0, "usr_s": 0.0, "sys_s": 0.0, "runtime_ms": 0}
    lat_best, lat_ios = None, -1
    for j in jobs:
        if j.get("error"):
            raise ValueError("fio job %r reported error %s" % (
                j.get("jobname"), j.get("error")))
        run_s = float(j.get("job_runtime", 0)) / 1000.0
        usr = float(j.get("usr_cpu", 0)) / 100.0 * run_s
        sys_ = float(j.get("sys_cpu", 0)) / 100.0 * run_s
        m["usr_s"] += usr
        m["sys_s"] += sys_
        m["cpu_s"] += usr + sys_
        m["ctx"] += int(j.get("ctx", 0))
        m["runtime_ms"] = max(m["runtime_ms"], int(j.get("job_runtime", 0)))
        for d in dirs:
            dd = j.get(d) or {}
            m["iops"] += float(dd.get("iops", 0))
            m["bw_kib"] += float(dd.get("bw", 0))
            ios = int(dd.get("total_ios", 0))
            m["total_ios"] += ios
            if ios > lat_ios:
                lat_best, lat_ios = dd.get("lat_ns", {}).get("percentile"), ios
    if m["total_ios"] <= 0:
        raise ValueError("fio completed no I/O")
    m["lat_p50_ns"] = _percentile(lat_best, 50.0)
    m["lat_p99_ns"] = _percentile(lat_best, 99.0)
    m["lat_p999_ns"] = _percentile(lat_best, 99.9)
    n = m["total_ios"]
    m["cpu_us_per_io"] = m["cpu_s"] * 1e6 / n
    m["usr_us_per_io"] = m["usr_s"] * 1e6 / n
    m["sys_us_per_io"] = m["sys_s"] * 1e6 / n
    m["ctx_per_io"] = m["ctx"] / n
    return m


# ---- running a child (fio or t/io_uring) ----

def _cpu_ticks():
    """(busy, steal) jiffies of the whole machine, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    v += [0] * (8 - len(v))
    # user nice system idle iowait irq softirq steal [guest counted in user]
    return v[0] + v[1] + v[2] + v[5] + v[6], v[7]


def _children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def contention(before, after, child_cpu, seconds):
    """CPU the rest of the machine used while our child ran, in cores.

    Machine-wide busy time minus the child's own (fio and its job
    processes, io_uring workers included, reaped by then), and the time
    the hypervisor stole.  A quiet machine shows ~0.
    """
    if not before or not after or seconds <= 0:
        return None, None
    hz = float(os.sysconf("SC_CLK_TCK"))
    busy = (after[0] - before[0]) / hz
    steal = (after[1] - before[1]) / hz
    return max(0.0, busy - child_cpu) / seconds, steal / seconds


def run_child(cmd, timeout, label):
    """Run cmd in its own session; keep the progress line ticking.

    On Ctrl-C (or SIGTERM) the child gets SIGINT, then SIGKILL after 5 s,
    and Interrupted is raised.  Returns (rc, stdout, stderr, seconds,
    {"foreign_cpu": cores, "steal_cpu": cores}).
    """
    t0 = time.monotonic()
    ticks0, cpu0 = _cpu_ticks(), _children_cpu()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        while True:
            try:
                out, err = p.communicate(timeout=0.5)
                el = time.monotonic() - t0
                foreign, steal = contention(ticks0, _cpu_ticks(),
                                            _children_cpu() - cpu0, el)
                return p.returncode, out, err, el, {
                    "foreign_cpu": foreign, "steal_cpu": steal}
            except subprocess.TimeoutExpired:
                el = time.monotonic() - t0
                PROGRESS.update("%s  (running %.0fs)" % (label, el))
                if el > timeout:
                    _stop(p)
                    out, err = p.communicate()
                    return (-1, out, (err or "") + "\ncompare: killed after "
                            "%.0f s (timeout)" % el, el, {})
    except (KeyboardInterrupt, Interrupted):
        _stop(p)
        raise Interrupted()


def _stop(p):
    for sig, wait in ((signal.SIGINT, 5), (signal.SIGKILL, 5)):
        if p.poll() is not None:
            return
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass


# ---- targets ----

def write_file(path, size, fsync=False):
    """Create path of exactly size bytes, every block written once."""
    chunk = os.urandom(4 << 20)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError:
            pass
        done = 0
        while done < size:
            n = min(len(chunk), size - done)
            os.write(fd, chunk[:n])
            done += n
            if done % (256 << 20) == 0 and size > (1 << 30):
                PROGRESS.update("compare: writing %s: %d%%"
                                % (path, done * 100 // size))
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
        PROGRESS.clear()


def check_direct(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        os.close(fd)
    except OSError as e:
        raise SetupError("%s: open(O_DIRECT) failed: %s; the jobs use "
                         "direct=1 (tmpfs has O_DIRECT from Linux 6.6): use "
                         "--target on a disk file or --preset disk"
                         % (path, e.strerror))


def new_target():
    return {"files": {}, "cleanup": [], "notes": [], "readonly": False,
            "pass_size": True}


def prepare_target(args, cells, t):
    """Create/locate the target, filling t (from new_target()).

    Keys: path, kind (ram|disk|file|blockdev), size, pass_size, readonly,
    files {n: [paths]}, cleanup [paths], notes [str].  What is created
    is listed in t["cleanup"] at once, so a failure half-way still cleans.
    """
    nfiles = sorted({parse_cell_key(c)["files"] for c in cells} - {1})
    if args.preset == "disk":
        path = os.path.abspath(args.target or "bench-disk.dat")
        size = args.size or (4 << 30)
        t.update(path=path, kind="disk", size=size)
        if not (os.path.isfile(path) and os.path.getsize(path) >= size):
            notice("writing %s (%s) once, kept for later runs"
                   % (path, human_size(size)))
            write_file(path, size, fsync=True)
        t["size"] = os.path.getsize(path)
        t["notes"].append("disk file %s kept (rm it to free %s)"
                          % (path, human_size(t["size"])))
        drop_files_dir = False          # kept with the disk file
        files_dir = path + ".files%d"
    elif args.target:
        path = os.path.abspath(args.target)
        if os.path.exists(path) and stat.S_ISBLK(os.stat(path).st_mode):
            t.update(path=path, kind="blockdev", pass_size=False)
            with open(path, "rb") as f:
                t["size"] = f.seek(0, os.SEEK_END)
            t["readonly"] = not args.allow_write
            if nfiles:
                t["notes"].append("files cells skipped: the target is a "
                                  "block device")
            check_direct(path)
            return
        if os.path.isdir(path):
            raise SetupError("--target %s is a directory; give a file or a "
                             "block device" % path)
        t.update(path=path, kind="file")
        if os.path.exists(path):
            t["size"] = os.path.getsize(path)
            t["pass_size"] = args.size is not None
            if args.size:
                t["size"] = args.size
        else:
            t["size"] = args.size or (1 << 30)
            if not args.keep:
                t["cleanup"].append(path)
            write_file(path, t["size"], fsync=True)
        drop_files_dir = not args.keep
        files_dir = path + ".files%d"
    else:
        size = args.size or (1 << 30)
        base = "/dev/shm" if os.path.isdir("/dev/shm") else None
        if base is None:
            notice("no /dev/shm: the default target is not RAM-backed")
        need = size * (1 + len(nfiles))
        root = base or tempfile.gettempdir()
        st = os.statvfs(root)
        if st.f_bavail * st.f_frsize < need + (64 << 20):
            raise SetupError("%s has %s free, the target needs %s: pass a "
                             "smaller --size" % (root, human_size(
                                 st.f_bavail * st.f_frsize), human_size(need)))
        d = tempfile.mkdtemp(prefix="aior-bench-", dir=root)
        if args.keep:
            t["notes"].append("kept %s (--keep)" % d)
        else:
            t["cleanup"].append(d)
        path = os.path.join(d, "aior-bench.dat")
        t.update(path=path, kind="ram" if base else "file", size=size)
        write_file(path, size)
        drop_files_dir = False  # inside d, which goes as a whole
        files_dir = os.path.join(d, "files%d")
    check_direct(path)
    for n in nfiles:
        d = files_dir % n
        per = max(1 << 20, (t["size"] // n) >> 20 << 20)
        paths = [os.path.join(d, "f%03d" % i) for i in range(n)]
        if not all(os.path.isfile(p) and os.path.getsize(p) == per
                   for p in paths):
            created = not os.path.exists(d)
            os.makedirs(d, exist_ok=True)
            if created and drop_files_dir:
                t["cleanup"].append(d)
            for p in paths:
                write_file(p, per, fsync=t["kind"] != "ram")
        t["files"][n] = paths
        t.setdefault("files_each", {})[n] = per
        t["notes"].append("files%d: %d files of %s in %s" % (
            n, n, human_size(per), d))


def cleanup_target(t):
    for p in t.get("cleanup", []):
        try:
            if os.path.isdir(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
        except OSError as e:
            notice("could not remove %s: %s" % (p, e))


# ---- t/io_uring: fio's raw aio ceiling ----

def find_fio_src(args, fio_version):
    if args.fio_src:
        return args.fio_src
    if os.environ.get("FIO_SRC"):
        return os.environ["FIO_SRC"]
    cache = os.environ.get("AIOR_CACHE",
                           os.path.expanduser("~/.cache/libaioring"))
    cands = []
    try:
        for d in sorted(os.listdir(cache)):
            for sub in sorted(os.listdir(os.path.join(cache, d))) \
                    if os.path.isdir(os.path.join(cache, d)) else []:
                p = os.path.join(cache, d, sub)
                if os.path.isfile(os.path.join(p, "t", "io_uring.c")):
                    cands.append(p)
    except OSError:
        pass
    for p in cands:     # prefer the tree of the installed fio's version
        try:
            with open(os.path.join(p, "FIO-VERSION-FILE")) as f:
                if fio_version and fio_version in f.read():
                    return p
        except OSError:
            pass
    return cands[0] if cands else None


def build_tio(args, fio_version):
    """Path of a t/io_uring binary, or (None, reason)."""
    if args.tio:
        if os.access(args.tio, os.X_OK):
            return os.path.abspath(args.tio), None
        return None, "--tio %s is not executable" % args.tio
    src = find_fio_src(args, fio_version)
    if not src:
        return None, ("no fio source tree found (scripts/setup.sh prepares "
                      "one; or --fio-src DIR)")
    src = os.path.abspath(src)
    if not os.path.isfile(os.path.join(src, "config-host.mak")):
        return None, "%s is not configured (run ./configure there)" % src
    cache = os.path.abspath(args.tio_cache or os.path.join(os.environ.get(
        "AIOR_CACHE", os.path.expanduser("~/.cache/libaioring")),
        "t_io_uring"))
    tag = hashlib.sha256(src.encode()).hexdigest()[:10]
    work = os.path.join(cache, "%s-%s" % (os.path.basename(src), tag))
    binary = os.path.join(work, "t", "io_uring")
    if os.access(binary, os.X_OK) and os.path.getmtime(binary) >= \
            os.path.getmtime(os.path.join(src, "t", "io_uring.c")):
        return binary, None
    notice("building fio's t/io_uring from %s in a scratch copy %s"
           % (src, work))
    try:
        if os.path.exists(work):
            shutil.rmtree(work)
        os.makedirs(cache, exist_ok=True)
        shutil.copytree(src, work, symlinks=True,
                        ignore=shutil.ignore_patterns("*.o", "*.d", ".git"))
        p = subprocess.run(["make", "-C", work, "-j%d" % (os.cpu_count() or 1),
                            "t/io_uring"], capture_output=True, text=True,
                           timeout=600)
    except (OSError, subprocess.SubprocessError, shutil.Error) as e:
        return None, "building t/io_uring failed: %s" % e
    if p.returncode != 0 or not os.access(binary, os.X_OK):
        return None, "make t/io_uring failed (exit %d): %s" % (
            p.returncode, (p.stderr or p.stdout).strip()[-400:])
    return binary, None


def ceiling_applies(cell, target=None):
    c = parse_cell_key(cell)
    return c["rw"] in READ_RW and c["files"] == 1


def tio_cmd(args, tio, target, cell):
    c = parse_cell_key(cell)
    b = min(c["qd"], BATCH)
    secs = int(math.ceil(args.runtime)) + 1 + (1 if args.ramp_time > 0 else 0)
    return [tio, "-a1", "-p0", "-B0", "-F0", "-O1",
            "-d%d" % c["qd"], "-s%d" % b, "-c%d" % b,
            "-b%d" % parse_size(c["bs"]), "-n%d" % c["jobs"],
            "-R%d" % (1 if c["rw"] == "randread" else 0),
            "-r%d" % secs, target["path"]]


_TIO_RE = re.compile(r"^IOPS=([\d.]+)([KM]?),")


def parse_tio(text, drop_first):
    vals = []
    for ln in text.splitlines():
        m = _TIO_RE.match(ln.strip())
        if m:
            vals.append(float(m.group(1)) * {"": 1, "K": 1e3,
                                             "M": 1e6}[m.group(2)])
    if drop_first and len(vals) > 1:
        vals = vals[1:]
    if not vals:
        raise ValueError("no IOPS= lines in t/io_uring's output")
    vals.sort()
    return vals[len(vals) // 2] if len(vals) % 2 else \
        (vals[len(vals) // 2 - 1] + vals[len(vals) // 2]) / 2


# ---- environment ----

def environment(args, fio_version, tio):
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    env = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kernel": platform.release(),
        "cpu_model": cpu,
        "nproc": os.cpu_count(),
        "cpus_allowed": len(os.sched_getaffinity(0)),
        "loadavg_start": os.getloadavg(),
        "fio": args.fio, "fio_version": fio_version,
        "python": platform.python_version(),
        "argv": sys.argv,
        "git_describe": cmd_out(["git", "-C", REPO, "describe", "--always",
                                 "--dirty"]),
        "t_io_uring": tio,
    }
    try:
        with open("/proc/sys/fs/aio-max-nr") as f:
            env["aio_max_nr"] = int(f.read())
    except (OSError, ValueError):
        pass
    gov = "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"
    if os.path.exists(gov):
        with open(gov) as f:
            env["cpu_governor"] = f.read().strip()
    if os.path.isfile(args.engine):
        env["engine"] = {"path": os.path.abspath(args.engine),
                         "sha256": sha256_of(args.engine),
                         "size": os.path.getsize(args.engine),
                         "mtime_utc": datetime.datetime.fromtimestamp(
                             os.path.getmtime(args.engine),
                             datetime.timezone.utc).strftime(
                                 "%Y-%m-%dT%H:%M:%SZ")}
    return env


# ---- outputs ----

def write_outputs(st):
    """results.json, table.txt, summary.md, the chart; print the table."""
    args, out = st["args"], st["out"]
    cells = [c for c in st["cells"]]
    summary = rep.summarize(st["samples"], cells, st["configs"])
    table = rep.text_table(summary, cells, st["configs"])
    PROGRESS.clear()
    print()
    print(table, end="")
    gate_txt = ""
    if st.get("gate") is not None:
        gate_txt = rep.gate_text(st["gate"])
        print("\nregression gate (%s, max CoV %.0f%%):"
              % (args.gate, args.max_cov * 100))
        print(gate_txt, end="")
    png, chart_msg = rep.chart(summary, cells, st["configs"], out)
    st["notes"].append(chart_msg)
    st["env"]["loadavg_end"] = os.getloadavg()
    doc = {
        "tool": "libaioring perf/compare.py",
        "env": st["env"],
        "settings": st["settings"],
        "target": target_doc(st["target"]),
        "cells": cells, "configs": st["configs"],
        "interrupted": st["interrupted"],
        "elapsed_s": round(time.monotonic() - st["t0"], 1),
        "failures": st["failures"], "skipped": st["skipped"],
        "notes": st["notes"],
        "summary": summary,
        "gate": st.get("gate"),
        "samples": st["samples"],
    }
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(doc, f, indent=1, default=str)
        f.write("\n")
    with open(os.path.join(out, "table.txt"), "w") as f:
        f.write(table + ("\n" + gate_txt if gate_txt else ""))
    md = markdown(st, summary, png)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(md)
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:
        try:
            with open(step, "a") as f:
                f.write(md + "\n")
        except OSError as e:
            notice("cannot append to $GITHUB_STEP_SUMMARY: %s" % e)
    print("\n" + chart_msg)
    print("results: %s (results.json, summary.md, table.txt%s)"
          % (out, ", ratios.png" if png else ""))


def target_doc(t):
    if not t:
        return None
    d = {k: v for k, v in t.items()
         if k not in ("cleanup", "files", "files_each")}
    d["files"] = {str(n): {"count": len(p), "dir": os.path.dirname(p[0]),
                           "size_each": t["files_each"].get(n)}
                  for n, p in t.get("files", {}).items()}
    return d


def markdown(st, summary, png):
    args, env, s = st["args"], st["env"], st["settings"]
    eng = env.get("engine") or {}
    t = st["target"] or {}
    lines = ["## libaioring vs fio built-in engines", ""]
    if st["interrupted"]:
        lines += ["> **Interrupted**: partial results.", ""]
    if st["failures"]:
        lines += ["> **%d fio run(s) failed** (see results.json)."
                  % len(st["failures"]), ""]
    if st.get("contended"):
        lines += ["> **%d run(s) shared the machine with other load** "
                  "(`busy` column): the numbers are disturbed."
                  % st["contended"], ""]
    lines += [
        "- kernel `%s`, %s, %s CPUs, `%s`" % (
            env["kernel"], env["cpu_model"], env["nproc"],
            env["fio_version"]),
        "- engine `%s` sha256 `%s`, git `%s`" % (
            eng.get("path", "-"), (eng.get("sha256") or "-")[:16],
            env.get("git_describe")),
        "- target: %s `%s` (%s); %d round(s) interleaved, runtime %gs + "
        "ramp %gs, direct=1" % (t.get("kind"), t.get("path"),
                                human_size(t.get("size", 0)),
                                s["rounds"], s["runtime"], s["ramp_time"]),
        "- load average at start %s, at end %s" % (
            "/".join("%.2f" % x for x in env["loadavg_start"]),
            "/".join("%.2f" % x for x in env.get("loadavg_end", ()))),
    ]
    if s.get("aior_opt"):
        lines.append("- aioring options: `%s`" % " ".join(s["aior_opt"]))
    lines += ["", rep.md_table(summary, st["cells"], st["configs"])]
    lines += ["Medians over rounds; `x libaio`/`x io_uring` are ratios of "
              "median IOPS (files cells: vs the same cell with 1 file); "
              "CPU = (usr+sys) of the fio job thread x runtime / I/Os; "
              "`% raw aio` = share of fio's `t/io_uring -a1` on the same "
              "target.", ""]
    if st.get("gate") is not None:
        lines += ["### Regression gate: %s" % rep.gate_banner(st["gate"]),
                  "", "Floors `%s`, max CoV %.0f%%." % (args.gate,
                                                        args.max_cov * 100),
                  "", rep.gate_md(st["gate"])]
    notes = [n for n in st["notes"] if n]
    for f in st["failures"]:
        notes.append("FAILED: %s %s round %d: %s" % (
            f["cell"], f["config"], f["round"], f["error"]))
    for k in st["skipped"]:
        notes.append("skipped: %s" % k)
    if notes:
        lines += ["<details><summary>notes</summary>", ""]
        lines += ["- " + n.replace("\n", " ") for n in notes]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


# ---- main ----

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="compare.py",
        description="Interleaved fio comparison of libaioring with the "
                    "built-in libaio and io_uring engines, with a "
                    "regression gate.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    g = p.add_argument_group("what to run")
    g.add_argument("--configs", type=csv_list, default=None,
                   help="comma list of aioring, libaio, libaio-ur, io_uring "
                        "or aioring:key=val[:key=val] variants "
                        "(default %s)" % DEFAULT_CONFIGS)
    g.add_argument("--engine", default=os.path.join(REPO, "build",
                                                    "libaioring.so"),
                   help="libaioring.so (default: build/libaioring.so of "
                        "this repository)")
    g.add_argument("--aior-opt", action="append", default=[],
                   metavar="KEY=VAL", help="engine option for aioring "
                   "configs (repeatable)")
    g.add_argument("--rw", type=csv_list, help="e.g. randread,randwrite,read")
    g.add_argument("--bs", type=csv_list, help="e.g. 4k,128k")
    g.add_argument("--qd", type=lambda s: [int(x) for x in csv_list(s)],
                   help="e.g. 1,32,128 (qd >= 128 adds "
                        "iodepth_batch_submit=32 iodepth_batch_complete_max"
                        "=32 on all configs)")
    g.add_argument("--jobs", type=lambda s: [int(x) for x in csv_list(s)],
                   help="numjobs values, e.g. 1,2 (group_reporting)")
    g.add_argument("--files", type=int, default=None, metavar="N",
                   help="add a files<N> variant of every cell (N files per "
                        "job, aioring configs only, ratio vs 1 file); 0: "
                        "no files cells")
    g.add_argument("--full", action="store_true",
                   help="whole matrix: %s x %s x qd %s x jobs %s, plus "
                        "files64 for randread 4k" % (
                            ",".join(FULL["rw"]), ",".join(FULL["bs"]),
                            ",".join(map(str, FULL["qd"])),
                            ",".join(map(str, FULL["jobs"]))))
    g.add_argument("--quick", action="store_true",
                   help="CI size: %s; 3 rounds of 2 s + 0.5 s ramp"
                        % ", ".join(QUICK_CELLS))
    g.add_argument("--rounds", type=int, default=None,
                   help="interleaved rounds (default 3)")
    g.add_argument("--runtime", type=float, default=None,
                   help="seconds per run (default 5; --quick 2)")
    g.add_argument("--ramp-time", "--ramp_time", dest="ramp_time",
                   type=float, default=None,
                   help="seconds of ramp per run (default 1; --quick 0.5)")
    g = p.add_argument_group("target")
    g.add_argument("--target", help="file or block device (default: a new "
                   "RAM-backed file in /dev/shm)")
    g.add_argument("--size", type=parse_size, default=None,
                   help="target size to create (default 1G; disk 4G)")
    g.add_argument("--preset", choices=["ram", "disk"], default="ram",
                   help="disk: a preallocated ./bench-disk.dat (or "
                        "--target) on the local disk, kept between runs")
    g.add_argument("--allow-write", action="store_true",
                   help="allow write cells on a block device target")
    g.add_argument("--keep", action="store_true",
                   help="keep the files this run created")
    g = p.add_argument_group("tools")
    g.add_argument("--fio", default="fio", help="fio binary (default: fio)")
    g.add_argument("--fio-src", help="configured fio source tree to build "
                   "t/io_uring from (default: $FIO_SRC, or the tree "
                   "scripts/setup.sh prepared)")
    g.add_argument("--tio", help="a ready t/io_uring binary")
    g.add_argument("--tio-cache", help="where t/io_uring is built "
                   "(default ~/.cache/libaioring/t_io_uring)")
    g.add_argument("--ceiling", dest="ceiling", action="store_true",
                   default=None, help="run fio's t/io_uring -a1 (raw aio "
                   "ceiling) in read cells (default, except with --quick)")
    g.add_argument("--no-ceiling", dest="ceiling", action="store_false",
                   help="skip the raw aio ceiling")
    g = p.add_argument_group("output and gate")
    g.add_argument("--out", help="output directory (default "
                   "results/<timestamp>/)")
    g.add_argument("--gate", metavar="FLOORS.json",
                   help="judge the run against a floors file")
    g.add_argument("--max-cov", type=float, default=DEFAULT_MAX_COV,
                   help="a gate side noisier than this CoV is "
                        "inconclusive (default %.2f)" % DEFAULT_MAX_COV)
    g.add_argument("--strict", action="store_true",
                   help="an inconclusive floor exits 3")
    g.add_argument("--wait-quiet", type=float, default=0, metavar="SECS",
                   help="before each run, wait up to SECS for other fio "
                        "processes to end and the CPUs to idle (shared "
                        "machines)")
    g.add_argument("--dry-run", action="store_true",
                   help="print the plan and the fio commands, run nothing")
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3
    if args.runtime is None:
        args.runtime = 2.0 if args.quick else 5.0
    if args.ramp_time is None:
        args.ramp_time = 0.5 if args.quick else 1.0
    if args.rounds < 1 or args.runtime <= 0 or args.ramp_time < 0:
        p.error("--rounds >= 1, --runtime > 0, --ramp-time >= 0")
    if args.ceiling is None:
        args.ceiling = not args.quick
    if args.quick and args.full:
        p.error("--quick and --full exclude each other")
    for o in args.aior_opt:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S+", o):
            p.error("--aior-opt %r: want key=val" % o)
    return args


def main(argv=None):
    args = parse_args(argv)
    t0 = time.monotonic()

    def on_term(signum, frame):
        raise Interrupted()
    signal.signal(signal.SIGTERM, on_term)

    try:
        configs = parse_configs(args.configs or csv_list(DEFAULT_CONFIGS))
        cells = build_cells(args)
        floors = None
        if args.gate:
            try:
                with open(args.gate) as f:
                    floors = normalize_floors(json.load(f))
            except (OSError, ValueError) as e:
                raise SetupError("--gate %s: %s" % (args.gate, e))
            extra_cells, extra_cfgs = [], []
            for cell, cfg in needed_runs(floors):
                if cell not in cells:
                    extra_cells.append(cell)
                if cfg not in configs and cfg not in extra_cfgs:
                    extra_cfgs.append(cfg)
            if extra_cells:
                notice("gate adds cells: %s" % ", ".join(
                    dict.fromkeys(extra_cells)))
                cells = order_cells(cells + extra_cells)
            if extra_cfgs:
                notice("gate adds configs: %s" % ", ".join(extra_cfgs))
                configs = parse_configs(configs + extra_cfgs)
        for c in cells:
            validate_cell(c)
        args.engine = os.path.abspath(args.engine)
        if any(c.startswith("aioring") for c in configs) and \
                not os.path.isfile(args.engine):
            raise SetupError("engine %s not found: build it (cmake -S . -B "
                             "build ... && cmake --build build) or pass "
                             "--engine PATH" % args.engine)
        fio_path = shutil.which(args.fio)
        if not fio_path:
            raise SetupError("fio binary %r not found" % args.fio)
        args.fio = fio_path
        fio_version = cmd_out([args.fio, "--version"])
    except SetupError as e:
        print("compare: error: %s" % e, file=sys.stderr)
        return EXIT_RUN_FAIL

    if args.dry_run:
        fake = {"path": "<target>", "size": args.size or (1 << 30),
                "pass_size": True, "readonly": False,
                "files": {n: ["<dir>/f%03d" % i for i in range(n)]
                          for n in {parse_cell_key(c)["files"]
                                    for c in cells}}}
        print("configs: %s" % ", ".join(configs))
        print("rounds: %d, runtime %gs, ramp %gs" % (
            args.rounds, args.runtime, args.ramp_time))
        for cell in cells:
            for cfg in cell_configs(cell, configs):
                print("%s %s: %s" % (cell, cfg, " ".join(
                    fio_cmd(args, fake, cell, cfg)[1:])))
        if floors is not None:
            for f in floors:
                print("floor %s %s vs %s: %s %s %.3f" % (
                    f["cell"], f["config"], f["vs"], f["metric"], f["kind"],
                    f["floor"]))
        return 0

    out = args.out or os.path.join("results", datetime.datetime.now()
                                   .strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.join(out, "raw"), exist_ok=True)
    out = os.path.abspath(out)

    st = {"args": args, "out": out, "cells": cells, "configs": configs,
          "samples": [], "failures": [], "skipped": [], "notes": [],
          "interrupted": False, "t0": t0, "target": None, "gate": None,
          "contended": 0,
          "settings": {"rounds": args.rounds, "runtime": args.runtime,
                       "ramp_time": args.ramp_time, "quick": args.quick,
                       "full": args.full, "aior_opt": args.aior_opt,
                       "batch_from_qd": BATCH_QD, "batch": BATCH,
                       "max_cov": args.max_cov}}
    rc = 0
    tio = None
    try:
        if args.ceiling and any(ceiling_applies(c, None) for c in cells):
            tio, why = build_tio(args, (fio_version or "").replace(
                "fio-", ""))
            if not tio:
                st["notes"].append("raw aio ceiling skipped: %s" % why)
                notice("raw aio ceiling skipped: %s" % why)
        st["env"] = environment(args, fio_version, tio)
        target = st["target"] = new_target()
        prepare_target(args, cells, target)
        for n in target["notes"]:
            notice(n)
        st["notes"] += target["notes"]
        rc = run_all(st, tio)
    except SetupError as e:
        print("compare: error: %s" % e, file=sys.stderr)
        rc = EXIT_RUN_FAIL
        st.setdefault("env", environment(args, fio_version, tio))
    except (KeyboardInterrupt, Interrupted):
        st["interrupted"] = True
        rc = EXIT_INTR
    finally:
        # From here on, finish: clean up and write what was gathered.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if st["target"]:
            cleanup_target(st["target"])
    if st["contended"]:
        msg = ("%d of %d runs shared the machine (other fio processes, or "
               "> %.2f cores of other CPU load): treat these numbers with "
               "suspicion" % (st["contended"], len(st["samples"]),
                              FOREIGN_CPU_LIMIT))
        st["notes"].insert(0, msg)
        loud(msg)
    if st["interrupted"]:
        loud("interrupted: writing the %d sample(s) gathered"
             % len(st["samples"]))

    if floors is not None and st["samples"]:
        st["gate"] = evaluate_gate(floors, st["samples"], args.max_cov)
    write_outputs(st)
    if st["gate"] is not None:
        banner = rep.gate_banner(st["gate"])
        verdicts = {g["verdict"] for g in st["gate"]}
        if FAIL in verdicts or INCONCLUSIVE in verdicts:
            loud(banner + ("" if FAIL in verdicts or args.strict else
                           " (inconclusive is not a failure without "
                           "--strict)"))
        else:
            print(banner)
        grc = gate_exit_code(st["gate"], args.strict)
        if rc == 0:
            rc = grc
    if st["failures"]:
        loud("%d fio run(s) FAILED; exit %d" % (len(st["failures"]),
                                               EXIT_RUN_FAIL))
        if rc != EXIT_INTR:
            rc = EXIT_RUN_FAIL
    print("elapsed %s" % fmt_secs(time.monotonic() - t0))
    return rc


def run_all(st, tio):
    args, target = st["args"], st["target"]
    plan = []
    for cell in st["cells"]:
        c = parse_cell_key(cell)
        if c["files"] > 1 and c["files"] not in target["files"]:
            st["skipped"].append("%s: files cells need a file target" % cell)
            continue
        if target["readonly"] and c["rw"] in WRITE_RW:
            st["skipped"].append("%s: writes to block device %s need "
                                 "--allow-write" % (cell, target["path"]))
            continue
        for cfg in cell_configs(cell, st["configs"]):
            plan.append((cell, cfg))
        if tio and ceiling_applies(cell, target):
            plan.append((cell, CEILING))
    for s in st["skipped"]:
        notice("skipped " + s)
    total = len(plan) * args.rounds
    est = args.runtime + args.ramp_time + 0.5
    dead = set()            # (cell, config) that failed: not run again
    seq = 0
    durations = []
    last = "-"
    for rnd in range(1, args.rounds + 1):
        for cell, cfg in plan:
            seq += 1
            if (cell, cfg) in dead:
                continue
            left = total - seq + 1
            per = (sum(durations) / len(durations)) if durations else est
            label = "[%d/%d] round %d/%d  %s  %-10s (last: %s)  ETA %s" % (
                seq, total, rnd, args.rounds, cell, cfg, last,
                fmt_secs(per * left))
            others = wait_quiet(args.wait_quiet, label)
            load1 = os.getloadavg()[0]
            if cfg == CEILING:
                sample = run_ceiling(st, tio, cell, rnd, seq, label)
            else:
                sample = run_fio(st, cell, cfg, rnd, seq, label)
            sample["loadavg1_before"] = load1
            if others:
                sample["other_fio_pids"] = others
            busy = (sample.get("foreign_cpu") or 0) > FOREIGN_CPU_LIMIT
            if others or busy:
                sample["contended"] = True
                st["contended"] += 1
                if st["contended"] == 1:
                    notice("the machine is busy (%s): the numbers are "
                           "disturbed" % (
                               "other fio pids %s" % " ".join(
                                   map(str, others[:8])) if others else
                               "%.2f cores used by other processes"
                               % sample["foreign_cpu"]))
            durations.append(sample["elapsed_s"])
            st["samples"].append(sample)
            if not sample["ok"]:
                dead.add((cell, cfg))
                if cfg == CEILING:
                    continue
                st["failures"].append({k: sample.get(k) for k in (
                    "cell", "config", "round", "error", "cmd", "stderr")})
                loud("fio FAILED: %s %s round %d: %s" % (
                    cell, cfg, rnd, sample["error"]))
                if sample.get("stderr"):
                    print(sample["stderr"].rstrip(), file=sys.stderr)
                print("command: %s" % " ".join(sample["cmd"]),
                      file=sys.stderr)
                continue
            last = "%s %s IOPS" % (cfg, rep.f_iops(sample["iops"]))
            PROGRESS.done_line("[%d/%d] round %d/%d  %s  %-10s %s IOPS" % (
                seq, total, rnd, args.rounds, cell, cfg,
                rep.f_iops(sample["iops"])))
    PROGRESS.clear()
    return 0


def machine_busy(window=0.5):
    """Cores the machine keeps busy over window seconds (we sleep)."""
    a = _cpu_ticks()
    time.sleep(window)
    b = _cpu_ticks()
    if not a or not b:
        return 0.0
    return ((b[0] - a[0]) + (b[1] - a[1])) / float(
        os.sysconf("SC_CLK_TCK")) / window


def wait_quiet(limit, label):
    """Wait up to limit seconds for no other fio process and an idle CPU.

    Returns the other fio pids still running (empty when none).
    """
    others = other_fio_pids()
    if limit <= 0:
        return others
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        busy = machine_busy()
        others = other_fio_pids()
        if not others and busy <= FOREIGN_CPU_LIMIT:
            break
        PROGRESS.update("%s  waiting for a quiet machine (%s) %.0fs" % (
            label, "fio pids %s" % " ".join(map(str, others[:4])) if others
            else "%.2f cores busy" % busy, time.monotonic() - t0))
    return others


def other_fio_pids():
    """fio processes running now (none of ours is, between runs)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/comm" % d) as f:
                    if f.read().strip() == "fio":
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def _slug(cell, cfg):
    return re.sub(r"[^A-Za-z0-9.=_-]+", "_", "%s-%s" % (cell, cfg))


def run_fio(st, cell, cfg, rnd, seq, label):
    args = st["args"]
    cmd = fio_cmd(args, st["target"], cell, cfg)
    timeout = args.runtime + args.ramp_time + 120
    rc, out, err, el, cont = run_child(cmd, timeout, label)
    raw = os.path.join("raw", "%04d-%s-r%d.txt" % (seq, _slug(cell, cfg),
                                                   rnd))
    with open(os.path.join(st["out"], raw), "w") as f:
        f.write(out or "")
        if err:
            f.write("\n--- stderr ---\n" + err)
    s = {"cell": cell, "config": cfg, "round": rnd, "seq": seq,
         "ok": False, "elapsed_s": round(el, 2), "cmd": cmd, "raw": raw}
    s.update(cont)
    if err and err.strip():
        s["stderr"] = err.strip()[-2000:]
    if rc != 0:
        s["error"] = "fio exited %d" % rc
        return s
    try:
        data, stats, other = parse_fio_output(out)
        s.update(metrics_from_json(data, parse_cell_key(cell)["rw"]))
    except (ValueError, KeyError, TypeError) as e:
        s["error"] = "unusable fio output: %s" % e
        return s
    if stats is not None:
        s["engine_stats"] = stats
    if other:
        s["fio_messages"] = other
        for ln in other:
            if ln.startswith("libaioring:") and \
                    ln not in st.setdefault("_seen_msgs", set()):
                st["_seen_msgs"].add(ln)
                notice("%s %s: %s" % (cell, cfg, ln))
                st["notes"].append("%s %s: %s" % (cell, cfg, ln))
    s["ok"] = True
    return s


def run_ceiling(st, tio, cell, rnd, seq, label):
    args = st["args"]
    cmd = tio_cmd(args, tio, st["target"], cell)
    secs = int(cmd[-2][2:])
    rc, out, err, el, cont = run_child(cmd, secs + 60, label)
    s = {"cell": cell, "config": CEILING, "round": rnd, "seq": seq,
         "ok": False, "elapsed_s": round(el, 2), "cmd": cmd}
    s.update(cont)
    try:
        if rc != 0:
            raise ValueError("exit %d: %s" % (rc, (err or out).strip()[-300:]))
        s["iops"] = parse_tio(out, args.ramp_time > 0)
        s["bw_kib"] = s["iops"] * parse_size(parse_cell_key(cell)["bs"]) / 1024
        s["ok"] = True
    except ValueError as e:
        s["error"] = str(e)
        msg = "raw aio ceiling failed for %s: %s" % (cell, e)
        notice(msg)
        st["notes"].append(msg)
    return s
