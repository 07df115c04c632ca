#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Many hosts through fio's client/server, on this machine only: start two
# fio servers, one on 127.0.0.1 and one on 127.0.0.2 (distinct free
# ports), run perf/tests/remote_check.py against them (preflight: a host
# nobody answers on, a missing engine, a missing target; a job on both at
# once with per-host and aggregate figures), then, when the harness has
# --client, one short perf/compare.py run through both servers.  The
# servers are stopped on every exit (trap).  No other address is used.
#
#   remote.sh --fio FIO --engine /abs/libaioring.so [--no-compare]
#
# Exit 77 (skipped) when fio has no client/server support or the
# loopback address 127.0.0.2 cannot be bound here.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
perf=$(dirname "$here")
fio=fio engine= compare=1
while [ $# -gt 0 ]; do
	case $1 in
	--fio) fio=$2; shift 2 ;;
	--engine) engine=$2; shift 2 ;;
	--no-compare) compare=0; shift ;;
	*) echo "remote.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -f "$engine" ] || { echo "remote.sh: --engine $engine: no such file" >&2; exit 2; }
engine=$(cd "$(dirname "$engine")" && pwd)/$(basename "$engine")
fio=$(command -v "$fio") || { echo "remote.sh: fio not found" >&2; exit 2; }

if ! "$fio" --help 2>&1 | grep -q -- '--server'; then
	echo "SKIP: $fio has no --server option (built without client/server support)"
	exit 77
fi

work=$(mktemp -d /dev/shm/aior-remote-XXXXXX 2>/dev/null || mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM -- "-$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free ports, chosen by the kernel; the third is left unused (the host
# nobody answers on).
read -r p1 p2 p3 < <(python3 - <<'PY'
import socket
socks = []
for addr in ("127.0.0.1", "127.0.0.2", "127.0.0.2"):
    s = socket.socket()
    s.bind((addr, 0))
    socks.append(s)
ports = [s.getsockname()[1] for s in socks]
assert len(set(ports)) == 3
print(*ports)
PY
) || { echo "SKIP: cannot bind the loopback address 127.0.0.2 here"; exit 77; }

start_server() {	# addr port log
	# setsid: the server leads its own process group, stopped as a whole.
	setsid "$fio" --server="ip:$1,$2" >"$3" 2>&1 &
	pids+=("$!")
	if ! python3 -c "
import sys; sys.path.insert(0, '$perf')
from aiorperf.remote import wait_listening
sys.exit(0 if wait_listening(('$1', $2), 10) else 1)"; then
		echo "remote.sh: fio --server=ip:$1,$2 did not start listening:"
		cat "$3"
		exit 1
	fi
	echo "remote.sh: fio server pid ${pids[-1]} on $1:$2"
}
start_server 127.0.0.1 "$p1" "$work/server1.log"
start_server 127.0.0.2 "$p2" "$work/server2.log"

target=$work/target.dat
head -c $((64 << 20)) /dev/urandom >"$target"

python3 "$here/remote_check.py" --fio "$fio" --engine "$engine" \
	--target "$target" --host "127.0.0.1:$p1" --host "127.0.0.2:$p2" \
	--dead "127.0.0.2:$p3"

if [ "$compare" = 1 ]; then
	probe=$(python3 "$perf/compare.py" --client 2>&1 || true)
	if [[ $probe != *"--client: expected one argument"* ]]; then
		echo "remote.sh: FAIL: perf/compare.py has no --client option"
		exit 1
	fi
	# A host that does not answer stops compare.py before any run,
	# named in one line, exit 2.
	set +e
	python3 "$perf/compare.py" --client "127.0.0.1:$p1" \
		--client "127.0.0.2:$p3" --engine "base=$engine" \
		--engine "head=$engine" --configs base,head --rw randread \
		--bs 4k --qd 8 --rounds 3 --runtime 1 --no-ceiling \
		--target "$target" --out "$work/dead" >"$work/dead.log" 2>&1
	rc=$?
	set -e
	line=$(grep -m1 'error:' "$work/dead.log" || true)
	echo "      -> exit $rc: $line"
	if [ "$rc" != 2 ] || [[ $line != *"127.0.0.2:$p3"* ]] ||
		grep -q '^\[1/' "$work/dead.log"; then
		echo "remote.sh: FAIL: compare.py with a dead host: want exit 2 naming 127.0.0.2:$p3 before any run"
		cat "$work/dead.log"
		exit 1
	fi
	echo "ok  : compare --client with 127.0.0.2:$p3 (nobody listens) stops before any run, exit 2, naming it"

	out=$work/compare
	set +e
	python3 "$perf/compare.py" --client "127.0.0.1:$p1" \
		--client "127.0.0.2:$p2" --engine "base=$engine" \
		--engine "head=$engine" --configs base,head,libaio \
		--rw randread --bs 4k --qd 8 --rounds 2 --runtime 1 \
		--ramp-time 0 --no-ceiling --target "$target" --out "$out"
	rc=$?
	set -e
	echo "remote.sh: perf/compare.py --client exited $rc"
	# 0 no regression, 1 regression, 3 inconclusive (--strict only): the
	# figures are what is checked here, not the verdict of two rounds.
	case $rc in 0|1) ;; *) echo "remote.sh: FAIL: compare exit $rc"; exit 1 ;; esac
	python3 - "$out" "127.0.0.1:$p1" "127.0.0.2:$p2" <<'PY'
import json, os, sys
out, h1, h2 = sys.argv[1:]
doc = json.load(open(os.path.join(out, "results.json")))
smp = [s for s in doc["samples"] if s.get("ok")]
hosts = {s.get("host") for s in smp}
want = {h1, h2, "all"}
bad = []
if not want <= hosts:
    bad.append("samples' hosts %s, want %s" % (sorted(map(str, hosts)),
                                               sorted(want)))
for cfg in ("base", "head", "libaio"):
    for h in want:
        if not any(s["config"] == cfg and s.get("host") == h and
                   s.get("iops", 0) > 0 for s in smp):
            bad.append("no %s sample with IOPS on host %s" % (cfg, h))
md = open(os.path.join(out, "summary.md")).read()
for h in (h1, h2):
    if h not in md:
        bad.append("summary.md does not name host %s" % h)
for b in bad:
    print("FAIL: compare --client: " + b)
if bad:
    sys.exit(1)
print("ok  : compare --client: base, head and libaio samples on %s, %s "
      "and all; summary.md names both hosts" % (h1, h2))
PY
fi
echo "remote.sh: passed"
