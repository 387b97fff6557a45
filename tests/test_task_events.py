"""What happens to a traced task besides its calls, in the trace file: the signals it gets and
how it ends, as strace prints them (`--- SIGTERM {...} ---`, `+++ killed by SIGTERM +++`) in
the text format, and as fields in the JSON one. Real processes, real signals, the real kernel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from bounds import bound, wait_until

ROOT = Path(__file__).resolve().parents[1]
MANAGER = ROOT / "trace-hooks/ebpf/manager"


def traced(tmp_path: Path, argv: list[str], act, fmt: str = "text") -> list[str]:
    """The trace-file lines of the process `argv` while `act(process)` runs, then until it ends."""
    w = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    env = {**os.environ, "TRACER_OUTPUT_DIR": str(tmp_path), "TRACER_OUTPUT_MODE": "file"}
    m = subprocess.Popen([str(MANAGER), "--run", "ebpf-syscalls", "--args", f"--pid {w.pid} --format {fmt}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        path = m.stdout.readline().strip()
        assert path, m.stderr.read()
        act(w)
        w.wait(timeout=bound(20))
        time.sleep(0.3)  # a few polls: the last records reach the file
    finally:
        w.kill()
        m.send_signal(signal.SIGINT)
        m.wait(timeout=bound(30))
    assert m.returncode == 0, m.stderr.read()
    return Path(path).read_text().splitlines()


def of(lines: list[str], pid: int) -> list[str]:
    return [ln.split(f" {pid}/{pid} ", 1)[1] for ln in lines if f" {pid}/{pid} " in ln]


def asleep_in_nanosleep(pid: int) -> None:
    """Until `pid` blocks in nanosleep (35) or clock_nanosleep (230): the start of `sleep` takes
    far longer than any fixed pause under emulation."""
    proc = Path(f"/proc/{pid}")

    def where() -> tuple[str, str]:
        return (proc / "syscall").read_text().split(" ", 1)[0], (proc / "wchan").read_text()

    def asleep(at: tuple[str, str]) -> bool:
        return at[0] in ("35", "230") or "nanosleep" in at[1]

    call, wchan = wait_until(where, 2, 0.02, until=asleep)
    stat = (proc / "stat").read_text()
    assert asleep((call, wchan)), \
        f"sleep never reached its nanosleep: syscall {call!r}, wchan {wchan!r}, stat {stat}"


def test_a_signal_that_kills_then_the_end(tmp_path):
    w_pid = []

    def kill(w: subprocess.Popen) -> None:
        w_pid.append(w.pid)
        asleep_in_nanosleep(w.pid)
        w.send_signal(signal.SIGTERM)

    lines = traced(tmp_path, ["sleep", str(round(bound(30)))], kill)  # outlives the tracer's start
    mine = of(lines, w_pid[0])
    # the kernel turns an unhandled fatal signal into SIGKILL at once for an untraced task:
    # it is still shown as what was sent, with who sent it
    sent = f"{{si_signo=SIGTERM, si_code=SI_USER, si_pid={os.getpid()}, si_uid=0}}"
    assert mine[-2:] == [f"--- SIGTERM {sent} ---", "+++ killed by SIGTERM +++"], mine[-5:]
    # as strace shows it: the sleep it interrupted, then the signal, then the end
    assert mine[-3].startswith(("clock_nanosleep(", "nanosleep(")), mine[-5:]
    assert mine[-3].endswith("= ? ERESTART_RESTARTBLOCK (Interrupted by signal)"), mine[-5:]


def test_exit_status_and_a_handled_signal_in_json(tmp_path):
    # a shell that handles USR1, sends it to itself, then exits 7
    script = "trap 'true' USR1; read x; kill -USR1 $$; exit 7"
    w_pid = []

    def go(w: subprocess.Popen) -> None:
        w_pid.append(w.pid)
        w.stdin.write(b"g\n")
        w.stdin.close()

    lines = traced(tmp_path, ["sh", "-c", script], go, fmt="json")
    objs = [json.loads(ln) for ln in lines if not ln.startswith("#")]
    mine = [o for o in objs if o["pid"] == w_pid[0]]
    sig = [o for o in mine if "signal" in o]
    assert [o["signal"] for o in sig] == ["SIGUSR1"], sig
    assert sig[0]["siginfo"] == (f"{{si_signo=SIGUSR1, si_code=SI_USER, si_pid={w_pid[0]}, si_uid=0}}")
    assert mine[-1] | {"timestamp": 0} == {"timestamp": 0, "comm": "sh", "pid": w_pid[0], "tid": w_pid[0],
                                           "exited": 7}


@pytest.mark.parametrize("code", [0, 3])
def test_exit_line_in_text(tmp_path, code):
    w_pid = []

    def go(w: subprocess.Popen) -> None:
        w_pid.append(w.pid)
        w.stdin.write(b"g\n")
        w.stdin.close()

    lines = traced(tmp_path, ["sh", "-c", f"read x; exit {code}"], go)
    mine = of(lines, w_pid[0])
    assert mine[-2:] == [f"exit_group({code}) = ?", f"+++ exited with {code} +++"], mine[-4:]
