# SPDX-License-Identifier: BSD-3-Clause
"""Floors files, the floors gate, the A/B and the count verdicts (cell
keys live in plan.py).

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

A count floor is a ceiling on an exact count per request of the subject
(counts.py, system calls by kind), which does not depend on the runner:
    {"count": "sys_submit", "max_per_io": 0.05}
The floors at the top level judge on every runner: they are the portable
ones.  Timed ratios to another engine depend on the machine (machine.py),
so the floors measured on one runner class live under "runner_classes":
    "runner_classes": [{"runner": {<machine.runner_class()>},
                        "fio_version": "fio-3.33", "recorded": {...},
                        "floors": {<cell>: <floor or list>, ...}}]
and judge only on that class with that fio, in the run mode they were
measured in ("run_mode": "solo", or "co-run": the engine and its anchors
in one fio on one CPU); elsewhere each is reported OTHER CLASS, with the
command that records this class's own (perf/compare.py floors --record), never
as a failure.  "co_run_cells" lists the cells a gate co-runs (each shown
to agree with solo runs by `compare.py corun-check`): see co_run_cells.
"""

from .machine import differences
from .plan import parse_cell_key, reference_of
from .stats import (DEFAULT_LEVEL, LOOKS, MIN_ROUNDS, cov,
                    median, paired_trimmed_ci, trimmed_log_ci,
                    paired_ratio_ci, ratio, ratio_ci)

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

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
OTHER_CLASS = "OTHER CLASS"
# Count floors: the counts.py key -> what it is.
COUNT_FLOORS = {
    "sys_submit": "io_submit calls",
    "sys_getevents": "io_getevents calls",
    "sys_other": "other system calls",
    "sys_total": "system calls",
}
RECORD_CMD = ("python3 perf/compare.py floors --record %s RESULTS.json... "
              "(the results.json of runs on this runner class)")

# ---- floors files ----

def normalize_floors(data):
    """Validate a decoded floors file; return a flat list of floor dicts,
    the portable ones first, then each runner class's (with "runner",
    "fio_version" and "class_index" of their class).

    Raises ValueError naming the cell and the problem.
    """
    if not isinstance(data, dict):
        raise ValueError("floors file must be a JSON object of cell -> floor")
    out = _cell_floors(data, "")
    classes = data.get("runner_classes", [])
    if not isinstance(classes, list):
        raise ValueError("\"runner_classes\" must be a list")
    for i, rc in enumerate(classes):
        where = "runner_classes[%d]" % i
        if not isinstance(rc, dict) or not isinstance(rc.get("runner"),
                                                      dict):
            raise ValueError("%s: needs a \"runner\" object (the class "
                             "the floors were measured on)" % where)
        if not isinstance(rc.get("floors"), dict):
            raise ValueError("%s: needs a \"floors\" object" % where)
        for f, raw in zip(_cell_floors(rc["floors"], where + ": "),
                          _raw_floors(rc["floors"])):
            out.append(dict(f, runner=rc["runner"], class_index=i,
                            fio_version=rc.get("fio_version"),
                            run_mode=raw.get("run_mode", "solo")))
    co_run_cells(data)
    return out


def co_run_cells(data):
    """The cells a floors file's gate co-runs with the anchors (its
    "co_run_cells"); raises ValueError on a bad list."""
    cells = data.get("co_run_cells", [])
    if not isinstance(cells, list):
        raise ValueError("\"co_run_cells\" must be a list of cell keys")
    for c in cells:
        parse_cell_key(c)
    return list(cells)


def _raw_floors(table):
    """The floor objects of a cell table, in _cell_floors' order."""
    return [f for cell, spec in table.items() if not cell.startswith("_")
            for f in (spec if isinstance(spec, list) else [spec])]


