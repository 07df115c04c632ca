#!/usr/bin/env python3
"""Where the CPU goes per I/O: perf profiles of libaioring and built-in
libaio on one cell, as shares of CPU per I/O.

    python3 scripts/profile-cell.py --rw randread --bs 4k --qd 1,32,128
    python3 scripts/profile-cell.py --qd 32 --configs aioring,libaio \\
        --target /dev/nvme0n1 --out docs/perf/profile-nvme

For every cell and every engine configuration, fio runs the job of
perf/compare.py (aiorperf.plan.fio_cmd: the same options, the same batch
options from QD 128 on, read back by aiorperf.run) under `perf record`
(Debian's linux-perf), one configuration after the other.  Every sample is put in one class:

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
docs/perf/profile-<rw>-<bs>).  Standard library only.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "perf"))
sys.dont_write_bytecode = True     # keep the tree free of __pycache__
from aiorperf.plan import (BUILTIN_CONFIGS, cell_key,  # noqa: E402
                           fio_cmd as plan_fio_cmd)
from aiorperf.run import (metrics_from_json, parse_fio_output,  # noqa: E402
                          write_file)
from aiorperf.util import REPO  # noqa: E402

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


def fio_cmd(args, cell, config):
    """compare.py's fio command for the cell, with the engine's counters."""
    plan_args = types.SimpleNamespace(
        fio=args.fio, runtime=args.runtime, ramp_time=args.ramp_time,
        cpus_allowed=None, engines={"aioring": args.engine},
        engine=args.engine, aior_opt=[])
    target = {"path": args.target_path, "size": args.target_size,
              "pass_size": True, "readonly": False, "files": {}}
    cmd = plan_fio_cmd(plan_args, target, cell_key(*cell, 1), config)
    if config.split(":")[0] == "aioring":
        cmd.append("--engine_stats=1")
    return cmd


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
        raise SystemExit("profile-cell: perf report failed: %s"
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


def make_target(args, scratch):
    if args.target:
        args.target_path = args.target
        args.target_size = os.path.getsize(args.target) or \
            int(args.size)
        return
    path = os.path.join(scratch, "profile.dat")
    args.target_path = path
    args.target_size = int(args.size)
    # A written file, not a sparse one: holes read faster than data.
    write_file(path, args.target_size)


def main():
    args, qds, configs = parse_args()
    out_dir = args.out or os.path.join(REPO, "docs", "perf", "profile-%s-%s"
                                       % (args.rw, args.bs))
    os.makedirs(out_dir, exist_ok=True)
    results = profile_all(args, qds, configs)
    env = environment(args)
    with open(os.path.join(out_dir, "profile.json"), "w") as f:
        json.dump({"env": env, "results": results}, f, indent=1)
    with open(os.path.join(out_dir, "profile.md"), "w") as f:
        f.write(profile_md(args, env, results))
    print("wrote %s/profile.md and profile.json" % out_dir)


def parse_args(argv=None):
    """(args, [queue depths], [configs]), checked; exits on a usage
    error or without perf."""
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--rw", default="randread")
    ap.add_argument("--bs", default="4k")
    ap.add_argument("--qd", default="1,32,128")
    ap.add_argument("--configs",
                    default="aioring,aioring:coalesce=off,libaio")
    ap.add_argument("--engine", default=os.path.join(REPO, "build",
                                                     "libaioring.so"))
    ap.add_argument("--runtime", type=float, default=3.0)
    ap.add_argument("--ramp-time", type=float, default=1.0)
    ap.add_argument("--freq", type=int, default=4999,
                    help="perf sampling frequency (Hz)")
    ap.add_argument("--target", help="existing file or device (read cells "
                    "only); default: a new written 1G file in /dev/shm")
    ap.add_argument("--size", default=str(1 << 30))
    ap.add_argument("--fio", default=shutil.which("fio") or "fio")
    ap.add_argument("--perf", default=shutil.which("perf") or "perf")
    ap.add_argument("--out")
    args = ap.parse_args(argv)

    try:
        qds = [int(q) for q in args.qd.split(",")]
    except ValueError:
        ap.error("--qd %s: want integers like 1,32,128" % args.qd)
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        if c.split(":")[0] not in ("aioring",) + tuple(BUILTIN_CONFIGS):
            ap.error("--configs: unknown engine configuration '%s'" % c)
    if any(c.startswith("aioring") for c in configs) and \
            not os.path.isfile(args.engine):
        ap.error("--engine %s does not exist (build first)" % args.engine)
    if not shutil.which(args.perf):
        sys.exit("profile-cell: perf not found: apt-get install linux-perf")
    return args, qds, configs


def profile_all(args, qds, configs):
    """Every queue depth and configuration under perf record, one after
    the other, on a target made for them; the result rows."""
    scratch = tempfile.mkdtemp(prefix="aior-profile-",
                               dir="/dev/shm" if not args.target else None)
    results = []
    try:
        make_target(args, scratch)
        for qd in qds:
            for config in configs:
                results.append(profile_one(args, scratch, (args.rw, args.bs,
                                                           qd), config))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def profile_one(args, scratch, cell, config):
    """One fio run under perf record: its figures, the share of each
    class, and the heaviest symbols."""
    data = os.path.join(scratch, "perf.data")
    cmd = [args.perf, "record", "-q", "-F", str(args.freq),
           "-o", data, "--"] + fio_cmd(args, cell, config)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("profile-cell: %s failed (exit %d): %s" % (
            " ".join(cmd), p.returncode, p.stderr.strip()[-400:]))
    m = parse_fio(p.stdout, args.rw, p.stderr)
    shares, top = perf_breakdown(args.perf, data)
    r = {"cell": "%s/%s/qd%d" % cell, "config": config,
         "fio": m, "shares": shares,
         "us_per_io": {k: v * m["cpu_us_per_io"]
                       for k, v in shares.items()},
         "top": top}
    print("%-18s %-24s %8.1fk IOPS  %.2f us CPU/IO  aio %.0f%% "
          "fs %.0f%% fio %.0f%% engine %.0f%%" % (
              r["cell"], config, m["iops"] / 1e3,
              m["cpu_us_per_io"],
              100 * shares["kernel aio path"],
              100 * shares["file system"], 100 * shares["fio"],
              100 * shares["engine"]), flush=True)
    os.unlink(data)
    return r


def environment(args):
    return {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "kernel": platform.release(), "cpus": os.cpu_count(),
            "fio": subprocess.run([args.fio, "--version"],
                                  capture_output=True,
                                  text=True).stdout.strip(),
            "perf_freq_hz": args.freq, "runtime_s": args.runtime,
            "target": args.target or "written file in /dev/shm",
            "git": subprocess.run(["git", "-C", REPO, "rev-parse", "--short",
                                   "HEAD"], capture_output=True,
                                  text=True).stdout.strip()}


def profile_md(args, env, results):
    """profile.md: the command and setting, a row per run, the heaviest
    symbols, the engine's counters."""
    out = ["# CPU per I/O by where it goes: %s %s\n\n" % (args.rw, args.bs)]
    out.append("`python3 scripts/profile-cell.py --rw %s --bs %s --qd %s "
               "--configs %s` at %s (kernel %s, %s, %d CPUs, engine at "
               "%s); target: %s. One fio run of %.0f s per row under "
               "`perf record -F %d`; IOPS and CPU are fio's own figures "
               "for that run (perf costs a few percent).\n\n" % (
                   args.rw, args.bs, args.qd, args.configs, env["date_utc"],
                   env["kernel"], env["fio"], env["cpus"], env["git"],
                   env["target"], args.runtime, args.freq))
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


if __name__ == "__main__":
    main()
