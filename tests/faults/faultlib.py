"""Helpers for the fault tests (tests/faults/faults.py): run the real fio
with the engine, read what it says, set up and tear down what a test
needs (temporary directories, tmpfs mounts, the faultfs FUSE file system,
a lowered fs.aio-max-nr), and end the test with PASS, FAIL or SKIP (77).

Configuration comes from the environment (CTest sets it):
  AIOR_FIO            the fio under test, the one the engine is built for
                      (CTest passes the build's AIOR_FIO, as to the
                      integration tests; default: fio on PATH)
  AIOR_ENGINE         libaioring.so
  AIOR_INJECT_ENGINE  libaioring_inject.so (the fault-injecting build)
  AIOR_FAULTFS        the faultfs binary ("" when fuse3 was missing)
  AIOR_JOBS           the jobs/ directory
  AIOR_TEST_TMPDIR    where scratch files go (default /dev/shm)
  AIOR_KEEP_TMP=1     keep scratch directories for a post-mortem
  AIOR_TEST_COALESCE  off|adaptive|always: every fio run gets the engine
                      option coalesce= (see coalesce_args())
"""

import atexit
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP_CODE = 77

FIO = os.environ.get("AIOR_FIO") or shutil.which("fio") or "fio"
ENGINE = os.environ.get("AIOR_ENGINE", "")
INJECT_ENGINE = os.environ.get("AIOR_INJECT_ENGINE", "")
FAULTFS = os.environ.get("AIOR_FAULTFS", "")
JOBS = os.environ.get("AIOR_JOBS") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "jobs")
TMPDIR = os.environ.get("AIOR_TEST_TMPDIR") or "/dev/shm"