def _cell_floors(data, where):
    out = []
    for cell, spec in data.items():
        if cell.startswith("_") or (not where and cell in (
                "runner_classes", "co_run_cells")):
            continue
        parse_cell_key(cell)
        specs = spec if isinstance(spec, list) else [spec]
        if not specs:
            raise ValueError("%s%s: empty floor list" % (where, cell))
        for f in specs:
            if not isinstance(f, dict):
                raise ValueError("%s%s: a floor must be an object"
                                 % (where, cell))
            out.append(_count_floor(f, cell, where) if "count" in f
                       else _ratio_floor(f, cell, where))
    return out


def _count_floor(f, cell, where):
    key, val = f["count"], f.get("max_per_io")
    if key not in COUNT_FLOORS:
        raise ValueError("%s%s: unknown count %r (known: %s)" % (
            where, cell, key, ", ".join(COUNT_FLOORS)))
    if (not isinstance(val, (int, float)) or isinstance(val, bool)
            or val < 0):
        raise ValueError("%s%s: count %s needs \"max_per_io\", a number "
                         ">= 0, not %r" % (where, cell, key, val))
    return {"cell": cell, "config": f.get("config", "aioring"),
            "vs": None, "metric": key, "kind": "ceiling",
            "floor": float(val), "ref_cell": None, "ref_config": None}


def _ratio_floor(f, cell, where):
    vs = f.get("vs")
    if not isinstance(vs, str) or not vs:
        raise ValueError("%s%s: floor without \"vs\"" % (where, cell))
    metric = f.get("metric", "iops")
    if metric not in METRICS:
        raise ValueError("%s%s: unknown metric %r (known: %s)" % (
            where, cell, metric, ", ".join(sorted(METRICS))))
    has_min, has_max = "min_ratio" in f, "max_ratio" in f
    if has_min == has_max:
        raise ValueError("%s%s: give exactly one of min_ratio and "
                         "max_ratio" % (where, cell))
    kind = "min" if has_min else "max"
    val = f["min_ratio" if has_min else "max_ratio"]
    if (not isinstance(val, (int, float)) or isinstance(val, bool)
            or not val > 0):
        raise ValueError("%s%s: %s_ratio must be a number > 0, not %r"
                         % (where, cell, kind, val))
    config = f.get("config", "aioring")
    ref_cell, ref_cfg = reference_of(cell, vs)
    if (ref_cell, ref_cfg) == (cell, config):
        raise ValueError("%s%s: floor compares %s with itself"
                         % (where, cell, config))
    return {"cell": cell, "config": config, "vs": vs,
            "metric": metric, "kind": kind,
            "floor": float(val), "ref_cell": ref_cell,
            "ref_config": ref_cfg}


def place_floors(floors, runner, fio_version, gate_file="FLOORS.json",
                 corun=()):
    """Mark which floors judge here: the portable ones, and those of the
    runner class @runner (with @fio_version, and measured solo, or
    co-run in the cells of @corun, as this run will); every other
    class's get "elsewhere", the phrases saying how its class differs."""
    out = []
    for f in floors:
        if "runner" not in f:
            out.append(dict(f, elsewhere=None))
            continue
        diff = differences(runner, f["runner"], "here", "recorded")
        if f.get("fio_version") and fio_version != f["fio_version"]:
            diff.append("fio %s here, %s recorded" % (fio_version,
                                                      f["fio_version"]))
        mode = "co-run" if f["cell"] in corun else "solo"
        if f.get("run_mode", "solo") != mode:
            diff.append("a %s run here, %s recorded" % (mode,
                                                       f["run_mode"]))
        out.append(dict(f, elsewhere=diff or None,
                        record_cmd=RECORD_CMD % gate_file if diff else None))
    return out


def judged_here(floors, timed_only=False):
    """The floors that judge on this runner (place_floors), optionally
    only the timed ones (count floors are judged after the rounds)."""
    return [f for f in floors if not f.get("elsewhere") and not (
        timed_only and f["kind"] == "ceiling")]


