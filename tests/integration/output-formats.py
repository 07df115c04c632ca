#!/usr/bin/env python3
"""fio's output stays valid with the engine loaded (run by output-formats.sh).

Runs the real fio with the real engine in every output format (normal,
json, json+, terse and mixes of them), to stdout and with --output=FILE,
with every engine message provoked: the counters (engine_stats=1), the
buffered fallback (a ramfs file, when the script could mount one), a
bounce (mem_align=8) with aio_block_size= above the detected block size,
and errors at init (a bad aio_block_size=, an engine_stats_file= that
cannot be opened).  Then it parses what fio wrote: json/json+ with
json.loads of the whole stdout or file, terse as records only (each line
"3;fio-...;job;..."), normal as text without an engine line; checks that
each message did appear on stderr; and that engine_stats_file got one
JSON line per job (numjobs=2 included) with the counters of the human
line under the same names, submitted == reaped_ring + reaped_syscall.

Last, through fio's client/server mode (a server on 127.0.0.1): the
client's JSON parses whole, and the engine's lines are on the server's
stderr, not in what the client prints (README, "Where the engine's
messages go").

A failed job makes fio itself write "fio: pid=N, err=..." (log_info) and
"fio: io engine ... init failed" (log_err, which --output points at the
file) into its output, as it does with its built-in engines: in the error
runs those lines of fio's own are dropped before parsing, and only there.

usage: output-formats.py --fio FIO --engine ENGINE --dir DIR
           [--ramfs DIR | --no-ramfs WHY] [--env NAME=VALUE]...
           [--no-stats-file]
  --ramfs DIR       a directory where O_DIRECT is refused (EINVAL)
  --no-ramfs WHY    there is none: the fallback notice is not provoked
  --env             set for fio only (a sanitizer build's LD_PRELOAD)
  --no-stats-file   leave engine_stats_file= out: runs the format checks
                    against an engine built before the option existed

Exit 0 when everything holds, 1 with every problem listed otherwise,
77 when everything checked holds but a part could not be run here (no
ramfs, no fio server), saying which.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time

NAME = "int_output_formats"
FORMATS = ["normal", "json", "json+", "terse", "json,normal", "terse,json"]
ENGINE_LINE = re.compile(r"libaioring: ")
STAT_LINE = re.compile(r"^libaioring: job '([^']*)': (contexts=.*)$")
problems = []
skipped = []


def problem(what, text=None):
    problems.append(what)
    print("%s: FAIL: %s" % (NAME, what))
    if text is not None:
        lines = text.rstrip().splitlines()
        if len(lines) > 60:
            lines = lines[:30] + ["... (%d lines)" % (len(lines) - 60)] + \
                lines[-30:]
        print("----- output -----\n%s\n----- end -----" % "\n".join(lines))


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fio", required=True)
    ap.add_argument("--engine", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--ramfs")
    ap.add_argument("--no-ramfs")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--no-stats-file", action="store_true")
    return ap.parse_args()


def job_file(path, a, sections):
    with open(path, "w") as f:
        f.write("[global]\nioengine=external:%s\nrw=randwrite\n"
                "bs=8k\nsize=4m\niodepth=8\ndirect=1\n" % a.engine)
        for name, opts in sections:
            f.write("\n[%s]\n" % name)
            for k, v in opts:
                f.write("%s=%s\n" % (k, v))


def run_fio(a, env, job, fmt, out_file):
    cmd = [a.fio, "--eta=never", "--output-format=%s" % fmt]
    if out_file:
        cmd.append("--output=%s" % out_file)
    cmd.append(job)
    p = subprocess.run(cmd, cwd=a.dir, env=env, capture_output=True,
                       text=True, errors="replace", timeout=60)
    text = p.stdout
    if out_file:
        with open(out_file, errors="replace") as f:
            text = f.read()
        os.unlink(out_file)
    return p.returncode, p.stdout, text, p.stderr


def json_at(text, what):
    """The JSON document starting at the first line "{" of @text, and
    the text around it."""
    m = re.search(r"^\{$", text, re.M)
    if not m:
        problem("%s: no JSON document" % what, text)
        return None, text
    try:
        doc, end = json.JSONDecoder().raw_decode(text[m.start():])
    except ValueError as e:
        problem("%s: the JSON document does not parse: %s" % (what, e), text)
        return None, text
    return doc, text[:m.start()] + text[m.start() + end:]


def check_document(what, fmt, text, names, fio_ver, ran=True):
    """@text is what fio wrote for @fmt: nothing but fio's documents.
    Jobs that failed at init (not @ran) have no normal result."""
    for ln in text.splitlines():
        if ENGINE_LINE.search(ln):
            problem("%s: an engine line in fio's output: %s" % (what, ln),
                    text)
            break
    kinds = fmt.split(",")
    rest = text
    if kinds in (["json"], ["json+"]):
        # The whole text, as any parser of fio's JSON would take it.
        try:
            doc = json.loads(text)
        except ValueError as e:
            problem("%s: json.loads of the whole output fails: %s" % (
                what, e), text)
            return
        rest = ""
    elif "json" in kinds or "json+" in kinds:
        doc, rest = json_at(text, what)
    else:
        doc = None
    if doc is not None:
        got = sorted(j["jobname"] for j in doc.get("jobs", []))
        if got != sorted(names):
            problem("%s: JSON jobs %s, expected %s" % (what, got,
                                                        sorted(names)))
    if "terse" in kinds:
        rec = re.compile(r"^3;%s;([^;]*);" % re.escape(fio_ver))
        lines = [ln for ln in rest.splitlines() if ln.strip()]
        if "normal" not in kinds:
            bad = [ln for ln in lines if not rec.match(ln) or
                   ln.count(";") < 100]
            if bad:
                problem("%s: a line that is not a terse record: %s" % (
                    what, bad[0][:120]), text)
        got = sorted(rec.match(ln).group(1) for ln in lines if rec.match(ln))
        if got != sorted(names):
            problem("%s: terse records for %s, expected %s" % (
                what, got, sorted(names)), text)
    if "normal" in kinds and ran:
        for n in set(names):
            if not re.search(r"^%s: \(groupid=" % re.escape(n), rest, re.M):
                problem("%s: no normal result for job %s" % (what, n), text)


def counters(line):
    m = STAT_LINE.match(line)
    kv = [p.split("=", 1) for p in m.group(2).split()]
    return m.group(1), [(k, int(v)) for k, v in kv]


def check_stderr(what, err, want):
    """Every message in @want (regexes) on stderr, whole lines."""
    lines = err.splitlines()
    for ln in lines:
        i = ln.find("libaioring: ")
        if i > 0:
            problem("%s: an engine message not at the start of a line on "
                    "stderr (interleaved?): %s" % (what, ln), err)
    for re_ in want:
        if not any(re.search(re_, ln) for ln in lines):
            problem("%s: stderr has no line matching /%s/" % (what, re_), err)


def check_stats(what, err, stats_path, jobs, fio_ver):
    """The human lines on stderr and the JSON lines of engine_stats_file:
    one each per job, the same counters under the same names."""
    human = [counters(ln) for ln in err.splitlines() if STAT_LINE.match(ln)]
    if sorted(n for n, _ in human) != sorted(jobs):
        problem("%s: counter lines on stderr for %s, expected %s" % (
            what, sorted(n for n, _ in human), sorted(jobs)), err)
    for n, kv in human:
        d = dict(kv)
        if d["submitted"] != d["reaped_ring"] + d["reaped_syscall"]:
            problem("%s: job %s: submitted=%d, reaped %d+%d" % (
                what, n, d["submitted"], d["reaped_ring"],
                d["reaped_syscall"]))
        if n == "bounce" and not d["bounces"] > 0:
            problem("%s: job bounce: bounces=0 with mem_align=8" % what)
        if n == "fallback" and not d["direct_fallbacks"] > 0:
            problem("%s: job fallback: direct_fallbacks=0" % what)
    if stats_path is None:
        return
    try:
        with open(stats_path) as f:
            text = f.read()
        os.unlink(stats_path)
    except OSError as e:
        problem("%s: engine_stats_file: %s" % (what, e))
        return
    lines = text.splitlines()
    if len(lines) != len(jobs) or not text.endswith("\n"):
        problem("%s: engine_stats_file has %d line(s), expected %d" % (
            what, len(lines), len(jobs)), text)
    from_file = []
    for ln in lines:
        try:
            o = json.loads(ln)
        except ValueError as e:
            problem("%s: engine_stats_file line is not JSON (%s): %s" % (
                what, e, ln))
            continue
        head = [(k, o[k]) for k in list(o)[:4]]
        want = [("engine", "libaioring"), ("fio", fio_ver)]
        if head[:2] != want or [k for k, _ in head[2:]] != [
                "job", "job_number"]:
            problem("%s: engine_stats_file line opens with %s, expected "
                    "engine, fio (%s), job, job_number" % (what, head, fio_ver))
            continue
        kv = [(k, v) for k, v in o.items()][4:]
        if kv[0][0] != "contexts" or not all(
                isinstance(v, int) for _, v in kv):
            problem("%s: engine_stats_file counters: %s" % (what, ln))
        d = dict(kv)
        if d.get("submitted") != d.get("reaped_ring", -1) + d.get(
                "reaped_syscall", -1):
            problem("%s: engine_stats_file: job %s: submitted != "
                    "reaped_ring + reaped_syscall: %s" % (what, o["job"], ln))
        from_file.append((o["job"], o["job_number"], kv))
    nums = [num for _, num, _ in from_file]
    if len(set(nums)) != len(nums):
        problem("%s: engine_stats_file: job_number repeats: %s" % (
            what, nums))
    if sorted((n, kv) for n, _, kv in from_file) != sorted(human):
        problem("%s: engine_stats_file and the lines on stderr differ" % what,
                text + "---\n" + err)


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def client_server(a, env, job, names, want, stats, fio_ver):
    """The job through a fio server on 127.0.0.1, the client printing
    JSON: the engine's lines stay on the server's stderr."""
    port = free_port()
    srv_err = os.path.join(a.dir, "server.err")
    with open(srv_err, "w") as ef:
        srv = subprocess.Popen(
            [a.fio, "--server=ip:127.0.0.1,%d" % port], cwd=a.dir, env=env,
            stdout=subprocess.DEVNULL, stderr=ef, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if srv.poll() is not None or time.monotonic() > deadline:
                    skipped.append("no fio server came up on 127.0.0.1:%d "
                                   "(client/server mode not checked)" % port)
                    return
                time.sleep(0.1)
        what = "client/server, json to stdout"
        before = len(problems)
        p = subprocess.run(
            [a.fio, "--client=ip:127.0.0.1,%d" % port, "--eta=never",
             "--output-format=json", job], cwd=a.dir, env=env,
            capture_output=True, text=True, errors="replace", timeout=60)
    finally:
        srv.terminate()
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
    with open(srv_err, errors="replace") as f:
        err = f.read()
    if p.returncode != 0:
        problem("%s: the client exited %d" % (what, p.returncode),
                p.stdout + p.stderr + err)
        return
    for ln in (p.stdout + p.stderr).splitlines():
        if ENGINE_LINE.search(ln):
            problem("%s: an engine line on the client: %s" % (what, ln),
                    p.stdout)
            break
    try:
        doc = json.loads(p.stdout)
        got = sorted(j["jobname"] for j in doc["client_stats"]
                     if j["jobname"] != "All clients")
        if got != sorted(names):
            problem("%s: client_stats for %s, expected %s" % (
                what, got, sorted(names)))
    except (ValueError, KeyError, TypeError) as e:
        problem("%s: the client's JSON does not parse whole: %s" % (what, e),
                p.stdout)
    check_stderr(what + " (the server's stderr)", err, want)
    check_stats(what, err, stats, names, fio_ver)
    if len(problems) == before:
        print("%s: ok: %s: the client's JSON parsed, %d engine line(s) on "
              "the server's stderr" % (NAME, what, sum(
                  1 for ln in err.splitlines()
                  if ln.startswith("libaioring: "))))


def main():
    a = parse_args()
    env = dict(os.environ)
    for e in a.env:
        k, v = e.split("=", 1)
        env[k] = v
    fio_ver = subprocess.run([a.fio, "--version"], env=env,
                             capture_output=True, text=True).stdout.strip()
    stats = None if a.no_stats_file else os.path.join(a.dir, "stats.jsonl")

    # The jobs that run, and what they make the engine say.
    sections = [("bounce", [("filename", os.path.join(a.dir, "b.dat")),
                            ("mem_align", 8), ("aio_block_size", 8192),
                            ("numjobs", 2)])]
    names = ["bounce", "bounce"]
    want = [r"^libaioring: .*/b\.dat: aio_block_size=8192 differs from "
            r"the detected block size \d+$"]
    if a.ramfs:
        f = os.path.join(a.ramfs, "f.dat")
        sections.append(("fallback", [("filename", f)]))
        names.append("fallback")
        want.append(r"^libaioring: %s: the file system refuses O_DIRECT; "
                    r"using buffered I/O \(direct_fallback=0 makes this an "
                    r"error\)$" % re.escape(f))
    for _, opts in sections:
        opts.append(("engine_stats", 1))
        if stats:
            opts.append(("engine_stats_file", stats))
    ok_job = os.path.join(a.dir, "ok.fio")
    job_file(ok_job, a, sections)

    # Jobs that fail at init, each with one line saying why.
    nodir = os.path.join(a.dir, "no", "such", "dir", "stats.jsonl")
    err_sections = [
        ("badbs", [("filename", os.path.join(a.dir, "e.dat")),
                   ("aio_block_size", 1000)])]
    err_names = ["badbs"]
    err_want = [r"^libaioring: job 'badbs': aio_block_size=1000: must be a "
                r"power of two"]
    if stats:
        err_sections.append(
            ("badstats", [("filename", os.path.join(a.dir, "e.dat")),
                          ("engine_stats_file", nodir),
                          ("engine_stats", 1)]))
        err_names.append("badstats")
        err_want.append(r"^libaioring: job 'badstats': engine_stats_file=%s: "
                        r"cannot open for appending: No such file or "
                        r"directory \(errno 2\)$" % re.escape(nodir))
    err_job = os.path.join(a.dir, "err.fio")
    job_file(err_job, a, err_sections)

    out_file = os.path.join(a.dir, "fio-output")
    for fmt in FORMATS:
        for dest in ("stdout", "--output"):
            what = "%s to %s" % (fmt, dest)
            before = len(problems)
            rc, stdout, text, err = run_fio(
                a, env, ok_job, fmt, out_file if dest != "stdout" else None)
            if rc != 0:
                problem("%s: fio exited %d" % (what, rc), stdout + err)
                continue
            if dest != "stdout" and stdout.strip():
                problem("%s: fio wrote to stdout as well" % what, stdout)
            check_document(what, fmt, text, names, fio_ver)
            check_stderr(what, err, want)
            check_stats(what, err, stats, names, fio_ver)
            if len(problems) == before:
                print("%s: ok: %s: %d byte(s) of output parsed, %d engine "
                      "line(s) on stderr" % (NAME, what, len(text), sum(
                          1 for ln in err.splitlines()
                          if ln.startswith("libaioring: "))))

            what = "error at init, %s to %s" % (fmt, dest)
            before = len(problems)
            rc, stdout, text, err = run_fio(
                a, env, err_job, fmt, out_file if dest != "stdout" else None)
            if rc == 0:
                problem("%s: fio exited 0" % what, stdout + err)
            # fio's own lines about a failed job (see the top).
            own = [ln for ln in text.splitlines() if ln.startswith("fio: ")]
            text = "".join(ln + "\n" for ln in text.splitlines()
                           if not ln.startswith("fio: "))
            check_document(what, fmt, text, err_names, fio_ver, ran=False)
            check_stderr(what, err, err_want)
            if STAT_LINE.search(err) or (stats and os.path.exists(nodir)):
                problem("%s: counters of a job that never ran" % what, err)
            if "json" in fmt.split(",") and stats:
                doc, _ = json_at(text, what)
                jobs = {j["jobname"]: j for j in (doc or {}).get("jobs", [])}
                j = jobs.get("badstats")
                if j and (j["error"] != 2 or j["write"]["total_ios"]):
                    problem("%s: job badstats: error %d after %d write(s), "
                            "expected ENOENT (2) at init, before any I/O" % (
                                what, j["error"], j["write"]["total_ios"]))
            if len(problems) == before:
                print("%s: ok: %s: exit %d, %d line(s) of fio's own "
                      "dropped, %d engine line(s) on stderr" % (
                          NAME, what, rc, len(own), sum(
                              1 for ln in err.splitlines()
                              if ln.startswith("libaioring: "))))
    client_server(a, env, ok_job, names, want, stats, fio_ver)
    if a.no_ramfs:
        skipped.append(a.no_ramfs)
    if problems:
        print("%s: %d problem(s)" % (NAME, len(problems)))
        return 1
    if skipped:
        print("%s: every check that ran passed; not checked: %s" % (
            NAME, "; ".join(skipped)))
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
