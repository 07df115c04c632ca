# SPDX-License-Identifier: BSD-3-Clause
"""The runner class: the kind of machine a figure came from.

The engine's ratio to fio's libaio is mostly the system calls it saves,
and what a saved call is worth depends on the machine: on two guest
builds of one CPU model and kernel series, one getppid() cost 950 ns and
215 ns, and the engine ran randread 4k QD32 at 4.1x and 1.55x libaio.
So every figure names its machine, and a timed comparison or floor holds
only on the class it was measured on:

    cpu_model       /proc/cpuinfo's model name
    vcpus           CPUs online
    kernel          the kernel release, build suffix and all (uname -r)
    virtualization  the hypervisor the kernel detected, and a container
    syscall_ns      one getppid(), measured (syscall_cost.c, best of 7
                    batches of 100000 in the thread's CPU time, median
                    of 3 runs, pinned)

Two classes are the same when the first four are equal and the system
call costs within SYSCALL_TOLERANCE of each other: a kernel of the same
name with other mitigations is another class (they move a call's cost by
2-5x), but the probe's own noise is not (on the 950 ns guest it read
943-1063 ns quiet, and up to 1513 ns while the other vCPU ran fio).
fio's version is no part of the class; comparisons that need the same
fio say so themselves.

This module touches the machine (it runs a compiler and the probe);
same_class, differences and label are pure.
"""

import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess

IDENTITY_KEYS = ("cpu_model", "vcpus", "kernel", "virtualization")
# Syscall costs further apart than this factor are two classes.
SYSCALL_TOLERANCE = 2.0
_PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "syscall_cost.c")
_RUNS = 3

_cached = None


# ---- reading the machine ----

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def cache_dir():
    return os.environ.get("AIOR_CACHE", os.path.expanduser(
        "~/.cache/libaioring"))


def boot_hypervisor():
    """The kernel's "Hypervisor detected: X" at boot, or None.  The
    kernel log is a ring that a long uptime overwrites, and the class of
    one machine must not change with its uptime: the line, once read, is
    kept per boot (the cache's hypervisor-<boot id>) and read back."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = None
    kept = os.path.join(cache_dir(), "hypervisor-" + boot) if boot else None
    try:
        with open(kept) as f:
            return f.read().strip() or None
    except (OSError, TypeError):
        pass
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"Hypervisor detected: (\S+)", out)
    if m and kept:
        try:
            os.makedirs(os.path.dirname(kept), exist_ok=True)
            with open(kept, "w") as f:
                f.write(m.group(1) + "\n")
        except OSError:
            pass
    return m.group(1) if m else None


def virtualization():
    """"PVM", "KVM, container docker", "none" ...: the hypervisor the
    kernel detected (its boot log, /sys/hypervisor), else "unknown
    hypervisor" when the CPU flags one; then a container, if any."""
    hv = boot_hypervisor()
    if not hv:
        try:
            with open("/sys/hypervisor/type") as f:
                hv = f.read().strip() or None
        except OSError:
            pass
    if not hv:
        try:
            with open("/proc/cpuinfo") as f:
                flagged = any(ln.startswith("flags") and " hypervisor"
                              in ln for ln in f)
        except OSError:
            flagged = False
        hv = "unknown hypervisor" if flagged else "none"
    ctr = None
    if shutil.which("systemd-detect-virt"):
        p = subprocess.run(["systemd-detect-virt", "--container"],
                           capture_output=True, text=True, timeout=10)
        if p.returncode == 0 and p.stdout.strip() not in ("", "none"):
            ctr = p.stdout.strip()
    return hv + (", container " + ctr if ctr else "")