def needed_runs(floors):
    """The (cell, config) pairs a floors list needs measured."""
    need = []
    for f in floors:
        if f["kind"] == "ceiling":
            continue
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
                and s.get("ok") and s.get(key) is not None
                and not s.get("dropped")):
            out[s["round"]] = float(s[key])
    return out


# A floor is judged by the interval of its ratio, not by how noisy each
# side is: per round r_i = subject_i / reference_i (both ran in that
# round, so a slow moment hits both); the interval is stats.trimmed_log_ci
# at DEFAULT_LEVEL (90%; below 10 rounds no round is trimmed: a plain t
# interval on log-ratios).  For a min_ratio floor f:
#   PASS          the interval's lower end clears f (lo >= f);
#   FAIL          its upper end is below f (hi < f);
#   INCONCLUSIVE  it straddles f, or fewer than 3 rounds pair up.
# A max_ratio floor mirrors it (PASS when hi <= f, FAIL when lo > f).
# Each is a one-sided test at 5%.  A noisy round widens the interval, so
# a floor far from the ratio is still decided by a noisy run, and one
# close to it needs more rounds: the noise is weighed against the margin.
FLOOR_MIN_ROUNDS = 3


def judge(floor, subj, ref, level=DEFAULT_LEVEL):
    """Judge one floor given {round: value} maps of subject and reference.

    Returns (verdict, details dict): ratio (of the medians), estimate,
    lo, hi (the interval of the per-round ratios), n, and each side's
    median and CoV (informational).
    """
    d = {"ratio": None, "estimate": None, "lo": None, "hi": None, "n": 0,
         "level": level,
         "cov_subject": cov(subj.values()), "cov_ref": cov(ref.values()),
         "subject_median": median(subj.values()),
         "ref_median": median(ref.values())}
    if not subj or not ref:
        side = "subject" if not subj else "reference"
        return INCONCLUSIVE, dict(d, reason="%s not measured" % side)
    d["ratio"] = ratio(d["subject_median"], d["ref_median"])
    rounds = sorted(r for r in subj if r in ref and ref[r] > 0
                    and subj[r] > 0)
    per_round = [subj[r] / ref[r] for r in rounds]
    d["n"] = len(per_round)
    if len(per_round) < FLOOR_MIN_ROUNDS:
        return INCONCLUSIVE, dict(d, reason="%d paired round(s); need %d"
                                  % (len(per_round), FLOOR_MIN_ROUNDS))
    d["estimate"], d["lo"], d["hi"] = trimmed_log_ci(per_round, level)
    f, lo, hi = floor["floor"], d["lo"], d["hi"]
    if floor["kind"] == "min":
        passed, failed = lo >= f, hi < f
    else:
        passed, failed = hi <= f, lo > f
    if passed:
        return PASS, dict(d, reason="")
    if failed:
        return FAIL, dict(d, reason="interval %.3f..%.3f %s %.3f" % (
            lo, hi, "<" if floor["kind"] == "min" else ">", f))
    return INCONCLUSIVE, dict(d, reason="interval %.3f..%.3f straddles "
                              "the floor" % (lo, hi))


def judge_count(floor, values):
    """Judge a count floor on the repeats of its count (per request).

    Exact counts do not move with the machine's speed, so there is no
    interval: PASS when every repeat is at or below the ceiling, FAIL
    when one is above (a run that made more calls than allowed), and
    INCONCLUSIVE only when nothing was counted.
    """
    vals = [v for v in values if v is not None]
    d = {"ratio": max(vals) if vals else None,
         "lo": min(vals) if vals else None,
         "hi": max(vals) if vals else None, "n": len(vals),
         "estimate": None, "level": None, "values": vals,
         "cov_subject": None, "cov_ref": None,
         "subject_median": median(vals) if vals else None,
         "ref_median": None}
    if not vals:
        return INCONCLUSIVE, dict(d, reason="not counted")
    over = [v for v in vals if v > floor["floor"]]
    if over:
        return FAIL, dict(d, reason="%.4g per request > %.4g in %d of %d "
                          "repeat(s)" % (max(over), floor["floor"],
                                         len(over), len(vals)))
    return PASS, dict(d, reason="")


