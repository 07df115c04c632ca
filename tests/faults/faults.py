#!/usr/bin/python3
"""Fault tests of libaioring: every request accounted for when things go
wrong.  Each case runs the real fio with the engine (or with
libaioring_inject.so, the same engine with a fault-injecting syscall
table) and checks exit status, messages, fio's own counts and the engine's
counters.  CTest registers each case as fault_<case>.

    faults.py CASE        (environment: see faultlib.py)

The invariants checked again and again:
  - the engine reaps what the kernel accepted:
        submitted == reaped_ring + reaped_syscall
  - fio's requests are all accounted for: every request fio issued was
    either accepted by the kernel or failed with the errno injected:
        total_ios == submitted + submit_errors (+ requests failed by a stall)
  - an error reaches fio with the right errno, once per failed request.
"""

import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

from faultlib import (AIO_MAX, AIO_NR, ENGINE, FIO, FIO_COUNTS_SHORT_IOS,
                      FIO_REAPS_AFTER_ERROR, FIO_VERSION, INJECT_ENGINE,
                      JOBS, FaultFS, FioBg, LoweredAioMax, Scratch, Skip,
                      Tmpfs, check, fio_startup, kill_fio_tree, log, main,
                      need_file, need_root, read_int, rss_kib, run_fio)

KiB = 1024
MiB = 1024 * 1024


def engine_arg(path):
    return "--ioengine=external:%s" % path


# Injection runs use a disk-backed directory: on tmpfs every O_DIRECT
# request completes inside io_submit() and nothing is ever in flight.
INJECT_TMP = os.environ.get("AIOR_INJECT_TMPDIR", "/var/tmp")


def engine_module(path):
    """The engine's file name as valgrind and TSan name its frames' object
    (not a substring test on paths: the matrix's fio builds live under
    ~/.cache/libaioring/, and a clone may be called libaioring too)."""
    return os.path.basename(os.path.realpath(path))


def inject_run(scratch, spec, args, rw, size="8m", timeout=120, nfiles=1,
               extra_env=None):
    """fio with libaioring_inject.so and AIOR_INJECT=@spec, on file f (or
    @nfiles files f.N).  Returns (FioRun, injection log without the pid)."""
    need_file(INJECT_ENGINE, "libaioring_inject.so")
    logp = scratch / "inject.log"
    if os.path.exists(logp):
        os.unlink(logp)
    env = {"AIOR_INJECT": spec, "AIOR_INJECT_LOG": logp}
    env.update(extra_env or {})
    if nfiles == 1:
        files = ["--filename=%s" % (scratch / "f")]
    else:
        files = ["--directory=%s" % scratch.path, "--nrfiles=%d" % nfiles,
                 "--filename_format=f.$filenum"]
    r = run_fio([engine_arg(INJECT_ENGINE), "--name=inj"] + files +
                ["--size=%s" % size, "--bs=4k", "--iodepth=16", "--direct=1",
                 "--engine_stats=1", "--rw=%s" % rw] + args, env=env,
                timeout=timeout, cwd=scratch.path)
    try:
        with open(logp) as f:
            lines = [l.split(" ", 1)[1].rstrip("\n") for l in f]
    except FileNotFoundError:
        lines = []
    check(lines and lines[0] == "active AIOR_INJECT=%s" % spec,
          "the injector did not load with AIOR_INJECT=%s" % spec, r,
          "log: %r" % lines[:3])
    return r, lines[1:]


def injected(lines, prefix):
    return sum(1 for l in lines if l.startswith(prefix))


def logged_failures(n):
    """How many io_u errors fio logs when @n requests fail and the job
    stops at the first (no continue_on_error): each of them, or only the
    first on a fio that does not reap after an error."""
    return n if FIO_REAPS_AFTER_ERROR else min(n, 1)


def counted_short(n):
    """fio's short_ios after @n short completions."""
    return n if FIO_COUNTS_SHORT_IOS else 0


def check_no_loss(r):
    """Everything the kernel accepted was reaped."""
    check(r.stats, "no engine counters (engine_stats=1) in the output", r)
    check(r.stat("submitted") == r.reaped(),
          "submitted=%d but reaped %d: requests lost in the engine" % (
              r.stat("submitted"), r.reaped()), r)


def check_verified(r, what):
    check(not r.timed_out, "%s: fio hung (killed after %.0f s)" % (
        what, r.elapsed), r)
    check(r.rc == 0 and r.error() == 0,
          "%s: fio failed (exit %s, err=%s)" % (what, r.rc, r.error()), r)
    check("verify" not in r.err.lower() or "failed" not in r.err.lower(),
          "%s: verify errors" % what, r)
    check(r.ios("read") > 0 and r.ios("write") > 0,
          "%s: no verify reads after the writes" % what, r)


def check_clean_failure(r, what):
    """fio ended on its own, with an error, not a crash or a hang."""
    check(not r.timed_out, "%s: fio hung (killed after %.0f s)" % (
        what, r.elapsed), r)
    check(r.rc is not None and r.rc > 0,
          "%s: expected fio to fail, exit %s" % (what, r.rc), r)
    check(r.rc < 128, "%s: fio died of a signal (exit %s)" % (what, r.rc), r)
    for bad in ("Segmentation fault", "Aborted", "AddressSanitizer",
                "runtime error:"):
        check(bad not in r.err, "%s: '%s' in stderr" % (what, bad), r)


# ---- 1. injected kernel answers ----

def case_inject_eagain_forever():
    """io_submit() says EAGAIN forever with nothing in flight: the job
    must end within about stall_timeout, with "appears stalled", every
    request failed with EAGAIN and none lost; in both submit modes."""
    stall_ms = 2000
    # fio's own start and exit (about 4 s for fio 3.19 here), one
    # stall_timeout, and room for a slow CI.
    bound = fio_startup() + stall_ms / 1000.0 + 6.0
    with Scratch("eagain", INJECT_TMP) as s:
        for mode in ("batch", "single"):
            r, lines = inject_run(
                s, "submit=eagain_forever",
                ["--stall_timeout=%d" % stall_ms, "--submit_mode=%s" % mode],
                "randwrite", timeout=150)
            what = "submit_mode=%s" % mode
            check_clean_failure(r, what)
            check("appears stalled" in r.err,
                  "%s: no 'appears stalled' message" % what, r)
            check(injected(lines, "submit eagain") > 0,
                  "%s: no EAGAIN injected" % what, r)
            check(r.stat("submitted") == 0,
                  "%s: the kernel took requests?" % what, r)
            failed = r.io_errors("Resource temporarily unavailable")
            check(len(failed) == logged_failures(r.ios("write")) and failed,
                  "%s: %d requests issued, %d failed with EAGAIN" % (
                      what, r.ios("write"), len(failed)), r)
            check(r.error() == 11, "%s: err=%s, expected 11 (EAGAIN)" % (
                what, r.error()), r)
            log("%s: %d requests failed with EAGAIN in %.1f s "
                "(stall_timeout=%d ms, iodepth=16)" % (
                    what, len(failed), r.elapsed, stall_ms))
            check(r.elapsed < bound,
                  "%s: fio took %.1f s to give up; stall_timeout=%d ms "
                  "should bound the whole stall, not each of the %d "
                  "requests (expected < %.0f s)" % (
                      what, r.elapsed, stall_ms, len(failed), bound), r)


