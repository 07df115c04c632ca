# SPDX-License-Identifier: BSD-3-Clause
"""aiorperf: libaioring's performance harness (standard library only).

perf/compare.py is its one command; `compare.py --help` lists the
subcommands (cli.SUBCOMMANDS), each a main(argv) in cli or in a module of
its own:
    floors       floors files from measured results (--record, --template)
    insn         instructions per request by part, the A/B's count with
                 repeats and their spread; insn-floors, the engine's own
                 against jobs/insn-floors.json
    profile      where the CPU goes per I/O: a cell under perf record
    scaling      numjobs 1..N, each a ratio to one job
    sensitivity  how small a regression the A/B catches: planted builds,
                 many runs, the detection table

Modules, by role:
    cli      command line, subcommands
    session  one run, step by step: set up, measure, judge, write
    state    RunState: what one run carries from step to step
    plan     configs, cells, the interleaved plan, fio command lines
    run      the round loop (what a round runs, dropped rounds, looks)
             and one run of fio, a co-run, remote hosts or t/io_uring
             to its samples, with the progress line
    targets  the target files: RAM-backed, disk, given file or block
             device, the files cells' files; made, checked, removed
    load     the machine's load: a child run with the CPU used beside
             it, other fio processes, waiting for a quiet machine
    fioout   fio's output: its JSON, the engine's counter lines, a run's
             metrics (IOPS, latency, CPU and ctx per I/O)
    ceiling  fio's t/io_uring (the raw aio ceiling): build, command
             line, output
    env      a run's environment (machine, fio, builds) and whether
             fio's io_uring engine runs here
    samples  the sample model: a run's samples to medians, spreads, ratios
    stats    medians, CoV, paired bootstrap confidence intervals
    gate     floors files and A/B verdicts
    verdicts what a run judges against what, its verdicts, its exit status
    counts   exact counts per request (instructions, system calls, ctx)
    machine  the runner class: CPU, vCPUs, kernel build, virtualization,
             what one system call costs (syscall_cost.c)
    corun_check  whether a cell's co-run ratio is its solo ratio
    report   renders only: terminal table, Markdown, JUnit XML, BMF,
             gnuplot charts
    outputs  a run's files (results.json, summary.md, junit.xml, charts)
             and the banners that end it
    history  named baselines, trends over result directories, step changes
    remote   fio client/server: hosts, preflight, runs on many hosts

    util     small shared helpers: sizes, processes, number formatting,
             running gnuplot

Imports point one way: the subcommands' modules (which may use cli's
parser) -> cli -> session -> outputs -> report (render) and verdicts ->
run, counts, history, gate, corun_check -> samples (compute) and targets,
load, fioout, ceiling, env (fio and the machine) -> plan, stats, machine,
util; state imports none of them.  cli imports a subcommand's module only
when that subcommand is called.
"""
