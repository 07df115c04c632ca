# SPDX-License-Identifier: BSD-3-Clause
"""Many hosts through fio's own client/server (`fio --server` on each host).

    parse_host("h") / ("h:8766") / ("[::1]:8766")  -> (host, port)
    preflight(fio, hosts, paths, target)   each host answers, loads each
                                           engine path, sees the target
    run(fio, hosts, job_args, timeout)     one job on every host at once

fio in client mode takes its job options from a job file (the client
sends it to every server), so run() writes the `--key=value` options the
local runner would pass on the command line into one.  Paths in the job
(the engine of `ioengine=external:PATH`, `filename=`) are resolved on each
server: they must exist there, which preflight() checks first.

What fio's client mode does not do, and what this module does about it:
- a job the server refuses (an engine it cannot load, a file it cannot
  open) does not change the client's exit status: fio exits 0 with no
  entry for that host.  run() checks that every host reported, with no
  job error, and names the first one that did not.
- server-side text (fio's and the engine's messages) comes back prefixed
  with the server's *system* host name, which several servers may share,
  so it is attributed to hosts only in preflight(), which asks one host
  at a time.
- `--readonly` is a command-line-only flag that the client does not
  forward: run() drops it and refuses a job that would write.
- fio's own "All clients" entry (present with 2+ hosts) sums IOPS,
  bandwidth, I/Os, runtime and context switches and averages usr/sys CPU,
  but carries no latency percentiles.  The "all" entry returned is fio's,
  with each percentile set to the MAX over hosts (the worst host: an upper
  bound of the pooled percentile).  With one host, "all" is a copy of it.
"""

import json
import os
import re
import socket
import subprocess
import tempfile
import time

from .plan import WRITE_RW
from .util import stop_group

DEFAULT_PORT = 8765


class RemoteError(Exception):
    """One line naming the host, e.g. 'host 127.0.0.2:8766: engine ...'."""


# ---- hosts ----

def parse_host(spec):
    """"h", "h:port", "[v6addr]:port", "[v6addr]" or a bare v6 address
    -> (host, port); a bad spec raises ValueError saying why."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("empty --client host")
    s = spec.strip()
    port = None
    m = re.fullmatch(r"\[([0-9A-Fa-f:.%\w]+)\](?::(\w+))?", s)
    if m:
        host, port = m.group(1), m.group(2)
        if ":" not in host:
            raise ValueError("--client %r: brackets are for IPv6 addresses"
                             % spec)
    elif s.count(":") > 1:
        host = s            # a bare IPv6 address: the default port
    elif ":" in s:
        host, port = s.split(":", 1)
    else:
        host = s
    if not host or re.search(r"[\s,/\[\]]", host):
        raise ValueError("--client %r: bad host name %r" % (spec, host))
    if port is None:
        return host, DEFAULT_PORT
    if not re.fullmatch(r"\d{1,5}", port or "") or not \
            1 <= int(port) <= 65535:
        raise ValueError("--client %r: bad port %r (want 1-65535)"
                         % (spec, port))
    return host, int(port)


def host_key(host):
    """"HOST:PORT" ("[v6]:PORT"), the key of a host in results."""
    h, p = host if isinstance(host, tuple) else parse_host(host)
    return "[%s]:%d" % (h, p) if ":" in h else "%s:%d" % (h, p)


def _norm_hosts(hosts):
    out = []
    for h in hosts:
        t = h if isinstance(h, tuple) else parse_host(h)
        if t in out:
            raise ValueError("--client %s given twice" % host_key(t))
        out.append(t)
    if not out:
        raise ValueError("no --client host")
    return out


def _connect_str(host):
    """fio's connect string: ip:HOST,PORT or ip6:ADDR,PORT."""
    h, p = host
    return "%s:%s,%d" % ("ip6" if ":" in h else "ip", h, p)


# ---- job files ----

# Command-line options of fio that are not job options: never written
# into the job file (the client's own output options are set by run()).
_CLIENT_ONLY = {"output-format", "output", "readonly", "minimal",
                "terse-version", "eta", "eta-newline", "status-interval",
                "debug", "parse-only", "warnings-fatal", "max-jobs"}


def job_file_text(job_args):
    """`--key=value` options (the first --name= names the job) -> the
    text of a one-job fio job file.  Raises ValueError on a bad option."""
    name, lines, readonly, rw = None, [], False, None
    for a in job_args:
        if not isinstance(a, str) or not a.startswith("--"):
            raise ValueError("job option %r: want --key[=value]" % (a,))
        key, eq, val = a[2:].partition("=")
        if not key or "\n" in a:
            raise ValueError("job option %r: want --key[=value]" % a)
        if key == "readonly":
            readonly = True
            continue
        if key in _CLIENT_ONLY:
            continue
        if key == "name":
            if name is None:
                name = val
                continue
            raise ValueError("job options name two jobs (%r, %r): run() "
                             "runs one" % (name, val))
        if key == "rw" or key == "readwrite":
            rw = val
        lines.append("%s=%s" % (key, val) if eq else key)
    if readonly and rw in WRITE_RW:
        raise ValueError("--readonly job with rw=%s: it would write" % rw)
    if not name or re.search(r"[\[\]\s]", name):
        raise ValueError("job options need --name=NAME (no spaces or "
                         "brackets), got %r" % (name,))
    return "[%s]\n%s\n" % (name, "\n".join(lines))


