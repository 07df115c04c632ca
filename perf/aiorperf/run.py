# SPDX-License-Identifier: BSD-3-Clause
"""Running fio (and t/io_uring): targets, samples, the interleaved loop."""

import datetime
import hashlib
import json
import math
import os
import platform
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

from . import machine
from .plan import (BATCH, READ_RW, WRITE_RW, balanced_order, cell_configs,
                   corun_applies, corun_cmd, fio_cmd, is_external,
                   parse_cell_key, round_order)
from .spdk import CONFIG as SPDK_CONFIG
from .stats import LOOKS
from .samples import CEILING
from .util import (PROGRESS, REPO, Interrupted, SetupError, cmd_out, f_iops,
                   fmt_secs, human_size, loud, notice, parse_size, sha256_of,
                   stop_group)


CORUN_NOTE = (
    "co-run: in each one-job cell %s ran together, one fio with a job "
    "each, all on CPU %d; each had a share of it, so their IOPS are about "
    "1/N of a solo run's and are compared only with each other. IOPS and "
    "CPU per I/O are judged; p99 is not (each one's requests wait out the "
    "others' time slices): --co-run off judges it")

# A run during which the rest of the machine used more CPU than this
# (in cores, averaged over the run) is flagged as contended.
FOREIGN_CPU_LIMIT = 0.25

_STATS_RE = re.compile(r"^libaioring: job '([^']*)': (.*)$")
_KV_RE = re.compile(r"([A-Za-z_]+)=(\d+)")


def _engine_lines(out, err):
    """stdout's lines before the JSON document (fio's own log lines, and
    the engine's from a build that logged through fio, before
    engine_stats_file: an A/B may run one), then the engine's lines on
    stderr, where it writes them now."""
    pre = []
    for ln in (out or "").splitlines():
        if ln.startswith("{"):
            break
        pre.append(ln)
    return pre + [ln for ln in (err or "").splitlines()
                  if ln.startswith("libaioring:")]


def parse_fio_output(text, err=""):
    """fio's stdout and stderr -> (decoded JSON, engine stats dict|None,
    other lines).

    The engine's counters and notices are read from stderr (@err), and
    from stdout's lines before the JSON document (older builds, and fio's
    own log_info() lines); "other" is those lines minus the counters.
    """
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith("{")),
                 None)
    if start is None:
        raise ValueError("no JSON document in fio's output")
    body = "\n".join(lines[start:])
    data, _ = json.JSONDecoder().raw_decode(body)
    stats, other = None, []
    for ln in _engine_lines(text, err):
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
                    stop_group(p)
                    out, err = p.communicate()
                    return (-1, out, (err or "") + "\ncompare: killed after "
                            "%.0f s (timeout)" % el, el, {})
    except (KeyboardInterrupt, Interrupted):
        stop_group(p)
        raise Interrupted()


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


# The default RAM-backed target, and the least it may shrink to when
# /dev/shm is small (a stock docker runner gives 64 MB).
RAM_SIZE, RAM_MIN = 1 << 30, 16 << 20


