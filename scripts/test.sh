#!/usr/bin/env bash
# Set up what is missing, then run the whole test suite as root against this kernel.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
.venv/bin/ruff check tracer tests bench trace-hooks/*/manager scripts/tracer
set +e
.venv/bin/python -m pytest -ra "$@"
rc=$?
set -e
# pytest exits 5 when it collected no test: that is a failure, not a pass.
[ $rc = 5 ] && echo "test: no test was collected" >&2
exit $rc