def case_inject_eagain_transient():
    """Every second io_submit() says EAGAIN: backpressure, never a loss."""
    with Scratch("eagain2", INJECT_TMP) as s:
        r, lines = inject_run(s, "submit=eagain_every:2",
                              ["--verify=crc32c", "--iodepth_batch_submit=8"],
                              "randwrite")
        check_verified(r, "eagain_every:2")
        n = injected(lines, "submit eagain")
        check(n > 0, "no EAGAIN injected", r)
        check(r.stat("eagain") >= n, "engine counted eagain=%d, injected %d"
              % (r.stat("eagain"), n), r)
        check_no_loss(r)
        check(r.stat("submitted") == r.ios(),
              "fio issued %d, the kernel accepted %d" % (
                  r.ios(), r.stat("submitted")), r)


def case_inject_partial():
    """io_submit() takes at most 2 iocbs a call: the rest are submitted
    later, in order, none lost, verify passes."""
    with Scratch("partial", INJECT_TMP) as s:
        for mode in ("ring", "syscall"):
            r, lines = inject_run(
                s, "submit=partial:2",
                ["--verify=crc32c", "--iodepth_batch_submit=16",
                 "--iodepth_batch_complete_min=16", "--reap_mode=%s" % mode],
                "randwrite")
            check_verified(r, "partial:2 reap_mode=%s" % mode)
            n = injected(lines, "submit partial")
            check(n > 0, "no partial submission injected", r)
            check_no_loss(r)
            check(r.stat("submitted") == r.ios(),
                  "fio issued %d, the kernel accepted %d" % (
                      r.ios(), r.stat("submitted")), r)
            check(r.stat("submit_calls") > r.stat("submitted") / 2 - 1,
                  "submit_calls=%d: partial acceptance not retried?" %
                  r.stat("submit_calls"), r)


def reject_case(spec, errno_, text, name):
    with Scratch(name, INJECT_TMP) as s:
        # Without continue_on_error the job stops at the first error.
        for mode in ("batch", "single"):
            what = "%s submit_mode=%s" % (spec, mode)
            r, lines = inject_run(s, spec, [
                "--iodepth_batch_submit=8", "--submit_mode=%s" % mode],
                "randwrite")
            check_clean_failure(r, what)
            n = injected(lines, "submit reject")
            check(n > 0, "%s: nothing rejected" % what, r)
            check(r.error() == errno_, "%s: err=%s, expected %d" % (
                what, r.error(), errno_), r)
            check(n == r.stat("submit_errors"),
                  "%s: %d rejected, engine submit_errors=%d" % (
                      what, n, r.stat("submit_errors")), r)
            if mode == "batch":
                # Failed through getevents(): fio logs each one.  (In
                # single mode queue() returns it completed with the error,
                # and fio stops at once, logging only the job's error.)
                failed = r.io_errors(text)
                want = logged_failures(n)
                check(len(failed) == want and len(r.io_errors()) == want,
                      "%s: %d rejected, %d reported by fio ('%s'), %d "
                      "io_u errors in all" % (what, n, len(failed), text,
                                              len(r.io_errors())), r)
            else:
                check(text in r.err + r.out,
                      "%s: '%s' not reported" % (what, text), r)
            check_no_loss(r)
            check(r.ios("write") == r.stat("submitted") + n,
                  "%s: fio issued %d, kernel took %d, %d rejected" % (
                      what, r.ios("write"), r.stat("submitted"), n), r)

            # With continue_on_error the job goes on; the counts add up.
            what += " continue_on_error"
            ename = {22: "EINVAL", 9: "EBADF"}[errno_]
            r, lines = inject_run(s, spec, [
                "--iodepth_batch_submit=8", "--submit_mode=%s" % mode,
                "--continue_on_error=all",
                "--ignore_error=%s,%s" % (ename, ename)], "randwrite")
            n = injected(lines, "submit reject")
            check(r.rc == 0 and not r.timed_out,
                  "%s: exit %s" % (what, r.rc), r)
            check(n > 0 and r.total_err() == n == r.stat("submit_errors"),
                  "%s: %d rejected, fio total_err=%d, submit_errors=%d" % (
                      what, n, r.total_err(), r.stat("submit_errors")), r)
            check_no_loss(r)
            check(r.ios("write") == r.stat("submitted") + n,
                  "%s: fio issued %d, kernel took %d, %d rejected" % (
                      what, r.ios("write"), r.stat("submitted"), n), r)
            check(r.ios("write", "io_bytes") == r.stat("submitted") * 4096,
                  "%s: %d bytes written for %d accepted 4k requests" % (
                      what, r.ios("write", "io_bytes"), r.stat("submitted")),
                  r)


def case_inject_einval():
    """Every 7th iocb is rejected with EINVAL (mid-batch: the kernel takes
    the ones before it): that request, and only it, fails with EINVAL."""
    reject_case("submit=einval_every:7", 22, "Invalid argument", "einval")


def case_inject_ebadf():
    """The first iocb is rejected with EBADF: one request fails with it."""
    reject_case("submit=ebadf_once", 9, "Bad file descriptor", "ebadf")


