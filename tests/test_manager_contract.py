"""Conformance: drive every hook of every manager exactly as container-tracer's agent does.

The agent finds trace-hooks/<sub>/manager.*, runs `./manager.py ...` from that folder,
passes one --args string, reads one path from stdout and signals the manager's PID only.
"""

from __future__ import annotations

import os
import select
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from bounds import STARTUP, bound, wait_until
from kernel_state import leftovers

ROOT = Path(__file__).resolve().parents[1]
SUBSYSTEMS = sorted(p.name for p in (ROOT / "trace-hooks").iterdir() if p.is_dir())


def manager(sub: str, *args: str, env: dict | None = None,
            timeout: float = 10) -> subprocess.CompletedProcess:
    return subprocess.run(["./manager.py", *args], cwd=ROOT / "trace-hooks" / sub, capture_output=True,
                          text=True, timeout=bound(timeout), env={**os.environ, **(env or {})})


def all_hooks() -> list[tuple[str, str]]:
    return [(sub, h) for sub in SUBSYSTEMS for h in manager(sub, "--get-all").stdout.split()]


HOOKS = all_hooks()


class Run:
    """`./manager.py --run HOOK --args ARGS` in the background, as the agent starts it."""

    started: list[Run] = []

    def __init__(self, sub: str, hook: str, args: str, env: dict | None = None) -> None:
        Run.started.append(self)
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(["./manager.py", "--run", hook, "--args", args],
                                     cwd=ROOT / "trace-hooks" / sub, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})}, start_new_session=True)

    def path(self, timeout: float = 5.0) -> Path:
        """The complete trace file (the announced path, or the file beside the announced pipe)."""
        ready, _, _ = select.select([self.proc.stdout], [], [], bound(timeout))
        assert ready, "no path printed in time"
        line = self.proc.stdout.readline()
        self.startup = time.monotonic() - self.t0
        if not line.endswith("\n"):  # it exited without a path: what it said is the failure
            raise AssertionError(f"no path: {line!r}; exit {self.proc.wait(timeout=bound(10))}: "
                                 f"{self.proc.stderr.read()!r}")
        self.announced = Path(line.strip())
        if stat.S_ISFIFO(self.announced.lstat().st_mode):
            return self.announced.with_name(self.announced.name + ".txt")
        return self.announced

    def stop(self, sig: int = signal.SIGINT, timeout: float = 2.0) -> tuple[int, str, str, float]:
        t = time.monotonic()
        os.kill(self.proc.pid, sig)  # the PID only, as the agent does
        out, err = self.proc.communicate(timeout=bound(timeout + 3))
        return self.proc.returncode, out, err, time.monotonic() - t


@pytest.fixture(autouse=True)
def stop_runs():
    """A test that fails before stopping its manager must not leave it tracing (and holding BPF
    programs) for the rest of the run: SIGINT it as the agent would, then kill it."""
    yield
    while Run.started:
        p = Run.started.pop().proc
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.communicate(timeout=bound(10))
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()


def test_get_all_names_are_unique_prefixed_and_fast():
    names = []
    for sub in SUBSYSTEMS:
        t = time.monotonic()
        r = manager(sub, "--get-all")
        took = time.monotonic() - t
        assert r.returncode == 0 and r.stderr == ""
        assert took < bound(0.5), f"{sub} --get-all took {took:.2f}s"
        got = r.stdout.splitlines()
        assert got and all(n.startswith(f"{sub}-") and n.strip() == n for n in got), got
        names += got
    assert len(names) == len(set(names))
    assert {"ebpf-syscalls", "ebpf-files", "ebpf-process", "ebpf-network"} <= set(names)


def test_both_manager_names_exist_and_are_executable():
    for sub in SUBSYSTEMS:
        for name in ("manager", "manager.py"):
            p = ROOT / "trace-hooks" / sub / name
            assert p.exists() and os.access(p, os.X_OK), p


@pytest.mark.parametrize("sub,hook", HOOKS)
def test_describe(sub, hook):
    t = time.monotonic()
    r = manager(sub, "--describe", hook)
    assert time.monotonic() - t < bound(0.5)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith(f"{hook}: ")
    assert "--pid" in r.stdout and "Example:" in r.stdout


def activity(w, tmp: Path) -> None:
    w.do(f"open {tmp}/activity")
    w.do("getppid")
    w.do(f"forkopen {tmp}/child")
    w.do("net")


