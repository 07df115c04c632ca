#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""User-space instructions per I/O, counted by callgrind: a figure that
does not move with the machine's speed, for the engine beside fio's own.

    python3 scripts/insn-per-io.py --qd 1
    python3 scripts/insn-per-io.py --qd 1,32 --configs aioring,libaio-ur \\
        --engine base=/tmp/base/libaioring.so --engine build/libaioring.so

Every configuration runs the same fio job as perf/compare.py does (randread
4k by default, direct=1, on a written 1 GiB file in /dev/shm) twice under
`valgrind --tool=callgrind`, for --ios and for 2 x --ios requests.  The
difference between the two runs, divided by --ios, is what one more request
costs: start-up and the end-of-job report cancel out.  It is split by
where the instructions run: fio, libaioring.so, libaio.so, libc (with the
dynamic loader), other.  Built-in libaio's engine is compiled into fio,
so compare the totals: the same fio and libc run on every side.

The kernel is not counted (callgrind sees user space only), nor are cache
misses or stalls: a request that costs fewer instructions is not always
faster.  What it does show without noise is what a change to the engine's
code adds or removes per request.  Standard library only; needs valgrind.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "perf"))
sys.dont_write_bytecode = True     # keep the tree free of __pycache__
from aiorperf.counts import PARTS, parts_of, self_cost_by_object  # noqa: E402
from aiorperf.plan import BUILTIN_CONFIGS, parse_engine_specs  # noqa: E402
from aiorperf.util import SetupError  # noqa: E402

def count(args, cmd, ios, scratch):
    """Instructions of one fio run of @ios requests, by part."""
    out = os.path.join(scratch, "callgrind.out")
    p = subprocess.run([args.valgrind, "--tool=callgrind",
                        "--callgrind-out-file=%s" % out] + cmd +
                       ["--number_ios=%d" % ios], capture_output=True,
                       text=True)
    if p.returncode:
        sys.exit("insn-per-io: %s failed (exit %d): %s" % (
            " ".join(cmd), p.returncode, p.stderr.strip()[-400:]))
    parts = parts_of(self_cost_by_object(out))
    os.unlink(out)
    return parts


def main():
    args, engines, configs, qds = parse_args()
    rows = count_all(args, engines, configs, qds)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ios": args.ios, "rows": rows}, f, indent=1)


def parse_args(argv=None):
    """(args, {engine name: path}, [configs], [queue depths]), checked;
    exits on a usage error or without valgrind."""
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--rw", default="randread")
    ap.add_argument("--bs", default="4k")
    ap.add_argument("--qd", default="1")
    ap.add_argument("--configs", default="aioring,libaio,libaio-ur")
    ap.add_argument("--engine", action="append", metavar="[NAME=]PATH",
                    help="a libaioring.so build; NAME=PATH adds a config NAME "
                    "(repeatable; default: build/libaioring.so as aioring)")
    ap.add_argument("--ios", type=int, default=20000)
    ap.add_argument("--json", metavar="FILE",
                    help="also write the figures to FILE as JSON")
    ap.add_argument("--fio", default=shutil.which("fio") or "fio")
    ap.add_argument("--valgrind",
                    default=shutil.which("valgrind") or "valgrind")
    args = ap.parse_args(argv)

    try:
        engines = parse_engine_specs(
            args.engine, os.path.join(REPO, "build", "libaioring.so"))
    except SetupError as e:
        ap.error(str(e))
    for name, path in engines.items():
        if not os.path.isfile(path):
            ap.error("--engine %s: no such file (build first)" % path)
    configs = [c for c in args.configs.split(",") if c]
    configs += [n for n in engines if n not in configs and n != "aioring"]
    for c in configs:
        if c.split(":")[0] not in tuple(engines) + tuple(BUILTIN_CONFIGS):
            ap.error("--configs: unknown configuration '%s'" % c)
    try:
        qds = [int(q) for q in args.qd.split(",")]
    except ValueError:
        ap.error("--qd %s: want integers like 1,32" % args.qd)
    if args.ios < 1000:
        ap.error("--ios %d: want at least 1000 requests" % args.ios)
    if not shutil.which(args.valgrind):
        sys.exit("insn-per-io: %s not found: apt-get install valgrind"
                 % args.valgrind)
    return args, engines, configs, qds


def count_all(args, engines, configs, qds):
    """Every queue depth and configuration counted on a file written for
    them; prints a row each and returns the rows."""
    scratch = tempfile.mkdtemp(prefix="aior-insn-", dir="/dev/shm")
    rows = []
    try:
        target = os.path.join(scratch, "insn.dat")
        subprocess.run([args.fio, "--name=fill", "--filename=%s" % target,
                        "--rw=write", "--bs=1m", "--size=1g",
                        "--ioengine=psync", "--output=/dev/null"], check=True)
        print("user-space instructions per request (callgrind; %d and %d "
              "requests, the difference over %d)"
              % (args.ios, 2 * args.ios, args.ios))
        print("%-26s %-26s %8s  %s" % ("cell", "config", "total",
                                       "  ".join("%13s" % p for p in PARTS)))
        for qd in qds:
            cell = "%s/%s/qd%d" % (args.rw, args.bs, qd)
            for config in configs:
                cmd = job_cmd(args, engines, target, qd, config)
                one = count(args, cmd, args.ios, scratch)
                two = count(args, cmd, 2 * args.ios, scratch)
                per = {p: (two[p] - one[p]) / args.ios for p in PARTS}
                rows.append({"cell": cell, "config": config,
                             "total": sum(per.values()), "parts": per})
                print("%-26s %-26s %8.0f  %s" % (
                    cell, config, sum(per.values()),
                    "  ".join("%13.0f" % per[p] for p in PARTS)), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows


def job_cmd(args, engines, target, qd, config):
    """The fio command of one configuration at one queue depth (without
    --number_ios: count() adds it)."""
    name, *opts = config.split(":")
    cmd = [args.fio, "--name=aior-insn", "--rw=%s" % args.rw,
           "--bs=%s" % args.bs, "--iodepth=%d" % qd, "--direct=1",
           "--norandommap=1", "--randrepeat=0", "--thread",
           "--filename=%s" % target, "--output=/dev/null"]
    if qd >= 128:
        cmd += ["--iodepth_batch_submit=32",
                "--iodepth_batch_complete_max=32"]
    if name in BUILTIN_CONFIGS:
        cmd += BUILTIN_CONFIGS[name]
    else:
        cmd.append("--ioengine=external:%s" % engines[name])
    cmd += ["--%s" % kv for kv in opts]
    return cmd


if __name__ == "__main__":
    main()