def result_case(spec, name, errno_, text, rw="randread"):
    """Completions rewritten to an error: each fails with @errno_."""
    with Scratch(name, INJECT_TMP) as s:
        base = ["--reap_mode=syscall"]
        # Lay the file out first, without faults, so reads have data.
        r = run_fio([engine_arg(ENGINE), "--name=layout",
                     "--filename=%s" % (s / "f"), "--size=8m", "--bs=1m",
                     "--rw=write", "--direct=1"], cwd=s.path)
        check(r.rc == 0, "layout failed", r)
        r, lines = inject_run(s, spec, base, rw)
        what = spec
        check_clean_failure(r, what)
        n = injected(lines, "event res=")
        check(n > 0, "%s: nothing injected" % what, r)
        check(r.error() == errno_, "%s: err=%s, expected %d" % (
            what, r.error(), errno_), r)
        failed = r.io_errors(text)
        want = logged_failures(n)
        check(len(failed) == want and len(r.io_errors()) == want,
              "%s: %d completions rewritten, fio reported %d ('%s'), %d "
              "io_u errors in all" % (what, n, len(failed), text,
                                      len(r.io_errors())), r)
        check_no_loss(r)

        what += " continue_on_error=all"
        r, lines = inject_run(s, spec, base + ["--continue_on_error=all"], rw)
        n = injected(lines, "event res=")
        check(r.rc == 0 and not r.timed_out, "%s: exit %s" % (what, r.rc), r)
        check(n > 0 and r.total_err() == n,
              "%s: %d rewritten, fio total_err=%d" % (what, n, r.total_err()),
              r)
        check(r.error() == errno_, "%s: first error %s, expected %d" % (
            what, r.error(), errno_), r)
        check_no_loss(r)
        check(r.ios() == r.stat("submitted"),
              "%s: fio issued %d, kernel took %d" % (
                  what, r.ios(), r.stat("submitted")), r)
        check(r.ios(key="io_bytes") == (r.ios() - n) * 4096,
              "%s: %d bytes done for %d requests of which %d failed" % (
                  what, r.ios(key="io_bytes"), r.ios(), n), r)


def case_inject_res_eio():
    """Every 5th completion says -EIO: that request fails with EIO."""
    result_case("events=res_neg:EIO@every:5", "reseio", 5,
                "Input/output error")


def case_inject_res_zero():
    """Every 9th completion says 0 bytes: EIO (fio's "full resid"),
    never a silent success."""
    result_case("events=res_zero@every:9", "reszero", 5, "Input/output error")


def case_inject_res_short():
    """Every 11th completion says 512 bytes only: fio counts a short I/O
    and requeues the rest; nothing fails, nothing is lost.  Writes: the
    data must read back intact afterwards (verify_only pass)."""
    with Scratch("short", INJECT_TMP) as s:
        r = run_fio([engine_arg(ENGINE), "--name=layout",
                     "--filename=%s" % (s / "f"), "--size=8m", "--bs=1m",
                     "--rw=write", "--direct=1"], cwd=s.path)
        check(r.rc == 0, "layout failed", r)
        r, lines = inject_run(s, "events=res_short:512@every:11",
                              ["--reap_mode=syscall"], "randread")
        n = injected(lines, "event res=")
        check(r.rc == 0 and r.error() == 0 and not r.timed_out,
              "short reads: exit %s err=%s" % (r.rc, r.error()), r)
        check(n > 0 and r.ios("read", "short_ios") == counted_short(n),
              "short reads: %d injected, fio counted %d short" % (
                  n, r.ios("read", "short_ios")), r)
        check_no_loss(r)
        check(r.ios() == r.stat("submitted"),
              "short reads: fio issued %d (with requeues), kernel took %d" % (
                  r.ios(), r.stat("submitted")), r)

        # Writes reported short were in fact written whole; fio requeues
        # the rest.  fio 3.33 refills the whole buffer of a requeued write
        # when verifying (backend.c do_io: populate_verify_io_u() on every
        # io_u get_io_u() returns), so a header-based verify (crc32c...)
        # of a short write fails with any engine; a constant pattern
        # survives the refill.  Checked in the run and again by a
        # fault-free verify_only pass.
        vargs = ["--verify=pattern", "--verify_pattern=0x5aa5c33c",
                 "--bs=4k", "--size=8m"]
        r, lines = inject_run(s, "events=res_short:1024@every:7",
                              ["--reap_mode=syscall"] + vargs, "write")
        n = injected(lines, "event res=")
        check(r.rc == 0 and r.error() == 0,
              "short writes: exit %s err=%s" % (r.rc, r.error()), r)
        check(r.ios("read") > 0, "short writes: nothing verified", r)
        check_no_loss(r)
        if not FIO_COUNTS_SHORT_IOS:
            # How far the job wrote depends on the short writes' count.
            log("fio-%d.%d counts no short I/O: the run's own verify pass "
                "is the check" % FIO_VERSION)
            return
        # The injector also shortens some of the verify reads.
        check(n > 0 and r.ios(key="short_ios") == n and
              r.ios("write", "short_ios") > 0,
              "short writes: %d injected, fio counted %d short (%d writes)"
              % (n, r.ios(key="short_ios"), r.ios("write", "short_ios")), r)
        # fio counts the requeued rest of each short write (3072 bytes)
        # towards size=, so the job stops that much earlier: only the
        # first (8m - short writes * 3072) bytes were written.
        done = (8 * MiB - r.ios("write", "short_ios") * 3072) // 4096 * 4096
        r = run_fio([engine_arg(ENGINE), "--name=inj",
                     "--filename=%s" % (s / "f"), "--iodepth=16",
                     "--direct=1", "--rw=write", "--verify_only=1"] +
                    vargs + ["--size=%d" % done], cwd=s.path)
        check(r.rc == 0 and r.error() == 0 and r.ios("read") == done // 4096,
              "data written through short completions does not verify", r)


def case_inject_getevents_eintr():
    """io_getevents() says EINTR every few calls: retried, nothing lost,
    verify passes (ring and syscall reaping)."""
    with Scratch("eintr", INJECT_TMP) as s:
        for mode, every in (("ring", 3), ("syscall", 7)):
            spec = "getevents=eintr_every:%d" % every
            r, lines = inject_run(s, spec, ["--verify=crc32c",
                                            "--reap_mode=%s" % mode],
                                  "randwrite")
            check_verified(r, "%s reap_mode=%s" % (spec, mode))
            n = injected(lines, "getevents eintr")
            if mode == "syscall":
                check(n > 0, "%s: no EINTR injected" % spec, r)
            else:
                # From the ring, io_getevents() is called only to wait,
                # as often as the disk makes it (2 calls in 4096 requests
                # were seen): each call, EINTR or not, is counted, so
                # exactly every Nth of them failed and was retried.
                calls = r.stat("getevents_calls")
                check(r.stat("ring_fallbacks") == 0 and
                      n == calls // every,
                      "%s: %d EINTR injected in %d io_getevents() calls" % (
                          spec, n, calls), r)
            check_no_loss(r)


