# SPDX-License-Identifier: BSD-3-Clause
"""Exact per-request costs: instructions, system calls, context switches.

Timed figures on a shared runner move 10-20% from round to round; these
do not.  For one (cell, config), each count is the difference between two
fio runs of N and 2N requests per job, divided by the N x numjobs requests
the second one added, so start-up and the end-of-job report cancel out:

  insn_engine, insn_fio, insn_libc, insn_total
      user-space instructions of the job threads, under
      `valgrind --tool=callgrind --separate-threads=yes`, split by the
      object that ran them (libaioring.so, fio, libc with the loader);
      insn_total also holds libaio.so, the vDSO and the rest;
  sys_submit, sys_getevents, sys_other, sys_total
      system calls of the job threads by kind, counted by `strace -ff`
      (outside the engine: its own counters cannot miss a call it makes);
  ctx
      context switches of the job threads (fio's own `ctx`, voluntary and
      involuntary), from a plain run: the only count that the machine's
      load can move.

What would make a count move between identical builds, and what is done:
  * helper threads (fio's main loop, its stat and disk-util threads) wake
    on timers, so their work grows with wall time: only job threads count
    (callgrind files that reached fio's td_io_queue(); strace files that
    made an aio system call);
  * start-up, ramp and the final report: ramp_time=0 and the N/2N
    difference;
  * random offsets: randrepeat=1 (the same offsets every run);
  * holds and waits that depend on timing (the engine's adaptive hold,
    io_getevents when the ring is empty): nothing pins them, so every
    count is taken REPS times per build and the spread between the
    repeats of one build (the A/A spread, in the same run) is the noise
    fence its verdict is judged against (gate.count_verdict).
On the project's 2-vCPU runner, repeats gave the engine's instructions
identical to the unit, fio's within 0.01%, system calls within 1 call in
10000 requests.

`compare.py insn` (insn.py) counts with this code too, so the table of
instructions per request and the A/B never count two ways; the verdicts
are in gate.py.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import tempfile

from .plan import parse_cell_key
from .util import SetupError, parse_size

PARTS = ["fio", "libaioring.so", "libaio.so", "libc", "other"]
INSN_KEYS = {"fio": "insn_fio", "libaioring.so": "insn_engine",
             "libc": "insn_libc"}
# Count key -> (label, default relative threshold, absolute floor per
# request).  A change passes as NO CHANGE while it is within
# max(threshold x base, floor); the floor keeps near-zero counts (no
# io_getevents at all) from turning one call in a million into +100%.
# The engine's own instructions: 0.5% of ~300-600 is 2-3 instructions,
# so a +1% change (a single extra branch and load per request) is caught.
COUNT_METRICS = {
    "insn_engine": ("engine instructions", 0.005, 1.0),
    "insn_total": ("instructions in all", 0.01, 5.0),
    "insn_fio": ("fio instructions", 0.01, 5.0),
    "insn_libc": ("libc instructions", 0.02, 5.0),
    "sys_submit": ("io_submit calls", 0.01, 0.002),
    "sys_getevents": ("io_getevents calls", 0.01, 0.002),
    "sys_other": ("other system calls", 0.02, 0.002),
    "sys_total": ("system calls", 0.01, 0.002),
    "ctx": ("context switches", 0.05, 0.005),
}
COUNT_ORDER = list(COUNT_METRICS)
DEFAULT_IOS = 10000
DEFAULT_REPS = 2
# A fio run of 2N requests reads at most this share of the target.
_TARGET_SHARE = 0.8
# Job options a count run replaces (it runs a number of requests, not
# a time, and reads no percentiles).
_DROP = ("--time_based", "--runtime", "--ramp_time", "--randrepeat",
         "--output-format", "--lat_percentiles", "--percentile_list",
         "--output=")


# ---- parsing (pure) ----

def part_of(obj, engine=None):
    """The part an object's instructions count for; @engine is the path
    of the build under test, whatever its file is called."""
    base = os.path.basename(obj)
    if base.startswith("libaioring") or (
            engine and os.path.realpath(obj) == os.path.realpath(engine)):
        return "libaioring.so"
    if base.startswith("libaio.so"):
        return "libaio.so"
    if base == "fio" or base.startswith("fio-"):
        return "fio"
    if base.startswith(("libc.so", "ld-linux", "libm.so")):
        return "libc"
    return "other"


def self_cost_by_object(path):
    """Instructions spent in each object's own code, from a callgrind.out
    file: cost lines count for the current ob=, except the one after a
    calls= line, which is the callee's inclusive cost."""
    names, costs = {}, {}
    ob, after_call = "", False
    with open(path) as f:
        for line in f:
            if line.startswith(("ob=", "cob=")):
                # "ob=(3) /path" names object 3, later "ob=(3)" means it.
                m = re.match(r"c?ob=(?:\((\d+)\))?\s*(.*)",
                             line.rstrip("\n"))
                if m.group(1) and m.group(2):
                    names[m.group(1)] = m.group(2)
                if line.startswith("ob="):
                    ob = names.get(m.group(1), "") if m.group(1) \
                        else m.group(2)
            elif line.startswith("calls="):
                after_call = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                if after_call:
                    after_call = False
                    continue
                fields = line.split()
                if len(fields) > 1:
                    costs[ob] = costs.get(ob, 0) + int(fields[1])
    return costs


