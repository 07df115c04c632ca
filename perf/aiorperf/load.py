# SPDX-License-Identifier: BSD-3-Clause
"""The machine's load: a child (fio or t/io_uring) run with the CPU the
rest of the machine used meanwhile, other fio processes, and waiting for
a quiet machine before a run."""

import os
import resource
import subprocess
import time

from .util import PROGRESS, Interrupted, stop_group


# A run during which the rest of the machine used more CPU than this
# (in cores, averaged over the run) is flagged as contended.
FOREIGN_CPU_LIMIT = 0.25


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