def case_inject_ring_badmagic():
    """The magic of the live rings changes mid-run: the reaper must stop
    trusting them and fall back to io_getevents(); verify passes."""
    with Scratch("badmagic", INJECT_TMP) as s:
        r, lines = inject_run(s, "ring=badmagic_after:300",
                              ["--verify=crc32c"], "randwrite", nfiles=2)
        check_verified(r, "badmagic")
        check(injected(lines, "ring magic flipped") == 2 and
              injected(lines, "ring magic restored") == 2,
              "expected 2 rings flipped and restored: %r" % lines, r)
        check(r.stat("reaped_ring") > 0, "nothing reaped from the ring "
              "before the magic changed", r)
        check(r.stat("ring_fallbacks") > 0 and r.stat("reaped_syscall") > 0,
              "ring_fallbacks=%d reaped_syscall=%d after the magic changed" % (
                  r.stat("ring_fallbacks"), r.stat("reaped_syscall")), r)
        check_no_loss(r)


def case_inject_setup_limit():
    """io_setup() fails as fs.aio-max-nr would (per process, so nothing
    else on the host feels it): per-file contexts don't fit but one shared
    does -> shared, said once; nothing fits -> a clear error."""
    with Scratch("setuplimit", INJECT_TMP) as s:
        args = ["--verify=crc32c"]
        # iodepth=16: each context asks for 16 events; 40 fits two.
        r, lines = inject_run(s, "setup=max_nr:40", args, "randwrite",
                              nfiles=4)
        check_verified(r, "max_nr:40")
        check("using one shared context" in r.err,
              "no 'using one shared context' notice", r)
        check(r.stat("ctx_fallbacks") == 1 and r.stat("contexts") == 1,
              "ctx_fallbacks=%d contexts=%d, expected 1 and 1" % (
                  r.stat("ctx_fallbacks"), r.stat("contexts")), r)
        check_no_loss(r)

        r, lines = inject_run(s, "setup=max_nr:10", args, "randwrite",
                              nfiles=4)
        check_clean_failure(r, "max_nr:10")
        check(re.search(r"fs\.aio-max-nr.*sysctl -w fs\.aio-max-nr=\d+",
                        r.err),
              "the error does not name fs.aio-max-nr and how to raise it", r)
        check(r.ios() == 0, "I/O issued without a context?", r)


# ---- 2. real faults ----

def case_enospc():
    """A write job larger than its tmpfs: each failing request reports
    ENOSPC, fio exits non-zero, no hang; with ignore_error the job goes on
    and the counts add up.  Same outcome as built-in libaio."""
    need_root()
    with Scratch("enospc") as s, Tmpfs(s, "8m") as fs:
        res = {}
        for eng in ("libaioring", "libaio"):
            ioengine = engine_arg(ENGINE) if eng == "libaioring" else \
                "--ioengine=libaio"
            base = [ioengine, "--name=enospc",
                    "--filename=%s" % os.path.join(fs.path, "f"),
                    "--size=32m", "--bs=64k", "--iodepth=16", "--direct=1",
                    "--rw=write", "--fallocate=none"]
            if eng == "libaioring":
                base.append("--engine_stats=1")
            fs.clear()
            r = run_fio(base, timeout=60, cwd=s.path)
            what = "%s: no continue" % eng
            check_clean_failure(r, what)
            check(r.error() == 28, "%s: err=%s, expected 28" % (
                what, r.error()), r)
            errs = r.io_errors()
            check(errs and all("No space left on device" in l for l in errs),
                  "%s: failed requests must all say ENOSPC" % what, r)
            check(r.ios("write", "io_bytes") <= 8 * MiB,
                  "%s: wrote more than the file system holds" % what, r)
            if eng == "libaioring":
                check_no_loss(r)
            fs.clear()
            rc = run_fio(base + ["--continue_on_error=write",
                                 "--ignore_error=,ENOSPC"],
                         timeout=60, cwd=s.path)
            what = "%s: ignore_error=ENOSPC" % eng
            check(rc.rc == 0 and not rc.timed_out,
                  "%s: exit %s" % (what, rc.rc), rc)
            done = rc.ios("write", "io_bytes") // (64 * KiB)
            check(rc.ios("write") == 512 and
                  rc.total_err() == rc.ios("write") - done,
                  "%s: %d requests, %d done, %d errors: they must add up to "
                  "the 512 of the job" % (what, rc.ios("write"), done,
                                          rc.total_err()), rc)
            if eng == "libaioring":
                check_no_loss(rc)
            res[eng] = (r.ios("write", "io_bytes"), len(errs),
                        rc.ios("write", "io_bytes"), rc.total_err())
            log("%s: stops after %d bytes with %d ENOSPC; with "
                "ignore_error %d bytes, %d ENOSPC" % ((eng,) + res[eng]))
        check(res["libaioring"][2:] == res["libaio"][2:],
              "ignore_error runs differ from built-in libaio: %r" % res)


def faultfs_cmp(s, fs, args, engines=("libaioring", "libaio")):
    out = {}
    for eng in engines:
        ioengine = engine_arg(ENGINE) if eng == "libaioring" else \
            "--ioengine=%s" % eng
        fs.clear_log()
        a = [ioengine, "--name=ffs", "--filename=%s" % fs.path, "--bs=4k",
             "--iodepth=8", "--direct=1"] + args
        if eng == "libaioring":
            a.append("--engine_stats=1")
        r = run_fio(a, timeout=60, cwd=s.path)
        check(not r.timed_out, "%s: fio hung" % eng, r)
        if eng == "libaioring":
            check_no_loss(r)
        out[eng] = (r, fs.log_lines())
    return out


