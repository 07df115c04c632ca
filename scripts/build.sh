#!/usr/bin/env bash
# Set up (scripts/setup.sh), configure and build libaioring into $BUILD
# (default: build/ in the repository).  Extra arguments go to cmake's
# configure step, e.g. -DAIOR_SANITIZE=ON.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$repo/build}

fio_src=$("$repo/scripts/setup.sh" | tail -n 1)
werror=OFF
[ -n "${CI:-}" ] && werror=ON
cmake -S "$repo" -B "$build" -DFIO_SOURCE_DIR="$fio_src" \
	-DAIOR_WERROR="$werror" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
echo "built $build/libaioring.so"
