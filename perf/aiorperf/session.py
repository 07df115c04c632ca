# SPDX-License-Identifier: BSD-3-Clause
"""One run of the comparison, from the parsed command line to the exit
status, step by step: setup (everything decided before the first fio
run), load_baseline, new_state, measure (the target, the timed rounds,
the exact counts), then the verdicts (verdicts.py), the files
(outputs.py), the banners and --save-baseline.

The command line (cli.py) parses and calls run(); the state that goes
from step to step is a state.RunState.
"""

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from .gate import (RECORD_CMD, co_run_cells, judged_here, needed_runs,
                   normalize_floors, place_floors)
from . import machine
from . import counts as cnt
from . import history as hist
from . import spdk
from .outputs import (announce_verdicts, error_outputs, print_plan,
                      write_outputs)
from .plan import (BATCH, BATCH_QD, build_cells, config_engine,
                   default_configs, is_external, named_engines, order_cells,
                   parse_cell_key, parse_configs, validate_cell)
from .ceiling import build_tio, ceiling_applies
from .env import environment, io_uring_refused
from .load import FOREIGN_CPU_LIMIT
from .run import run_all
from .state import RunState
from .stats import LOOK_LEVEL, LOOKS
from .targets import cleanup_target, new_target, prepare_target
from .util import (PROGRESS, REPO, Interrupted, SetupError, cmd_out,
                   fmt_secs, loud, notice)
from .verdicts import (EXIT_INTR, EXIT_SETUP, ab_roles, exit_status, judge,
                       rounds_of)


def run(args):
    """A run of the comparison (args from cli.parse_args): set up,
    measure, judge, write, announce; returns the exit status."""
    t0 = time.monotonic()

    def on_term(signum, frame):
        raise Interrupted()
    signal.signal(signal.SIGTERM, on_term)

    try:
        configs, cells, floors, paths = setup(args)
        fio_version = cmd_out([args.fio, "--version"])
        bdoc = load_baseline(args, configs, fio_version)
    except (SetupError, hist.BaselineError) as e:
        print("compare: error: %s" % e, file=sys.stderr)
        if args.out and not args.dry_run:
            error_outputs(args.out, str(e))
        return EXIT_SETUP
    if args.dry_run:
        print_plan(args, configs, cells, floors)
        return 0

    st = new_state(args, t0, cells, configs, floors, bdoc)
    rc = measure(st, fio_version, paths)
    note_disturbance(st)
    judge(st)
    rc = exit_status(st, rc)
    st.rc = rc       # summary.md never headlines a pass on exit 2
    write_outputs(st)
    announce_verdicts(st)
    if args.save_baseline:
        rc = save_baseline(st, rc)
    print("elapsed %s" % fmt_secs(time.monotonic() - t0))
    return rc


def setup(args):
    """Everything decided before the first run: (configs, cells, floors,
    engine paths); raises SetupError."""
    configs = parse_configs(args.configs or default_configs(args.engines),
                            args.engines)
    cells = build_cells(args)
    floors = None
    args.gate_counter = None
    args.co_run_cells = None
    if args.gate:
        floors, cells, configs = gate_floors(args, cells, configs)
    if (args.save_baseline or args.against_baseline) and \
            "libaio" not in configs:
        notice("baselines are normalised by built-in libaio: adding it")
        configs.append("libaio")
    if args.hosts:
        multi = [c for c in cells if parse_cell_key(c)["files"] > 1]
        if multi:
            notice("--client: files cells skipped (%s)" % ", ".join(multi))
            cells = [c for c in cells if c not in multi]
    for c in cells:
        validate_cell(c)
    used = engine_paths(args, configs)
    base, heads = ab_roles(configs, args.engines)
    if len(named_engines(args.engines)) >= 2 and not heads:
        raise SetupError("A/B needs the first named engine (%s) and at "
                         "least one other in --configs" % named_engines(
                             args.engines)[0])
    fio_path = shutil.which(args.fio)
    if not fio_path:
        raise SetupError("fio binary %r not found" % args.fio)
    args.fio = fio_path
    if "io_uring" in configs and not args.hosts and not args.dry_run:
        why = io_uring_refused(args.fio)
        if why:
            msg = ("io_uring is refused here (%s): the io_uring anchor is "
                   "left out (docker: --security-opt seccomp=unconfined "
                   "allows it)" % why)
            loud(msg)
            args.setup_notes.append(msg)
            configs = [c for c in configs if c != "io_uring"]
    args.spdk = None
    if spdk.CONFIG in configs and not args.dry_run:
        configs = spdk_setup(args, configs)
    if heads and args.pin == "auto" and not args.cpus_allowed \
            and not args.hosts:
        pin_jobs(args, cells)
    # Exact counts in every A/B of builds (not through --client: the
    # counting tools run here).
    args.counter = None
    if args.counts and heads and not args.hosts and not args.dry_run:
        args.counter = cnt.Counter(ios=args.count_ios, reps=args.count_reps)
    return configs, cells, floors, used