def fio_version():
    """(major, minor) of the fio under test; (0, 0) if it cannot say."""
    try:
        out = subprocess.run([FIO, "--version"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return (0, 0)
    m = re.match(r"fio-(\d+)\.(\d+)", out.strip())
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def fio_startup():
    """Seconds this fio takes to run a one-request job of its null engine:
    its own start and exit, to leave out of a bound on the engine."""
    t0 = time.monotonic()
    subprocess.run([FIO, "--name=startup", "--ioengine=null", "--size=4k",
                    "--bs=4k", "--output-format=terse"], capture_output=True,
                   timeout=120)
    return time.monotonic() - t0


# What the fios of the matrix do differently, whatever the engine (the
# same under built-in libaio).  3.19 does neither; 3.25, the next fio of
# the matrix, and every later one do both.
FIO_VERSION = fio_version()
# At the first error fio reaps the requests still in flight and logs each
# one that fails.  3.19's cleanup_pending_aio() (backend.c) returns when
# td->error is set: one io_u error is logged, the rest are never reaped
# by fio (the engine still drains them before its contexts go).
FIO_REAPS_AFTER_ERROR = FIO_VERSION >= (3, 25)
# A short completion counts in the job's short_ios.  3.19's io_u.c
# requeues the rest but never counts it: short_ios stays 0.
FIO_COUNTS_SHORT_IOS = FIO_VERSION >= (3, 25)

COALESCE = os.environ.get("AIOR_TEST_COALESCE", "")
if COALESCE and COALESCE not in ("off", "adaptive", "always"):
    sys.exit("AIOR_TEST_COALESCE=%s: must be off, adaptive or always"
             % COALESCE)
_coalesce_dir = None


def coalesce_args(args):
    """@args with the suite's coalescing mode (AIOR_TEST_COALESCE) given
    to the engine: --coalesce=MODE after every --ioengine=external:...,
    and job files (*.fio) replaced by copies with coalesce=MODE after
    their ioengine=external: line."""
    global _coalesce_dir
    if not COALESCE:
        return args
    out = []
    for a in args:
        if a.endswith(".fio") and not a.startswith("-") and \
                os.path.isfile(a):
            if _coalesce_dir is None:
                _coalesce_dir = tempfile.mkdtemp(prefix="aior-coalesce-")
                atexit.register(shutil.rmtree, _coalesce_dir, True)
            copy = os.path.join(_coalesce_dir, os.path.basename(a))
            with open(a) as src, open(copy, "w") as dst:
                for line in src:
                    dst.write(line)
                    if re.match(r"\s*ioengine\s*=\s*external:", line):
                        dst.write("coalesce=%s\n" % COALESCE)
            a = copy
        out.append(a)
        if a.startswith("--ioengine=external:"):
            out.append("--coalesce=%s" % COALESCE)
    return out


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def check(cond, msg, *context):
    """Fail the test with @msg (and what @context says) unless @cond."""
    if not cond:
        for c in context:
            if callable(c):
                c = c()     # e.g. lambda: fio.wait(1), only on failure
            if isinstance(c, FioRun):
                c.dump()
            elif c:
                log(str(c))
        raise Fail(msg)


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root (mount, sysctl)")


def need_file(path, what):
    if not path or not os.path.exists(path):
        raise Skip("%s not available (%s)" % (what, path or "not built"))


def _die_with_parent():
    # A test killed by CTest must not leave fio or faultfs behind.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _die_with_parent_term():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _own_group_die_with_parent():
    # Its own process group, so that the test can signal the group as a
    # terminal's ^C does.
    os.setpgid(0, 0)
    _die_with_parent()


# ---- scratch space ----

class Scratch:
    """A private directory, removed at the end unless AIOR_KEEP_TMP=1."""

    def __init__(self, name, base=None):
        self.path = tempfile.mkdtemp(prefix="aior-faults-%s-" % name,
                                     dir=base or TMPDIR)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if os.environ.get("AIOR_KEEP_TMP") == "1":
            log("kept %s" % self.path)
            return False
        shutil.rmtree(self.path, ignore_errors=True)
        return False

    def __truediv__(self, name):
        return os.path.join(self.path, name)


def umount(path):
    if not os.path.ismount(path):
        return
    if subprocess.call(["umount", path], stderr=subprocess.DEVNULL):
        subprocess.call(["umount", "-l", path])


class Tmpfs:
    """A tmpfs of @size mounted on a fresh directory under @scratch."""

    def __init__(self, scratch, size):
        need_root()
        self.path = scratch / "tmpfs"
        os.mkdir(self.path)
        if subprocess.call(["mount", "-t", "tmpfs", "-o", "size=%s" % size,
                            "tmpfs", self.path]):
            raise Skip("cannot mount a tmpfs")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        umount(self.path)
        return False

    def clear(self):
        for n in os.listdir(self.path):
            os.unlink(os.path.join(self.path, n))


class FaultFS:
    """tests/faults/faultfs mounted on a fresh directory: one file, 'disk'.

    Keyword arguments become its options: size=, eio_read=[offsets],
    eio_write=, short_read=, stall=, eof=, delay_us=, blksize=.
    """

    def __init__(self, scratch, **opts):
        need_root()
        need_file(FAULTFS, "faultfs (apt-get install libfuse3-dev fuse3)")
        if not os.path.exists("/dev/fuse"):
            raise Skip("no /dev/fuse")
        self.mnt = scratch / "fuse"
        self.logpath = scratch / "faultfs.log"
        self.release_path = scratch / "faultfs.release"
        os.mkdir(self.mnt)
        args = [FAULTFS, "-f", "-o", "max_threads=64",
                "--log=%s" % self.logpath, "--release=%s" % self.release_path]
        for k, v in opts.items():
            if isinstance(v, (list, tuple)):
                v = ":".join(str(x) for x in v)
            args.append("--%s=%s" % (k.replace("_", "-"), v))
        args.append(self.mnt)
        self.errpath = scratch / "faultfs.err"
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=open(self.errpath, "w"),
                                     preexec_fn=_die_with_parent_term)
        deadline = time.time() + 10
        while not (os.path.ismount(self.mnt) and
                   os.path.exists(self.path)):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise Skip("faultfs did not mount: %s" %
                           open(self.errpath).read().strip())
            time.sleep(0.05)

    @property
    def path(self):
        return os.path.join(self.mnt, "disk")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def release(self):
        """End every stall (the daemon polls for the file every 10 ms)."""
        open(self.release_path, "w").close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)

    def log_lines(self, prefix=""):
        try:
            with open(self.logpath) as f:
                return [l.rstrip("\n") for l in f if l.startswith(prefix)]
        except FileNotFoundError:
            return []

    def clear_log(self):
        open(self.logpath, "w").close()

    def stop(self):
        self.release()
        umount(self.mnt)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- running fio ----

STAT_RE = re.compile(r"^libaioring: job '([^']*)': (contexts=.*)$")


