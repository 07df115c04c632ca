# SPDX-License-Identifier: BSD-3-Clause
"""Statistics, cell keys, floors files and the regression gate of compare.py.

Everything here is pure (no fio, no files but the floors file), so that
perf/tests can feed it fabricated samples.

A *sample* is one fio run: a dict with at least
    cell    -- cell key, "randread/4k/qd32/j1" or "randread/4k/qd32/j1/files64"
    config  -- "aioring", "libaio", "libaio-ur", "io_uring", ...
    round   -- 1-based round number
    ok      -- True when the run succeeded and its metrics are valid
and the metric values named in METRICS (iops, lat_p50_ns, ...).

A *floors file* maps cell keys to one floor or a list of floors:
    {"randread/4k/qd32/j1": [
        {"vs": "libaio", "min_ratio": 1.75},
        {"vs": "io_uring", "min_ratio": 1.0}],
     "randread/4k/qd1/j1": {"vs": "libaio", "metric": "p50", "max_ratio": 1.0},
     "randread/4k/qd32/j1/files64": {"vs": "aioring-1file", "min_ratio": 0.9}}
Keys starting with "_" are comments.  A floor may also carry "config"
(the subject, default "aioring"), "measured" and "basis" (informational).
"""

import math
import re
import statistics

# Gate metric name -> (sample key, True when higher is better).
METRICS = {
    "iops": ("iops", True),
    "bw": ("bw_kib", True),
    "p50": ("lat_p50_ns", False),
    "p99": ("lat_p99_ns", False),
    "p99.9": ("lat_p999_ns", False),
    "cpu_per_io": ("cpu_us_per_io", False),
    "ctx_per_io": ("ctx_per_io", False),
}

# A side whose coefficient of variation over rounds exceeds this is too
# noisy to judge a floor with.
DEFAULT_MAX_COV = 0.10

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"

_CELL_RE = re.compile(
    r"^(?P<rw>[a-z]+)/(?P<bs>\d+[kKmM]?)/qd(?P<qd>\d+)/j(?P<jobs>\d+)"
    r"(?:/files(?P<files>\d+))?$")


# ---- statistics ----