def case_faultfs_eio():
    """EIO from a (FUSE) file system reaches fio as err=5 for exactly the
    failing requests; with continue_on_error the rest completes; the same
    counts as built-in libaio."""
    eio_r = [1 * MiB, 2 * MiB, 3 * MiB]
    eio_w = [5 * MiB, 6 * MiB + 4096]
    with Scratch("ffs-eio") as s, FaultFS(s, size=16 * MiB, eio_read=eio_r,
                                          eio_write=eio_w) as fs:
        res = faultfs_cmp(s, fs, ["--rw=read", "--size=4m"])
        for eng, (r, fl) in res.items():
            check_clean_failure(r, "%s read" % eng)
            check(r.error() == 5, "%s read: err=%s" % (eng, r.error()), r)
            first = r.io_errors("Input/output error")
            check(first and "read offset=%d," % eio_r[0] in first[0],
                  "%s: the first EIO must be the request at %d" % (
                      eng, eio_r[0]), r)
        for rw, off, offs in (("read", 0, eio_r), ("write", 4 * MiB, eio_w)):
            res = faultfs_cmp(s, fs, ["--rw=%s" % rw, "--size=4m",
                                      "--offset=%d" % off,
                                      "--continue_on_error=all"])
            counts = {}
            for eng, (r, fl) in res.items():
                what = "%s %s continue_on_error" % (eng, rw)
                check(r.rc == 0, "%s: exit %s" % (what, r.rc), r)
                hit = [l for l in fl if l.startswith("eio %s" % rw)]
                check(len(hit) == len(offs) and r.total_err() == len(offs),
                      "%s: %d EIO injected, fio total_err=%d, expected %d" % (
                          what, len(hit), r.total_err(), len(offs)), r)
                check(r.ios(rw, "io_bytes") == 4 * MiB - len(offs) * 4096,
                      "%s: %d bytes done" % (what, r.ios(rw, "io_bytes")), r)
                counts[eng] = (r.ios(rw), r.total_err(), r.ios(rw, "io_bytes"))
            check(counts["libaioring"] == counts["libaio"],
                  "%s: differs from built-in libaio: %r" % (rw, counts))


def case_faultfs_short():
    """Short reads from the file system: requeued and completed exactly as
    with built-in libaio.  At EOF (data ends inside a block the file's
    size still covers) the zero-byte read of the rest is EIO, as fio's own
    psync reports it ("full resid"); libaio and io_uring count it as a
    success of 0 bytes."""
    cuts = [1 * MiB + 512, 2 * MiB + 1536]
    with Scratch("ffs-short") as s, FaultFS(s, size=16 * MiB,
                                            short_read=cuts) as fs:
        res = faultfs_cmp(s, fs, ["--rw=read", "--size=4m"])
        counts = {}
        for eng, (r, fl) in res.items():
            check(r.rc == 0 and r.error() == 0, "%s: exit %s err=%s" % (
                eng, r.rc, r.error()), r)
            check(r.ios("read", "short_ios") == counted_short(len(cuts)) and
                  len([l for l in fl if l.startswith("short read")]) ==
                  len(cuts),
                  "%s: short_ios=%d, expected %d" % (
                      eng, r.ios("read", "short_ios"),
                      counted_short(len(cuts))), r)
            counts[eng] = (r.ios("read"), r.ios("read", "short_ios"),
                           r.ios("read", "io_bytes"))
        check(counts["libaioring"] == counts["libaio"],
              "short reads differ from built-in libaio: %r" % counts)

    eof = 4 * MiB - 8192 + 1536
    with Scratch("ffs-eof") as s, FaultFS(s, size=4 * MiB, eof=eof) as fs:
        res = faultfs_cmp(s, fs, ["--rw=read"],
                          engines=("libaioring", "psync", "libaio"))
        out = {eng: (r.error(), r.ios("read", "short_ios"),
                     r.ios("read", "io_bytes")) for eng, (r, fl) in
               res.items()}
        log("EOF inside a block: (err, short_ios, bytes) %r" % out)
        r = res["libaioring"][0]
        check_clean_failure(r, "libaioring at EOF")
        # fio 3.19 counts psync's short read (and not its bytes), not an
        # async engine's: there only the error is psync's.
        same = out["psync"] if FIO_COUNTS_SHORT_IOS else out["psync"][:1]
        check(out["libaioring"][:len(same)] == same and
              out["libaioring"][:2] == (5, counted_short(1)),
              "libaioring at EOF: expected EIO after one short read "
              "as psync: %r" % out, r)
        check(out["libaioring"][2] == out["libaio"][2],
              "bytes read at EOF differ from libaio: %r" % out)


def stall_case(name, rw, reset_every, fsync, what):
    drain_ms = 2000
    stall_at = 1 * MiB + 4096
    with Scratch(name) as s, FaultFS(s, size=16 * MiB, stall=[stall_at]) as fs:
        fio = FioBg(["%s/fault-stall.fio" % JOBS], cwd=s.path, env={
            "AIOR_ENGINE": ENGINE, "FAULT_FILE": fs.path, "FAULT_RW": rw,
            "FAULT_RESET_EVERY": str(reset_every), "FAULT_FSYNC": str(fsync)})
        try:
            deadline = time.monotonic() + 30
            while not fs.log_lines("stall") and time.monotonic() < deadline:
                if fio.proc.poll() is not None:
                    break
                time.sleep(0.01)
            t_stall = time.monotonic()
            check(fs.log_lines("stall"), "the request at %d never reached "
                  "the file system" % stall_at, lambda: fio.wait(5))
            pat = r"libaioring: job 'stall': %s: \d+ request\(s\) still in " \
                  r"flight after drain_timeout=%d ms" % (what, drain_ms)
            t_err = fio.wait_line(pat, drain_ms / 1000.0 + 15)
            check(t_err is not None, "no '%s: ... still in flight after "
                  "drain_timeout' within %d s of the stall" % (
                      what, drain_ms / 1000 + 15), lambda: fio.wait(1))
            took = t_err - t_stall
            log("%s drain gave up %.2f s after the request stalled" % (
                what, took))
            check(took >= drain_ms / 1000.0 * 0.9 - 0.5,
                  "the drain gave up too early (%.2f s)" % took)
            check(took <= drain_ms / 1000.0 + 5,
                  "the drain gave up late (%.2f s)" % took)
            # The device completes the request now: fio must exit.
            fs.release()
            t_rel = time.monotonic()
            r = fio.wait(20)
            check(not r.timed_out, "fio did not exit after the release", r)
            log("fio exited %.2f s after the release" % (fio.end - t_rel))
        finally:
            fio.kill()
        check_clean_failure(r, what)
        check(r.error() == 110, "err=%s, expected 110 (ETIMEDOUT)" %
              r.error(), r)
        check_no_loss(r)
        check(r.stat("drains") > 0, "no drain counted", r)