# ---- running fio --client ----

def _run_client(fio, hosts, job_text, timeout):
    """fio --client=H1 job --client=H2 job ... -> (rc, stdout, stderr).

    The client runs in its own session; on timeout or Ctrl-C it gets
    SIGINT (it tells the servers to stop their jobs), then SIGKILL.
    """
    fd, path = tempfile.mkstemp(prefix="aior-remote-", suffix=".fio")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(job_text)
        cmd = [fio, "--output-format=json"]
        for h in hosts:
            cmd += ["--client=%s" % _connect_str(h), path]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(p)
            out, err = p.communicate()
            return None, out, (err or "") + "\nkilled after %.0f s" % timeout
        except BaseException:
            stop_group(p)
            p.communicate()
            raise
        return p.returncode, out, err
    finally:
        os.unlink(path)


def _split_output(text):
    """The client's stdout -> (JSON document or None, text lines before
    it with the "<hostname> " prefix removed)."""
    lines = (text or "").splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith("{")),
                 None)
    pre = [re.sub(r"^<[^>]*> ?", "", ln) for ln in
           (lines if start is None else lines[:start])]
    pre = [ln for ln in pre if ln.strip()]
    if start is None:
        return None, pre
    try:
        doc, _ = json.JSONDecoder().raw_decode("\n".join(lines[start:]))
    except ValueError:
        return None, pre
    return doc, pre


def _why(lines, err=""):
    """The most telling line of fio's messages (one line)."""
    cands = [ln.strip() for ln in lines] + [
        ln.strip() for ln in (err or "").splitlines()]
    for pat in (r"^libaioring:", r"error=", r"^fio: (?!job \S+ dropped)",
                r"."):
        for ln in cands:
            if ln and re.search(pat, ln):
                return ln
    return "no output"


def _entries(doc, hosts):
    """client_stats -> ({host tuple: entry}, fio's "All clients" entry)."""
    per, allc, rest = {}, None, []
    for e in (doc or {}).get("client_stats") or []:
        if e.get("jobname") == "All clients":
            allc = e
            continue
        key = (str(e.get("hostname")), int(e.get("port") or 0))
        if key in hosts and key not in per:
            per[key] = e
        else:
            rest.append(e)
    # A host reported under another name (a name that resolved, say):
    # match the leftovers by port, then in order.
    for h in hosts:
        if h in per:
            continue
        for e in rest:
            if int(e.get("port") or 0) == h[1]:
                per[h] = e
                rest.remove(e)
                break
    return per, allc


def _percentile_max(entries):
    """{dir: {lat kind: {pct: max over entries}}}."""
    out = {}
    for d in ("read", "write", "trim", "sync"):
        for kind in ("lat_ns", "clat_ns", "slat_ns"):
            merged = {}
            for e in entries:
                pct = ((e.get(d) or {}).get(kind) or {}).get("percentile")
                for k, v in (pct or {}).items():
                    merged[k] = max(merged.get(k, 0), v)
            if merged:
                out.setdefault(d, {})[kind] = merged
    return out


def aggregate(per_host, fio_all=None):
    """The "all" entry: fio's "All clients" entry (sums; usr/sys CPU
    averaged) or, without one, a copy of the single host's entry or sums
    computed the same way; percentiles: the max over hosts."""
    entries = list(per_host.values())
    if fio_all is not None:
        agg = json.loads(json.dumps(fio_all))
        agg["aggregate"] = "fio All clients; percentiles: max over hosts"
    elif len(entries) == 1:
        agg = json.loads(json.dumps(entries[0]))
        agg["aggregate"] = "one host"
    else:
        agg = {"jobname": "All clients", "error": 0,
               "aggregate": "computed: sums; usr/sys CPU averaged; "
                            "percentiles: max over hosts"}
        for k in ("job_runtime", "ctx", "majf", "minf"):
            agg[k] = sum(int(e.get(k) or 0) for e in entries)
        for k in ("usr_cpu", "sys_cpu"):
            agg[k] = sum(float(e.get(k) or 0) for e in entries) / len(entries)
        for d in ("read", "write", "trim", "sync"):
            dd = {}
            for k in ("io_bytes", "io_kbytes", "bw_bytes", "bw", "iops",
                      "total_ios", "short_ios", "drop_ios"):
                vals = [(e.get(d) or {}).get(k) for e in entries]
                if any(v is not None for v in vals):
                    dd[k] = sum(v or 0 for v in vals)
            dd["runtime"] = max(int((e.get(d) or {}).get("runtime") or 0)
                                for e in entries)
            agg[d] = dd
    for d, kinds in _percentile_max(entries).items():
        agg.setdefault(d, {})
        for kind, pct in kinds.items():
            agg[d].setdefault(kind, {})
            agg[d][kind] = dict(agg[d][kind], percentile=pct)
    agg["hosts"] = [host_key(h) for h in per_host]
    return agg