def parts_of(costs, engine=None):
    """{object: cost} -> {part: cost} over PARTS."""
    parts = dict.fromkeys(PARTS, 0)
    for ob, cost in costs.items():
        parts[part_of(ob, engine)] += cost
    return parts


def engine_of(cmd):
    """The path of --ioengine=external:PATH in a fio command, or None."""
    for a in cmd:
        if a.startswith("--ioengine=external:"):
            return a.split(":", 1)[1]
    return None


def is_job_thread_dump(path):
    """True for a callgrind dump of a thread that ran fio's I/O loop."""
    with open(path) as f:
        return any("td_io_queue" in line for line in f)


_SYSCALL_RE = re.compile(r"^(?:\d+\s+)?([a-z_0-9]+)\(")
_AIO_CALLS = ("io_setup", "io_submit", "io_getevents", "io_uring_setup",
              "io_uring_enter", "io_pgetevents")


def syscalls_of_trace(lines):
    """strace lines of one thread -> {"io_submit": n, "io_getevents": n,
    "other": n}, or None when the thread made no aio call (not a job
    thread).  Signals and exit lines are not calls."""
    n = {"io_submit": 0, "io_getevents": 0, "other": 0}
    aio = False
    for ln in lines:
        m = _SYSCALL_RE.match(ln)
        if not m:
            continue
        name = m.group(1)
        aio = aio or name in _AIO_CALLS
        if name == "io_submit":
            n["io_submit"] += 1
        elif name in ("io_getevents", "io_pgetevents"):
            n["io_getevents"] += 1
        else:
            n["other"] += 1
    return n if aio else None


def per_request(one, two, added):
    """(counts of the 2N run - counts of the N run) / requests added."""
    return {k: (two[k] - one[k]) / float(added) for k in two}


def keys_of_insn(parts):
    d = {INSN_KEYS[p]: v for p, v in parts.items() if p in INSN_KEYS}
    d["insn_total"] = sum(parts.values())
    return d


def keys_of_syscalls(n):
    return {"sys_submit": n["io_submit"], "sys_getevents": n["io_getevents"],
            "sys_other": n["other"],
            "sys_total": n["io_submit"] + n["io_getevents"] + n["other"]}


# ---- fio command of a count run ----

def count_ios(cell, target, ios=DEFAULT_IOS):
    """Requests per job for the N run: 2N of them fit the target."""
    c = parse_cell_key(cell)
    size = target.get("size") or (1 << 30)
    fit = int(size * _TARGET_SHARE / parse_size(c["bs"]) / 2)
    return max(100, min(ios, fit))


def count_cmd(timed_cmd, ios, output):
    """The timed fio command turned into a count run of @ios per job."""
    cmd = [a for a in timed_cmd if not a.startswith(_DROP)]
    return cmd + ["--randrepeat=1", "--thread", "--number_ios=%d" % ios,
                  "--output-format=json", "--output=%s" % output]


# ---- runners (touch the machine) ----

