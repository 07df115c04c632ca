#!/usr/bin/env bash
# Every test, from nothing: set up, build (warnings are errors under CI),
# then run the whole CTest suite: Check unit tests of common/, integration
# tests running the real fio with the engine, fault, signal and soak tests.
# Extra arguments go to ctest (e.g. -L unit, -R verify).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$repo/build}
BUILD=$build "$repo/scripts/build.sh"
cd "$build"
exec ctest --output-on-failure --timeout 600 "$@"