def default_ram_size(free, nfiles, notes):
    """1 GiB, or what /dev/shm can hold (with room to spare) if less:
    the engine's CPU path is the same on a smaller file."""
    fit = (max(0, free - (16 << 20)) * 3 // 4) // (1 + nfiles) >> 20 << 20
    if fit >= RAM_SIZE:
        return RAM_SIZE
    if fit < RAM_MIN:
        return RAM_SIZE     # let the caller say what is missing
    notes.append("/dev/shm has %s free: the RAM-backed target is %s, not "
                 "%s (docker: --shm-size=2g gives the default)"
                 % (human_size(free), human_size(fit), human_size(RAM_SIZE)))
    return fit


def io_uring_refused(fio):
    """Why this machine cannot run fio's io_uring engine, or None.

    Docker's default seccomp profile, and kernels built without io_uring
    or with io_uring_disabled set, refuse io_uring_setup(): an anchor
    that can only fail is better left out, with a word, than a run that
    exits 2."""
    try:
        p = subprocess.run([fio, "--name=probe", "--ioengine=io_uring",
                            "--filename=/dev/zero", "--rw=read", "--bs=4k",
                            "--size=16k", "--output=/dev/null"],
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return str(e)
    if p.returncode == 0:
        return None
    err = (p.stderr or p.stdout).strip().splitlines()
    return err[0] if err else "fio exited %d" % p.returncode


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
        where = disk_target(args, t)
    elif args.target:
        where = given_target(args, t, nfiles)
        if where is None:               # a block device: no files cells
            return
    else:
        where = ram_target(args, t, nfiles)
    path, files_dir, drop_files_dir = where
    check_direct(path)
    make_files_cells(t, nfiles, files_dir, drop_files_dir)


def disk_target(args, t):
    """--preset disk: a preallocated file, written once and kept;
    returns (path, files dir pattern, drop the files dir)."""
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
    return path, path + ".files%d", False   # kept with the disk file


def given_target(args, t, nfiles):
    """--target: a block device (checked, None returned) or a file, made
    if missing; returns (path, files dir pattern, drop the files dir)."""
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
        return None
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
    return path, path + ".files%d", not args.keep


def ram_target(args, t, nfiles):
    """The default: a new file in /dev/shm (or the temporary directory),
    sized to fit; returns (path, files dir pattern, drop the files
    dir)."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    if base is None:
        notice("no /dev/shm: the default target is not RAM-backed")
    root = base or tempfile.gettempdir()
    st = os.statvfs(root)
    size = args.size or default_ram_size(st.f_bavail * st.f_frsize,
                                         len(nfiles), t["notes"])
    need = size * (1 + len(nfiles))
    if st.f_bavail * st.f_frsize < need + (64 << 20):
        raise SetupError("%s has %s free, the target needs %s: pass a "
                         "smaller --size, or give the container more "
                         "(docker: --shm-size=2g)" % (root, human_size(
                             st.f_bavail * st.f_frsize), human_size(need)))
    d = tempfile.mkdtemp(prefix="aior-bench-", dir=root)
    if args.keep:
        t["notes"].append("kept %s (--keep)" % d)
    else:
        t["cleanup"].append(d)
    path = os.path.join(d, "aior-bench.dat")
    t.update(path=path, kind="ram" if base else "file", size=size)
    write_file(path, size)
    # The files go inside d, which goes as a whole.
    return path, os.path.join(d, "files%d"), False


def make_files_cells(t, nfiles, files_dir, drop_files_dir):
    """The N files of each files cell, beside the target (kept when they
    are there at the right size)."""
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
    """The machine, fio and builds of a run; "runner" is its runner class
    (machine.py: what its figures hold on), None through --client, whose
    hosts' class is not measured here."""
    runner = machine.runner_class()
    env = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runner": None if getattr(args, "clients", None) else runner,
        "kernel": runner["kernel"],
        "cpu_model": runner["cpu_model"],
        "nproc": runner["vcpus"],
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
    env["engines"] = {}
    for name, path in (getattr(args, "engines", None) or {}).items():
        if os.path.isfile(path):
            env["engines"][name] = engine_doc(path)
    first = next(iter(env["engines"].values()), None)
    if first:
        env["engine"] = env["engines"].get("aioring", first)
    if getattr(args, "clients", None):
        env["clients"] = args.clients
    return env


def engine_doc(path):
    return {"path": os.path.abspath(path), "sha256": sha256_of(path),
            "size": os.path.getsize(path),
            "mtime_utc": datetime.datetime.fromtimestamp(
                os.path.getmtime(path), datetime.timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%SZ")}


@dataclass
class Rounds:
    """How many rounds a run takes, and in what order.

    fixed:    without a budget, the clean rounds wanted (--rounds);
    budget:   seconds; set, rounds are added until decide() says every
              verdict is decisive at a look (stats.LOOKS), the budget
              would be overrun by one more round, or LOOKS[-1] clean
              rounds are in;
    judged:   the A/B's builds: a round of a cell in which one of them
              shared the machine (foreign CPU or another fio) is dropped
              from the verdicts and run again; empty: nothing dropped;
    balanced: order each round by plan.balanced_order (else rotate);
    seed:     of the balanced order.
    """
    fixed: int
    budget: float = None
    judged: tuple = ()
    balanced: bool = False
    seed: int = 0
    decide: object = None
    looks: tuple = LOOKS
    log: list = field(default_factory=list)


def clean_rounds(samples, cells, judged):
    """Fewest rounds, over cells, in which every judged config ran clean."""
    if not judged:
        return None
    n = []
    for cell in cells:
        per = {}
        for s in samples:
            if s["cell"] == cell and s["config"] in judged and s.get("ok") \
                    and not s.get("dropped"):
                per.setdefault(s["round"], set()).add(s["config"])
        n.append(sum(1 for v in per.values() if len(v) == len(judged)))
    return min(n) if n else 0


def drop_busy(samples, rnd, judged):
    """Mark the samples of a round's cells where a judged build shared
    the machine; returns the cells dropped.  A co-run is not dropped:
    what ran beside it took from every build alike."""
    busy = {s["cell"] for s in samples if s["round"] == rnd
            and s["config"] in judged and s.get("contended")
            and not s.get("corun")}
    for s in samples:
        if s["round"] == rnd and s["cell"] in busy:
            s["dropped"] = True
    return sorted(busy)


def plan_runs(st, tio, together=()):
    """[(cell, config)] of one round, the ceiling included; skips noted.

    together: the builds to co-run (run_corun) where a cell allows it,
    or {cell: configs} per cell (--co-run anchors); they are then one
    item, (cell, (build, build, ...)).
    """
    target = st.target
    plan = []
    for cell in st.cells:
        c = parse_cell_key(cell)
        if c["files"] > 1 and c["files"] not in target["files"]:
            st.skipped.append("%s: files cells need a file target" % cell)
            continue
        if target["readonly"] and c["rw"] in WRITE_RW:
            st.skipped.append("%s: writes to block device %s need "
                              "--allow-write" % (cell, target["path"]))
            continue
        cfgs = cell_configs(cell, st.configs)
        tog = together.get(cell, ()) if isinstance(together, dict) \
            else together
        # spdk-aio never co-runs: its plugin is preloaded into the
        # whole fio, and it wants thread=1.
        group = tuple(c for c in cfgs if c in tog and c != SPDK_CONFIG) \
            if corun_applies(cell, target) else ()
        if len(group) >= 2:
            plan.append((cell, group))
        plan += [(cell, c) for c in cfgs if c not in group or
                 len(group) < 2]
        if tio and ceiling_applies(cell, target):
            plan.append((cell, CEILING))
    for s in st.skipped:
        notice("skipped " + s)
    return plan


@dataclass
class _Progress:
    """What the progress line and the failure bookkeeping carry along."""
    est: float
    seq: int = 0
    total: int = 0
    last: str = "-"
    t_start: float = field(default_factory=time.monotonic)
    durations: list = field(default_factory=list)
    dead: set = field(default_factory=set)   # (cell, config) that failed


def run_one(st, tio, pg, rounds, cell, cfg, rnd):
    """One fio (or t/io_uring) run of a round: the sample, its load, its
    failure, the progress line."""
    args = st.args
    left = pg.total - pg.seq + 1
    per = (sum(pg.durations) / len(pg.durations)) if pg.durations \
        else pg.est
    label = "[%d/%d] round %d  %s  %-10s (last: %s)  %s" % (
        pg.seq, pg.total, rnd, cell, cfg, pg.last,
        "budget left %s" % fmt_secs(rounds.budget - (
            time.monotonic() - pg.t_start)) if rounds.budget else
        "ETA %s" % fmt_secs(per * left))
    remote = bool(getattr(args, "clients", None))
    # With --client our own fio servers may run here: other fio
    # processes and foreign CPU say nothing about the hosts.
    others = [] if remote else wait_quiet(args.wait_quiet, label)
    load1 = os.getloadavg()[0]
    extra = []
    if cfg == CEILING:
        got = [run_ceiling(st, tio, cell, rnd, pg.seq, label)]
    elif isinstance(cfg, tuple):
        got = run_corun(st, cell, cfg, rnd, pg.seq, label)
    elif remote:
        sample, extra = run_fio_remote(st, cell, cfg, rnd, pg.seq, label)
        got = [sample]
    else:
        got = [run_fio(st, cell, cfg, rnd, pg.seq, label)]
    busy = (got[0].get("foreign_cpu") or 0) > FOREIGN_CPU_LIMIT
    for sample in got:
        sample["loadavg1_before"] = load1
        if others:
            sample["other_fio_pids"] = others
        if others or busy:
            sample["contended"] = True
    if others or busy:
        st.contended += 1
        if st.contended == 1:
            notice("the machine is busy (%s): the numbers are disturbed" % (
                "other fio pids %s" % " ".join(map(str, others[:8]))
                if others else "%.2f cores used by other processes"
                % got[0]["foreign_cpu"]))
    pg.durations.append(got[0]["elapsed_s"])
    st.samples.extend(got)
    st.samples.extend(extra)
    if not got[0]["ok"]:
        pg.dead.add((cell, cfg))
        if cfg != CEILING:
            failed(st, got[0], " ".join(s["config"] for s in got))
        return
    pg.last = ", ".join("%s %s IOPS" % (s["config"], f_iops(s["iops"]))
                        for s in got)
    PROGRESS.done_line("[%d/%d] round %d  %s  %-10s %s IOPS%s%s" % (
        pg.seq, pg.total, rnd, cell, got[0]["config"],
        f_iops(got[0]["iops"]), "".join(
            ", %s %s" % (s["config"], f_iops(s["iops"]))
            for s in got[1:]),
        "  (busy: %.2f cores)" % got[0]["foreign_cpu"] if busy else ""))


def failed(st, sample, what):
    """A failed fio run (one sample, or a co-run's first): into the
    failures, and said loudly with its command."""
    st.failures.append(dict({k: sample.get(k) for k in (
        "cell", "config", "round", "error", "cmd", "stderr")}, config=what))
    loud("fio FAILED: %s %s round %d: %s" % (sample["cell"], what,
                                              sample["round"],
                                              sample["error"]))
    if sample.get("stderr"):
        print(sample["stderr"].rstrip(), file=sys.stderr)
    print("command: %s" % " ".join(sample["cmd"]), file=sys.stderr)


def round_done(st, rounds, pg, cells, rnd):
    """After round @rnd: drop its busy cells, look if a look is due;
    True when the run has its rounds."""
    if not rounds.judged and rounds.budget is None:
        return rnd >= rounds.fixed
    dropped = drop_busy(st.samples, rnd, rounds.judged)
    if dropped:
        msg = "round %d dropped for %s: a judged build shared the " \
            "machine; run again" % (rnd, ", ".join(dropped))
        notice(msg)
        rounds.log.append(msg)
    # Without builds to judge (a floors gate) every round counts.
    clean = clean_rounds(st.samples, cells, rounds.judged) \
        if rounds.judged else rnd
    if rounds.budget is None:
        # Fixed rounds; a dropped round is run again, once over.
        return clean >= rounds.fixed or rnd >= 2 * rounds.fixed
    spent = time.monotonic() - pg.t_start
    end = spent + spent / rnd > rounds.budget or clean >= rounds.looks[-1]
    looks = sum(1 for m in rounds.log if m.startswith("look "))
    if clean < rounds.looks[min(looks, len(rounds.looks) - 1)] and not end:
        return False
    decisive = rounds.decide(st)
    rounds.log.append("look %d after %d clean round(s), %s: %s" % (
        looks + 1, clean, fmt_secs(spent),
        "decisive" if decisive else "not yet decisive"))
    PROGRESS.done_line("look %d: %d clean round(s), %s" % (
        looks + 1, clean, "every verdict decisive: stop" if decisive
        else "not yet decisive"))
    return decisive or end or looks + 1 >= len(rounds.looks)


def undrop_if_starved(st, rounds, cells):
    """Too few clean rounds (the machine stayed busy): judge them all."""
    need = rounds.looks[0] if rounds.budget else rounds.fixed
    if rounds.judged and clean_rounds(st.samples, cells,
                                      rounds.judged) < need and \
            any(s.get("dropped") for s in st.samples):
        for s in st.samples:
            s.pop("dropped", None)
        msg = ("fewer than %d clean rounds: the dropped rounds are judged "
               "too (the machine stayed busy)" % need)
        loud(msg)
        rounds.log.append(msg)


def run_all(st, tio, rounds):
    """The interleaved rounds (see Rounds); returns 0."""
    args = st.args
    mode = getattr(args, "co_run", "off")
    together = () if getattr(args, "clients", None) else \
        rounds.judged if mode == "auto" else \
        {c: tuple(st.configs) for c in getattr(args, "co_run_cells", None)
         or st.cells} if mode == "anchors" else ()
    plan = plan_runs(st, tio, together)
    if any(isinstance(cfg, tuple) for _, cfg in plan):
        st.notes.append(CORUN_NOTE % (
            "every configuration (--co-run anchors)" if mode == "anchors"
            else "the A/B's builds", corun_cpu(args)))
    pg = _Progress(est=args.runtime + args.ramp_time + 0.5)
    cells = list(dict.fromkeys(c for c, _ in plan))
    builds = {p for p in plan if p[1] != CEILING and (
        isinstance(p[1], tuple) or
        is_external(p[1], getattr(args, "engines", None)))}
    rnd = 0
    while True:
        rnd += 1
        # Cells in order; inside a cell the configs rotate round by round,
        # or in an A/B of builds go in mirrored random blocks.
        order = []
        for cell in cells:
            items = [p for p in plan if p[0] == cell]
            order += (balanced_order(items, rnd, rounds.seed)
                      if rounds.balanced else round_order(items, rnd))
        pg.total = len(plan) * max(rnd, rounds.fixed)
        for cell, cfg in order:
            pg.seq += 1
            if (cell, cfg) not in pg.dead:
                run_one(st, tio, pg, rounds, cell, cfg, rnd)
            if builds and builds <= pg.dead:
                # Nothing is left to measure: the anchors and the
                # ceiling alone would only take time.
                loud("every run of an engine build failed: stopping")
                st.notes.append("every run of an engine build failed; "
                                "nothing else was run")
                PROGRESS.clear()
                return 0
        if round_done(st, rounds, pg, cells, rnd):
            break
    undrop_if_starved(st, rounds, cells)
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
    """fio processes running now (none of ours is, between runs).

    An idle `fio --server` waiting for a client is not load (a job it
    runs shows up in the CPU check), so servers are not counted.
    """
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/comm" % d) as f:
                    if f.read().strip() != "fio":
                        continue
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv = f.read().split(b"\0")
                if not any(a.startswith(b"--server") for a in argv):
                    pids.append(int(d))
            except OSError:
                pass
    return pids


def _slug(cell, cfg):
    return re.sub(r"[^A-Za-z0-9.=_-]+", "_", "%s-%s" % (cell, cfg))


def run_fio(st, cell, cfg, rnd, seq, label):
    cmd = fio_cmd(st.args, st.target, cell, cfg)
    s, out, err = _fio_child(st, cell, cfg, rnd, seq, label, cmd)
    if s.get("error"):
        return s
    try:
        data, stats, other = parse_fio_output(out, err)
        s.update(metrics_from_json(data, parse_cell_key(cell)["rw"]))
    except (ValueError, KeyError, TypeError) as e:
        s["error"] = "unusable fio output: %s" % e
        return s
    if stats:
        s["engine_stats"] = stats
    _note_messages(st, cell, cfg, s, other)
    s["ok"] = True
    return s


def run_corun(st, cell, cfgs, rnd, seq, label):
    """The A/B's builds together (a co-run): one fio, a job per build,
    every job pinned to one CPU.  Returns a sample per build.

    Run one after another on a shared VM, a build and its own copy
    differ by 14-23% from round to round: the host takes the vCPU away
    for spells of a second or two, and no counter inside the guest sees
    it.  Sharing one CPU, the builds lose those spells alike, and the
    scheduler gives each the same share of what is left; so the ratio of
    their IOPS is the inverse ratio of what a request costs each in CPU,
    and it keeps only the builds' own difference (docs/perf/ab.md).
    Each build's IOPS are therefore about 1/N of a solo run's (N builds,
    less the switching); the ratios are what is judged.  The jobs' order
    turns round by round.
    """
    k = (rnd - 1) % len(cfgs)
    order = list(cfgs[k:] + cfgs[:k])
    cpu = corun_cpu(st.args)
    cmd = corun_cmd(st.args, st.target, cell, order, cpu)
    s0, out, err = _fio_child(st, cell, "+".join(order), rnd, seq, label,
                              cmd)
    s0["corun"] = {"configs": order, "cpu": cpu}
    if s0.get("error"):
        return [dict(s0, config=c) for c in order]
    rw = parse_cell_key(cell)["rw"]
    try:
        data, _, other = parse_fio_output(out, err)
        jobs = {j.get("jobname"): j for j in data.get("jobs") or []}
        got = [dict(s0, config=c, ok=True, **metrics_from_json(
            {"jobs": [jobs["corun%d" % i]]}, rw))
            for i, c in enumerate(order)]
    except (ValueError, KeyError, TypeError) as e:
        s0["error"] = "unusable fio output: %s" % e
        return [dict(s0, config=c) for c in order]
    stats = job_stats(out, err)
    for i, s in enumerate(got):
        if stats.get("corun%d" % i):
            s["engine_stats"] = stats["corun%d" % i]
    _note_messages(st, cell, "+".join(order), got[0], other)
    return got


def corun_cpu(args):
    """The CPU a co-run's jobs share: the last of --cpus-allowed (an A/B
    pins there by default), else the last this process may use."""
    given = getattr(args, "cpus_allowed", None)
    if given:
        last = given.replace("-", ",").split(",")[-1]
        return int(last)
    return max(os.sched_getaffinity(0))


def job_stats(out, err=""):
    """{job name: the engine's counters} from fio's stderr (@err: the
    lines the engine writes at cleanup) and, from older builds, stdout
    (@out) before the JSON document."""
    got = {}
    for ln in _engine_lines(out, err):
        m = _STATS_RE.match(ln)
        if m:
            d = got.setdefault(m.group(1), {})
            for key, v in _KV_RE.findall(m.group(2)):
                d[key] = d.get(key, 0) + int(v)
    return got


def _fio_child(st, cell, cfg, rnd, seq, label, cmd):
    """Run one fio command line, keep its output under raw/; returns
    (the sample so far, stdout, stderr).  The sample has "error" when fio
    failed."""
    args = st.args
    timeout = args.runtime + args.ramp_time + 120
    rc, out, err, el, cont = run_child(cmd, timeout, label)
    raw = os.path.join("raw", "%04d-%s-r%d.txt" % (seq, _slug(cell, cfg),
                                                   rnd))
    with open(os.path.join(st.out, raw), "w") as f:
        f.write(out or "")
        if err:
            f.write("\n--- stderr ---\n" + err)
    s = {"cell": cell, "config": cfg, "round": rnd, "seq": seq,
         "host": "local", "ok": False, "elapsed_s": round(el, 2),
         "cmd": cmd, "raw": raw}
    s.update(cont)
    if err and err.strip():
        s["stderr"] = err.strip()[-2000:]
    if rc != 0:
        s["error"] = "fio exited %d" % rc
    return s, out, err


def _note_messages(st, cell, cfg, s, other):
    """fio's other lines go with the sample; the engine's own, once each,
    into the run's notes."""
    if not other:
        return
    s["fio_messages"] = other
    for ln in other:
        if ln.startswith("libaioring:") and ln not in st.seen_msgs:
            st.seen_msgs.add(ln)
            notice("%s %s: %s" % (cell, cfg, ln))
            st.notes.append("%s %s: %s" % (cell, cfg, ln))


def remote_job_args(cmd):
    """fio_cmd() minus the binary and the options that are not job options
    (a job file in client mode cannot carry them)."""
    return [a for a in cmd[1:] if not a.startswith("--output-format")
            and a != "--readonly"]


def run_fio_remote(st, cell, cfg, rnd, seq, label):
    """One configuration on every --client host at once (remote.run).

    Returns (aggregate sample with host "all", [one sample per host]).
    The aggregate is what verdicts use by default; per-host samples keep
    every host's own figures.
    """
    from . import remote
    args = st.args
    cmd = fio_cmd(args, st.target, cell, cfg)
    jargs = remote_job_args(cmd)
    timeout = args.runtime + args.ramp_time + 120
    base = {"cell": cell, "config": cfg, "round": rnd, "seq": seq,
            "ok": False, "cmd": cmd, "clients": args.clients,
            "foreign_cpu": None, "steal_cpu": None}
    box, t0 = {}, time.monotonic()

    def work():
        try:
            box["res"] = remote.run(args.fio, args.hosts, jargs, timeout)
        except Exception as e:      # reported below, with the host
            box["err"] = e
    th = threading.Thread(target=work, daemon=True)
    th.start()
    try:
        while th.is_alive():
            th.join(0.5)
            PROGRESS.update("%s  (running %.0fs on %d host(s))" % (
                label, time.monotonic() - t0, len(args.hosts)))
    except KeyboardInterrupt:
        raise Interrupted()
    el = round(time.monotonic() - t0, 2)
    rw = parse_cell_key(cell)["rw"]
    raw = os.path.join("raw", "%04d-%s-r%d.json" % (seq, _slug(cell, cfg),
                                                    rnd))
    with open(os.path.join(st.out, raw), "w") as f:
        json.dump(box.get("res") or {"error": str(box.get("err"))}, f,
                  indent=1, default=str)
    if "err" in box:
        return dict(base, host="all", elapsed_s=el, raw=raw,
                    error="remote: %s" % box["err"]), []
    res = box["res"]
    out, agg = [], None
    for host, job in res.items():
        s = dict(base, host=host, elapsed_s=el, raw=raw)
        try:
            s.update(metrics_from_json({"jobs": [job]}, rw))
            s["ok"] = True
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            s["error"] = "host %s: unusable fio output: %s" % (host, e)
        if host == "all":
            agg = s
        else:
            out.append(s)
    if agg is None:
        agg = dict(base, host="all", elapsed_s=el, raw=raw,
                   error="remote.run returned no aggregate")
    bad = [s for s in out if not s["ok"]]
    if bad and agg["ok"]:
        agg["ok"] = False
        agg["error"] = bad[0]["error"]
    return agg, out


def run_ceiling(st, tio, cell, rnd, seq, label):
    args = st.args
    cmd = tio_cmd(args, tio, st.target, cell)
    secs = int(cmd[-2][2:])
    rc, out, err, el, cont = run_child(cmd, secs + 60, label)
    s = {"cell": cell, "config": CEILING, "round": rnd, "seq": seq,
         "host": "local", "ok": False, "elapsed_s": round(el, 2), "cmd": cmd}
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
        st.notes.append(msg)
    return s