def spdk_setup(args, configs):
    """spdk-aio asked for: its set-up (args.spdk, a spdk.Setup), or the
    config skipped with the reason, said loudly and in the summary;
    returns the configs."""
    plugin = args.spdk_plugin or spdk.default_plugin()
    why = spdk.refused(plugin, remote=bool(args.hosts))
    if why:
        skip_config(args, spdk.CONFIG, why)
        return [c for c in configs if c != spdk.CONFIG]
    args.spdk = spdk.Setup(plugin)
    return configs


def skip_config(args, config, why):
    """A config asked for that cannot run here: said loudly, in the
    notes and in results.json's "skipped"; the rest of the run goes on."""
    msg = "%s is skipped: %s" % (config, why)
    loud(msg)
    args.setup_notes.append(msg)
    args.skipped_configs.append("%s (every cell): %s" % (config, why))
    return msg, args.skipped_configs[-1]


def gate_floors(args, cells, configs):
    """--gate's floors (those of this run's cells, or all with
    --gate-all), and the cells and configs they need added: (floors,
    cells, configs)."""
    try:
        with open(args.gate) as f:
            data = json.load(f)
        floors = normalize_floors(data)
    except (OSError, ValueError) as e:
        raise SetupError("--gate %s: %s" % (args.gate, e))
    # The gate's co-run cells, unless --co-run off (or not on the RAM
    # file, where co-runs are not made).
    if args.co_run != "off" and _ram(args) and co_run_cells(data):
        args.co_run = "anchors"
        args.co_run_cells = co_run_cells(data)
    floors = place_here(args, floors)
    if not args.gate_all:
        # The floors of the cells asked for (a files cell's floor
        # needs its 1-file cell too, which the run has).
        mine = [f for f in floors if f["cell"] in cells]
        if len(mine) < len(floors):
            notice("gate: judging the %d floor(s) of this run's cells; "
                   "%d of other cells left out (--gate-all runs them)"
                   % (len(mine), len(floors) - len(mine)))
        floors = mine
    extra_cells, extra_cfgs = [], []
    for cell, cfg in needed_runs(judged_here(floors)):
        if cell not in cells:
            extra_cells.append(cell)
        if cfg not in configs and cfg not in extra_cfgs:
            extra_cfgs.append(cfg)
    if extra_cells:
        notice("gate adds cells: %s" % ", ".join(
            dict.fromkeys(extra_cells)))
        cells = order_cells(cells + extra_cells)
    if extra_cfgs:
        notice("gate adds configs: %s" % ", ".join(extra_cfgs))
        configs = parse_configs(configs + extra_cfgs, args.engines)
    return floors, cells, configs


