# SPDX-License-Identifier: BSD-3-Clause
"""One run step by step (aiorperf.session): interrupted before the first
fio run, it still writes its files.
"""

import io
import os
import shutil
import signal
import tempfile
import unittest
import unittest.mock
from contextlib import redirect_stdout

from aiorperf import cli, outputs, session, util, verdicts


class Session(unittest.TestCase):
    def test_interrupted_before_the_first_run_still_writes(self):
        # Ctrl-C while t/io_uring is built: nothing measured, no
        # environment taken yet; the run still leaves its files.
        def interrupted(args, version):
            raise util.Interrupted()
        handlers = [(s, signal.getsignal(s))
                    for s in (signal.SIGINT, signal.SIGTERM)]
        for s, h in handlers:
            self.addCleanup(signal.signal, s, h)
        d = tempfile.mkdtemp(prefix="aior-session-")
        self.addCleanup(shutil.rmtree, d)
        args = cli.parse_args(["--engine", "/bin/true", "--configs",
                               "aioring", "--rw", "randread", "--qd", "1",
                               "--files", "0", "--out", d])
        st = session.new_state(args, 0.0, ["randread/4k/qd1/j1"],
                               ["aioring"], None, None)
        with unittest.mock.patch.object(session, "build_tio", interrupted):
            rc = session.measure(st, "fio-3.33", ["/bin/true"])
        self.assertEqual((rc, st.interrupted), (verdicts.EXIT_INTR, True))
        self.assertIn("kernel", st.env)
        st.rc = verdicts.exit_status(st, rc)
        with unittest.mock.patch.dict(os.environ, {
                "PATH": os.path.join(d, "nothing"),
                "GITHUB_STEP_SUMMARY": ""}), \
                redirect_stdout(io.StringIO()):
            outputs.write_outputs(st)
        with open(os.path.join(d, "summary.md")) as f:
            self.assertIn("**Interrupted**", f.read())

