# SPDX-License-Identifier: BSD-3-Clause
"""The verdicts of a run, and its exit status.

Who is judged against whom (ab_roles, judge_hosts), the stopping rule of
the rounds (rounds_of), every verdict from the samples and counts
(judge), the groups the writers and the exit status read
(verdict_groups) and the exit status itself (exit_status).  The
statistics are gate.py's and stats.py's; the writers, and the banners
that end a run, are outputs.py's.
"""

import time

from .gate import (INCONCLUSIVE, evaluate_ab, evaluate_baseline,
                   evaluate_counts, evaluate_gate,
                   judged_here, verdicts_exit_code)
from . import counts as cnt
from . import history as hist
from .plan import config_engine, named_engines
from .run import Rounds
from .stats import DEFAULT_LEVEL, LOOK_LEVEL
from .samples import PRIMARY_HOSTS, host_of


EXIT_PASS, EXIT_REGRESSION, EXIT_SETUP, EXIT_INCONCLUSIVE, EXIT_INTR = \
    0, 1, 2, 3, 130


def judge_hosts(samples):
    """Host keys verdicts are made for: the run's own ("local" or the
    aggregate "all"), then every --client host."""
    hosts = list(dict.fromkeys(host_of(s) for s in samples))
    prim = [h for h in ("local", "all") if h in hosts]
    return prim + [h for h in hosts if h not in ("local", "all")]


def ab_roles(configs, engines):
    """(base config, [head configs]) of an A/B run, or (None, [])."""
    named = named_engines(engines)
    if len(named) < 2:
        return None, []
    ext = [c for c in configs if config_engine(c) in named]
    base = next((c for c in ext if config_engine(c) == named[0]), None)
    if base is None:
        return None, []
    return base, [c for c in ext if c != base]


def judge(st):
    """Fill st.gate, st.ab, st.baseline from st.samples."""
    args = st.args
    smp = st.samples
    prim = [s for s in smp if host_of(s) in PRIMARY_HOSTS]
    if st.floors is not None and (prim or st.gate_count_rows):
        st.gate = evaluate_gate(st.floors, prim, LOOK_LEVEL
                                if args.budget else DEFAULT_LEVEL,
                                st.gate_count_rows)
    base, heads = ab_roles(st.configs, args.engines)
    if base and heads and smp:
        st.ab = []
        seq = bool(args.budget)
        for h in judge_hosts(smp):
            st.ab += evaluate_ab(smp, st.cells, base, heads,
                                 args.metrics, args.thresholds, host=h,
                                 level=LOOK_LEVEL if seq else
                                 DEFAULT_LEVEL, sequential=seq)
        st.ab_roles = {"base": base, "heads": heads}
    if st.count_rows:
        st.count_verdicts = evaluate_counts(
            st.count_rows, st.cells, base, heads, cnt.COUNT_METRICS,
            args.count_thresholds)
    if st.baseline_doc is not None and smp:
        bdoc = st.baseline_doc
        pairs = hist.baseline_pairs(st.configs, bdoc.get("configs", []))
        bhosts = judge_hosts(bdoc.get("samples", []))
        bprim = bhosts[0] if bhosts else "local"
        cells = [c for c in st.cells if c in (bdoc.get("cells") or [])]
        res = []
        for h in judge_hosts(smp):
            if h in ("local", "all"):
                bh = bprim
            elif h in bhosts:
                bh = h
            else:
                continue
            res += evaluate_baseline(smp, bdoc["samples"], cells, pairs,
                                     args.metrics, args.thresholds,
                                     host=h, base_host=bh)
        st.baseline = res
        st.baseline_pairs = pairs


def rounds_of(st):
    """The round plan: fixed, or the sequential A/B's."""
    args = st.args
    base, heads = ab_roles(st.configs, args.engines)
    judged = tuple([base] + heads) if heads else ()

    def decide(st_):
        """Every verdict of the run decisive at this look: the A/B's, and
        a gate's floors (each look at LOOK_LEVEL, as the A/B's)."""
        prim = [s for s in st_.samples
                if host_of(s) in PRIMARY_HOSTS]
        res = []
        if heads:
            res += evaluate_ab(prim, st_.cells, base, heads, args.metrics,
                               args.thresholds, level=LOOK_LEVEL,
                               sequential=True)
        if st_.floors is not None:
            # Counts are taken after the rounds, and other classes'
            # floors do not judge: neither can stop them.
            res += evaluate_gate(judged_here(st_.floors, timed_only=True),
                                 prim, LOOK_LEVEL)
        return bool(res) and all(r["verdict"] != INCONCLUSIVE for r in res)
    r = Rounds(fixed=args.rounds, budget=args.budget, judged=judged,
               balanced=bool(judged), decide=decide,
               seed=int(time.time()) if judged else 0)
    st.rounds_log = r.log
    st.settings["seed"] = r.seed
    return r


def verdict_groups(st):
    """[(kind, results)] of every verdict the run made: floors, ab,
    counts, baseline."""
    g = []
    if st.gate is not None:
        g.append(("floors", st.gate))
    if st.ab is not None:
        g.append(("ab", st.ab))
    if st.count_verdicts is not None:
        g.append(("counts", st.count_verdicts))
    if st.baseline is not None:
        g.append(("baseline", st.baseline))
    return g


def exit_status(st, rc):
    """The exit status of a run whose measuring ended with @rc (0, or
    EXIT_SETUP or EXIT_INTR): the verdicts' when it is 0; EXIT_SETUP
    when a fio run failed, unless interrupted."""
    codes = [verdicts_exit_code(res, st.args.strict)
             for _, res in verdict_groups(st)]
    vrc = (EXIT_REGRESSION if EXIT_REGRESSION in codes else
           EXIT_INCONCLUSIVE if EXIT_INCONCLUSIVE in codes else EXIT_PASS)
    if rc == 0:
        rc = vrc
    if st.failures and rc != EXIT_INTR:
        rc = EXIT_SETUP
    return rc
