# SPDX-License-Identifier: BSD-3-Clause
"""Where the CPU goes per I/O: perf profiles of libaioring and built-in
libaio on one cell, as shares of CPU per I/O.

    python3 perf/compare.py profile --rw randread --bs 4k --qd 1,32,128
    python3 perf/compare.py profile --qd 32 --configs aioring,libaio \\
        --target /dev/nvme0n1 --out build/profile-nvme

For every cell and every engine configuration, fio runs the job of a
timed run (plan.fio_cmd: the same options, the same batch options from
QD 128 on, on the same target; the run's own options choose them) under
`perf record` (Debian's linux-perf), one configuration after the
other.  Every sample is put in one class:

  kernel aio path   fs/aio.c: io_submit/io_getevents, iocb and ring code
  file system       the file's read/write path: page cache, tmpfs/ext4,
                    iomap and direct I/O, the copy to or from user memory
  block layer       bio, blk-mq, drivers
  syscall entry     entry/exit of system calls and their bookkeeping
  kernel other      scheduler, interrupts, timers, everything else
  fio               fio's own code (not its engines)
  engine            libaioring.so; for built-in libaio: fio's
                    engines/libaio.c functions and libaio.so
  libc              libc, libpthread, the vDSO
  other             anything unresolved

and each class is shown as a share of the samples and as microseconds of
CPU per I/O (fio's usr+sys CPU time over its I/O count, times the share).
Writes profile.json and profile.md under --out (default
build/profile-<rw>-<bs>), naming the machine they ran on.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from . import cli, machine
from .fioout import metrics_from_json, parse_fio_output
from .plan import build_cells, fio_cmd, parse_cell_key, parse_configs
from .session import engine_paths
from .targets import cleanup_target, new_target, prepare_target
from .util import REPO, SetupError

# The run's options when the command line does not give them.
DEFAULTS = ["--rw", "randread", "--bs", "4k", "--qd", "1,32,128",
            "--configs", "aioring,aioring:coalesce=off,libaio",
            "--runtime", "3", "--ramp-time", "1", "--no-ceiling"]

CLASSES = ["kernel aio path", "file system", "block layer", "syscall entry",
           "kernel other", "fio", "engine", "libc", "other"]

K_AIO = re.compile(r"aio|io_submit|io_getevents|kiocb|ioctx|read_events|"
                   r"refill_reqs|put_reqs_available|get_reqs_available|"
                   r"iocb|io_destroy|io_setup|ioctx|aio_ring")
K_FS = re.compile(r"shmem|filemap|generic_file|iomap|ext4|xfs|btrfs|folio|"
                  r"page_cache|copy_user|_copy_to|_copy_from|copy_page|"
                  r"copy_mc|rep_mov|memcpy|memset|clear_page|find_get|xas_|"
                  r"xa_load|iov_iter|dio|direct_IO|atime|file_accessed|"
                  r"rw_verify|security_file|fsnotify|mnt_|fdget|fget|fput|"
                  r"vfs_|file_start_write|file_end_write|file_update_time|"
                  r"file_modified|inode|mark_page|page_|pagecache|lru_|"
                  r"workingset|mapping|truncate|sb_start|sb_end|rw_copy")
K_BLOCK = re.compile(r"blk_|bio|virtio|vring|nvme|scsi|loop_|submit_bio|"
                     r"dm_|elv|bdev|mq_|sbitmap|queue_")
K_SYSCALL = re.compile(r"entry_SYSCALL|syscall|do_syscall|__x64_sys|"
                       r"__arm64_sys|exit_to_user|fpregs|fpu|rseq|"
                       r"srso|retbleed|untrain_ret|clear_bhb|"
                       r"x86_return_thunk|__x86_indirect|irqentry")


def classify(dso, sym):
    """perf's dso and symbol -> one of CLASSES."""
    if dso.startswith("[kernel") or dso in ("[k]",) or dso.endswith(".ko"):
        if K_AIO.search(sym):
            return "kernel aio path"
        if K_SYSCALL.search(sym):
            return "syscall entry"
        if K_FS.search(sym):
            return "file system"
        if K_BLOCK.search(sym):
            return "block layer"
        return "kernel other"
    base = os.path.basename(dso)
    if base.startswith("libaioring"):
        return "engine"
    if base.startswith("libaio.so"):
        return "engine"
    if base == "fio" or base.startswith("fio"):
        if sym.startswith(("fio_libaio", "fio_ioring", "user_io_getevents")):
            return "engine"
        return "fio"
    if base.startswith(("libc.so", "libc-", "libpthread", "ld-linux",
                        "libm.so")) or base == "[vdso]":
        return "libc"
    return "other"


