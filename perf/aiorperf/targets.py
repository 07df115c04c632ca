# SPDX-License-Identifier: BSD-3-Clause
"""The target files: the RAM-backed file (sized to what /dev/shm holds),
a kept disk file, a given file or block device, and the N files of a
files cell; made, checked for O_DIRECT, and removed after the run."""

import os
import shutil
import stat
import tempfile

from .plan import parse_cell_key
from .util import PROGRESS, SetupError, human_size, notice


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
