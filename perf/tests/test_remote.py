# SPDX-License-Identifier: BSD-3-Clause
"""Self-check of aiorperf.remote's parsing and aggregation, no fio run.

  or python3 perf/tests/test_remote.py
The live test with two fio servers on loopback addresses is
perf/tests/remote.sh (ctest: perf_remote).
"""

import unittest

from aiorperf import remote


def entry(host, port, iops, p99, usr=10.0, runtime=1000, ios=None,
          name="x"):
    return {"jobname": name, "hostname": host, "port": port, "error": 0,
            "job_runtime": runtime, "usr_cpu": usr, "sys_cpu": 2 * usr,
            "ctx": 5,
            "read": {"iops": iops, "bw": iops * 4, "total_ios":
                     ios if ios is not None else int(iops),
                     "runtime": runtime,
                     "lat_ns": {"percentile": {"99.000000": p99,
                                               "50.000000": p99 // 4}}}}


class ParseHost(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(remote.parse_host("h"), ("h", 8765))
        self.assertEqual(remote.parse_host("h:8766"), ("h", 8766))
        self.assertEqual(remote.parse_host(" 127.0.0.2:1 "), ("127.0.0.2", 1))
        self.assertEqual(remote.parse_host("[::1]:9"), ("::1", 9))
        self.assertEqual(remote.parse_host("[::1]"), ("::1", 8765))
        self.assertEqual(remote.parse_host("fe80::1"), ("fe80::1", 8765))

    def test_bad(self):
        for bad in ("", " ", "h:", "h:0", "h:65536", "h:x", "a b:1",
                    "[h]:1", "h,1:2", ":80"):
            with self.assertRaises(ValueError, msg=bad) as cm:
                remote.parse_host(bad)
            self.assertNotIn("\n", str(cm.exception))

    def test_key_and_connect_string(self):
        self.assertEqual(remote.host_key("h"), "h:8765")
        self.assertEqual(remote.host_key("[::1]:9"), "[::1]:9")
        self.assertEqual(remote._connect_str(("::1", 9)), "ip6:::1,9")
        self.assertEqual(remote._connect_str(("10.0.0.1", 9)),
                         "ip:10.0.0.1,9")

    def test_duplicate_host_refused(self):
        with self.assertRaises(ValueError):
            remote._norm_hosts(["h:1", "h:1"])
        with self.assertRaises(ValueError):
            remote._norm_hosts([])


class JobFile(unittest.TestCase):
    def test_options_become_a_job_file(self):
        t = remote.job_file_text(["--name=j", "--rw=randread", "--bs=4k",
                                  "--output-format=json", "--readonly",
                                  "--norandommap", "--filename=/a:/b"])
        self.assertEqual(t, "[j]\nrw=randread\nbs=4k\nnorandommap\n"
                            "filename=/a:/b\n")

    def test_bad_options(self):
        for args in (["--rw=read"], ["--name=a b"], ["--name=j", "rw=read"],
                     ["--name=j", "--name=k"],
                     ["--name=j", "--readonly", "--rw=randwrite"],
                     ["--name=j", "--bs=4k\n[evil]"]):
            with self.assertRaises(ValueError, msg=args):
                remote.job_file_text(args)


class Aggregate(unittest.TestCase):
    HOSTS = [("127.0.0.1", 8766), ("127.0.0.2", 8767)]

    def test_entries_matched_by_host_and_port(self):
        doc = {"client_stats": [
            entry("127.0.0.2", 8767, 200, 90),
            entry("127.0.0.1", 8766, 100, 70),
            dict(entry("127.0.0.1", 8766, 300, 0), jobname="All clients")]}
        per, allc = remote._entries(doc, self.HOSTS)
        self.assertEqual(per[self.HOSTS[0]]["read"]["iops"], 100)
        self.assertEqual(per[self.HOSTS[1]]["read"]["iops"], 200)
        self.assertEqual(allc["read"]["iops"], 300)

    def test_missing_host_is_missing(self):
        doc = {"client_stats": [entry("127.0.0.1", 8766, 100, 70)]}
        per, _ = remote._entries(doc, self.HOSTS)
        self.assertNotIn(self.HOSTS[1], per)

    def test_fio_all_clients_gets_max_percentiles(self):
        a, b = entry("h1", 1, 100, 70), entry("h2", 2, 200, 90)
        fio_all = entry("h1", 1, 300, 0)
        del fio_all["read"]["lat_ns"]
        agg = remote.aggregate({("h1", 1): a, ("h2", 2): b}, fio_all)
        self.assertEqual(agg["read"]["iops"], 300)
        self.assertEqual(agg["read"]["lat_ns"]["percentile"]["99.000000"],
                         90)
        self.assertEqual(agg["hosts"], ["h1:1", "h2:2"])

    def test_computed_aggregate(self):
        a = entry("h1", 1, 100, 70, usr=10, ios=1000)
        b = entry("h2", 2, 300, 50, usr=30, ios=3000)
        agg = remote.aggregate({("h1", 1): a, ("h2", 2): b}, None)
        self.assertEqual(agg["read"]["iops"], 400)
        self.assertEqual(agg["read"]["total_ios"], 4000)
        self.assertEqual(agg["job_runtime"], 2000)
        self.assertEqual(agg["ctx"], 10)
        self.assertAlmostEqual(agg["usr_cpu"], 20.0)
        self.assertEqual(agg["read"]["lat_ns"]["percentile"]["99.000000"],
                         70)
        # CPU seconds are preserved: mean usr% x summed runtime.
        self.assertAlmostEqual(agg["usr_cpu"] / 100 * agg["job_runtime"],
                               (10 * 1000 + 30 * 1000) / 100)

    def test_single_host_is_a_copy(self):
        a = entry("h1", 1, 100, 70)
        agg = remote.aggregate({("h1", 1): a}, None)
        self.assertEqual(agg["read"]["iops"], 100)
        agg["read"]["iops"] = 0
        self.assertEqual(a["read"]["iops"], 100)


class Output(unittest.TestCase):
    def test_split_and_why(self):
        out = ("<vm> fio: invalid external ioengine path \"/x\"\n"
               "<vm> fio: job chk dropped\n{\n \"client_stats\": []\n}\n")
        doc, lines = remote._split_output(out)
        self.assertEqual(doc, {"client_stats": []})
        self.assertEqual(remote._why(lines),
                         "fio: invalid external ioengine path \"/x\"")
        self.assertEqual(remote._why(["libaioring: built for fio-3.33, "
                                      "loaded by fio-3.36"], ""),
                         "libaioring: built for fio-3.33, loaded by "
                         "fio-3.36")
        self.assertEqual(remote._split_output("garbage")[0], None)

