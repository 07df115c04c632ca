# SPDX-License-Identifier: BSD-3-Clause
"""What to run: configurations, engines, cells and fio command lines."""

import itertools
import os
import re

from . import spdk
from .util import SetupError, fio_ms, parse_size

BUILTIN_CONFIGS = {
    "libaio": ["--ioengine=libaio"],
    "libaio-ur": ["--ioengine=libaio", "--userspace_reap=1",
                  "--iodepth_batch_complete_min=0"],
    "io_uring": ["--ioengine=io_uring"],
    # SPDK's spdk_bdev fio plugin on an aio bdev of the target: its
    # options depend on the target and the run's set-up (spdk.py), so
    # fio_cmd builds them; run only when asked for.
    spdk.CONFIG: ["--ioengine=spdk_bdev"],
}
DEFAULT_CONFIGS = "aioring,libaio,libaio-ur,io_uring"

FULL = {"rw": ["randread", "randwrite", "read"], "bs": ["4k", "128k"],
        "qd": [1, 32, 128], "jobs": [1, 2]}
# Unspecified dimensions when some matrix flag is given without --full.
PARTIAL = {"rw": ["randread"], "bs": ["4k"], "qd": [1, 32, 128], "jobs": [1]}
DEFAULT_CELLS = ["randread/4k/qd1/j1", "randread/4k/qd32/j1",
                 "randread/4k/qd128/j1", "randwrite/4k/qd32/j1",
                 "randread/4k/qd32/j1/files64"]
QUICK_CELLS = ["randread/4k/qd1/j1", "randread/4k/qd32/j1",
               "randwrite/4k/qd32/j1"]
# A run during which the rest of the machine used more CPU than this
# (in cores, averaged over the run) is flagged as contended.
BATCH_QD = 128          # qd >= this: iodepth_batch_submit/complete_max=32
BATCH = 32
READ_RW = ("read", "randread")
# Every rw that changes the target (a read-only target refuses them).
WRITE_RW = ("write", "randwrite", "rw", "readwrite", "randrw", "trimwrite",
            "trim", "randtrim")
KNOWN_RW = READ_RW + WRITE_RW


# ---- cell keys ----

_CELL_RE = re.compile(
    r"^(?P<rw>[a-z]+)/(?P<bs>\d+[kKmM]?)/qd(?P<qd>\d+)/j(?P<jobs>\d+)"
    r"(?:/files(?P<files>\d+))?$")


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


# ---- plan: cells and configurations ----

# Names a named engine may not take (built-in configs, the ceiling).
RESERVED_NAMES = set(BUILTIN_CONFIGS) | {"raw-aio", "all", "local"}
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


def parse_engine_specs(specs, default_path):
    """--engine values -> ordered {name: path}.

    "NAME=PATH" names a build; a bare "PATH" is the build called
    "aioring" (as before named engines existed).  No --engine at all:
    {"aioring": default_path}.  Paths are made absolute (not checked
    here: the caller checks the ones a config uses).
    """
    out = {}
    for spec in specs or []:
        name, sep, path = spec.partition("=")
        if not sep or "/" in name:
            name, path = "aioring", spec
        if not _NAME_RE.fullmatch(name):
            raise SetupError("--engine %r: bad name %r (letters, digits, "
                             "'_', '.', '-'; starting with a letter)"
                             % (spec, name))
        if name in RESERVED_NAMES:
            raise SetupError("--engine %r: %r is a built-in config name; "
                             "choose another" % (spec, name))
        if not path:
            raise SetupError("--engine %r: no path" % spec)
        if name in out:
            raise SetupError("--engine %r: engine %r given twice"
                             % (spec, name))
        out[name] = os.path.abspath(path)
    if not out:
        out["aioring"] = os.path.abspath(default_path)
    return out


def named_engines(engines):
    """The engines named on the command line with NAME=PATH (A/B mode)."""
    return [n for n in engines if n != "aioring" or len(engines) > 1]


def config_engine(config):
    """Engine name of a config ("head:vectored=0" -> "head")."""
    return config.split(":")[0]


