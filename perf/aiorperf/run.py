# SPDX-License-Identifier: BSD-3-Clause
"""The round plan and loop: what a round runs and in what order, when a
round is dropped and when the run has its rounds; and one run of each
kind (fio, a co-run, fio on --client hosts, t/io_uring) to its
samples."""

import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field

from .ceiling import ceiling_applies, parse_tio, tio_cmd
from .fioout import job_stats, metrics_from_json, parse_fio_output
from .load import FOREIGN_CPU_LIMIT, run_child, wait_quiet
from .plan import (WRITE_RW, balanced_order, cell_configs, corun_applies,
                   corun_cmd, fio_cmd, is_external, parse_cell_key,
                   round_order)
from .spdk import CONFIG as SPDK_CONFIG
from .stats import LOOKS
from .samples import CEILING
from .util import (PROGRESS, Interrupted, f_iops, fmt_secs, loud, notice,
                   parse_size)


CORUN_NOTE = (
    "co-run: in each one-job cell %s ran together, one fio with a job "
    "each, all on CPU %d; each had a share of it, so their IOPS are about "
    "1/N of a solo run's and are compared only with each other. IOPS and "
    "CPU per I/O are judged; p99 is not (each one's requests wait out the "
    "others' time slices): --co-run off judges it")


@dataclass
class Rounds:
    """How many rounds a run takes, and in what order.

    fixed:    without a budget, the clean rounds wanted (--rounds);
    budget:   seconds; set, rounds are added until decide() says every
              verdict is decisive at a look (stats.LOOKS), the budget
              would be overrun by one more round, or LOOKS[-1] clean
              rounds are in;
    judged:   the A/B's builds: a round of a cell in which one of them
              shared the machine (foreign CPU or another fio) is dropped
              from the verdicts and run again; empty: nothing dropped;
    balanced: order each round by plan.balanced_order (else rotate);
    seed:     of the balanced order.
    """
    fixed: int
    budget: float = None
    judged: tuple = ()
    balanced: bool = False
    seed: int = 0
    decide: object = None
    looks: tuple = LOOKS
    log: list = field(default_factory=list)


def clean_rounds(samples, cells, judged):
    """Fewest rounds, over cells, in which every judged config ran clean."""
    if not judged:
        return None
    n = []
    for cell in cells:
        per = {}
        for s in samples:
            if s["cell"] == cell and s["config"] in judged and s.get("ok") \
                    and not s.get("dropped"):
                per.setdefault(s["round"], set()).add(s["config"])
        n.append(sum(1 for v in per.values() if len(v) == len(judged)))
    return min(n) if n else 0


def drop_busy(samples, rnd, judged):
    """Mark the samples of a round's cells where a judged build shared
    the machine; returns the cells dropped.  A co-run is not dropped:
    what ran beside it took from every build alike."""
    busy = {s["cell"] for s in samples if s["round"] == rnd
            and s["config"] in judged and s.get("contended")
            and not s.get("corun")}
    for s in samples:
        if s["round"] == rnd and s["cell"] in busy:
            s["dropped"] = True
    return sorted(busy)


def plan_runs(st, tio, together=()):
    """[(cell, config)] of one round, the ceiling included; skips noted.

    together: the builds to co-run (run_corun) where a cell allows it,
    or {cell: configs} per cell (--co-run anchors); they are then one
    item, (cell, (build, build, ...)).
    """
    target = st.target
    plan = []
    for cell in st.cells:
        c = parse_cell_key(cell)
        if c["files"] > 1 and c["files"] not in target["files"]:
            st.skipped.append("%s: files cells need a file target" % cell)
            continue
        if target["readonly"] and c["rw"] in WRITE_RW:
            st.skipped.append("%s: writes to block device %s need "
                              "--allow-write" % (cell, target["path"]))
            continue
        cfgs = cell_configs(cell, st.configs)
        tog = together.get(cell, ()) if isinstance(together, dict) \
            else together
        # spdk-aio never co-runs: its plugin is preloaded into the
        # whole fio, and it wants thread=1.
        group = tuple(c for c in cfgs if c in tog and c != SPDK_CONFIG) \
            if corun_applies(cell, target) else ()
        if len(group) >= 2:
            plan.append((cell, group))
        plan += [(cell, c) for c in cfgs if c not in group or
                 len(group) < 2]
        if tio and ceiling_applies(cell, target):
            plan.append((cell, CEILING))
    for s in st.skipped:
        notice("skipped " + s)
    return plan


