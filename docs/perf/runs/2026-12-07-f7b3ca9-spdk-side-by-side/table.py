#!/usr/bin/env python3
"""The side-by-side table of docs/spdk.md from the runs' results.json:
IOPS (medians of the rounds), CPU per I/O and p99 of each config, the
raw aio ceiling, spdk-aio's ratios to the engine and libaio.

    table.py randread/results.json.gz randwrite/results.json.gz
"""
import gzip
import json
import sys

CONFIGS = ["aioring", "libaio", "libaio-ur", "io_uring", "spdk-aio"]


def load(p):
    op = gzip.open if p.endswith(".gz") else open
    with op(p, "rt") as f:
        return json.load(f)


def k(v):
    return "-" if v is None else ("%.2fM" % (v / 1e6) if v >= 1e6
                                  else "%.1fk" % (v / 1e3))


def row(cell, s):
    get = lambda c, m: (s.get(c) or {}).get(m)
    ceil = get("raw-aio", "iops")
    iops = [k(get(c, "iops")) for c in CONFIGS]
    sp, en, la = (get("spdk-aio", "iops"), get("aioring", "iops"),
                  get("libaio", "iops"))
    r = lambda a, b: "%.2f" % (a / b) if a and b else "-"
    cpu = " / ".join("%.2f" % get(c, "cpu_us_per_io")
                     if get(c, "cpu_us_per_io") is not None else "-"
                     for c in ("aioring", "libaio", "spdk-aio"))
    usr = "%.2f/%.2f" % (get("spdk-aio", "usr_us_per_io") or 0,
                         get("spdk-aio", "sys_us_per_io") or 0)
    p99 = " / ".join("%.1f" % (get(c, "lat_p99_ns") / 1e3)
                     if get(c, "lat_p99_ns") else "-"
                     for c in ("aioring", "libaio", "spdk-aio"))
    name = cell.replace("/4k/qd", " QD").replace("/j1", "")
    if "qd128" in cell:
        name += ", batch 32/32"
    return "| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        name, " | ".join(iops), k(ceil), r(sp, en), r(sp, la),
        "%d%%" % round(100 * sp / ceil) if sp and ceil else "-", cpu, usr,
        p99)


print("| cell | libaioring | libaio | libaio-ur | io_uring | spdk-aio | "
      "raw aio | spdk-aio × libaioring | spdk-aio × libaio | "
      "spdk-aio % raw aio | CPU µs/IO (libaioring / libaio / spdk-aio) | "
      "spdk-aio usr/sys | p99 µs (libaioring / libaio / spdk-aio) |")
print("|---|" + "--:|" * 9 + "---|---|---|")
runner = set()
for p in sys.argv[1:]:
    d = load(p)
    runner.add(d.get("runner_label"))
    for cell in d["cells"]:
        print(row(cell, d["summary"][cell]))
print()
print("runner class: " + "; ".join(sorted(r for r in runner if r)))
