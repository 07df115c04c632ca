# SPDX-License-Identifier: BSD-3-Clause
"""The harness's unit tests: test_<module>.py for each module of aiorperf
it tests, on fabricated data (no fio, no engine), the shared fabrications
in fixtures.py.  From perf/:

    python3 -m unittest discover -s tests -t .      # all (ctest perf_selfcheck)
    python3 -m unittest tests.test_gate             # one module's

The shell tests beside them (insn.sh, ab_refs.sh, end_to_end.sh,
remote.sh) run the real fio and engine; ctest runs them as perf_*.
"""