@dataclass
class _Progress:
    """What the progress line and the failure bookkeeping carry along."""
    est: float
    seq: int = 0
    total: int = 0
    last: str = "-"
    t_start: float = field(default_factory=time.monotonic)
    durations: list = field(default_factory=list)
    dead: set = field(default_factory=set)   # (cell, config) that failed


def run_one(st, tio, pg, rounds, cell, cfg, rnd):
    """One fio (or t/io_uring) run of a round: the sample, its load, its
    failure, the progress line."""
    args = st.args
    left = pg.total - pg.seq + 1
    per = (sum(pg.durations) / len(pg.durations)) if pg.durations \
        else pg.est
    label = "[%d/%d] round %d  %s  %-10s (last: %s)  %s" % (
        pg.seq, pg.total, rnd, cell, cfg, pg.last,
        "budget left %s" % fmt_secs(rounds.budget - (
            time.monotonic() - pg.t_start)) if rounds.budget else
        "ETA %s" % fmt_secs(per * left))
    remote = bool(getattr(args, "clients", None))
    # With --client our own fio servers may run here: other fio
    # processes and foreign CPU say nothing about the hosts.
    others = [] if remote else wait_quiet(args.wait_quiet, label)
    load1 = os.getloadavg()[0]
    extra = []
    if cfg == CEILING:
        got = [run_ceiling(st, tio, cell, rnd, pg.seq, label)]
    elif isinstance(cfg, tuple):
        got = run_corun(st, cell, cfg, rnd, pg.seq, label)
    elif remote:
        sample, extra = run_fio_remote(st, cell, cfg, rnd, pg.seq, label)
        got = [sample]
    else:
        got = [run_fio(st, cell, cfg, rnd, pg.seq, label)]
    busy = (got[0].get("foreign_cpu") or 0) > FOREIGN_CPU_LIMIT
    for sample in got:
        sample["loadavg1_before"] = load1
        if others:
            sample["other_fio_pids"] = others
        if others or busy:
            sample["contended"] = True
    if others or busy:
        st.contended += 1
        if st.contended == 1:
            notice("the machine is busy (%s): the numbers are disturbed" % (
                "other fio pids %s" % " ".join(map(str, others[:8]))
                if others else "%.2f cores used by other processes"
                % got[0]["foreign_cpu"]))
    pg.durations.append(got[0]["elapsed_s"])
    st.samples.extend(got)
    st.samples.extend(extra)
    if not got[0]["ok"]:
        pg.dead.add((cell, cfg))
        if cfg != CEILING:
            failed(st, got[0], " ".join(s["config"] for s in got))
        return
    pg.last = ", ".join("%s %s IOPS" % (s["config"], f_iops(s["iops"]))
                        for s in got)
    PROGRESS.done_line("[%d/%d] round %d  %s  %-10s %s IOPS%s%s" % (
        pg.seq, pg.total, rnd, cell, got[0]["config"],
        f_iops(got[0]["iops"]), "".join(
            ", %s %s" % (s["config"], f_iops(s["iops"]))
            for s in got[1:]),
        "  (busy: %.2f cores)" % got[0]["foreign_cpu"] if busy else ""))


def failed(st, sample, what):
    """A failed fio run (one sample, or a co-run's first): into the
    failures, and said loudly with its command."""
    st.failures.append(dict({k: sample.get(k) for k in (
        "cell", "config", "round", "error", "cmd", "stderr")}, config=what))
    loud("fio FAILED: %s %s round %d: %s" % (sample["cell"], what,
                                              sample["round"],
                                              sample["error"]))
    if sample.get("stderr"):
        print(sample["stderr"].rstrip(), file=sys.stderr)
    print("command: %s" % " ".join(sample["cmd"]), file=sys.stderr)