def evaluate_gate(floors, samples, level=DEFAULT_LEVEL, count_rows=None):
    """Judge every floor (as returned by normalize_floors, perhaps
    placed by place_floors) on samples and, for count floors, on
    count_rows (counts.run_counts' rows)."""
    results = []
    for f in floors:
        if f.get("elsewhere"):
            results.append(dict(
                f, verdict=OTHER_CLASS, ratio=None, lo=None, hi=None, n=0,
                estimate=None, level=None, cov_subject=None, cov_ref=None,
                reason="measured on another runner class: %s; %s" % (
                    "; ".join(f["elsewhere"]), f["record_cmd"])))
            continue
        if f["kind"] == "ceiling":
            vals = [r.get(f["metric"]) for r in count_rows or ()
                    if r["cell"] == f["cell"] and r["config"] == f["config"]]
            verdict, d = judge_count(f, vals)
        else:
            key = METRICS[f["metric"]][0]
            subj = _values_by_round(samples, f["cell"], f["config"], key)
            ref = _values_by_round(samples, f["ref_cell"], f["ref_config"],
                                   key)
            verdict, d = judge(f, subj, ref, level)
            d["corun"] = corun_in(samples, f["cell"], f["config"])
            if key.startswith("lat_") and d["corun"]:
                verdict, d = INCONCLUSIVE, dict(d, reason=(
                    "latency is not judged in a co-run: each one's "
                    "requests wait out the others' time slices"))
        results.append(dict(f, verdict=verdict, **d))
    return results


# ---- A/B verdicts: one build against another, and against a baseline ----
#
# For each cell and metric the ratio head/base (see stats.py for the
# estimate and its confidence interval) is judged against a threshold t
# (--max-regression).  "Worse" means lower IOPS, or higher p99 latency or
# CPU per I/O.  With the interval [lo, hi] and the estimate e:
#   REGRESSION   e is worse than the threshold (e < 1-t for IOPS, e > 1+t
#                for p99/CPU) and the whole interval is on the worse side
#                of 1 (hi < 1, resp. lo > 1): a real and large loss;
#   IMPROVEMENT  the mirror image;
#   NO CHANGE    the whole interval lies inside [1-t, 1+t]: any change is
#                smaller than the threshold;
#   INCONCLUSIVE anything else (the interval is too wide to tell), and
#                fewer than MIN_ROUNDS paired rounds.
# A build compared with itself is called a regression only when the
# interval excludes 1 and the estimate is past the threshold, which noise
# alone rarely produces; the sensitivity study (docs/perf/) measures how
# rarely, and how large a loss is caught.

REGRESSION, IMPROVEMENT, NO_CHANGE = "REGRESSION", "IMPROVEMENT", "NO CHANGE"

# A/B metric name -> (sample key, True when higher is better, label).
AB_METRICS = {
    "iops": ("iops", True, "IOPS"),
    "p99": ("lat_p99_ns", False, "p99 latency"),
    "cpu": ("cpu_us_per_io", False, "CPU per I/O"),
}
DEFAULT_AB_METRICS = ("iops", "p99", "cpu")
# Default --max-regression per metric (fractions).  Tail latency and CPU
# accounting move more from run to run than IOPS do.
# IOPS is judged at 3%, so that a 5% loss is past the threshold with
# room to spare where the rounds are steady: on a quiet machine whose
# per-round ratio of a build to itself spreads about 3% (IOPS, 1-2 s
# runs), 32 clean rounds give an interval of about +-1.5% and identical
# builds come out NO CHANGE.  On a noisy VM the same ratio spreads
# 14-23% when the builds run one after the other (this project's 2-vCPU
# runner, idle inside, 2026-12-05), and 1-3% when they co-run on one CPU
# (run.run_corun), where 6-14 rounds decide a 5% loss and identical
# builds come out NO CHANGE
# (docs/perf/runs/2026-12-05-347eab4-sensitivity/sensitivity.md).
# CPU per I/O too: when other tenants take CPU time, IOPS swing with them
# but the CPU a request costs moves far less (identical builds under a
# load of 5 on 2 vCPUs, 15 rounds: IOPS interval +-12%, CPU per I/O
# +-4%).
DEFAULT_THRESHOLDS = {"iops": 0.03, "p99": 0.10, "cpu": 0.03}


