# SPDX-License-Identifier: BSD-3-Clause
"""A run's environment: the machine, fio and engine builds it ran on
(results.json's "environment"), and whether fio's io_uring engine can
run here at all."""

import datetime
import os
import platform
import subprocess
import sys

from . import machine
from .util import REPO, cmd_out, sha256_of


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