def round_done(st, rounds, pg, cells, rnd):
    """After round @rnd: drop its busy cells, look if a look is due;
    True when the run has its rounds."""
    if not rounds.judged and rounds.budget is None:
        return rnd >= rounds.fixed
    dropped = drop_busy(st.samples, rnd, rounds.judged)
    if dropped:
        msg = "round %d dropped for %s: a judged build shared the " \
            "machine; run again" % (rnd, ", ".join(dropped))
        notice(msg)
        rounds.log.append(msg)
    # Without builds to judge (a floors gate) every round counts.
    clean = clean_rounds(st.samples, cells, rounds.judged) \
        if rounds.judged else rnd
    if rounds.budget is None:
        # Fixed rounds; a dropped round is run again, once over.
        return clean >= rounds.fixed or rnd >= 2 * rounds.fixed
    spent = time.monotonic() - pg.t_start
    end = spent + spent / rnd > rounds.budget or clean >= rounds.looks[-1]
    looks = sum(1 for m in rounds.log if m.startswith("look "))
    if clean < rounds.looks[min(looks, len(rounds.looks) - 1)] and not end:
        return False
    decisive = rounds.decide(st)
    rounds.log.append("look %d after %d clean round(s), %s: %s" % (
        looks + 1, clean, fmt_secs(spent),
        "decisive" if decisive else "not yet decisive"))
    PROGRESS.done_line("look %d: %d clean round(s), %s" % (
        looks + 1, clean, "every verdict decisive: stop" if decisive
        else "not yet decisive"))
    return decisive or end or looks + 1 >= len(rounds.looks)


def undrop_if_starved(st, rounds, cells):
    """Too few clean rounds (the machine stayed busy): judge them all."""
    need = rounds.looks[0] if rounds.budget else rounds.fixed
    if rounds.judged and clean_rounds(st.samples, cells,
                                      rounds.judged) < need and \
            any(s.get("dropped") for s in st.samples):
        for s in st.samples:
            s.pop("dropped", None)
        msg = ("fewer than %d clean rounds: the dropped rounds are judged "
               "too (the machine stayed busy)" % need)
        loud(msg)
        rounds.log.append(msg)


def run_all(st, tio, rounds):
    """The interleaved rounds (see Rounds); returns 0."""
    args = st.args
    mode = getattr(args, "co_run", "off")
    together = () if getattr(args, "clients", None) else \
        rounds.judged if mode == "auto" else \
        {c: tuple(st.configs) for c in getattr(args, "co_run_cells", None)
         or st.cells} if mode == "anchors" else ()
    plan = plan_runs(st, tio, together)
    if any(isinstance(cfg, tuple) for _, cfg in plan):
        st.notes.append(CORUN_NOTE % (
            "every configuration (--co-run anchors)" if mode == "anchors"
            else "the A/B's builds", corun_cpu(args)))
    pg = _Progress(est=args.runtime + args.ramp_time + 0.5)
    cells = list(dict.fromkeys(c for c, _ in plan))
    builds = {p for p in plan if p[1] != CEILING and (
        isinstance(p[1], tuple) or
        is_external(p[1], getattr(args, "engines", None)))}
    rnd = 0
    while True:
        rnd += 1
        # Cells in order; inside a cell the configs rotate round by round,
        # or in an A/B of builds go in mirrored random blocks.
        order = []
        for cell in cells:
            items = [p for p in plan if p[0] == cell]
            order += (balanced_order(items, rnd, rounds.seed)
                      if rounds.balanced else round_order(items, rnd))
        pg.total = len(plan) * max(rnd, rounds.fixed)
        for cell, cfg in order:
            pg.seq += 1
            if (cell, cfg) not in pg.dead:
                run_one(st, tio, pg, rounds, cell, cfg, rnd)
            if builds and builds <= pg.dead:
                # Nothing is left to measure: the anchors and the
                # ceiling alone would only take time.
                loud("every run of an engine build failed: stopping")
                st.notes.append("every run of an engine build failed; "
                                "nothing else was run")
                PROGRESS.clear()
                return 0
        if round_done(st, rounds, pg, cells, rnd):
            break
    undrop_if_starved(st, rounds, cells)
    PROGRESS.clear()
    return 0