def run(fio, hosts, job_args, timeout, output=None):
    """Run one job (`--key=value` options) on every host at once.

    Returns {"HOST:PORT": job entry, ..., "all": aggregate}, each entry
    shaped like json.load(fio --output-format=json)["jobs"][0] under
    group_reporting.  Raises RemoteError naming the first host without a
    clean result, ValueError on bad job options.  If output is a dict it
    receives "cmd_hosts", "job", "stdout", "stderr", "rc".
    """
    hosts = _norm_hosts(hosts)
    if not any(a.startswith("--unique_filename") for a in job_args):
        # The same path on every host, never prefixed with its address.
        job_args = list(job_args) + ["--unique_filename=0"]
    text = job_file_text(job_args)
    rc, out, err = _run_client(fio, hosts, text, timeout)
    doc, lines = _split_output(out)
    if output is not None:
        output.update(cmd_hosts=[_connect_str(h) for h in hosts], job=text,
                      stdout=out, stderr=err, rc=rc)
    if rc is None:
        raise RemoteError("hosts %s: fio --client killed after %.0f s "
                          "(timeout)" % (", ".join(map(host_key, hosts)),
                                         timeout))
    per, allc = _entries(doc, hosts)
    for h in hosts:
        e = per.get(h)
        if e is None:
            raise RemoteError("host %s: no result (fio exit %d): %s"
                              % (host_key(h), rc, _why(lines, err)))
        if e.get("error"):
            raise RemoteError("host %s: fio job error %s (%s): %s" % (
                host_key(h), e["error"], os.strerror(int(e["error"])),
                _why(lines, err)))
    if rc != 0:
        raise RemoteError("hosts %s: fio --client exited %d: %s" % (
            ", ".join(map(host_key, hosts)), rc, _why(lines, err)))
    res = {host_key(h): per[h] for h in hosts}
    res["all"] = aggregate({h: per[h] for h in hosts},
                           allc if len(hosts) > 1 else None)
    return res


# ---- preflight ----

def _answers(host, timeout):
    """None if a TCP connection to host opens, else why not."""
    try:
        with socket.create_connection(host, timeout=timeout):
            return None
    except socket.timeout:
        return "no answer within %.0f s" % timeout
    except OSError as e:
        return e.strerror or str(e)


def preflight(fio, hosts, paths, target, timeout=10.0):
    """Before any run: every host answers as a fio server, can load every
    engine path in paths, and can open the target (when given), each
    checked on the host itself.  Raises RemoteError naming the host and
    what it lacks; returns None when all is well."""
    hosts = _norm_hosts(hosts)
    for h in hosts:
        why = _answers(h, timeout)
        if why:
            raise RemoteError("host %s: no fio server answers (%s); start "
                              "one there: fio --server=%s"
                              % (host_key(h), why, _connect_str(h)))
    # A tiny read-only job per check, one host at a time so that the
    # server's messages are that host's.  allow_file_create=0: a missing
    # target is an error, never created.
    base = ["--name=aior-preflight", "--rw=read", "--bs=4k", "--size=4k",
            "--io_size=4k", "--iodepth=1", "--allow_file_create=0",
            "--unique_filename=0"]
    for h in hosts:
        if target:
            _check(fio, h, base + ["--filename=%s" % target,
                                   "--ioengine=psync"],
                   timeout, "target %s" % target, "cannot be read")
        for p in paths or []:
            # Without a target the engine is tried on /dev/zero, which it
            # refuses at open: loaded is enough (fio reported the job).
            _check(fio, h, base + ["--filename=%s" % (target or "/dev/zero"),
                                   "--ioengine=external:%s" % p],
                   timeout, "engine %s" % p, "cannot be loaded",
                   loaded_is_enough=not target)


_NOT_FOUND = ("allow_file_create", "invalid external ioengine path",
              "No such file or directory")


def _check(fio, host, job_args, timeout, what, verb,
           loaded_is_enough=False):
    rc, out, err = _run_client(fio, [host], job_file_text(job_args),
                               timeout)
    doc, lines = _split_output(out)
    per, _ = _entries(doc, [host])
    e = per.get(host)
    if rc is None:
        raise RemoteError("host %s: no answer checking %s within %.0f s"
                          % (host_key(host), what, timeout))
    if e is not None and (loaded_is_enough or
                          (not e.get("error") and rc == 0)):
        return
    why = _why(lines, err)
    if any(t in why for t in _NOT_FOUND):
        verb = "not found there"
    if e is not None and e.get("error"):
        why = "%s (%s)" % (os.strerror(int(e["error"])), why)
    raise RemoteError("host %s: %s %s: %s" % (host_key(host), what, verb,
                                              why))


def wait_listening(host, timeout):
    """Wait up to timeout seconds for host to accept connections (for
    scripts that have just started a server).  True when it does."""
    host = host if isinstance(host, tuple) else parse_host(host)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if _answers(host, 0.5) is None:
            return True
        time.sleep(0.1)
    return False
