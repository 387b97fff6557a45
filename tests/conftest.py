"""Shared fixtures: every test must leave the kernel without tracing state of ours."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import shards  # noqa: E402
from bounds import bound  # noqa: E402
from kernel_state import leftovers  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = Path(__file__).parent / "workload.py"

# A shell starts background jobs (CI's, `make test &`) with SIGINT ignored, and an ignored signal
# stays ignored across exec: every manager a test starts would drop a SIGINT that arrives before
# its launcher restores the default. The agent starts its managers with SIGINT at its default,
# since it stops them with it: so do the tests.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def kernel_left_clean():
    before = set(leftovers(settle=0))
    yield
    after = [x for x in leftovers() if x not in before]
    assert not after, f"tracing state left in the kernel: {after}"


class Workload:
    """A live process that runs one syscall per command sent to it."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(["/usr/bin/python3", str(WORKLOAD)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.pid = self.proc.pid

    def do(self, cmd: str) -> str:
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=bound(5))


@pytest.fixture
def workload():
    made: list[Workload] = []

    def make() -> Workload:
        w = Workload()
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


@pytest.fixture
def outdir(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACER_OUTPUT_DIR", str(tmp_path))
    # Tests read the growing trace file at the announced path; the default announced pipe,
    # paced for container-tracer's agent, has its own tests (test_agent_conformance.py).
    monkeypatch.setenv("TRACER_OUTPUT_MODE", "file")
    return tmp_path


_spent: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """With TRACER_FAILURES_AT_ONCE set (the qemu guest sets it), a failure's details are printed
    as soon as it happens, not at the end of the run: a guest stopped by its time limit would
    otherwise take them with it. With TRACER_TIMES_AT_ONCE, each test's time (setup, call and
    teardown) follows it on a line "# 12.34s NODEID" (vagrant/shard-weights reads them)."""
    if report.failed and os.environ.get("TRACER_FAILURES_AT_ONCE"):
        print(f"\n----- {report.nodeid} failed ({report.when}) -----\n{report.longreprtext}\n-----",
              flush=True)
    if os.environ.get("TRACER_TIMES_AT_ONCE"):
        _spent[report.nodeid] = _spent.get(report.nodeid, 0.0) + report.duration
        if report.when == "teardown":
            print(f"\n# {_spent.pop(report.nodeid):.2f}s {report.nodeid}", flush=True)


def pytest_addoption(parser):
    parser.addoption("--shard", default=None, metavar="K/N",
                     help="run only the K-th of N shards of the collected tests (whole files)")


def pytest_collection_modifyitems(config, items):
    spec = config.getoption("--shard")
    if not spec:
        return
    try:
        k, n = shards.parse(spec)
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None
    shard = shards.assign((item.nodeid.split("::")[0] for item in items), n, shards.load_weights())
    keep = [item for item in items if shard[item.nodeid.split("::")[0]] == k]
    dropped = [item for item in items if shard[item.nodeid.split("::")[0]] != k]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep


def pytest_report_header(config):
    return f"kernel {os.uname().release}"