def parse_fio(text, rw, err=""):
    data, stats, _ = parse_fio_output(text, err)
    m = metrics_from_json(data, rw)
    return {"iops": m["iops"], "total_ios": m["total_ios"],
            "cpu_s": m["cpu_s"], "cpu_us_per_io": m["cpu_us_per_io"],
            "usr_share": m["usr_s"] / max(m["cpu_s"], 1e-9),
            "p50_ns": m["lat_p50_ns"], "engine_stats": stats}


def perf_breakdown(perf, data_path):
    out = subprocess.run(
        [perf, "report", "-i", data_path, "--stdio", "--no-children",
         "--sort", "dso,sym", "-F", "overhead,dso,sym", "--percent-limit",
         "0", "-q"], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError("perf report failed: %s"
                           % out.stderr.strip()[-300:])
    shares = dict.fromkeys(CLASSES, 0.0)
    top = []
    row = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)$")
    for ln in out.stdout.splitlines():
        m = row.match(ln)
        if not m:
            continue
        pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), \
            m.group(4).strip()
        if kind == "k" and not dso.startswith("["):
            dso = "[kernel.kallsyms]"
        c = classify(dso, sym)
        shares[c] += pct
        top.append({"share": pct, "dso": dso, "sym": sym, "class": c})
    total = sum(shares.values()) or 1.0
    top.sort(key=lambda t: -t["share"])
    return {k: v / total for k, v in shares.items()}, top[:25]


def main(argv):
    """compare.py profile."""
    p = argparse.ArgumentParser(
        prog="compare.py profile", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Other options are the run's (compare.py --help): "
               "--configs, --engine, --rw, --bs, --qd, --jobs, --target, "
               "--size, --runtime, --ramp-time, --fio; here their "
               "defaults are %s.\n\n" % " ".join(DEFAULTS) +
               __doc__.split("\n\n", 1)[1])
    p.add_argument("--freq", type=int, default=4999,
                   help="perf sampling frequency (Hz)")
    p.add_argument("--perf", default="perf")
    p.add_argument("--out", help="where profile.{md,json} go (default "
                   "build/profile-<rw>-<bs>)")
    own, rest = p.parse_known_args(argv)
    args = cli.parse_args(DEFAULTS + rest)
    if args.clients:
        p.error("--client: a profile is taken on this machine only")
    try:
        configs = parse_configs(args.configs, args.engines)
        engine_paths(args, configs)     # a missing build: before any run
        results = profile_all(args, own, build_cells(args), configs)
    except (SetupError, RuntimeError) as e:
        print("compare.py profile: error: %s" % e, file=sys.stderr)
        return 2
    c = parse_cell_key(results[0]["cell"])
    out_dir = own.out or os.path.join(REPO, "build", "profile-%s-%s"
                                      % (c["rw"], c["bs"]))
    os.makedirs(out_dir, exist_ok=True)
    env = environment(args, own, argv)
    with open(os.path.join(out_dir, "profile.json"), "w") as f:
        json.dump({"env": env, "results": results}, f, indent=1)
    with open(os.path.join(out_dir, "profile.md"), "w") as f:
        f.write(profile_md(env, results))
    print("wrote %s/profile.md and profile.json" % out_dir)
    return 0


def profile_all(args, own, cells, configs):
    """Every cell and configuration under perf record, one after the
    other, on a target made for them; the result rows."""
    t = new_target()
    scratch = tempfile.mkdtemp(prefix="aior-profile-")
    try:
        prepare_target(args, cells, t)
        return [profile_one(args, own, t, scratch, cell, config)
                for cell in cells for config in configs]
    finally:
        cleanup_target(t)
        shutil.rmtree(scratch, ignore_errors=True)