def parse_thresholds(text, metrics=DEFAULT_AB_METRICS):
    """"3%" / "0.03" / "3" (all metrics) or "iops=3%,p99=10%" -> dict.

    Metrics not named keep DEFAULT_THRESHOLDS.  Raises ValueError.
    """
    out = dict(DEFAULT_THRESHOLDS)

    def one(v):
        v = v.strip()
        pct = v.endswith("%")
        try:
            x = float(v[:-1] if pct else v)
        except ValueError:
            raise ValueError("--max-regression %r: not a number (e.g. 3%%, "
                             "iops=3%%,p99=10%%)" % text)
        if pct or x >= 1:
            x /= 100.0
        if not 0 < x < 1:
            raise ValueError("--max-regression %r: must be between 0 and "
                             "100%%" % text)
        return x
    parts = [t for t in text.split(",") if t.strip()]
    if not parts:
        raise ValueError("--max-regression is empty")
    for part in parts:
        if "=" in part:
            k, v = part.split("=", 1)
            k = k.strip()
            if k not in AB_METRICS:
                raise ValueError("--max-regression: unknown metric %r "
                                 "(known: %s)" % (k, ", ".join(AB_METRICS)))
            out[k] = one(v)
        else:
            x = one(part)
            for k in metrics:
                out[k] = x
    return out


def ab_verdict(est, lo, hi, n, higher_better, threshold,
               min_rounds=MIN_ROUNDS):
    """(verdict, reason) of one A/B comparison; see the table above."""
    if n < min_rounds or est is None or lo is None:
        return INCONCLUSIVE, "%d paired round(s); need %d" % (n, min_rounds)
    t = threshold
    ch = (est - 1) * 100
    ci = "CI %.3f..%.3f" % (lo, hi)
    if higher_better:
        worse_past, worse_sure = est < 1 - t, hi < 1
        better_past, better_sure = est > 1 + t, lo > 1
    else:
        worse_past, worse_sure = est > 1 + t, lo > 1
        better_past, better_sure = est < 1 - t, hi < 1
    if worse_past and worse_sure:
        return REGRESSION, "%+.1f%%, %s beyond the %.0f%% threshold" % (
            ch, ci, t * 100)
    if better_past and better_sure:
        return IMPROVEMENT, "%+.1f%%, %s" % (ch, ci)
    if lo >= 1 - t and hi <= 1 + t:
        return NO_CHANGE, ""
    if worse_sure or better_sure:
        return INCONCLUSIVE, "%+.1f%%, %s: a change, but not clearly past " \
            "the %.0f%% threshold" % (ch, ci, t * 100)
    return INCONCLUSIVE, "%+.1f%%, %s: wider than +-%.0f%% and not clear " \
        "of 1" % (ch, ci, t * 100)


def _by_round(samples, cell, config, key, host=None):
    """{round: value}; rounds dropped for foreign load are left out."""
    out = {}
    for s in samples:
        if (s.get("cell") == cell and s.get("config") == config
                and s.get("ok") and s.get(key) is not None
                and not s.get("dropped")
                and (host is None or s.get("host", "local") == host)):
            out[s["round"]] = float(s[key])
    return out


