#!/usr/bin/env bash
# The main job, from nothing: set up, build, then
#  1. a verification run of the engine on a RAM-backed file (crc32c over
#     random writes, the engine's counters printed), and
#  2. an interleaved benchmark of the engine against fio's built-in libaio
#     and io_uring on the same kind of file (perf/compare.py): the short
#     CI-sized one, or what the arguments ask for (they go to compare.py
#     instead of --quick; e.g. nothing else for the default cells, --full,
#     --target /dev/nvme0n1, --gate jobs/floors.json).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/build.sh"

dir=$(mktemp -d /dev/shm/libaioring.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "== verification: jobs/quickstart-verify.fio on $dir"
AIOR_ENGINE="$repo/build/libaioring.so" AIOR_DIR="$dir" \
	fio "$repo/jobs/quickstart-verify.fio"

echo "== benchmark: perf/compare.py"
cd "$repo"
# Under its table it names this machine's runner class, and how it and
# its ratios compare with the README's headline (which ran elsewhere).
[ $# -gt 0 ] || set -- --quick --headline docs/perf/headline.json
# Not exec: the EXIT trap must still remove the verification directory.
python3 perf/compare.py --engine "$repo/build/libaioring.so" "$@"