def _slug(cell, cfg):
    return re.sub(r"[^A-Za-z0-9.=_-]+", "_", "%s-%s" % (cell, cfg))


def run_fio(st, cell, cfg, rnd, seq, label):
    cmd = fio_cmd(st.args, st.target, cell, cfg)
    s, out, err = _fio_child(st, cell, cfg, rnd, seq, label, cmd)
    if s.get("error"):
        return s
    try:
        data, stats, other = parse_fio_output(out, err)
        s.update(metrics_from_json(data, parse_cell_key(cell)["rw"]))
    except (ValueError, KeyError, TypeError) as e:
        s["error"] = "unusable fio output: %s" % e
        return s
    if stats:
        s["engine_stats"] = stats
    _note_messages(st, cell, cfg, s, other)
    s["ok"] = True
    return s


def run_corun(st, cell, cfgs, rnd, seq, label):
    """The A/B's builds together (a co-run): one fio, a job per build,
    every job pinned to one CPU.  Returns a sample per build.

    Run one after another on a shared VM, a build and its own copy
    differ by 14-23% from round to round: the host takes the vCPU away
    for spells of a second or two, and no counter inside the guest sees
    it.  Sharing one CPU, the builds lose those spells alike, and the
    scheduler gives each the same share of what is left; so the ratio of
    their IOPS is the inverse ratio of what a request costs each in CPU,
    and it keeps only the builds' own difference (docs/perf/ab.md).
    Each build's IOPS are therefore about 1/N of a solo run's (N builds,
    less the switching); the ratios are what is judged.  The jobs' order
    turns round by round.
    """
    k = (rnd - 1) % len(cfgs)
    order = list(cfgs[k:] + cfgs[:k])
    cpu = corun_cpu(st.args)
    cmd = corun_cmd(st.args, st.target, cell, order, cpu)
    s0, out, err = _fio_child(st, cell, "+".join(order), rnd, seq, label,
                              cmd)
    s0["corun"] = {"configs": order, "cpu": cpu}
    if s0.get("error"):
        return [dict(s0, config=c) for c in order]
    rw = parse_cell_key(cell)["rw"]
    try:
        data, _, other = parse_fio_output(out, err)
        jobs = {j.get("jobname"): j for j in data.get("jobs") or []}
        got = [dict(s0, config=c, ok=True, **metrics_from_json(
            {"jobs": [jobs["corun%d" % i]]}, rw))
            for i, c in enumerate(order)]
    except (ValueError, KeyError, TypeError) as e:
        s0["error"] = "unusable fio output: %s" % e
        return [dict(s0, config=c) for c in order]
    stats = job_stats(out, err)
    for i, s in enumerate(got):
        if stats.get("corun%d" % i):
            s["engine_stats"] = stats["corun%d" % i]
    _note_messages(st, cell, "+".join(order), got[0], other)
    return got


def corun_cpu(args):
    """The CPU a co-run's jobs share: the last of --cpus-allowed (an A/B
    pins there by default), else the last this process may use."""
    given = getattr(args, "cpus_allowed", None)
    if given:
        last = given.replace("-", ",").split(",")[-1]
        return int(last)
    return max(os.sched_getaffinity(0))


def _fio_child(st, cell, cfg, rnd, seq, label, cmd):
    """Run one fio command line, keep its output under raw/; returns
    (the sample so far, stdout, stderr).  The sample has "error" when fio
    failed."""
    args = st.args
    timeout = args.runtime + args.ramp_time + 120
    rc, out, err, el, cont = run_child(cmd, timeout, label)
    raw = os.path.join("raw", "%04d-%s-r%d.txt" % (seq, _slug(cell, cfg),
                                                   rnd))
    with open(os.path.join(st.out, raw), "w") as f:
        f.write(out or "")
        if err:
            f.write("\n--- stderr ---\n" + err)
    s = {"cell": cell, "config": cfg, "round": rnd, "seq": seq,
         "host": "local", "ok": False, "elapsed_s": round(el, 2),
         "cmd": cmd, "raw": raw}
    s.update(cont)
    if err and err.strip():
        s["stderr"] = err.strip()[-2000:]
    if rc != 0:
        s["error"] = "fio exited %d" % rc
    return s, out, err


