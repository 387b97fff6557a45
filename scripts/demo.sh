#!/usr/bin/env bash
# The main job on a built-in demo target: start a small workload, run the ebpf-syscalls
# hook on it through its manager (as container-tracer does), show the first events, stop.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
SECONDS_TO_TRACE=${SECONDS_TO_TRACE:-2}

# The demo target: a shell that keeps starting small commands (followed into its children).
bash -c 'while :; do cat /etc/hostname >/dev/null; ls /tmp >/dev/null; sleep 0.3; done' &
target=$!
out=$(mktemp)
cleanup() { kill "$target" 2>/dev/null || true; rm -f "$out"; }
trap cleanup EXIT

cd "$ROOT/trace-hooks/ebpf"
echo "\$ ./manager.py --run ebpf-syscalls --args \"--pid $target\""
./manager.py --run ebpf-syscalls --args "--pid $target" >"$out" &
manager=$!
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
[ -s "$out" ] || { wait "$manager"; exit 1; }
trace=$(head -n 1 "$out")
echo "$trace"
sleep "$SECONDS_TO_TRACE"
echo "--- first events:"
head -n 15 "$trace"
kill -INT "$manager"
wait "$manager"
echo "--- last line after SIGINT:"
tail -n 1 "$trace"
