#!/usr/bin/env bash
# The main job, from nothing: set up, build, then
#  1. a verification run of the engine on a RAM-backed file (crc32c over
#     random writes, the engine's counters printed), and
#  2. a short interleaved benchmark of the engine against fio's built-in
#     libaio and io_uring on the same file (jobs/compare.py).
# Arguments go to jobs/compare.py (e.g. --full, --target /dev/nvme0n1).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/build.sh"

dir=$(mktemp -d /dev/shm/libaioring.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "== verification: jobs/quickstart-verify.fio on $dir"
AIOR_ENGINE="$repo/build/libaioring.so" AIOR_DIR="$dir" \
	fio "$repo/jobs/quickstart-verify.fio"

echo "== benchmark: jobs/compare.py"
cd "$repo"
exec python3 jobs/compare.py --engine "$repo/build/libaioring.so" "$@"