def _note_messages(st, cell, cfg, s, other):
    """fio's other lines go with the sample; the engine's own, once each,
    into the run's notes."""
    if not other:
        return
    s["fio_messages"] = other
    for ln in other:
        if ln.startswith("libaioring:") and ln not in st.seen_msgs:
            st.seen_msgs.add(ln)
            notice("%s %s: %s" % (cell, cfg, ln))
            st.notes.append("%s %s: %s" % (cell, cfg, ln))


def remote_job_args(cmd):
    """fio_cmd() minus the binary and the options that are not job options
    (a job file in client mode cannot carry them)."""
    return [a for a in cmd[1:] if not a.startswith("--output-format")
            and a != "--readonly"]


def run_fio_remote(st, cell, cfg, rnd, seq, label):
    """One configuration on every --client host at once (remote.run).

    Returns (aggregate sample with host "all", [one sample per host]).
    The aggregate is what verdicts use by default; per-host samples keep
    every host's own figures.
    """
    from . import remote
    args = st.args
    cmd = fio_cmd(args, st.target, cell, cfg)
    jargs = remote_job_args(cmd)
    timeout = args.runtime + args.ramp_time + 120
    base = {"cell": cell, "config": cfg, "round": rnd, "seq": seq,
            "ok": False, "cmd": cmd, "clients": args.clients,
            "foreign_cpu": None, "steal_cpu": None}
    box, t0 = {}, time.monotonic()

    def work():
        try:
            box["res"] = remote.run(args.fio, args.hosts, jargs, timeout)
        except Exception as e:      # reported below, with the host
            box["err"] = e
    th = threading.Thread(target=work, daemon=True)
    th.start()
    try:
        while th.is_alive():
            th.join(0.5)
            PROGRESS.update("%s  (running %.0fs on %d host(s))" % (
                label, time.monotonic() - t0, len(args.hosts)))
    except KeyboardInterrupt:
        raise Interrupted()
    el = round(time.monotonic() - t0, 2)
    rw = parse_cell_key(cell)["rw"]
    raw = os.path.join("raw", "%04d-%s-r%d.json" % (seq, _slug(cell, cfg),
                                                    rnd))
    with open(os.path.join(st.out, raw), "w") as f:
        json.dump(box.get("res") or {"error": str(box.get("err"))}, f,
                  indent=1, default=str)
    if "err" in box:
        return dict(base, host="all", elapsed_s=el, raw=raw,
                    error="remote: %s" % box["err"]), []
    res = box["res"]
    out, agg = [], None
    for host, job in res.items():
        s = dict(base, host=host, elapsed_s=el, raw=raw)
        try:
            s.update(metrics_from_json({"jobs": [job]}, rw))
            s["ok"] = True
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            s["error"] = "host %s: unusable fio output: %s" % (host, e)
        if host == "all":
            agg = s
        else:
            out.append(s)
    if agg is None:
        agg = dict(base, host="all", elapsed_s=el, raw=raw,
                   error="remote.run returned no aggregate")
    bad = [s for s in out if not s["ok"]]
    if bad and agg["ok"]:
        agg["ok"] = False
        agg["error"] = bad[0]["error"]
    return agg, out


def run_ceiling(st, tio, cell, rnd, seq, label):
    args = st.args
    cmd = tio_cmd(args, tio, st.target, cell)
    secs = int(cmd[-2][2:])
    rc, out, err, el, cont = run_child(cmd, secs + 60, label)
    s = {"cell": cell, "config": CEILING, "round": rnd, "seq": seq,
         "host": "local", "ok": False, "elapsed_s": round(el, 2), "cmd": cmd}
    s.update(cont)
    try:
        if rc != 0:
            raise ValueError("exit %d: %s" % (rc, (err or out).strip()[-300:]))
        s["iops"] = parse_tio(out, args.ramp_time > 0)
        s["bw_kib"] = s["iops"] * parse_size(parse_cell_key(cell)["bs"]) / 1024
        s["ok"] = True
    except ValueError as e:
        s["error"] = str(e)
        msg = "raw aio ceiling failed for %s: %s" % (cell, e)
        notice(msg)
        st.notes.append(msg)
    return s