class FioRun:
    """What one fio run did: exit status, output, engine counters, JSON."""

    def __init__(self, args, rc, out, err, elapsed, timed_out=False):
        self.args = args
        self.rc = rc
        self.out = out
        self.err = err
        self.elapsed = elapsed
        self.timed_out = timed_out
        self.stats = []
        # The engine writes its counters (and every message) to stderr.
        for line in err.splitlines():
            m = STAT_RE.match(line)
            if m:
                kv = dict(p.split("=", 1) for p in m.group(2).split())
                self.stats.append({k: int(v) for k, v in kv.items()})
        self.json = None
        m = re.search(r"^\{", out, re.M)
        if m:
            try:
                self.json, _ = json.JSONDecoder().raw_decode(out[m.start():])
            except ValueError:
                self.json = None

    def stat(self, key):
        """@key summed over every job's engine line."""
        return sum(s[key] for s in self.stats)

    def reaped(self):
        return self.stat("reaped_ring") + self.stat("reaped_syscall")

    def jobs(self):
        return self.json["jobs"] if self.json else []

    def ios(self, ddir="both", key="total_ios"):
        dirs = ("read", "write") if ddir == "both" else (ddir,)
        return sum(j[d][key] for j in self.jobs() for d in dirs)

    def error(self):
        """The first error fio recorded (0: none)."""
        errs = [j["error"] for j in self.jobs() if j["error"]]
        return errs[0] if errs else 0

    def total_err(self):
        return sum(j.get("total_err", 0) for j in self.jobs())

    def engine_msgs(self):
        """The engine's lines on stderr other than its counters."""
        return [l for l in self.err.splitlines()
                if l.startswith("libaioring") and not STAT_RE.match(l)]

    def io_errors(self, text=""):
        """fio's "io_u error" lines, those containing @text."""
        return [l for l in self.err.splitlines()
                if l.startswith("fio: io_u error") and text in l]

    def dump(self):
        log("---- fio %s" % " ".join(self.args))
        log("---- exit %s after %.1f s%s" % (
            self.rc, self.elapsed, " (TIMED OUT)" if self.timed_out else ""))
        for s in self.stats:
            log("---- engine: %s" % " ".join(
                "%s=%d" % kv for kv in s.items()))
        err = self.err.splitlines()
        if len(err) > 40:
            err = err[:20] + ["... (%d lines)" % (len(err) - 40)] + err[-20:]
        for l in err:
            log("stderr: %s" % l)
        for l in self.out.splitlines():
            if l.startswith("{"):
                break
            log("stdout: %s" % l)


def fio_env(extra=None):
    env = dict(os.environ)
    env.update(extra or {})
    return env


def run_fio(args, env=None, timeout=120, cwd=None, json_out=True):
    """Run fio to completion (killed after @timeout s: a hang fails)."""
    args = coalesce_args([str(a) for a in args])
    if json_out:
        args.append("--output-format=json")
    t0 = time.monotonic()
    p = subprocess.Popen([FIO] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=fio_env(env), cwd=cwd,
                         text=True, errors="replace",
                         preexec_fn=_die_with_parent)
    try:
        out, err = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        kill_fio_tree(p.pid)
        out, err = p.communicate()
        timed_out = True
    return FioRun(args, p.returncode, out, err, time.monotonic() - t0,
                  timed_out)


