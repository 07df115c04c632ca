# SPDX-License-Identifier: BSD-3-Clause
"""Statistics of the harness: medians, spread, paired ratios, bootstrap CIs.

Pure functions on lists and {round: value} maps; no fio, no files.

Why rounds pair up: the harness interleaves every configuration in every
round (round 1 runs base, head, libaio, ... then round 2 ...), so a slow
moment of a shared machine hits the configurations of one round alike.
The ratio head/base *within* a round cancels most of that drift, so the
A/B statistic is built on per-round ratios, not on two separate samples.

The A/B confidence interval (paired_ratio_ci):
    per-round ratios r_i = head_i / base_i over the rounds both sides ran;
    estimate = median(r_i);
    CI = percentile bootstrap of median(r) over rounds: B resamples of the
    n rounds with replacement (pairs kept together), the median of each,
    the (1-level)/2 and (1+level)/2 quantiles of those medians.
    level is 90%: each verdict (gate.py) reads one side of the interval,
    so each is a one-sided test at 5% (for "no change", both sides: the
    two one-sided tests, TOST, of equivalence testing).
    The generator is seeded from a caller-given key so the same samples
    always give the same interval.
A bootstrap of the median cannot reach outside [min r, max r]; with n
rounds that range covers the true median with probability 1 - 2^(1-n)
only (75% at 3 rounds, 94% at 5, 98% at 7), so the interval is honest
from about 5 rounds on (90% needs 1 - 2^(1-n) >= 0.9: n >= 5); hence
the default of 5 rounds whenever something is judged, and no verdict
below MIN_ROUNDS.  (Seen here: identical builds, 3 rounds on a machine
busy with builds, came out "+29% IMPROVEMENT" with an interval of
1.01..1.62: three rounds all on one side of 1 happen 1 time in 4.)

Unpaired (a run against a stored baseline, taken at another time):
    ratio_ci(a, b): estimate median(a)/median(b); a and b resampled
    independently.
"""

import math
import random
import statistics
import zlib

DEFAULT_LEVEL = 0.90
DEFAULT_RESAMPLES = 4000
MIN_ROUNDS = 5


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


def paired_ratios(a, b):
    """{round: value} maps -> [(round, a/b)] for rounds present in both."""
    return [(r, a[r] / b[r]) for r in sorted(a)
            if r in b and b[r] not in (0, None) and a[r] is not None]


