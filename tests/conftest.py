"""Shared fixtures: every test must leave the kernel without tracing state of ours."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
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


def pytest_runtest_logreport(report):
    """With TRACER_FAILURES_AT_ONCE set (the qemu guest sets it), a failure's details are printed
    as soon as it happens, not at the end of the run: a guest stopped by its time limit would
    otherwise take them with it."""
    if report.failed and os.environ.get("TRACER_FAILURES_AT_ONCE"):
        print(f"\n----- {report.nodeid} failed ({report.when}) -----\n{report.longreprtext}\n-----",
              flush=True)


def pytest_report_header(config):
    return f"kernel {os.uname().release}"