def place_here(args, floors):
    """The floors marked for this runner class (gate.place_floors), and
    what the run says about it: the class, and the floors of other
    classes that do not judge here."""
    # Through --client the hosts run fio, and their class is not
    # measured: only the portable floors judge there.
    runner = None if args.hosts else machine.runner_class()
    fio_version = cmd_out([args.fio, "--version"])
    floors = place_floors(floors, runner, fio_version, args.gate,
                          corun_cells(args))
    if runner:
        notice("runner class: %s" % machine.label(runner))
    classes = {f["class_index"] for f in floors if "class_index" in f}
    mine = {f["class_index"] for f in floors
            if "class_index" in f and not f["elsewhere"]}
    if classes and not mine:
        msg = ("gate: %s has floors of %d other runner class(es), none of "
               "this one; only its portable floors judge here. Record "
               "this class's: %s" % (args.gate, len(classes),
                                     RECORD_CMD % args.gate))
        notice(msg)
        args.setup_notes.append(msg)
    # Count floors are counted after the timed rounds, by strace.
    if any(f["kind"] == "ceiling" for f in judged_here(floors)) \
            and not args.hosts and not args.dry_run:
        args.gate_counter = cnt.Counter(kinds=("syscalls",),
                                        ios=args.count_ios,
                                        reps=args.count_reps)
    return floors


def engine_paths(args, configs):
    """The engine builds the configs load, each once; an unnamed
    "aioring" beside named builds is this repository's build.  Raises
    SetupError for a build that is not there (not checked through
    --client: the paths are the hosts')."""
    used = []
    for c in configs:
        if is_external(c, args.engines):
            name = config_engine(c)
            path = args.engines.get(name)
            if path is None:            # "aioring" with named engines
                path = args.engines[name] = os.path.join(
                    REPO, "build", "libaioring.so")
            if path not in used:
                used.append(path)
            if not args.hosts and not os.path.isfile(path):
                raise SetupError(
                    "engine %s (%s) not found: build it (cmake -S . -B "
                    "build ... && cmake --build build) or pass --engine "
                    "%sPATH" % (name, path, "" if name == "aioring" else
                                name + "="))
    return used


def pin_jobs(args, cells):
    """An A/B's fio jobs on the last CPUs of this process's set, when it
    has more CPUs than a cell has jobs (less migration noise; the other
    CPUs keep fio's helper threads and the rest)."""
    cpus = sorted(os.sched_getaffinity(0))
    jobs = max(parse_cell_key(c)["jobs"] for c in cells)
    if len(cpus) > jobs:
        args.cpus_allowed = ",".join(map(str, cpus[-jobs:]))
        notice("A/B: fio jobs pinned to CPU %s (--pin off to not)"
               % args.cpus_allowed)


def load_baseline(args, configs, fio_version):
    """The results.json of --against-baseline, checked against this run
    (runner class, a config to compare); None without the option."""
    if not args.against_baseline:
        return None
    bdoc = hist.load_baseline(args.against_baseline, args.baseline_dir)
    if not args.ignore_runner_class and not args.dry_run:
        hist.check_runner_class(environment(args, fio_version, None),
                                bdoc, args.against_baseline)
    if not args.ignore_run_mode:
        hist.check_run_mode(planned_mode(args, configs), bdoc,
                            args.against_baseline)
    if not hist.baseline_pairs(configs, bdoc.get("configs", [])):
        raise SetupError(
            "baseline %r has no engine build config matching this "
            "run's (%s vs %s)" % (
                args.against_baseline, ", ".join(
                    hist.external_configs(configs)), ", ".join(
                    hist.external_configs(bdoc.get("configs", [])))))
    return bdoc


def _ram(args):
    """The run's target will be the RAM-backed file, where co-runs are
    made (plan.corun_applies)."""
    return (not args.target and getattr(args, "preset", None) != "disk"
            and not args.hosts)


def corun_cells(args):
    """The cells where the engine and its anchors will share one CPU
    (--co-run anchors on the RAM-backed target: all, or a gate file's
    co_run_cells); a floor's ratio measured there is a co-run's."""
    if getattr(args, "co_run", "off") != "anchors" or not _ram(args):
        return ()
    return args.co_run_cells or _Every()


