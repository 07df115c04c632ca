#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The sensitivity study of the A/B gate (docs/perf/sensitivity.md): builds
# the engine with planted delays (CMake AIOR_PLANTED_DELAY_NS) and counts
# how often perf/compare.py flags them, and identical builds, as a
# regression.  Arguments go to perf/sensitivity.py (see its --help):
#
#   scripts/perf-sensitivity.sh --table-dir docs/perf       # the study, 20 runs
#   scripts/perf-sensitivity.sh --runs 3 --check            # CI: both directions
#
# Set AIOR_BENCH_LOCK=/path to flock that file around each run (exclusive)
# and build (shared) on a machine shared with other benchmarks.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
exec python3 "$repo/perf/sensitivity.py" "$@"