def case_faultfs_stall_reset():
    """A request that never completes: the reset's drain gives up after
    drain_timeout with a clear error; after the release fio exits."""
    stall_case("ffs-stall-reset", "read", 64, 0, "reset")


def case_faultfs_stall_flush():
    """The same for the drain before a flush (fsync=16)."""
    stall_case("ffs-stall-flush", "write", 0, 16, "flush")


def case_faultfs_stall_sigterm():
    """SIGTERM while a request is stalled: fio must neither exit nor
    report the request done while the kernel owns it (its buffer is still
    the device's), and must exit 128 with everything reaped as soon as the
    device completes it."""
    stall_at = 1 * MiB + 4096
    with Scratch("ffs-stall-term") as s, FaultFS(s, size=16 * MiB,
                                                 stall=[stall_at]) as fs:
        fio = FioBg(["%s/fault-stall.fio" % JOBS], cwd=s.path, env={
            "AIOR_ENGINE": ENGINE, "FAULT_FILE": fs.path, "FAULT_RW": "read",
            "FAULT_RESET_EVERY": "0", "FAULT_FSYNC": "0"})
        try:
            deadline = time.monotonic() + 30
            while not fs.log_lines("stall") and time.monotonic() < deadline:
                if fio.proc.poll() is not None:
                    break
                time.sleep(0.01)
            check(fs.log_lines("stall"), "the request at %d never reached "
                  "the file system" % stall_at, lambda: fio.wait(5))
            time.sleep(0.5)
            os.kill(fio.pid, signal.SIGTERM)
            time.sleep(3)
            check(fio.proc.poll() is None, "fio exited while the kernel "
                  "still owned a request", lambda: fio.wait(1))
            fs.release()
            t_rel = time.monotonic()
            r = fio.wait(20)
        finally:
            fio.kill()
        log("fio exited %.2f s after the release" % (fio.end - t_rel))
        check(not r.timed_out and fio.end - t_rel < 10,
              "fio did not exit after the release", r)
        check(r.rc == 128, "exit %s, fio gives 128 on a signal" % r.rc, r)
        check(not r.io_errors() and not r.engine_msgs(),
              "errors on the way out", r)
        check_no_loss(r)


# ---- 3. fs.aio-max-nr ----

def aiomax_case(headroom, expect_ok):
    need_root()
    ring = 64
    with Scratch("aiomax") as s:
        args = [engine_arg(ENGINE), "--name=aiomax", "--directory=%s" % s.path,
                "--nrfiles=4", "--filename_format=f.$filenum",
                "--size=2m", "--bs=4k", "--iodepth=8",
                "--ring_entries=%d" % ring, "--direct=1", "--rw=randwrite",
                "--verify=crc32c", "--engine_stats=1"]
        # Lay out the files first, so the lowered window is only the run.
        r = run_fio(args, timeout=60, cwd=s.path)
        check(r.rc == 0 and r.stat("contexts") == 4,
              "the job fails even with fs.aio-max-nr as it is", r)
        for attempt in range(3):
            with LoweredAioMax() as lim:
                now = read_int(AIO_NR)
                lim.lower(now + headroom)
                try:
                    r = run_fio(args, timeout=30, cwd=s.path)
                finally:
                    lim.restore()
            log("attempt %d: aio-nr was %d, fs.aio-max-nr lowered to %d for "
                "%.2f s: exit %s" % (attempt + 1, now, now + headroom,
                                     r.elapsed, r.rc))
            # Other processes on the host may have taken or freed contexts
            # in that window: try again if the outcome is the other case.
            if (r.rc == 0) == expect_ok:
                break
        check(read_int(AIO_MAX) == lim.orig, "fs.aio-max-nr not restored")
        return r


def case_aiomax_shared():
    """fs.aio-max-nr leaves room for one context of 64 events but not for
    four (one per file): the job runs on one shared context and says so."""
    r = aiomax_case(100, True)
    check_verified(r, "shared context")
    check("using one shared context" in r.err, "no notice", r)
    check(r.stat("ctx_fallbacks") == 1 and r.stat("contexts") == 1,
          "ctx_fallbacks=%d contexts=%d" % (r.stat("ctx_fallbacks"),
                                            r.stat("contexts")), r)
    check_no_loss(r)


def case_aiomax_none():
    """No room even for one context: the job fails, naming fs.aio-max-nr
    and how to raise it; no crash."""
    r = aiomax_case(32, False)
    check_clean_failure(r, "no context fits")
    check(r.error() == 11, "err=%s, expected 11 (EAGAIN)" % r.error(), r)
    check(re.search(r"fs\.aio-max-nr \(\d+, \d+ in use\).*"
                    r"sysctl -w fs\.aio-max-nr=\d+", r.err),
          "the error does not name fs.aio-max-nr and how to raise it", r)
    check(r.ios() == 0, "I/O issued without a context?", r)


# ---- 4. signals ----

def signal_fio(s, fs, rw, ring=0, thread=0, own_group=False):
    return FioBg(["%s/fault-signal.fio" % JOBS], cwd=s.path, env={
        "AIOR_ENGINE": ENGINE, "FAULT_FILE": fs.path, "FAULT_RW": rw,
        "FAULT_RING": str(ring), "FAULT_THREAD": str(thread)},
        own_group=own_group)


def signal_case(sig, to_group):
    with Scratch("sig") as s, FaultFS(s, size=64 * MiB, delay_us=20000) as fs:
        for thread in (0, 1):
            what = "%s thread=%d" % (signal.Signals(sig).name, thread)
            fio = signal_fio(s, fs, "randrw", thread=thread,
                             own_group=to_group)
            try:
                check(fio.wait_aio(), "%s: the engine set up no aio "
                      "context" % what, lambda: fio.wait(1))
                time.sleep(2)       # the queue fills
                check(fio.proc.poll() is None, "%s: fio ended early" % what,
                      lambda: fio.wait(1))
                t_sig = time.monotonic()
                if to_group:
                    os.killpg(fio.pid, sig)     # as a terminal's ^C does
                else:
                    os.kill(fio.pid, sig)
                r = fio.wait(30)
            finally:
                fio.kill()
            took = fio.end - t_sig
            log("%s: fio exited %.2f s after the signal, exit %s" % (
                what, took, r.rc))
            check(not r.timed_out, "%s: fio did not exit" % what, r)
            check(took < 10, "%s: fio took %.1f s to exit" % (what, took), r)
            check(r.rc == 128, "%s: exit %s, fio gives 128 on a signal" % (
                what, r.rc), r)
            check("terminating on signal %d" % sig in r.out,
                  "%s: no 'terminating on signal'" % what, r)
            check(not r.io_errors() and not r.engine_msgs(),
                  "%s: errors on the way out" % what, r)
            check_no_loss(r)
            depth = r.jobs()[0]["iodepth_level"] if r.jobs() else {}
            check(depth.get(">=64", 0) > 50,
                  "%s: the queue was not deep (iodepth_level %r)" % (
                      what, depth), r)