def is_external(config, engines=None):
    """True when config runs a libaioring build (not a built-in engine)."""
    name = config_engine(config)
    if name in BUILTIN_CONFIGS:
        return False
    return engines is None or name in engines or name == "aioring"


def parse_configs(tokens, engines=None):
    """Config tokens: libaio, libaio-ur, io_uring, an engine name
    (aioring, or a NAME of --engine NAME=PATH), or NAME:key=val[:key=val...]
    (that engine with engine options)."""
    names = set(engines or ()) | {"aioring"}
    out = []
    for t in tokens:
        if t in BUILTIN_CONFIGS:
            pass
        elif config_engine(t) in names:
            for kv in t.split(":")[1:]:
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=[^\s:,]+", kv):
                    raise SetupError("bad engine option %r in config %r "
                                     "(want key=val)" % (kv, t))
        else:
            raise SetupError("unknown config %r (known: %s, libaio, "
                             "libaio-ur, io_uring, spdk-aio, "
                             "NAME:key=val...)"
                             % (t, ", ".join(sorted(names))))
        if t not in out:
            out.append(t)
    return out


def default_configs(engines):
    """Named engines (A/B): them + libaio + io_uring; else the old set."""
    named = named_engines(engines)
    if named:
        return named + ["libaio", "io_uring"]
    return DEFAULT_CONFIGS.split(",")


def round_order(items, rnd):
    """The order of a round: items rotated by (round - 1).

    Every config runs once per round (interleaving); rotating the order
    round by round keeps any config from always following the same one
    (a warm page cache, a frequency step), which would bias a pair.
    """
    if not items:
        return []
    k = (rnd - 1) % len(items)
    return items[k:] + items[:k]