# Enabling the function tracer patches every function it may trace: all of them under emulation
# (vagrant/run-qemu) holds a guest CPU for many minutes, so the run traces what the workload calls.
HOOK_ARGS = {"ftrace-functions": " --filter '*sys_getppid'"}


def stopped_cleanly(run: Run, path: Path) -> None:
    """SIGINT as the agent sends it: a silent exit 0 within the bound, the closing line last in
    the file, nothing left in the kernel."""
    rc, out, err, took = run.stop()
    assert (rc, out, err) == (0, "", ""), (rc, out, err)
    assert took < bound(2.0)
    last = path.read_text().splitlines()[-1]
    assert last.startswith("# ") and "events written" in last and "events lost" in last
    assert leftovers() == []


# Policy hooks (ebpf-policy-*) report only what their policy selects: their smoke run is the next test.
@pytest.mark.smoke
@pytest.mark.parametrize("sub,hook", [h for h in HOOKS if not h[1].startswith("ebpf-policy-")])
def test_run_on_a_live_pid_then_sigint(sub, hook, workload, outdir, tmp_path):
    w = workload()
    run = Run(sub, hook, f"--pid {w.pid}" + HOOK_ARGS.get(hook, ""),
              env={"TRACER_OUTPUT_MODE": ""})  # the default
    path = run.path()
    assert run.startup < bound(STARTUP), f"path printed after {run.startup:.2f}s"
    # by default the announced path is a pipe paced for the agent's reader, the file beside it
    assert run.announced.is_absolute() and run.announced.parent == outdir
    assert stat.S_ISFIFO(run.announced.lstat().st_mode)
    assert stat.S_IMODE(run.announced.lstat().st_mode) == 0o600
    assert path == run.announced.with_name(run.announced.name + ".txt")
    st = path.lstat()
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600

    def events() -> list[str]:
        activity(w, tmp_path)
        time.sleep(0.25)
        return [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]

    lines = wait_until(events, 3, 0)
    assert lines, f"{hook} wrote no event line for a live workload"
    stopped_cleanly(run, path)


# A policy hook writes only what its policy selects (tests/test_policy.py checks those lines): its
# smoke run is the load of its programs on this kernel, the announced file and a clean stop.
@pytest.mark.smoke
@pytest.mark.parametrize("hook", [h for sub, h in HOOKS if h.startswith("ebpf-policy-")])
def test_policy_hook_loads_and_stops_cleanly(hook, workload, outdir):
    w = workload()
    run = Run("ebpf", hook, f"--pid {w.pid}")
    path = run.path()
    assert run.startup < bound(STARTUP), f"path printed after {run.startup:.2f}s"
    w.do("getppid")
    stopped_cleanly(run, path)


@pytest.mark.parametrize("sub,hook", HOOKS[:1] + [h for h in HOOKS if h[0] != HOOKS[0][0]][:1])
def test_sigterm_stops_cleanly_too(sub, hook, workload, outdir):
    w = workload()
    run = Run(sub, hook, f"--pid {w.pid}")
    path = run.path()
    rc, out, err, took = run.stop(signal.SIGTERM)
    assert (rc, err) == (0, "") and took < bound(2.0)
    assert path.read_text().splitlines()[-1].startswith("# ")


def test_lines_are_written_live(workload, outdir, tmp_path):
    """A reader tailing the file sees an event within 200 ms of the call."""
    w = workload()
    run = Run("ebpf", "ebpf-files", f"--pid {w.pid}")
    path = run.path()
    time.sleep(0.3)
    mark = f"{tmp_path}/live-marker"
    t = time.monotonic()
    w.do(f"open {mark}")
    while mark not in path.read_text():
        assert time.monotonic() - t < bound(1.0), "event not in the file after 1 s"
        time.sleep(0.01)
    took = time.monotonic() - t
    run.stop()
    assert took < bound(0.3), f"event reached the file after {took * 1000:.0f} ms"


def test_file_output_mode_announces_the_file(workload, outdir):
    w = workload()
    run = Run("ftrace", "ftrace-syscalls", f"--pid {w.pid}", env={"TRACER_OUTPUT_MODE": "file"})
    path = run.path()
    assert run.announced == path and path.name.endswith(".txt")
    assert stat.S_ISREG(path.lstat().st_mode) and list(outdir.iterdir()) == [path]
    assert run.stop()[0] == 0


