#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Live check of aiorperf.remote against two running fio servers.

Run by perf/tests/remote.sh, which starts the servers on 127.0.0.1 and
127.0.0.2 and stops them again:

    remote_check.py --fio FIO --engine ENGINE --target FILE \\
        --host 127.0.0.1:P1 --host 127.0.0.2:P2 --dead 127.0.0.2:P3

Prints what it checks and exits 1 at the first check that fails.
"""

import argparse
import os
import sys

sys.dont_write_bytecode = True     # keep the tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from aiorperf import remote  # noqa: E402

FAILED = []


def check(cond, what):
    print("%s: %s" % ("ok  " if cond else "FAIL", what), flush=True)
    if not cond:
        FAILED.append(what)
    return cond


def expect_error(fn, must_name, what):
    try:
        fn()
    except remote.RemoteError as e:
        msg = str(e)
        print("      -> %s" % msg)
        return check(all(s in msg for s in must_name) and "\n" not in msg,
                     "%s: one line naming %s" % (what, ", ".join(must_name)))
    return check(False, "%s: no error raised" % what)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fio", required=True)
    p.add_argument("--engine", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--host", action="append", required=True)
    p.add_argument("--dead", required=True,
                   help="a loopback HOST:PORT nobody listens on")
    a = p.parse_args()
    hosts = [remote.parse_host(h) for h in a.host]
    keys = [remote.host_key(h) for h in hosts]
    engine = os.path.abspath(a.engine)
    missing = os.path.join(os.path.dirname(a.target), "no-such-engine.so")

    check_preflight(a, hosts, keys, engine, missing)
    job = check_run(a, hosts, keys, engine)
    if job is None:
        return 1
    check_failing_run(a, hosts, keys, job, missing)

    if FAILED:
        print("remote_check: %d check(s) failed" % len(FAILED))
        return 1
    print("remote_check: all checks passed")
    return 0


def check_preflight(a, hosts, keys, engine, missing):
    """1. Preflight: all there; then each kind of absence names the
    host."""
    try:
        remote.preflight(a.fio, hosts, [engine], a.target, timeout=10)
        check(True, "preflight of %s with %s and %s"
              % (", ".join(keys), engine, a.target))
    except remote.RemoteError as e:
        check(False, "preflight of the running servers: %s" % e)
    dead = remote.host_key(remote.parse_host(a.dead))
    expect_error(lambda: remote.preflight(a.fio, hosts + [a.dead], [engine],
                                          a.target, timeout=5),
                 [dead, "no fio server answers"],
                 "preflight with %s (nobody listens)" % dead)
    expect_error(lambda: remote.preflight(a.fio, hosts, [engine, missing],
                                          a.target, timeout=10),
                 [keys[0], missing], "preflight with a missing engine")
    expect_error(lambda: remote.preflight(a.fio, hosts, [engine],
                                          a.target + ".absent", timeout=10),
                 [keys[0], a.target + ".absent"],
                 "preflight with a missing target")
    check(not os.path.exists(a.target + ".absent"),
          "preflight did not create the missing target")


def check_run(a, hosts, keys, engine):
    """2. One short job on both hosts at once: per-host and "all".
    Returns the job, or None when it could not run at all."""
    job = ["--name=remote-check", "--rw=randread", "--bs=4k",
           "--iodepth=8", "--direct=1", "--time_based=1", "--runtime=1s",
           "--norandommap=1", "--randrepeat=0", "--group_reporting=1",
           "--lat_percentiles=1", "--percentile_list=50:99:99.9",
           "--filename=%s" % a.target, "--ioengine=external:%s" % engine]
    out = {}
    try:
        res = remote.run(a.fio, hosts, job, timeout=60, output=out)
    except remote.RemoteError as e:
        check(False, "run on %s: %s" % (", ".join(keys), e))
        return None
    check(sorted(res) == sorted(keys + ["all"]),
          "results keyed %s" % ", ".join(sorted(res)))
    per = [res[k]["read"] for k in keys]
    allr = res["all"]["read"]
    for k, r in zip(keys, per):
        print("      %s: %.0f IOPS, %d I/Os, p99 %s ns" % (
            k, r["iops"], r["total_ios"],
            r["lat_ns"]["percentile"]["99.000000"]))
        check(r["iops"] > 0 and r["total_ios"] > 0, "%s did I/O" % k)
    print("      all: %.0f IOPS, %d I/Os, p99 %s ns (%s)" % (
        allr["iops"], allr["total_ios"],
        allr["lat_ns"]["percentile"]["99.000000"],
        res["all"].get("aggregate")))
    s = sum(r["iops"] for r in per)
    check(abs(allr["iops"] - s) <= 0.01 * s,
          "all IOPS %.0f = sum of hosts %.0f" % (allr["iops"], s))
    check(allr["total_ios"] == sum(r["total_ios"] for r in per),
          "all I/Os = sum of hosts")
    worst = max(r["lat_ns"]["percentile"]["99.000000"] for r in per)
    check(allr["lat_ns"]["percentile"]["99.000000"] == worst,
          "all p99 = the worst host's p99")
    check(all(res[k].get("job_runtime", 0) > 0 for k in keys),
          "per-host job_runtime present")
    return job


def check_failing_run(a, hosts, keys, job, missing):
    """3. A job that fails on the servers is an error, not an empty
    result."""
    try:
        remote.run(a.fio, hosts, job[:-1] + ["--ioengine=external:%s"
                                             % missing], timeout=60)
        check(False, "run with a missing engine raised nothing")
    except remote.RemoteError as e:
        print("      -> %s" % e)
        check(keys[0] in str(e), "run with a missing engine names a host")


if __name__ == "__main__":
    sys.exit(main())