def balanced_order(items, rnd, seed=0):
    """The order of a round in an A/B of builds: random, and mirrored.

    Rounds go in blocks of two: the first of a block runs the items in
    a random order (seeded by the block and @seed, so a run can be
    repeated), the second in the reverse of it.  Over a block, every
    pair of items runs once each way round (A B | B A for two builds):
    a drift inside a block, a warm cache, the previous run's leftovers,
    all cancel out of the pair's ratio, and no position is favoured.
    """
    import random
    items = list(items)
    random.Random("%s|%d" % (seed, (rnd - 1) // 2)).shuffle(items)
    return items if rnd % 2 else items[::-1]


def build_cells(args):
    """Ordered list of cell keys; files cells follow their base cell."""
    dims = {"rw": args.rw, "bs": args.bs, "qd": args.qd, "jobs": args.jobs}
    files_n = args.files
    if args.quick and not any(dims.values()):
        base = list(QUICK_CELLS)
    elif args.full or any(dims.values()):
        src = FULL if args.full else PARTIAL
        vals = {k: (v if v else src[k]) for k, v in dims.items()}
        base = [cell_key(rw, bs, qd, j) for rw, bs, qd, j in itertools.product(
            vals["rw"], vals["bs"], vals["qd"], vals["jobs"])]
        if files_n is None and args.full:
            # The per-file-context target: randread 4k cells, 64 files.
            base += [k + "/files64" for k in base
                     if k.startswith("randread/4k/")]
    else:
        base = list(DEFAULT_CELLS)
    if files_n is not None:
        base = [k for k in base if parse_cell_key(k)["files"] == 1]
        if files_n > 1:
            base += [k + "/files%d" % files_n for k in list(base)]
    return order_cells(base)


def order_cells(keys):
    seen, plain, files = set(), [], {}
    for k in keys:
        if k in seen:
            continue
        seen.add(k)
        c = parse_cell_key(k)
        if c["files"] > 1:
            files.setdefault(cell_key(c["rw"], c["bs"], c["qd"], c["jobs"]),
                             []).append(k)
        else:
            plain.append(k)
    out = []
    for k in plain:
        out.append(k)
        out += files.pop(k, [])
    for base, fk in files.items():      # a files cell needs its base cell
        out.append(base)
        out += fk
    return out


def validate_cell(key):
    c = parse_cell_key(key)
    if c["rw"] not in KNOWN_RW:
        raise SetupError("cell %s: unknown rw %r" % (key, c["rw"]))
    if c["qd"] < 1 or c["jobs"] < 1:
        raise SetupError("cell %s: qd and jobs must be >= 1" % key)
    parse_size(c["bs"])
    return c


def cell_configs(cell, configs):
    """Configurations run in a cell: files cells run the engine builds."""
    if parse_cell_key(cell)["files"] > 1:
        return [c for c in configs if is_external(c)]
    return list(configs)


# ---- fio command and output ----

def engine_args(config, engine, aior_opts):
    """fio options selecting config's engine.  engine: a path, or the
    {name: path} map of parse_engine_specs."""
    if config in BUILTIN_CONFIGS:
        return list(BUILTIN_CONFIGS[config])
    if isinstance(engine, dict):
        engine = engine.get(config_engine(config)) or engine.get("aioring")
    out = ["--ioengine=external:%s" % engine]
    out += ["--%s" % o for o in aior_opts]
    out += ["--%s" % kv for kv in config.split(":")[1:]]
    return out


def fio_cmd(args, target, cell, config):
    """One fio run of @config in @cell: one job (numjobs of them),
    reported as one."""
    if config == spdk.CONFIG:
        return spdk_cmd(args, target, cell)
    return [args.fio, "--name=aior-bench", "--group_reporting=1"] + \
        cell_opts(args, target, cell) + engine_args(
            config, getattr(args, "engines", None) or args.engine,
            args.aior_opt)


def spdk_cmd(args, target, cell):
    """One fio run of spdk-aio in @cell: the cell's job on SPDK's aio
    bdev of the target, the plugin preloaded into fio alone."""
    sp = getattr(args, "spdk", None)
    plugin = sp.plugin if sp else spdk.default_plugin()
    conf = sp.conf if sp and sp.conf else "spdk-aio.json"
    hugedir = sp.hugedir if sp else None
    return spdk.command(
        [args.fio, "--name=aior-bench", "--group_reporting=1"] +
        spdk.with_spdk(cell_opts(args, target, cell), plugin, conf,
                       hugedir), plugin)


def corun_cmd(args, target, cell, configs, cpu):
    """One fio running @configs together (a co-run, see run.run_corun):
    the cell's options global, then a job per config, named "corunK" for
    the K-th, each with its engine; all pinned to the one @cpu."""
    opts = [o for o in cell_opts(args, target, cell)
            if not o.startswith("--cpus_allowed=")]
    cmd = [args.fio] + opts + ["--cpus_allowed=%d" % cpu]
    for k, cfg in enumerate(configs):
        cmd += ["--name=corun%d" % k] + engine_args(
            cfg, getattr(args, "engines", None) or args.engine,
            args.aior_opt)
    return cmd


def corun_applies(cell, target):
    """A co-run measures what a request costs in CPU: a cell of one job
    on one file, on a RAM-backed target (a device would share its own
    time between the builds as well)."""
    c = parse_cell_key(cell)
    return c["jobs"] == 1 and c["files"] == 1 and target.get("kind") == "ram"


def cell_opts(args, target, cell):
    """The fio options of a cell's job, engine aside."""
    c = parse_cell_key(cell)
    cmd = ["--rw=%s" % c["rw"],
           "--bs=%s" % c["bs"], "--iodepth=%d" % c["qd"],
           "--numjobs=%d" % c["jobs"], "--direct=1",
           "--time_based=1", "--runtime=%s" % fio_ms(args.runtime),
           "--ramp_time=%s" % fio_ms(args.ramp_time),
           "--norandommap=1", "--randrepeat=0",
           "--output-format=json", "--lat_percentiles=1",
           "--percentile_list=50:99:99.9"]
    if c["files"] > 1:
        cmd.append("--filename=%s" % ":".join(target["files"][c["files"]]))
    else:
        cmd.append("--filename=%s" % target["path"])
        if target["pass_size"]:
            cmd.append("--size=%d" % target["size"])
    if target["readonly"]:
        cmd.append("--readonly")
    if c["qd"] >= BATCH_QD:
        cmd += ["--iodepth_batch_submit=%d" % BATCH,
                "--iodepth_batch_complete_max=%d" % BATCH]
    if getattr(args, "cpus_allowed", None):
        cmd.append("--cpus_allowed=%s" % args.cpus_allowed)
    return cmd


