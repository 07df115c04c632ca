# SPDX-License-Identifier: BSD-3-Clause
"""The state of one compare.py run, as it travels between the steps.

session.new_state makes it from the command line; run.run_all and
counts.run_counts add samples, failures and notes; verdicts.judge adds
the verdicts; outputs writes it all.  Samples, the target, the
environment and the verdicts stay plain dicts and lists: they go into
results.json as they are.
"""

import time
from dataclasses import dataclass, field


@dataclass
class RunState:
    """One run: what it was asked, what it measured, what it judged."""

    # -- set up before the first fio run (session.new_state) --
    args: object
    """The parsed command line (cli.parse_args), settled by
    session.setup."""
    out: str = None
    """The output directory, absolute; created before the first run."""
    cells: list = field(default_factory=list)
    """Cell keys, in run order (plan.build_cells, plus the gate's)."""
    configs: list = field(default_factory=list)
    """Engine configurations every cell runs (plan.parse_configs)."""
    floors: list = None
    """The --gate file's floors (gate.normalize_floors), or None."""
    baseline_doc: dict = None
    """The --against-baseline results.json, or None."""
    settings: dict = field(default_factory=dict)
    """Rounds, runtime, order, budget ...: into results.json as is."""
    t0: float = field(default_factory=time.monotonic)
    """time.monotonic() at the start, for elapsed times."""

    # -- filled while measuring --
    env: dict = None
    """The machine, fio and builds (env.environment)."""
    target: dict = None
    """The file or device run on (targets.new_target,
    targets.prepare_target)."""
    samples: list = field(default_factory=list)
    """One dict per fio or t/io_uring run (and per --client host)."""
    failures: list = field(default_factory=list)
    """Failed fio runs and counts: cell, config, round, error, cmd."""
    skipped: list = field(default_factory=list)
    """Cells not run, each with its reason."""
    notes: list = field(default_factory=list)
    """Said during the run; listed in summary.md and results.json."""
    seen_msgs: set = field(default_factory=set)
    """fio's own messages already added to notes (each goes in once)."""
    contended: int = 0
    """Runs that shared the machine (other fio, or foreign CPU)."""
    rounds_log: list = field(default_factory=list)
    """What the round plan did: dropped rounds, looks (run.Rounds.log)."""
    count_rows: list = None
    """Exact counts per request and repeat (counts.run_counts), or None."""
    gate_count_rows: list = None
    """The counts a gate's count floors judge (session.gate_counts)."""
    interrupted: bool = False
    """SIGINT or SIGTERM stopped the measuring."""
    setup_error: str = None
    """Why the run stopped while setting up, or None."""

    # -- judged (verdicts.judge) --
    gate: list = None
    """Floor verdicts of --gate, or None."""
    ab: list = None
    """Timed A/B verdicts, per host, or None when there was no A/B."""
    ab_roles: dict = None
    """{"base": config, "heads": [configs]} of the A/B, or None."""
    count_verdicts: list = None
    """Verdicts of the exact counts, or None."""
    baseline: list = None
    """Verdicts against --against-baseline, or None."""
    baseline_pairs: list = None
    """[(this run's config, the baseline's)] compared, or None."""
    rc: int = None
    """The exit status; summary.md never headlines a pass on exit 2."""

    # -- written (outputs.write_outputs) --
    charts: list = field(default_factory=list)
    """File names of the charts drawn."""
    doc: dict = None
    """results.json as written (a saved baseline is this)."""