def test_unknown_output_mode_is_refused(outdir):
    r = manager("ftrace", "--run", "ftrace-syscalls", "--args", "--pid 1",
                env={"TRACER_OUTPUT_MODE": "pipe"})
    assert r.returncode != 0 and r.stdout == "" and "TRACER_OUTPUT_MODE=pipe" in r.stderr
    assert list(outdir.iterdir()) == []


def test_fifo_output_mode(workload, outdir, tmp_path):
    w = workload()
    run = Run("ebpf", "ebpf-files", f"--pid {w.pid}", env={"TRACER_OUTPUT_MODE": "fifo"})
    run.path()
    path = run.announced
    assert stat.S_ISFIFO(path.lstat().st_mode) and stat.S_IMODE(path.lstat().st_mode) == 0o600
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        w.do(f"open {tmp_path}/through-fifo")
        data, deadline = b"", time.monotonic() + bound(2)
        while b"through-fifo" not in data and time.monotonic() < deadline:
            select.select([fd], [], [], 0.2)
            try:
                data += os.read(fd, 65536)
            except BlockingIOError:
                pass
        assert b"through-fifo" in data
    finally:
        rc = run.stop()[0]
        os.close(fd)
    assert rc == 0


ERRORS = [
    ("--run", "ebpf-nope", "--args", "--pid 1"),
    ("--run", "ebpf-syscalls", "--args", ""),
    ("--run", "ebpf-syscalls", "--args", "--pid abc"),
    ("--run", "ebpf-syscalls", "--args", "--pid 99999999999"),
    ("--run", "ebpf-syscalls", "--args", "--pid 1 --frobnicate"),
    ("--run", "ebpf-syscalls", "--args", "--pid 1 --syscalls opnat"),
    ("--run", "ebpf-syscalls", "--args", "--pid 1 --format xml"),
    ("--run", "ebpf-files", "--args", "--pid 1 --syscalls getppid"),
    ("--run", "ebpf-syscalls", "--args", "--pid 1 --buffer-size 1"),
    ("--describe", "ftrace-nope"),
    ("--bogus",),
    (),
]


@pytest.mark.parametrize("argv", ERRORS, ids=lambda a: " ".join(a) or "no-args")
def test_user_errors_are_one_line_and_leave_nothing(argv, outdir):
    r = manager("ebpf", *argv)
    assert r.returncode != 0
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert list(outdir.iterdir()) == []
    assert leftovers() == []


def test_pid_that_does_not_exist(outdir):
    pid = int(Path("/proc/sys/kernel/pid_max").read_text()) - 1
    while Path(f"/proc/{pid}").exists():
        pid -= 1
    for sub, hook in ((s, h) for s, h in HOOKS if h.endswith("-syscalls")):
        r = manager(sub, "--run", hook, "--args", f"--pid {pid}")
        assert r.returncode != 0 and r.stdout == ""
        assert f"PID {pid} does not exist" in r.stderr and len(r.stderr.splitlines()) == 1


def test_tracefs_missing_under_sysfs_path(tmp_path, outdir):
    for sub, hook in ((s, h) for s, h in HOOKS if h.endswith("-syscalls")):
        r = manager(sub, "--run", hook, "--args", "--pid 1", env={"TRACER_SYSFS_PATH": str(tmp_path)})
        assert r.returncode != 0 and r.stdout == ""
        assert "tracefs not found" in r.stderr and len(r.stderr.splitlines()) == 1


def test_not_root(outdir):
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "./manager.py",
                        "--run", "ebpf-syscalls", "--args", "--pid 1"], cwd=ROOT / "trace-hooks/ebpf",
                       capture_output=True, text=True, timeout=bound(10))
    assert r.returncode != 0 and r.stdout == ""
    assert "root" in r.stderr and len(r.stderr.splitlines()) == 1


def test_clear_is_idempotent_and_removes_a_killed_runs_leftovers(workload, outdir):
    for sub in SUBSYSTEMS:
        assert manager(sub, "--clear").returncode == 0
    w = workload()
    for sub, hook in ((s, h) for s, h in HOOKS if h.endswith("-syscalls")):
        run = Run(sub, hook, f"--pid {w.pid}")
        run.path()
        os.kill(run.proc.pid, signal.SIGKILL)
        run.proc.wait()
    r = manager(SUBSYSTEMS[0], "--clear")
    assert r.returncode == 0 and r.stderr == ""
    assert leftovers() == []
    r = manager(SUBSYSTEMS[-1], "--clear")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