def case_signal_int():
    """SIGINT (to fio's process group, like ^C) with 128 requests in
    flight on a slow device: prompt exit, everything reaped."""
    signal_case(signal.SIGINT, True)


def case_signal_term():
    """SIGTERM to fio: prompt exit, everything reaped."""
    signal_case(signal.SIGTERM, False)


def case_signal_kill():
    """SIGKILL to fio and its job process mid-run: the kernel frees the
    contexts (fs.aio-nr goes back), and the file takes a verify run."""
    ring = 16384    # distinctive: visible in fs.aio-nr over other tests
    with Scratch("sigkill") as s, FaultFS(s, size=64 * MiB,
                                          delay_us=20000) as fs:
        before = read_int(AIO_NR)
        fio = signal_fio(s, fs, "randwrite", ring=ring)
        try:
            jobs = fio.job_pids(1)
            check(len(jobs) == 1, "expected one job process, found %r" % jobs,
                  lambda: fio.wait(1))
            time.sleep(3)
            during = read_int(AIO_NR)
            check(during >= ring, "fs.aio-nr=%d while a context of %d "
                  "events is alive" % (during, ring), lambda: fio.wait(1))
            check(fio.proc.poll() is None, "fio ended early",
                  lambda: fio.wait(1))
            kill_fio_tree(fio.pid)
            t_kill = time.monotonic()
            r = fio.wait(30)
        finally:
            fio.kill()
        check(r.rc == -signal.SIGKILL, "fio exit %s" % r.rc, r)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            alive = [p for p in jobs if os.path.exists("/proc/%d" % p)]
            now = read_int(AIO_NR)
            if not alive and now < before + ring:
                break
            time.sleep(0.1)
        log("fs.aio-nr: %d before, %d during, %d %.2f s after SIGKILL" % (
            before, during, now, time.monotonic() - t_kill))
        check(not alive, "job processes %r still alive" % alive)
        check(now < before + ring, "fs.aio-nr=%d: the killed job's context "
              "(%d events) was not freed (was %d before)" % (
                  now, ring, before))
        r = run_fio([engine_arg(ENGINE), "--name=after",
                     "--filename=%s" % fs.path, "--size=8m", "--bs=4k",
                     "--iodepth=16", "--direct=1", "--rw=randwrite",
                     "--verify=crc32c", "--engine_stats=1"], cwd=s.path)
        check_verified(r, "verify after SIGKILL")
        check_no_loss(r)


# ---- 5. soak ----

def case_soak():
    """jobs/soak.fio for AIOR_SOAK_RUNTIME seconds (default 40): zero
    verify errors, nothing lost, and the job processes' memory flat."""
    runtime = int(os.environ.get("AIOR_SOAK_RUNTIME", "40"))
    bound_kib = int(os.environ.get("AIOR_SOAK_RSS_KIB", "2048"))
    check(runtime >= 15, "AIOR_SOAK_RUNTIME must be at least 15")
    base = os.environ.get("AIOR_SOAK_DIR", "/var/tmp")
    with Scratch("soak", base) as s:
        fio = FioBg(["%s/soak.fio" % JOBS], cwd=s.path, env={
            "AIOR_ENGINE": ENGINE, "SOAK_DIR": s.path,
            "SOAK_RUNTIME": str(runtime)})
        samples = {}
        try:
            jobs = fio.job_pids(2, timeout=30)
            check(len(jobs) == 2, "expected 2 job processes, found %r" % jobs,
                  lambda: fio.wait(1))
            # First sample once the jobs have allocated their buffers and
            # filled their verify backlog; last one just before the end.
            t_start = time.monotonic()
            marks = [5, runtime / 2, runtime - 3]
            for m in marks:
                time.sleep(max(0, t_start + m - time.monotonic()))
                for p in jobs:
                    samples.setdefault(p, []).append(rss_kib(p))
            r = fio.wait(runtime + 120)
        finally:
            fio.kill()
        check(not r.timed_out and r.rc == 0 and r.error() == 0,
              "soak failed: exit %s err=%s" % (r.rc, r.error()), r)
        check("verify" not in r.err, "verify complaints", r)
        check(len(r.stats) == 2, "expected 2 engine lines", r)
        for st in r.stats:
            check(st["submitted"] == st["reaped_ring"] + st["reaped_syscall"],
                  "a job lost requests: %r" % st, r)
            check(st["eagain"] > 0 and st["resets"] > 0,
                  "the soak did not exercise backpressure and resets: %r" % st,
                  r)
        check(r.ios("read") > 0 and r.ios("write") > 0, "no I/O?", r)
        sanitized = os.environ.get("AIOR_SANITIZE") == "1"
        if sanitized:
            # ASan keeps freed memory in quarantine (fio frees and
            # allocates on every verified write): RSS grows by design.
            log("sanitizer build: memory growth logged, not checked")
        for p, v in samples.items():
            log("job %d VmRSS (KiB) at %s s: %s" % (
                p, ", ".join("%.0f" % m for m in marks), v))
            check(None not in v, "job %d ended before the last sample" % p, r)
            check(sanitized or v[-1] - v[0] < bound_kib,
                  "job %d grew %d KiB in %d s (bound %d KiB)" % (
                      p, v[-1] - v[0], marks[-1] - marks[0], bound_kib), r)


# ---- 7. valgrind ----