def _probe_binary():
    """The probe compiled once per source into the cache; None with the
    reason when there is no C compiler."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        return None, "no C compiler (cc) to build the probe"
    with open(_PROBE, "rb") as f:
        tag = hashlib.sha256(f.read()).hexdigest()[:12]
    cache = os.path.join(cache_dir(), "syscall-cost")
    exe = os.path.join(cache, "syscall-cost-" + tag)
    if not os.path.exists(exe):
        os.makedirs(cache, exist_ok=True)
        tmp = "%s.%d" % (exe, os.getpid())
        p = subprocess.run([cc, "-O2", "-o", tmp, _PROBE],
                           capture_output=True, text=True)
        if p.returncode != 0:
            return None, "the probe did not build: %s" % (
                p.stderr.strip()[-200:])
        os.replace(tmp, exe)
    return exe, None


def syscall_cost():
    """{"syscall_ns": median, "syscall_ns_runs": [...]}, or
    {"syscall_ns": None, "syscall_ns_why": reason}."""
    exe, why = _probe_binary()
    if not exe:
        return {"syscall_ns": None, "syscall_ns_why": why}
    cpu = max(os.sched_getaffinity(0))
    runs = []
    for _ in range(_RUNS):
        p = subprocess.run([exe], capture_output=True, text=True,
                           timeout=60,
                           preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
        try:
            runs.append(float(p.stdout))
        except ValueError:
            return {"syscall_ns": None, "syscall_ns_why":
                    "the probe printed %r" % p.stdout[:80]}
    return {"syscall_ns": round(statistics.median(runs), 1),
            "syscall_ns_runs": runs}


def runner_class():
    """This machine's class (measured once per process)."""
    global _cached
    if _cached is None:
        rc = {"cpu_model": cpu_model(), "vcpus": os.cpu_count(),
              "kernel": platform.release(),
              "virtualization": virtualization()}
        rc.update(syscall_cost())
        _cached = rc
    return dict(_cached)


# ---- comparing classes (pure) ----

def differences(a, b, a_name="here", b_name="there"):
    """What makes classes @a and @b two classes: a list of phrases, empty
    when they are one.  A class recorded before classes were (None, or
    without a key) differs by "not recorded"."""
    if not a or not b:
        return ["the runner class was not recorded %s" % (
            a_name if not a else b_name)]
    out = []
    for k in IDENTITY_KEYS:
        if a.get(k) != b.get(k):
            out.append("%s %s %s, %s %s" % (k, _v(a.get(k)), a_name,
                                          _v(b.get(k)), b_name))
    x, y = a.get("syscall_ns"), b.get("syscall_ns")
    if x and y and max(x, y) / min(x, y) > SYSCALL_TOLERANCE:
        out.append("one system call %.0f ns %s, %.0f ns %s" % (
            x, a_name, y, b_name))
    return out


def same_class(a, b):
    return not differences(a, b)


def _v(v):
    return "?" if v is None else repr(v) if isinstance(v, str) else str(v)


def label(rc):
    """"AMD EPYC x2, 6.18.44-fc-v1272, PVM, syscall 950 ns"."""
    if not rc:
        return "runner class not recorded"
    cpu = re.sub(r"\s+", " ", re.sub(r"\(R\)|\(TM\)|\bCPU\b|Processor|"
                                      r"\d+-Core", "", rc.get("cpu_model")
                                      or "?")).strip()
    ns = rc.get("syscall_ns")
    return "%s x%s, %s, %s, syscall %s" % (
        cpu, rc.get("vcpus", "?"), rc.get("kernel") or "?",
        rc.get("virtualization") or "?",
        "%.0f ns" % ns if ns else "not measured")


def slug(rc):
    """A name for dashboards' machine (Bencher's testbed): lower case,
    digits and '-' only."""
    if not rc:
        return "unknown-runner"
    parts = [rc.get("cpu_model") or "cpu", "x%s" % rc.get("vcpus"),
             rc.get("kernel") or "kernel",
             (rc.get("virtualization") or "").split(",")[0]]
    s = re.sub(r"[^a-z0-9.]+", "-", " ".join(parts).lower())
    return re.sub(r"-+", "-", s).strip("-")


def against_reference(classes, runner, ratios):
    """This run beside a reference's runner classes (docs/perf/
    headline.json: [{"runner", "x_libaio": {cell: ratio}}]): for each,
    its label, how its class differs from @runner (empty: the same),
    and (cell, its ratio, this run's) for the cells both have."""
    out = []
    for c in classes:
        cells = [(cell, c["x_libaio"][cell], ratios[cell])
                 for cell in sorted(c["x_libaio"])
                 if ratios.get(cell) is not None]
        out.append({"label": label(c["runner"]), "cells": cells,
                    "differences": differences(runner, c["runner"],
                                               "here", "there")})
    return out