def profile_one(args, own, target, scratch, cell, config):
    """One fio run under perf record: its figures, the share of each
    class, and the heaviest symbols."""
    data = os.path.join(scratch, "perf.data")
    cmd = [own.perf, "record", "-q", "-F", str(own.freq), "-o", data,
           "--"] + fio_cmd(args, target, cell, config)
    if config.split(":")[0] in args.engines:
        cmd.append("--engine_stats=1")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise SetupError("%s not found: apt-get install linux-perf"
                         % own.perf)
    if p.returncode:
        raise RuntimeError("%s failed (exit %d): %s" % (
            " ".join(cmd), p.returncode, p.stderr.strip()[-400:]))
    m = parse_fio(p.stdout, parse_cell_key(cell)["rw"], p.stderr)
    shares, top = perf_breakdown(own.perf, data)
    os.unlink(data)
    r = {"cell": cell, "config": config, "fio": m, "shares": shares,
         "us_per_io": {k: v * m["cpu_us_per_io"]
                       for k, v in shares.items()},
         "top": top}
    print("%-22s %-24s %8.1fk IOPS  %.2f us CPU/IO  aio %.0f%% "
          "fs %.0f%% fio %.0f%% engine %.0f%%" % (
              cell, config, m["iops"] / 1e3, m["cpu_us_per_io"],
              100 * shares["kernel aio path"],
              100 * shares["file system"], 100 * shares["fio"],
              100 * shares["engine"]), flush=True)
    return r


def environment(args, own, argv):
    runner = machine.runner_class()
    return {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "runner": runner, "machine": machine.label(runner),
            "fio": subprocess.run([args.fio, "--version"],
                                  capture_output=True,
                                  text=True).stdout.strip(),
            "perf_freq_hz": own.freq, "runtime_s": args.runtime,
            "target": args.target or "a written file in /dev/shm",
            "command": "python3 perf/compare.py profile " + " ".join(argv),
            "git": subprocess.run(["git", "-C", REPO, "rev-parse", "--short",
                                   "HEAD"], capture_output=True,
                                  text=True).stdout.strip()}


def profile_md(env, results):
    """profile.md: the command, the machine, a row per run, the heaviest
    symbols, the engine's counters."""
    c = parse_cell_key(results[0]["cell"])
    out = ["# CPU per I/O by where it goes: %s %s\n\n" % (c["rw"], c["bs"])]
    out.append("`%s` at %s, engine at %s, on %s, %s; target: %s.  One fio "
               "run of %.0f s per row under `perf record -F %d`; IOPS and "
               "CPU are fio's own figures for that run (perf costs a few "
               "percent).\n\n" % (
                   env["command"], env["date_utc"], env["git"],
                   env["machine"], env["fio"], env["target"],
                   env["runtime_s"], env["perf_freq_hz"]))
    out.append("Each class: share of samples / microseconds of CPU per "
               "I/O.\n\n")
    out.append("| cell | config | IOPS | CPU µs/IO | " +
               " | ".join(CLASSES) + " |\n")
    out.append("|---|---|--:|--:|" + "--:|" * len(CLASSES) + "\n")
    for r in results:
        out.append("| %s | %s | %.1fk | %.2f | " % (
            r["cell"], r["config"], r["fio"]["iops"] / 1e3,
            r["fio"]["cpu_us_per_io"]) + " | ".join(
                "%.0f%% / %.2f" % (100 * r["shares"][k], r["us_per_io"][k])
                for k in CLASSES) + " |\n")
    out.append("\nHeaviest symbols per row (share of samples):\n\n")
    for r in results:
        out.append("- %s %s: " % (r["cell"], r["config"]) + "; ".join(
            "%s %.1f%% (%s)" % (t["sym"], t["share"], t["class"])
            for t in r["top"][:10]) + "\n")
    stats = [r for r in results if r["fio"]["engine_stats"]]
    if stats:
        out.append("\nEngine counters (requests per io_submit(), holds):\n\n")
        for r in stats:
            s = r["fio"]["engine_stats"]
            out.append("- %s %s: %.1f requests per io_submit(), holds=%d, "
                       "inline_submits=%d\n" % (
                           r["cell"], r["config"],
                           s.get("submitted", 0) / max(s.get("submit_calls",
                                                             0), 1),
                           s.get("holds", 0), s.get("inline_submits", 0)))
    return "".join(out)

