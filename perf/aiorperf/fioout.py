# SPDX-License-Identifier: BSD-3-Clause
"""fio's output: the JSON document, the engine's counter lines, and the
metrics of one run (IOPS, latency percentiles, CPU and context switches
per I/O).  Parses only; it runs nothing."""

import json
import re

from .plan import READ_RW


_STATS_RE = re.compile(r"^libaioring: job '([^']*)': (.*)$")
_KV_RE = re.compile(r"([A-Za-z_]+)=(\d+)")


def _engine_lines(out, err):
    """stdout's lines before the JSON document (fio's own log lines, and
    the engine's from a build that logged through fio, before
    engine_stats_file: an A/B may run one), then the engine's lines on
    stderr, where it writes them now."""
    pre = []
    for ln in (out or "").splitlines():
        if ln.startswith("{"):
            break
        pre.append(ln)
    return pre + [ln for ln in (err or "").splitlines()
                  if ln.startswith("libaioring:")]


def parse_fio_output(text, err=""):
    """fio's stdout and stderr -> (decoded JSON, engine stats dict|None,
    other lines).

    The engine's counters and notices are read from stderr (@err), and
    from stdout's lines before the JSON document (older builds, and fio's
    own log_info() lines); "other" is those lines minus the counters.
    """
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith("{")),
                 None)
    if start is None:
        raise ValueError("no JSON document in fio's output")
    body = "\n".join(lines[start:])
    data, _ = json.JSONDecoder().raw_decode(body)
    stats, other = None, []
    for ln in _engine_lines(text, err):
        m = _STATS_RE.match(ln)
        kvs = _KV_RE.findall(m.group(2)) if m else []
        if kvs:
            stats = stats or {}
            for k, v in kvs:
                stats[k] = stats.get(k, 0) + int(v)
        elif ln.strip():
            other.append(ln)
    return data, stats, other


def job_stats(out, err=""):
    """{job name: the engine's counters} from fio's stderr (@err: the
    lines the engine writes at cleanup) and, from older builds, stdout
    (@out) before the JSON document."""
    got = {}
    for ln in _engine_lines(out, err):
        m = _STATS_RE.match(ln)
        if m:
            d = got.setdefault(m.group(1), {})
            for key, v in _KV_RE.findall(m.group(2)):
                d[key] = d.get(key, 0) + int(v)
    return got


def _percentile(pct, want):
    for k, v in (pct or {}).items():
        try:
            if abs(float(k) - want) < 1e-6:
                return float(v)
        except ValueError:
            pass
    return None


def metrics_from_json(data, rw):
    """Metrics of one fio run (group_reporting: one jobs[] entry)."""
    jobs = data.get("jobs") or []
    if not jobs:
        raise ValueError("fio JSON has no jobs")
    dirs = ["read"] if rw in READ_RW else (
        ["write"] if rw in ("write", "randwrite") else ["read", "write"])
    m = {"iops": 0.0, "bw_kib": 0.0, "total_ios": 0, "ctx": 0,
         "cpu_s": 0.0, "usr_s": 0.0, "sys_s": 0.0, "runtime_ms": 0}
    lat_best, lat_ios = None, -1
    for j in jobs:
        if j.get("error"):
            raise ValueError("fio job %r reported error %s" % (
                j.get("jobname"), j.get("error")))
        run_s = float(j.get("job_runtime", 0)) / 1000.0
        usr = float(j.get("usr_cpu", 0)) / 100.0 * run_s
        sys_ = float(j.get("sys_cpu", 0)) / 100.0 * run_s
        m["usr_s"] += usr
        m["sys_s"] += sys_
        m["cpu_s"] += usr + sys_
        m["ctx"] += int(j.get("ctx", 0))
        m["runtime_ms"] = max(m["runtime_ms"], int(j.get("job_runtime", 0)))
        for d in dirs:
            dd = j.get(d) or {}
            m["iops"] += float(dd.get("iops", 0))
            m["bw_kib"] += float(dd.get("bw", 0))
            ios = int(dd.get("total_ios", 0))
            m["total_ios"] += ios
            if ios > lat_ios:
                lat_best, lat_ios = dd.get("lat_ns", {}).get("percentile"), ios
    if m["total_ios"] <= 0:
        raise ValueError("fio completed no I/O")
    m["lat_p50_ns"] = _percentile(lat_best, 50.0)
    m["lat_p99_ns"] = _percentile(lat_best, 99.0)
    m["lat_p999_ns"] = _percentile(lat_best, 99.9)
    n = m["total_ios"]
    m["cpu_us_per_io"] = m["cpu_s"] * 1e6 / n
    m["usr_us_per_io"] = m["usr_s"] * 1e6 / n
    m["sys_us_per_io"] = m["sys_s"] * 1e6 / n
    m["ctx_per_io"] = m["ctx"] / n
    return m
