# SPDX-License-Identifier: BSD-3-Clause
"""fio's t/io_uring -a1, the raw aio ceiling: its source tree, its build
in a scratch copy, the cells it applies to, its command line and its
output."""

import hashlib
import math
import os
import re
import shutil
import subprocess

from .plan import BATCH, READ_RW, parse_cell_key
from .util import notice, parse_size


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
