"""The event pipeline end to end through the manager: loss accounting, buffers, formats."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from bounds import wait_until
from test_manager_contract import Run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def getppid_exe(tmp_path_factory):
    exe = tmp_path_factory.mktemp("bin") / "getppid"
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(ROOT / "bench/getppid.c")], check=True)
    return exe


def settle(path: Path, quiet: float = 0.5) -> None:
    size, last = -1, time.monotonic()
    while time.monotonic() - last < quiet:
        now = path.stat().st_size
        if now != size:
            size, last = now, time.monotonic()
        time.sleep(0.05)


def traced_loop(exe: Path, calls: int, args: str, env: dict | None = None,
                freeze: bool = False) -> tuple[list[str], int, int]:
    """Run `calls` getppid calls traced by ebpf-syscalls; return (lines, written, lost).

    freeze: stop the consumer (SIGSTOP) while the loop runs, so the kernel buffer
    must overflow whatever the speed of either side."""
    work = subprocess.Popen([str(exe), str(calls)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "WAIT": "1"})
    run = Run("ebpf", "ebpf-syscalls", f"--pid {work.pid} --syscalls getppid {args}", env=env)
    path = run.path()
    if freeze:
        os.kill(run.proc.pid, signal.SIGSTOP)
    work.communicate("x")
    if freeze:
        os.kill(run.proc.pid, signal.SIGCONT)
    settle(path)
    rc, _, err, _ = run.stop()
    assert (rc, err) == (0, "")
    lines = path.read_text().splitlines()
    m = re.fullmatch(r"# tracer stopped: (\d+) events written, (\d+) events lost", lines[-1])
    assert m, lines[-1]
    return lines, int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("buffer", ["ring", "perf"])
def test_loss_is_counted_and_marked_where_it_happened(buffer, getppid_exe, outdir):
    calls = 300_000
    lines, written, lost = traced_loop(getppid_exe, calls, "--buffer-size 64K",
                                       env={"TRACER_BUFFER": buffer}, freeze=True)
    events = [ln for ln in lines if "getppid()" in ln or " +++ " in ln]
    marks = [int(m.group(1)) for ln in lines if (m := re.fullmatch(r"LOST (\d+) events", ln))]
    assert lost > 0, "a 64K buffer cannot hold 300,000 events while its reader is stopped"
    assert marks and sum(marks) == lost
    assert len(events) == written
    assert written + lost == calls + 1, (written, lost)  # and the process's end line


def test_a_big_enough_buffer_loses_nothing(getppid_exe, outdir):
    lines, written, lost = traced_loop(getppid_exe, 100_000, "--buffer-size 64M")
    assert (written, lost) == (100_000 + 1, 0)  # the calls and the process's end
    assert lines[-2].endswith(" +++ exited with 0 +++"), lines[-3:]
    assert not [ln for ln in lines if ln.startswith("LOST")]


def test_json_lines_are_typed(workload, outdir, tmp_path):
    w = workload()
    run = Run("ebpf", "ebpf-files", f"--pid {w.pid} --format json --syscalls openat")
    path = run.path()
    w.do(f"open {tmp_path}/json-target")
    wait_until(lambda: "json-target" in path.read_text(), 3)
    run.stop()
    objs = [json.loads(ln) for ln in path.read_text().splitlines() if ln.startswith("{")]
    hit = [o for o in objs if "json-target" in json.dumps(o)]
    assert hit, objs
    o = hit[0]
    assert o["pid"] == w.pid and isinstance(o["tid"], int) and o["syscall"] == "openat"
    assert re.fullmatch(r"\d{10}\.\d{9}", o["timestamp"])
    assert o["ret"] == -1 and o["errno"] == "ENOENT"