def _quantile(sorted_vals, q):
    """Linear-interpolated quantile of an already sorted list."""
    if not sorted_vals:
        return None
    pos = q * (len(sorted_vals) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def _rng(seed):
    if isinstance(seed, str):
        seed = zlib.crc32(seed.encode())
    return random.Random(seed)


def bootstrap_median_ci(values, level=DEFAULT_LEVEL,
                        resamples=DEFAULT_RESAMPLES, seed=0):
    """Percentile bootstrap CI of the median of values: (lo, hi)."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None, None
    if len(vals) == 1:
        return vals[0], vals[0]
    rng = _rng(seed)
    n = len(vals)
    meds = sorted(statistics.median(rng.choices(vals, k=n))
                  for _ in range(resamples))
    return (_quantile(meds, (1 - level) / 2),
            _quantile(meds, (1 + level) / 2))


def paired_ratio_ci(a, b, level=DEFAULT_LEVEL, resamples=DEFAULT_RESAMPLES,
                    seed=0):
    """A/B statistic of two {round: value} maps (a = head, b = base).

    Returns dict: n (paired rounds), ratios (per round), estimate (median
    of the per-round ratios), lo, hi (bootstrap CI of that median),
    ratio_of_medians (median(a) / median(b) over all rounds each ran).
    """
    pr = paired_ratios(a, b)
    vals = [v for _, v in pr]
    lo, hi = bootstrap_median_ci(vals, level, resamples, seed)
    return {"n": len(vals), "ratios": vals, "estimate": median(vals),
            "lo": lo, "hi": hi, "level": level,
            "ratio_of_medians": ratio(median(a.values()),
                                      median(b.values()))}


def ratio_ci(a, b, level=DEFAULT_LEVEL, resamples=DEFAULT_RESAMPLES,
             seed=0):
    """Unpaired: CI of median(a)/median(b), a and b resampled apart."""
    a = [v for v in a if v is not None]
    b = [v for v in b if v is not None]
    est = ratio(median(a), median(b))
    out = {"n": min(len(a), len(b)), "n_a": len(a), "n_b": len(b),
           "estimate": est, "lo": None, "hi": None, "level": level,
           "ratio_of_medians": est}
    if est is None:
        return out
    rng = _rng(seed)
    rs = []
    for _ in range(resamples):
        mb = statistics.median(rng.choices(b, k=len(b)))
        if mb:
            rs.append(statistics.median(rng.choices(a, k=len(a))) / mb)
    rs.sort()
    out["lo"] = _quantile(rs, (1 - level) / 2)
    out["hi"] = _quantile(rs, (1 + level) / 2)
    return out


def step_changes(values, min_step=0.05, min_t=3.0, noise=None):
    """Change points of a series by binary segmentation.

    values: the series (e.g. a cell's normalised ratio, one per run, in
    time order).  A split k (values[:k] | values[k:]) is a step when the
    medians of the two sides differ by at least min_step (relative to the
    left side) and the means by at least min_t standard errors.  The
    noise per point is estimated once, from the whole series, by the
    median absolute difference of successive points (x 1.4826 / sqrt 2:
    the standard deviation for normal noise, and robust to the few big
    differences that steps themselves make), and is at least `noise`
    (e.g. the typical standard error of one run, from its rounds).  The
    split with the largest t is taken, then each side is searched again.
    Returns sorted indices k (the first point after each step).
    """
    vals = list(values)
    out = []
    diffs = [abs(b - a) for a, b in zip(vals, vals[1:])]
    s = 1.4826 * statistics.median(diffs) / math.sqrt(2) if diffs else 0.0
    s = max(s, noise or 0.0, 1e-12)

    def search(lo, hi):
        seg = vals[lo:hi]
        n = len(seg)
        if n < 2:
            return
        best, best_t = None, 0.0
        for k in range(1, n):
            a, b = seg[:k], seg[k:]
            ma, mb = median(a), median(b)
            if not ma or abs(mb - ma) / abs(ma) < min_step:
                continue
            t = abs(statistics.fmean(b) - statistics.fmean(a)) / (
                s * math.sqrt(1.0 / len(a) + 1.0 / len(b)))
            if t >= min_t and t > best_t:
                best, best_t = k, t
        if best is None:
            return
        out.append(lo + best)
        search(lo, lo + best)
        search(lo + best, hi)

    search(0, len(vals))
    return sorted(out)


# ---- the sequential A/B: a trimmed mean of log-ratios, looked at a few
# times ----
#
# A timed A/B of builds adds rounds until its verdicts are decisive or its
# time budget is spent (run.py).  Its statistic, per cell and metric:
#   x_i = log(head_i / base_i), one per clean paired round;
#   estimate = exp(10% trimmed mean of x): a round hit by a slow spell on
#     one side only moves it little, unlike a plain mean;
#   CI = Yuen's interval: trimmed mean +- t(df) x s_w / ((1 - 2g) sqrt n),
#     s_w the winsorized standard deviation, df = n - 2 floor(g n) - 1.
# The verdict may be read at up to len(LOOKS) looks (after LOOKS[j] clean
# rounds, or earlier when the budget ends); each look uses the level
# 1 - (1 - FAMILY_LEVEL) / len(LOOKS), so by Bonferroni the chance that
# any look errs is at most 1 - FAMILY_LEVEL over the whole run (5% on each
# side).  The verdict rule itself (gate.ab_verdict) is unchanged.
# The looks grow by half each time, up to 72: where the per-round spread
# is wide (15-20% between identical builds on a noisy 2-vCPU VM) the
# interval narrows only with many short rounds, and a budget that has
# room for them should get to use them.

LOOKS = (6, 9, 14, 21, 32, 48, 72)
FAMILY_LEVEL = 0.90
LOOK_LEVEL = 1 - (1 - FAMILY_LEVEL) / len(LOOKS)
TRIM = 0.1


def t_quantile(p, df):
    """Student's t quantile, by the Cornish-Fisher series in 1/df
    (Abramowitz & Stegun 26.7.5): within 0.5% of the exact value for
    df >= 3 and p <= 0.995 (t(0.99, 3): 4.523 for 4.541)."""
    z = statistics.NormalDist().inv_cdf(p)
    if df <= 0:
        return math.inf
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4


def trimmed_log_ci(ratios, level, trim=TRIM):
    """(estimate, lo, hi) of the ratios' trimmed geometric mean, by Yuen's
    interval on log-ratios; (None, None, None) below 3 ratios."""
    x = sorted(math.log(r) for r in ratios if r and r > 0)
    n = len(x)
    if n < 3:
        return None, None, None
    g = int(math.floor(trim * n))
    h = n - 2 * g
    tm = statistics.fmean(x[g:n - g])
    w = [x[g]] * g + x[g:n - g] + [x[n - g - 1]] * g
    sw = statistics.stdev(w)
    se = sw / ((1 - 2.0 * g / n) * math.sqrt(n))
    q = t_quantile(1 - (1 - level) / 2, h - 1)
    return math.exp(tm), math.exp(tm - q * se), math.exp(tm + q * se)


def paired_trimmed_ci(a, b, level=LOOK_LEVEL):
    """paired_ratio_ci's dict, with the sequential A/B's statistic."""
    pr = paired_ratios(a, b)
    vals = [v for _, v in pr]
    est, lo, hi = trimmed_log_ci(vals, level)
    return {"n": len(vals), "ratios": vals, "estimate": est, "lo": lo,
            "hi": hi, "level": level,
            "ratio_of_medians": ratio(median(a.values()),
                                      median(b.values()))}
