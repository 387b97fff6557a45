"""Time bounds of the tests, scaled to the machine's speed, and the waits that use them.

Each bound is what the product promises on an ordinary machine. Under software emulation (qemu
TCG, vagrant/run-qemu) every instruction is many times slower, so the guest sets
TRACER_TIME_FACTOR and the same promise is checked, scaled, instead of failing on the emulator.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")


def _factor() -> float:
    try:
        return max(1.0, float(os.environ.get("TRACER_TIME_FACTOR") or 1))
    except ValueError:
        return 1.0


FACTOR = _factor()


def bound(seconds: float) -> float:
    """`seconds` on this machine: the bound times TRACER_TIME_FACTOR (1 unless emulated)."""
    return seconds * FACTOR


# From --run to the announced path. The agent gives up after 5 s (50 polls of 100 ms); an
# ebpf hook spends about 1 s of it in BCC's compile of the dispatcher on a 2-core machine.
STARTUP = 3.5

# Fork-heavy shell loops run 50 to 100 times slower under emulation, far more than the CPU loop
# the factor is measured on. Where a test's volume checks our own code (a reader keeping up with
# a writer, a buffer that must not overflow), that code is the same on every kernel, so under
# emulation the test runs a tenth of the volume: what the kernel does is checked all the same.
EMULATED = FACTOR > 1


def volume(n: int) -> int:
    """`n` iterations of a workload here; a tenth of them (at least 1) under emulation."""
    return max(1, n // 10) if EMULATED else n


def wait_until(get: Callable[[], T], timeout: float = 10.0, step: float = 0.05, *,
               until: Callable[[T], object] = bool) -> T:
    """get()'s first value that `until` accepts (by default a truthy one), or its last value once
    bound(timeout) seconds have passed: the caller asserts on what it got."""
    deadline = time.monotonic() + bound(timeout)
    while True:
        got = get()
        if until(got) or time.monotonic() > deadline:
            return got
        time.sleep(step)


def lines_until(path: Path, pred: Callable[[list[str]], object], timeout: float = 8.0) -> list[str]:
    """`path`'s lines once `pred` accepts them, or as they are after bound(timeout) seconds."""
    return wait_until(lambda: path.read_text().splitlines(), timeout, 0.1, until=pred)


def started(proc: subprocess.Popen, ready: Callable[[], object], timeout: float, what: str,
            step: float = 0.05) -> None:
    """Until ready() holds. Fails the test if `proc` exits first (with its stderr, when piped) or
    once bound(timeout) seconds have passed."""
    wait_until(lambda: ready() or proc.poll() is not None, timeout, step)
    if ready():
        return
    if proc.poll() is not None:
        err = proc.stderr.read() if proc.stderr else ""
        raise AssertionError(f"{what} exited with status {proc.returncode} before it was ready: {err}")
    raise AssertionError(f"{what} was not ready after {bound(timeout):.0f} s")