def evaluate_ab(samples, cells, base, heads, metrics=DEFAULT_AB_METRICS,
                thresholds=None, level=DEFAULT_LEVEL, host=None,
                sequential=False):
    """Judge every head config against base, per cell and metric.

    sequential: the statistic of the sequential A/B (stats.py: trimmed
    mean of log-ratios, Yuen's interval at @level, at least LOOKS[0]
    rounds); else the bootstrap of the median of a fixed number of rounds.
    """
    thresholds = thresholds or DEFAULT_THRESHOLDS
    out = []
    for cell in cells:
        for head in heads:
            for m in metrics:
                key, hb, label = AB_METRICS[m]
                if key.startswith("lat_") and corun_in(samples, cell,
                                                       head):
                    continue        # a co-run's latency is the others' too
                h = _by_round(samples, cell, head, key, host)
                b = _by_round(samples, cell, base, key, host)
                if not h and not b:
                    continue        # neither ran here (e.g. a files cell)
                if sequential:
                    st = paired_trimmed_ci(h, b, level)
                else:
                    st = paired_ratio_ci(h, b, level, seed="%s|%s|%s|%s"
                                         % (cell, head, base, m))
                v, why = ab_verdict(st["estimate"], st["lo"], st["hi"],
                                    st["n"], hb, thresholds[m],
                                    LOOKS[0] if sequential else MIN_ROUNDS)
                out.append({
                    "kind": "ab", "cell": cell, "config": head, "vs": base,
                    "metric": m, "label": label, "host": host or "local",
                    "higher_better": hb, "threshold": thresholds[m],
                    "verdict": v, "reason": why,
                    "estimate": st["estimate"], "lo": st["lo"],
                    "hi": st["hi"], "level": level, "n": st["n"],
                    "ratios": st["ratios"],
                    "ratio_of_medians": st["ratio_of_medians"],
                    "subject_median": median(h.values()),
                    "ref_median": median(b.values())})
    return out


def corun_in(samples, cell, config):
    """True when @config ran co-run in @cell (run.run_corun)."""
    return any(s.get("corun") for s in samples
               if s.get("cell") == cell and s.get("config") == config)


def normalised(samples, cell, config, key, ref="libaio", host=None):
    """{round: config / ref} of one run (both measured in that round)."""
    return dict(paired_ratio_pairs(_by_round(samples, cell, config, key,
                                             host),
                                   _by_round(samples, cell, ref, key, host)))


def paired_ratio_pairs(a, b):
    return [(r, a[r] / b[r]) for r in sorted(a) if r in b and b[r]]


def evaluate_baseline(samples, base_samples, cells, pairs,
                      metrics=DEFAULT_AB_METRICS, thresholds=None,
                      level=DEFAULT_LEVEL, ref="libaio", host=None,
                      base_host=None):
    """Judge this run against a stored baseline run.

    pairs: [(config in this run, config in the baseline)].  Each run is
    normalised by its own interleaved ref (built-in libaio): per round,
    config / ref; the two runs' normalised values are then compared
    unpaired (stats.ratio_ci), and judged as an A/B comparison.
    """
    thresholds = thresholds or DEFAULT_THRESHOLDS
    out = []
    for cell in cells:
        for cur, old in pairs:
            for m in metrics:
                key, hb, label = AB_METRICS[m]
                a = normalised(samples, cell, cur, key, ref, host)
                b = normalised(base_samples, cell, old, key, ref, base_host)
                if not a and not b:
                    continue
                st = ratio_ci(list(a.values()), list(b.values()), level,
                              seed="%s|%s|%s|%s" % (cell, cur, old, m))
                v, why = ab_verdict(st["estimate"], st["lo"], st["hi"],
                                    st["n"], hb, thresholds[m])
                if not a or not b:
                    v, why = INCONCLUSIVE, "%s not measured (with %s)" % (
                        "this run" if not a else "the baseline", ref)
                out.append({
                    "kind": "baseline", "cell": cell, "config": cur,
                    "vs": "baseline:" + old, "metric": m, "label": label,
                    "host": host or "local", "higher_better": hb,
                    "threshold": thresholds[m], "verdict": v,
                    "reason": why, "estimate": st["estimate"],
                    "lo": st["lo"], "hi": st["hi"], "level": level,
                    "n": st["n"], "ratio_of_medians": st["ratio_of_medians"],
                    "subject_median": median(a.values()),
                    "ref_median": median(b.values())})
    return out