class _Every:
    """Every cell (--co-run anchors without a gate's list)."""

    def __contains__(self, cell):
        return True

    def __bool__(self):
        return True


def planned_mode(args, configs):
    """"co-run" when this run's builds will share one CPU (an A/B of
    builds with --co-run auto, or --co-run anchors, on the RAM-backed
    target: run.run_all), else "solo"."""
    _, heads = ab_roles(configs, args.engines)
    auto = heads and getattr(args, "co_run", "off") == "auto"
    return "co-run" if _ram(args) and (auto or corun_cells(args)) \
        else "solo"


def new_state(args, t0, cells, configs, floors, bdoc):
    """The run's state, and its output directory (made, with raw/)."""
    out = args.out or os.path.join("results", datetime.datetime.now()
                                   .strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.join(out, "raw"), exist_ok=True)
    out = os.path.abspath(out)
    return RunState(
        args=args, out=out, cells=cells, configs=configs,
        notes=list(args.setup_notes), t0=t0, floors=floors,
        skipped=list(getattr(args, "skipped_configs", [])),
        baseline_doc=bdoc,
        settings={"rounds": args.rounds, "runtime": args.runtime,
                  "ramp_time": args.ramp_time, "quick": args.quick,
                  "full": args.full, "aior_opt": args.aior_opt,
                  "batch_from_qd": BATCH_QD, "batch": BATCH,
                  "gate_rule": "interval" if args.gate else None,
                  "max_regression": args.thresholds,
                  "metrics": args.metrics,
                  "cpus_allowed": args.cpus_allowed,
                  "co_run": getattr(args, "co_run", "off"),
                  "order": "balanced random blocks (A B | B A)"
                  if args.budget else "rotating by round",
                  "budget_s": args.budget,
                  "looks": list(LOOKS) if args.budget else None,
                  "look_level": LOOK_LEVEL if args.budget else None})


def measure(st, fio_version, engine_paths):
    """The timed rounds and the exact counts, on a target made for them
    and removed after; returns 0, EXIT_SETUP or EXIT_INTR.  Once it
    returns, signals are ignored: what was gathered gets written."""
    args = st.args
    rc = 0
    tio = None
    try:
        if args.ceiling and any(ceiling_applies(c, None) for c in st.cells):
            tio, why = build_tio(args, (fio_version or "").replace(
                "fio-", ""))
            if not tio:
                st.notes.append("raw aio ceiling skipped: %s" % why)
                notice("raw aio ceiling skipped: %s" % why)
        st.env = environment(args, fio_version, tio)
        note_baseline_settings(st)
        make_target(st, engine_paths)
        spdk_prepare(st)
        if not args.counts_only:
            rc = run_all(st, tio, rounds_of(st))
            st.notes += st.rounds_log or []
        if args.counter:
            base, heads = ab_roles(st.configs, args.engines)
            st.count_rows = cnt.run_counts(st, base, heads, args.counter)
        if args.gate_counter:
            st.gate_count_rows = gate_counts(st)
    except SetupError as e:
        print("compare: error: %s" % e, file=sys.stderr)
        rc = EXIT_SETUP
        st.setup_error = str(e)
    except (KeyboardInterrupt, Interrupted):
        st.interrupted = True
        rc = EXIT_INTR
    finally:
        # From here on, finish: clean up and write what was gathered.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        spdk_restore(st)
        if st.target:
            cleanup_target(st.target)
    if st.env is None:
        # Stopped before it was taken (a set-up error, or Ctrl-C while
        # t/io_uring was built): the writers still need it.
        st.env = environment(args, fio_version, tio)
    return rc


def spdk_prepare(st):
    """Hugepages and the JSON config of spdk-aio, on the target just
    made; where that fails, spdk-aio is skipped (said why) and the rest
    runs."""
    sp = st.args.spdk
    if sp is None or spdk.CONFIG not in st.configs:
        return
    try:
        sp.prepare(st.target["path"], st.out)
    except (OSError, subprocess.CalledProcessError) as e:
        why = getattr(e, "stderr", None) or str(e)
        spdk_restore(st)
        msg, entry = skip_config(st.args, spdk.CONFIG, "its set-up "
                                 "failed: %s" % str(why).strip())
        st.notes.append(msg)
        st.skipped.append(entry)
        st.configs = [c for c in st.configs if c != spdk.CONFIG]
        return
    for n in sp.notes:
        notice(n)
    st.notes += sp.notes