def case_valgrind_verify():
    """One verify run (two files, resets) under valgrind memcheck with
    --thread: no memory error anywhere, no definite leak allocated by the
    engine (fio's own leaks at exit are not the engine's)."""
    vg = os.environ.get("AIOR_VALGRIND") or "/usr/bin/valgrind"
    need_file(vg, "valgrind")
    if os.environ.get("AIOR_SANITIZE") == "1":
        raise Skip("the engine is built with a sanitizer, which valgrind "
                   "cannot run")
    with Scratch("valgrind") as s:
        xml = s / "vg.xml"
        cmd = [vg, "--tool=memcheck", "--xml=yes", "--xml-file=%s" % xml,
               "--leak-check=full", "--errors-for-leak-kinds=definite",
               "--error-exitcode=99", "--track-origins=yes",
               FIO, "--thread",
               engine_arg(ENGINE), "--name=vg", "--directory=%s" % s.path,
               "--nrfiles=2", "--filename_format=f.$filenum", "--size=4m",
               "--bs=4k", "--iodepth=16", "--direct=1", "--rw=randwrite",
               "--verify=crc32c", "--reset_every=50", "--engine_stats=1"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                           cwd=s.path)
        log("valgrind exit %d" % p.returncode)
        check("libaioring: job 'vg': contexts=2" in p.stderr,
              "the engine did not run under valgrind", p.stdout, p.stderr)
        check("err= 0" in p.stdout, "fio failed under valgrind", p.stdout,
              p.stderr)
        root = ET.parse(xml).getroot()
        ours, theirs = [], []
        for e in root.findall("error"):
            kind = e.findtext("kind")
            objs = [f.findtext("obj") or "" for f in e.iter("frame")]
            text = (e.findtext("what") or
                    (e.find("xwhat").findtext("text") if e.find("xwhat")
                     is not None else ""))
            mine = engine_module(ENGINE) in map(os.path.basename, objs)
            if not kind.startswith("Leak_") or mine:
                ours.append("%s: %s (%s)" % (kind, text, ", ".join(
                    f.findtext("fn") or "?" for f in e.iter("frame"))[:300]))
            else:
                theirs.append("%s: %s" % (kind, text))
        for t in theirs:
            log("fio's own, not counted: %s" % t)
        check(not ours, "valgrind errors: %s" % "\n".join(ours))


def fio_teardown_races():
    """The functions of fio's own races at exit, listed for the TSan runs
    of the integration tests (tests/integration/tsan-fio.supp): fio's main
    thread frees a finished job thread's options and semaphores after a
    wait TSan cannot see ("As if synchronized via sleep")."""
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "integration", "tsan-fio.supp")
    with open(supp) as f:
        return [ln.strip()[len("race:"):] for ln in f
                if ln.startswith("race:")]


def case_tsan_threads():
    """Two jobs as threads of one fio (thread=1), each with two files,
    resets and verify, with the engine built under ThreadSanitizer: no
    race report may involve the engine (fio's own races at exit, in code
    TSan cannot see instrumented, are listed, not counted).  A report of
    fio's teardown (tsan-fio.supp) is fio's whichever thread read the
    memory last: the engine's cleanup reads the job's name for its
    counters line, as fio itself reads it later or earlier."""
    eng = os.environ.get("AIOR_TSAN_ENGINE", "")
    lib = os.path.realpath(os.environ.get("AIOR_LIBTSAN") or "/nonexistent")
    if os.environ.get("AIOR_SANITIZE") == "1" and not eng:
        raise Skip("an AddressSanitizer build cannot load a TSan engine")
    need_file(eng, "the ThreadSanitizer build of the engine")
    need_file(lib, "libtsan.so")
    with Scratch("tsan", INJECT_TMP) as s:
        logs = s / "tsanlog"
        r = run_fio([engine_arg(eng), "--thread", "--numjobs=2",
                     "--name=tsan", "--directory=%s" % s.path, "--nrfiles=2",
                     "--size=16m", "--bs=4k", "--iodepth=32", "--direct=1",
                     "--rw=randwrite", "--verify=crc32c", "--reset_every=100",
                     "--engine_stats=1"],
                    env={"LD_PRELOAD": lib,
                         "TSAN_OPTIONS": "log_path=%s:exitcode=0" % logs},
                    timeout=240, cwd=s.path)
        check_verified(r, "under TSan")
        check(len(r.stats) == 2, "expected two engine lines", r)
        check_no_loss(r)
        ours, theirs = [], []
        teardown = fio_teardown_races()
        for name in os.listdir(s.path):
            if not name.startswith("tsanlog."):
                continue
            text = open(os.path.join(s.path, name)).read()
            for rep in text.split("==================")[1:]:
                if "WARNING: ThreadSanitizer" not in rep:
                    continue
                head = rep.strip().splitlines()[0]
                frames = [l.strip() for l in rep.splitlines()
                          if l.strip().startswith("#")]
                module = re.compile(r"[(/]%s\+0x" % re.escape(
                    engine_module(eng)))
                # The access reported (the first stack) is fio's teardown.
                first = rep.strip().split("\n\n")[0]
                fio_exit = any(re.search(r"#\d+ %s " % re.escape(fn), first)
                               for fn in teardown)
                if not fio_exit and any(module.search(f) for f in frames):
                    ours.append(rep.strip())
                else:
                    theirs.append("%s (%s)" % (head, frames[1] if
                                               len(frames) > 1 else "?"))
        for t in theirs:
            log("fio's own, not counted: %s" % t)
        check(not ours, "ThreadSanitizer reports in the engine:\n%s" %
              "\n".join(ours))


# ---- 6. fuzzing ----

def case_fuzz_ring():
    """libFuzzer over aior_ring_reap()/aior_ring_check() (ASan, UBSan)."""
    fz = os.environ.get("AIOR_FUZZ_RING", "")
    if not fz or not os.path.exists(fz):
        raise Skip(os.environ.get("AIOR_FUZZ_WHY") or
                   "fuzz_ring not built (needs clang with libFuzzer)")
    runs = os.environ.get("AIOR_FUZZ_RUNS", "200000")
    with Scratch("fuzz") as s:
        corpus = s / "corpus"
        os.mkdir(corpus)
        seed = int(os.environ.get("AIOR_FUZZ_SEED") or time.time())
        log("fuzz_ring -seed=%d (AIOR_FUZZ_SEED=%d repeats it)" % (seed, seed))
        p = subprocess.run([fz, "-runs=%s" % runs, "-max_total_time=120",
                            "-seed=%d" % seed, "-print_final_stats=1",
                            corpus], capture_output=True, text=True,
                           timeout=300, cwd=s.path)
        tail = p.stderr.splitlines()[-15:]
        for l in tail:
            log(l)
        check(p.returncode == 0, "the fuzzer found a failure (exit %d)" %
              p.returncode, p.stderr[-4000:])
        check(re.search(r"^Done \d+ runs", p.stderr, re.M),
              "the fuzzer did not finish its runs")


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}

if __name__ == "__main__":
    main(CASES)
