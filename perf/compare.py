#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""libaioring's performance harness: `python3 perf/compare.py --help`.

The code lives in perf/aiorperf/ (see its __init__.py for the layout).
"""

import os
import sys

sys.dont_write_bytecode = True     # keep the tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from aiorperf.cli import main  # noqa: E402

if __name__ == "__main__":
    try:
        rc = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # `compare.py baseline show NAME | head`: the reader left; end
        # quietly, as a command-line tool does (and do not let Python's
        # own flush at exit complain again).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        rc = 0
    sys.exit(rc)