def spdk_restore(st):
    """Give back spdk-aio's hugepages; loudly if they could not be."""
    sp = getattr(st.args, "spdk", None)
    if sp is None:
        return
    err = sp.restore()
    if err:
        msg = "spdk-aio: the machine was not given back as it was: %s" % err
        loud(msg)
        st.notes.append(msg)


def gate_counts(st):
    """The exact counts the gate's count floors judge: each subject in
    each of their cells."""
    rows = []
    ceil = [f for f in judged_here(st.floors) if f["kind"] == "ceiling"]
    for cfg in dict.fromkeys(f["config"] for f in ceil):
        cells = list(dict.fromkeys(f["cell"] for f in ceil
                                   if f["config"] == cfg))
        rows += cnt.run_counts(st, cfg, [], st.args.gate_counter, cells)
    return rows


def note_baseline_settings(st):
    """Say so when the baseline ran other rounds, runtime or ramp."""
    if st.baseline_doc is None:
        return
    s0, s1 = st.baseline_doc.get("settings") or {}, st.settings
    diff = [k for k in ("rounds", "runtime", "ramp_time")
            if s0.get(k) != s1.get(k)]
    if diff:
        msg = ("baseline %r was run with other %s (%s); the "
               "comparison holds, but is fairest with the same"
               % (st.args.against_baseline, "/".join(diff), ", ".join(
                   "%s=%s" % (k, s0.get(k)) for k in diff)))
        notice(msg)
        st.notes.append(msg)


def make_target(st, engine_paths):
    """st.target made (or, on --client hosts, named), and the hosts
    checked before any run; raises SetupError."""
    args = st.args
    target = st.target = new_target()
    if args.hosts and args.target:
        # Remote hosts: the target is theirs; nothing is made here.
        target.update(path=os.path.abspath(args.target), kind="remote",
                      size=args.size, pass_size=args.size is not None)
    else:
        prepare_target(args, st.cells, target)
    for n in target["notes"]:
        notice(n)
    st.notes += target["notes"]
    if args.hosts:
        from . import remote
        PROGRESS.update("compare: checking %d host(s)" % len(args.hosts))
        try:
            remote.preflight(args.fio, args.hosts, engine_paths,
                             target["path"])
        except remote.RemoteError as e:
            raise SetupError(str(e))
        PROGRESS.clear()


def note_disturbance(st):
    """Loudly, and first in the notes: runs that shared the machine; and
    an interrupted run."""
    if st.contended:
        msg = ("%d of %d runs shared the machine (other fio processes, or "
               "> %.2f cores of other CPU load): treat these numbers with "
               "suspicion" % (st.contended, len(st.samples),
                              FOREIGN_CPU_LIMIT))
        st.notes.insert(0, msg)
        loud(msg)
    if st.interrupted:
        loud("interrupted: writing the %d sample(s) gathered"
             % len(st.samples))


def save_baseline(st, rc):
    """--save-baseline: store a complete run; returns the exit status
    (EXIT_SETUP when it was not saved)."""
    args = st.args
    if st.failures or st.interrupted or rc == EXIT_SETUP:
        loud("baseline %r NOT saved: the run is incomplete"
             % args.save_baseline)
        return EXIT_SETUP if rc == 0 else rc
    try:
        path = hist.save_baseline(st.doc, args.save_baseline,
                                  args.baseline_dir)
        print("baseline %r saved: %s" % (args.save_baseline, path))
    except (OSError, hist.BaselineError) as e:
        loud("baseline %r NOT saved: %s" % (args.save_baseline, e))
        return EXIT_SETUP
    return rc
