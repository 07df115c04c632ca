# SPDX-License-Identifier: BSD-3-Clause
"""The sample model: one fio run of one config in one cell is a sample
(a dict: cell, config, host, ok, iops, latencies, CPU...); summarize()
turns a run's samples into medians, spreads and ratios to the anchors.
Computes only; report.py and outputs.py render what it returns."""

from .stats import cov, median, ratio
from .plan import base_cell, parse_cell_key

# Pseudo-configuration name of fio's t/io_uring -a1 runs (raw aio ceiling).
CEILING = "raw-aio"


PRIMARY_HOSTS = ("local", "all")


def host_of(sample):
    return sample.get("host", "local")


def hosts_in(samples):
    """Hosts with their own samples (HOST:PORT), in order; not local/all."""
    return list(dict.fromkeys(host_of(s) for s in samples
                              if host_of(s) not in PRIMARY_HOSTS))


def _vals(samples, cell, config, key):
    return [s[key] for s in samples
            if s.get("cell") == cell and s.get("config") == config
            and s.get("ok") and s.get(key) is not None]


def summarize(samples, cells, configs, host=None):
    """cell -> config -> medians, spread and ratios (absent if never ran).

    host: None for the run's own figures (a local run, or the aggregate
    of all --client hosts), else one HOST:PORT.
    """
    samples = [s for s in samples if (host_of(s) in PRIMARY_HOSTS
                                      if host is None
                                      else host_of(s) == host)]
    out = {}
    for cell in cells:
        row = {}
        for cfg in list(configs) + [CEILING]:
            iops = _vals(samples, cell, cfg, "iops")
            if not iops:
                continue
            st = {"n": len(iops), "iops": median(iops),
                  "iops_min": min(iops), "iops_max": max(iops),
                  "iops_cov": cov(iops)}
            for key in ("bw_kib", "lat_p50_ns", "lat_p99_ns", "lat_p999_ns",
                        "cpu_us_per_io", "usr_us_per_io", "sys_us_per_io",
                        "ctx_per_io", "foreign_cpu"):
                st[key] = median(_vals(samples, cell, cfg, key))
            st["contended"] = sum(1 for s in samples if s.get("cell") == cell
                                  and s.get("config") == cfg and s.get("ok")
                                  and s.get("contended"))
            st["corun"] = any(s.get("corun") for s in samples
                              if s.get("cell") == cell
                              and s.get("config") == cfg)
            row[cfg] = st
        out[cell] = row
    for cell, row in out.items():
        files = parse_cell_key(cell)["files"] > 1
        ref_row = out.get(base_cell(cell), {}) if files else row
        ceil = row.get(CEILING) or (out.get(base_cell(cell), {})
                                    .get(CEILING) if files else None)
        for cfg, st in row.items():
            if st.get("corun"):
                # A share of one CPU: a ratio only to an anchor that
                # shared it (--co-run anchors), none to a solo run.
                st.update(vs_libaio=_corun_ratio(st, row.get("libaio")),
                          vs_io_uring=_corun_ratio(st, row.get("io_uring")),
                          vs_1file=None, ceiling_share=None)
                continue
            st["vs_libaio"] = ratio(st["iops"],
                                    ref_row.get("libaio", {}).get("iops"))
            st["vs_io_uring"] = ratio(st["iops"],
                                      ref_row.get("io_uring", {}).get("iops"))
            st["vs_1file"] = (ratio(st["iops"], ref_row.get(cfg, {})
                                    .get("iops")) if files else None)
            st["ceiling_share"] = (ratio(st["iops"], ceil["iops"])
                                   if ceil and cfg != CEILING else None)
    return out


def _corun_ratio(st, ref):
    """IOPS ratio of two configs that co-ran, else None."""
    if not ref or not ref.get("corun"):
        return None
    return ratio(st["iops"], ref["iops"])