def median(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def cov(values):
    """Coefficient of variation (sample stdev / mean); None below 2 values."""
    vals = [v for v in values if v is not None]
    if len(vals) < 2:
        return None
    mean = statistics.fmean(vals)
    if mean == 0:
        return 0.0 if all(v == 0 for v in vals) else math.inf
    return statistics.stdev(vals) / abs(mean)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


# ---- cell keys ----

def cell_key(rw, bs, qd, jobs, files=1):
    key = "%s/%s/qd%d/j%d" % (rw, bs, qd, jobs)
    if files > 1:
        key += "/files%d" % files
    return key


def parse_cell_key(key):
    """"randread/4k/qd32/j1[/files64]" -> dict(rw, bs, qd, jobs, files)."""
    m = _CELL_RE.match(key)
    if not m:
        raise ValueError("bad cell key %r (want e.g. randread/4k/qd32/j1 "
                         "or randread/4k/qd32/j1/files64)" % key)
    return {"rw": m.group("rw"), "bs": m.group("bs").lower(),
            "qd": int(m.group("qd")), "jobs": int(m.group("jobs")),
            "files": int(m.group("files") or 1)}


def base_cell(key):
    """The 1-file cell a files<N> cell is compared with."""
    c = parse_cell_key(key)
    return cell_key(c["rw"], c["bs"], c["qd"], c["jobs"])


def reference_of(cell, vs):
    """(cell, config) a floor's "vs" names.

    "<config>-1file" means that config in the same cell with one file.
    """
    if vs.endswith("-1file"):
        return base_cell(cell), vs[:-len("-1file")]
    return cell, vs


# ---- floors files ----

def normalize_floors(data):
    """Validate a decoded floors file; return a flat list of floor dicts.

    Raises ValueError naming the cell and the problem.
    """
    if not isinstance(data, dict):
        raise ValueError("floors file must be a JSON object of cell -> floor")
    out = []
    for cell, spec in data.items():
        if cell.startswith("_"):
            continue
        parse_cell_key(cell)
        specs = spec if isinstance(spec, list) else [spec]
        if not specs:
            raise ValueError("%s: empty floor list" % cell)
        for f in specs:
            if not isinstance(f, dict):
                raise ValueError("%s: a floor must be an object" % cell)
            vs = f.get("vs")
            if not isinstance(vs, str) or not vs:
                raise ValueError("%s: floor without \"vs\"" % cell)
            metric = f.get("metric", "iops")
            if metric not in METRICS:
                raise ValueError("%s: unknown metric %r (known: %s)" % (
                    cell, metric, ", ".join(sorted(METRICS))))
            has_min, has_max = "min_ratio" in f, "max_ratio" in f
            if has_min == has_max:
                raise ValueError("%s: give exactly one of min_ratio and "
                                 "max_ratio" % cell)
            kind = "min" if has_min else "max"
            val = f["min_ratio" if has_min else "max_ratio"]
            if (not isinstance(val, (int, float)) or isinstance(val, bool)
                    or not val > 0):
                raise ValueError("%s: %s_ratio must be a number > 0, not %r"
                                 % (cell, kind, val))
            config = f.get("config", "aioring")
            ref_cell, ref_cfg = reference_of(cell, vs)
            if (ref_cell, ref_cfg) == (cell, config):
                raise ValueError("%s: floor compares %s with itself"
                                 % (cell, config))
            out.append({"cell": cell, "config": config, "vs": vs,
                        "metric": metric, "kind": kind,
                        "floor": float(val), "ref_cell": ref_cell,
                        "ref_config": ref_cfg})
    return out


def needed_runs(floors):
    """The (cell, config) pairs a floors list needs measured."""
    need = []
    for f in floors:
        for pair in ((f["cell"], f["config"]),
                     (f["ref_cell"], f["ref_config"])):
            if pair not in need:
                need.append(pair)
    return need


# ---- the gate ----

def _values_by_round(samples, cell, config, key):
    out = {}
    for s in samples:
        if (s.get("cell") == cell and s.get("config") == config
                and s.get("ok") and s.get(key) is not None):
            out[s["round"]] = float(s[key])
    return out


def judge(floor, subj, ref, max_cov=DEFAULT_MAX_COV):
    """Judge one floor given {round: value} maps of subject and reference.

    Returns (verdict, details dict).  Inconclusive when either side is
    missing, fewer than 2 rounds pair up, either side's CoV exceeds
    max_cov, or the per-round ratios fall on both sides of the floor;
    then FAIL when the ratio of medians misses the floor, else PASS.
    """
    d = {"ratio": None, "lo": None, "hi": None, "n": 0,
         "cov_subject": cov(subj.values()), "cov_ref": cov(ref.values()),
         "subject_median": median(subj.values()),
         "ref_median": median(ref.values())}
    if not subj or not ref:
        side = "subject" if not subj else "reference"
        return INCONCLUSIVE, dict(d, reason="%s not measured" % side)
    d["ratio"] = ratio(d["subject_median"], d["ref_median"])
    rounds = sorted(r for r in subj if r in ref and ref[r] != 0)
    per_round = [subj[r] / ref[r] for r in rounds]
    d["n"] = len(per_round)
    if per_round:
        d["lo"], d["hi"] = min(per_round), max(per_round)
    if d["ratio"] is None:
        return INCONCLUSIVE, dict(d, reason="reference median is zero")
    if len(per_round) < 2:
        return INCONCLUSIVE, dict(d, reason="%d paired round(s); need 2"
                                  % len(per_round))
    noisy = [name for name, c in (("subject", d["cov_subject"]),
                                  ("reference", d["cov_ref"]))
             if c is not None and c > max_cov]
    if noisy:
        return INCONCLUSIVE, dict(d, reason="CoV of %s > %.0f%%" % (
            " and ".join(noisy), max_cov * 100))
    f = floor["floor"]
    if floor["kind"] == "min":
        ok = [r >= f for r in per_round]
        passed = d["ratio"] >= f
    else:
        ok = [r <= f for r in per_round]
        passed = d["ratio"] <= f
    if any(ok) and not all(ok):
        return INCONCLUSIVE, dict(d, reason="per-round ratios %.3f..%.3f "
                                  "straddle the floor" % (d["lo"], d["hi"]))
    if not passed:
        return FAIL, dict(d, reason="ratio %.3f %s %.3f" % (
            d["ratio"], "<" if floor["kind"] == "min" else ">", f))
    return PASS, dict(d, reason="")


def evaluate_gate(floors, samples, max_cov=DEFAULT_MAX_COV):
    """Judge every floor (as returned by normalize_floors) on samples."""
    results = []
    for f in floors:
        key = METRICS[f["metric"]][0]
        subj = _values_by_round(samples, f["cell"], f["config"], key)
        ref = _values_by_round(samples, f["ref_cell"], f["ref_config"], key)
        verdict, d = judge(f, subj, ref, max_cov)
        results.append(dict(f, verdict=verdict, **d))
    return results


def gate_exit_code(results, strict=False):
    """1 if a floor failed; 3 if one was inconclusive under strict; else 0."""
    verdicts = {r["verdict"] for r in results}
    if FAIL in verdicts:
        return 1
    if strict and INCONCLUSIVE in verdicts:
        return 3
    return 0