def verdicts_exit_code(results, strict=False):
    """1 on a FAIL or REGRESSION; 3 on INCONCLUSIVE under strict; else 0."""
    verdicts = {r["verdict"] for r in results}
    if FAIL in verdicts or REGRESSION in verdicts:
        return 1
    if strict and INCONCLUSIVE in verdicts:
        return 3
    return 0


# ---- count verdicts: exact per-request costs (counts.py) ----
#
# A count (instructions, system calls, context switches per request) is
# taken REPS times per build in the same run.  Its noise fence is the
# A/A spread: the largest max - min over the repeats of any one build.
# With b and h the medians of base and head, and the change allowed
# a = max(threshold x b, floor):
#   INCONCLUSIVE  the fence is wider than a / 2: the count moves between
#                 identical runs too much to judge a change of size a;
#   NO CHANGE     |h - b| <= a;
#   REGRESSION    h - b > a (every count is a cost: more is worse);
#   IMPROVEMENT   b - h > a.
# Because the fence is at most a / 2, a verdict past a is at least twice
# the spread identical runs showed.

def count_verdict(base, head, threshold, floor):
    """(verdict, details) of one count: base and head are the repeats."""
    base = [v for v in base if v is not None]
    head = [v for v in head if v is not None]
    if not base or not head:
        return INCONCLUSIVE, {"reason": "%s not counted" % (
            "base" if not base else "head")}
    b, h = median(base), median(head)
    fence = max(max(base) - min(base), max(head) - min(head))
    allowed = max(threshold * abs(b), floor)
    d = {"base_value": b, "head_value": h, "fence": fence,
         "allowed": allowed, "estimate": ratio(h, b) if b else None,
         "delta": h - b, "reps": min(len(base), len(head))}
    if min(len(base), len(head)) < 2:
        return INCONCLUSIVE, dict(d, reason="one repeat: no A/A spread")
    if fence > allowed / 2:
        return INCONCLUSIVE, dict(d, reason=(
            "A/A spread %.4g is over half the change allowed (%.4g)"
            % (fence, allowed)))
    if abs(h - b) <= allowed:
        return NO_CHANGE, dict(d, reason="")
    if h > b:
        return REGRESSION, dict(d, reason="%+.4g per request (allowed "
                                "%.4g; A/A spread %.4g)" % (
                                    h - b, allowed, fence))
    return IMPROVEMENT, dict(d, reason="%+.4g per request" % (h - b))


def evaluate_counts(rows, cells, base, heads, metrics, thresholds=None):
    """Judge every head config's counts against base, per cell.

    rows: [{"cell", "config", "rep", <count key>: value per request}].
    metrics: {key: (label, threshold, floor)} (counts.COUNT_METRICS).
    thresholds: {key: threshold} overriding the metrics' defaults.
    """
    thresholds = thresholds or {}
    out = []
    for cell in cells:
        for head in heads:
            for key, (label, t, floor) in metrics.items():
                vals = {cfg: [r.get(key) for r in rows
                              if r["cell"] == cell and r["config"] == cfg]
                        for cfg in (base, head)}
                if not vals[base] and not vals[head]:
                    continue
                t = thresholds.get(key, t)
                v, d = count_verdict(vals[base], vals[head], t, floor)
                out.append(dict(d, kind="count", cell=cell, config=head,
                                vs=base, metric=key, label=label,
                                host="local", higher_better=False,
                                threshold=t, abs_floor=floor, verdict=v,
                                base_values=vals[base],
                                head_values=vals[head]))
    return out