def children(pid):
    """Direct children of @pid (fio's job processes)."""
    kids = []
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids += [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return kids


def kill_fio_tree(pid, sig=signal.SIGKILL):
    """fio's job processes call setsid(): signal them one by one."""
    for k in children(pid):
        try:
            os.kill(k, sig)
        except ProcessLookupError:
            pass
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


class FioBg:
    """fio running in the background; its output lines are timestamped as
    they arrive, so tests can say when something was printed."""

    def __init__(self, args, env=None, cwd=None, json_out=True,
                 own_group=False):
        self.args = coalesce_args([str(a) for a in args])
        if json_out:
            self.args.append("--output-format=json")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [FIO] + self.args, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=fio_env(env), cwd=cwd, text=True,
            errors="replace", preexec_fn=_own_group_die_with_parent
            if own_group else _die_with_parent)
        self.pid = self.proc.pid
        self.lines = {"out": [], "err": []}
        self.lock = threading.Lock()
        self.readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, "out"),
                             daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, "err"),
                             daemon=True)]
        for r in self.readers:
            r.start()
        self.end = None

    def _read(self, stream, which):
        for line in stream:
            with self.lock:
                self.lines[which].append((time.monotonic(), line))

    def wait_line(self, pattern, timeout, which="err"):
        """Time (monotonic) of the first line matching @pattern, or None."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for t, l in self.lines[which]:
                    if rx.search(l):
                        return t
            if self.proc.poll() is not None:
                for r in self.readers:
                    r.join(1)
                with self.lock:
                    for t, l in self.lines[which]:
                        if rx.search(l):
                            return t
                return None
            time.sleep(0.02)
        return None

    def job_pids(self, n, timeout=10):
        """The @n job processes (fork mode), once they exist."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            kids = children(self.pid)
            if len(kids) >= n:
                return kids
            time.sleep(0.05)
        return children(self.pid)

    def wait_aio(self, timeout=30):
        """True once fio or one of its job processes maps an aio ring (the
        engine has set up its contexts, so fio's signal handlers are in
        place); False if fio ends or @timeout passes first.  fio 3.19 takes
        about 4 s to start here, so a fixed sleep races its start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            for pid in [self.pid] + children(self.pid):
                try:
                    with open("/proc/%d/maps" % pid) as f:
                        if "/[aio]" in f.read():
                            return True
                except (FileNotFoundError, ProcessLookupError):
                    pass
            time.sleep(0.05)
        return False

    def wait(self, timeout):
        """Wait for exit; returns the FioRun (timed_out if still running)."""
        timed_out = False
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_fio_tree(self.pid)
            self.proc.wait()
        self.end = time.monotonic()
        for r in self.readers:
            r.join(5)
        out = "".join(l for _, l in self.lines["out"])
        err = "".join(l for _, l in self.lines["err"])
        return FioRun(self.args, self.proc.returncode, out, err,
                      self.end - self.t0, timed_out)

    def kill(self):
        if self.proc.poll() is None:
            kill_fio_tree(self.pid)
            self.proc.wait()


def read_int(path):
    with open(path) as f:
        return int(f.read().split()[0])


def write_int(path, v):
    with open(path, "w") as f:
        f.write("%d\n" % v)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


# ---- fs.aio-max-nr ----

AIO_MAX = "/proc/sys/fs/aio-max-nr"
AIO_NR = "/proc/sys/fs/aio-nr"


class LoweredAioMax:
    """fs.aio-max-nr lowered for as short a time as possible.

    The limit is system wide: other tests running at the same time cannot
    create contexts while it is low.  It is restored on exit from the
    block, on SIGTERM/SIGINT, and by a detached guardian process after
    @guard seconds in case this one is killed outright (SIGKILL, a CTest
    timeout); the guardian restores only if the value is still ours.
    """

    def __init__(self, guard=20):
        need_root()
        self.orig = read_int(AIO_MAX)
        self.low = None
        self.guard = guard
        self.old_handlers = {}

    def __enter__(self):
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self.old_handlers[s] = signal.signal(s, self._on_signal)
        return self

    def _on_signal(self, sig, frame):
        self.restore()
        raise Fail("interrupted by signal %d (fs.aio-max-nr restored)" % sig)

    def lower(self, value):
        self.low = value
        # The guardian: sleeps, then puts the old value back if ours is
        # still there.  Started before lowering, so there is no window.
        subprocess.Popen(
            ["sh", "-c",
             'sleep %d; [ "$(cat %s)" = %d ] && echo %d > %s' % (
                 self.guard, AIO_MAX, value, self.orig, AIO_MAX)],
            start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        write_int(AIO_MAX, value)

    def restore(self):
        if self.low is not None:
            write_int(AIO_MAX, self.orig)
            self.low = None

    def __exit__(self, *exc):
        self.restore()
        for s, h in self.old_handlers.items():
            signal.signal(s, h)
        return False


# ---- the test runner ----

def main(cases):
    """faults.py CASE: run one case; exit 0 (pass), 1 (fail), 77 (skip)."""
    if len(sys.argv) != 2 or sys.argv[1] not in cases:
        log("usage: %s CASE\ncases: %s" % (sys.argv[0], " ".join(
            sorted(cases))))
        sys.exit(2)
    name = sys.argv[1]
    t0 = time.monotonic()
    try:
        cases[name]()
    except Skip as e:
        log("SKIP: %s: %s" % (name, e))
        sys.exit(SKIP_CODE)
    except Fail as e:
        log("FAIL: %s: %s (%.1f s)" % (name, e, time.monotonic() - t0))
        sys.exit(1)
    except Exception as e:      # a surprise, or a bug in the test: fail
        import traceback
        traceback.print_exc()
        log("FAIL: %s: %s: %s" % (name, type(e).__name__, e))
        sys.exit(1)
    log("PASS: %s (%.1f s)" % (name, time.monotonic() - t0))
    sys.exit(0)