class Counter:
    """Runs count measurements; tools are checked once."""

    KINDS = ("insn", "syscalls", "ctx")

    def __init__(self, valgrind=None, strace=None, ios=DEFAULT_IOS,
                 reps=DEFAULT_REPS, kinds=KINDS):
        """kinds: the counts taken, of KINDS (a gate's count floors need
        only "syscalls", so no valgrind)."""
        self.valgrind = valgrind or shutil.which("valgrind")
        self.strace = strace or shutil.which("strace")
        self.ios, self.reps, self.kinds = ios, reps, tuple(kinds)
        need = [("valgrind", self.valgrind)] if "insn" in kinds else []
        need += [("strace", self.strace)] if "syscalls" in kinds else []
        missing = [n for n, p in need if not p]
        if missing:
            raise SetupError("exact counts need %s (apt-get install %s), "
                             "or pass --no-counts" % (
                                 " and ".join(missing), " ".join(missing)))

    def _run(self, cmd, what):
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (
                what, p.returncode, (p.stderr or p.stdout).strip()[-400:]))
        return p

    def insn(self, cmd, scratch):
        prefix = os.path.join(scratch, "cg")
        self._run([self.valgrind, "--tool=callgrind", "--separate-threads=yes",
                   "--compress-strings=no", "--dump-line=no",
                   "--callgrind-out-file=%s" % prefix] + cmd, "callgrind")
        total = dict.fromkeys(PARTS, 0)
        found = 0
        for f in glob.glob(prefix + "*"):
            if is_job_thread_dump(f):
                found += 1
                for k, v in parts_of(self_cost_by_object(f),
                                     engine_of(cmd)).items():
                    total[k] += v
            os.unlink(f)
        if not found:
            raise RuntimeError("callgrind: no job thread found "
                               "(no td_io_queue in any thread's dump)")
        return keys_of_insn(total)

    def syscalls(self, cmd, scratch):
        d = tempfile.mkdtemp(prefix="st-", dir=scratch)
        self._run([self.strace, "-ff", "-qq", "-o", os.path.join(d, "t")] +
                  cmd, "strace")
        total = {"io_submit": 0, "io_getevents": 0, "other": 0}
        found = 0
        for f in os.listdir(d):
            with open(os.path.join(d, f), errors="replace") as fh:
                n = syscalls_of_trace(fh)
            if n is not None:
                found += 1
                for k in total:
                    total[k] += n[k]
        shutil.rmtree(d, ignore_errors=True)
        if not found:
            raise RuntimeError("strace: no thread made an aio system call")
        return keys_of_syscalls(total)

    def ctx(self, cmd, scratch):
        out = cmd[-1].split("=", 1)[1]
        self._run(cmd, "fio")
        with open(out) as f:
            data = json.load(f)
        return {"ctx": sum(int(j.get("ctx", 0)) for j in data["jobs"])}

    def measure(self, timed_cmd, cell, target, scratch):
        """One repeat of every count for one (cell, config)."""
        n = count_ios(cell, target, self.ios)
        jobs = parse_cell_key(cell)["jobs"]
        out = os.path.join(scratch, "count.json")
        res = {}
        # ctx: plain runs are fast; 10 x N requests reach the context
        # switches that a few milliseconds of running would never see.
        for kind, fn, scale in (("insn", self.insn, 1),
                                ("syscalls", self.syscalls, 1),
                                ("ctx", self.ctx, 10)):
            if kind not in self.kinds:
                continue
            k = count_ios(cell, target, n * scale)
            one = fn(count_cmd(timed_cmd, k, out), scratch)
            two = fn(count_cmd(timed_cmd, 2 * k, out), scratch)
            res.update(per_request(one, two, k * jobs))
        return res


def run_counts(st, base, heads, counter, cells=None):
    """Count every judged build in every cell that ran (or in @cells);
    REPS repeats, the builds' order alternating from repeat to repeat.
    Returns rows for gate.evaluate_counts (and a gate's count floors); a
    count that cannot be taken is added to st.failures (the run then
    exits 2, like a failed fio run)."""
    from .plan import fio_cmd
    from .util import PROGRESS
    args, rows = st.args, []
    # The cells the timed rounds ran (all of them when there were none).
    if cells is None:
        cells = [c for c in st.cells if not st.samples or any(
            s["cell"] == c and s["config"] == base and s.get("ok")
            for s in st.samples)]
    builds = [base] + list(heads)
    scratch = tempfile.mkdtemp(prefix="aior-counts-")
    try:
        for cell in cells:
            for rep in range(1, counter.reps + 1):
                for cfg in builds if rep % 2 else builds[::-1]:
                    PROGRESS.update("counts: %s %s repeat %d/%d (%s)" % (
                        cell, cfg, rep, counter.reps,
                        ", ".join(counter.kinds)))
                    cmd = fio_cmd(args, st.target, cell, cfg)
                    try:
                        r = counter.measure(cmd, cell, st.target, scratch)
                    except (RuntimeError, OSError, ValueError,
                            subprocess.SubprocessError) as e:
                        st.failures.append({
                            "cell": cell, "config": cfg,
                            "round": "count %d" % rep,
                            "error": "count: %s" % e, "cmd": cmd})
                        continue
                    rows.append(dict(r, cell=cell, config=cfg, rep=rep))
                    PROGRESS.done_line(
                        "counts: %s %-10s repeat %d: %s engine insn, %s "
                        "syscalls, %s ctx per request" % (
                            cell, cfg, rep, _f(r.get("insn_engine")),
                            _f(r.get("sys_total")), _f(r.get("ctx"))))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows


def _f(v):
    return "-" if v is None else ("%.0f" % v if abs(v) >= 100 else
                                  "%.4f" % v)
