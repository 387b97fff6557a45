"""Every hook, driven by the replica of container-tracer's agent, in the plain layout and in
the DaemonSet layout: its per-line reader gets every line written, live, until the stop."""

from __future__ import annotations

import subprocess
from pathlib import Path

import agent_replica
import bounds
import daemonset
import pytest

# Iterations of the workload: enough for thousands of lines from every hook. The function
# tracer writes a line per kernel function the workload's tasks call: tens of thousands for one
# fork and exec.
ITERATIONS = {"ebpf-syscalls": 30, "ftrace-syscalls": 15, "ebpf-network": 1200, "ftrace-functions": 1}
DEFAULT_ITERATIONS = 700
WORKLOAD = ("read go; for i in $(seq {n}); do cat /etc/hostname >/dev/null;"
            " (echo > /dev/tcp/127.0.0.1/9) 2>/dev/null; done")
MIN_LINES = bounds.volume(1500)
# ebpf-summary writes every traced process's table every --interval seconds (10 by default): on an
# emulated machine the same workload lasts many intervals, and as many more tables than here would
# outrun any paced reader. Its interval is scaled like every other time of the tests.
EXTRA_ARGS = {"ebpf-summary": f" --interval {round(bounds.bound(10))}"}
# These write a line per syscall, file, process or scheduler event of the workload. The others
# report only what they aggregate or select (ebpf-summary's tables, ebpf-packets, policy hooks):
# for them the check is the same: every line written (none, if nothing matched) is read.
BUSY = {"ebpf-syscalls", "ebpf-files", "ebpf-process", "ebpf-network", "ftrace-syscalls",
        "ftrace-sched", "ftrace-files", "ftrace-functions"}


def conformance(sub: str, hook: str, env: dict[str, str], tmp: Path,
                wrap: list[str] | None = None) -> tuple[int, int]:
    """Run `hook` on a forking shell through the replica; return (lines written, lines read)."""
    n = bounds.volume(ITERATIONS.get(hook, DEFAULT_ITERATIONS))
    work = subprocess.Popen(["/bin/bash", "-c", WORKLOAD.format(n=n)],
                            stdin=subprocess.PIPE, text=True)
    run = None
    try:
        run = agent_replica.AgentRun(sub, hook, f"--pid {work.pid}" + EXTRA_ARGS.get(hook, ""), env, tmp,
                                     wrap)
        work.communicate("go\n", timeout=bounds.bound(120))
        least = MIN_LINES if hook in BUSY else 0
        written, read = run.wait_caught_up(least)
        assert read == written and written >= least, \
            f"{hook}: live, the reader got {read} of {written} lines"
        result = run.stop()
        assert result["exit"] == "0" and result["stderr"] == '""', result
        assert "reader-error" not in result, result
        text = run.file.read_bytes()
        got = run.out.read_bytes()
        lines_in_file, lines_read = text.count(b"\n"), got.count(b"\n")
        assert got == text, f"{hook}: read {lines_read} lines, the file has {lines_in_file}"
        assert int(result["read"]) == lines_in_file
        assert text.splitlines()[-1].startswith(b"# tracer stopped: ")
        print(f"agent replica: {hook} ({'daemonset' if wrap else 'plain'}): "
              f"{lines_in_file} lines written, {result['read']} read")
        return text.count(b"\n"), int(result["read"])
    finally:
        if work.poll() is None:
            work.kill()
            work.wait()
        if run is not None:
            if run.proc.poll() is None:  # a failed assertion: stop the manager as the agent does
                try:
                    run.stop()
                except subprocess.TimeoutExpired:
                    run.proc.kill()
                    run.proc.wait()
            run.file.unlink(missing_ok=True)


def plain_hooks() -> list[tuple[str, str]]:
    return agent_replica.listed({})


def test_the_agent_lists_every_hook_that_runs_here():
    names = [h for _, h in plain_hooks()]
    assert {"ebpf-syscalls", "ebpf-files", "ebpf-process", "ebpf-network", "ftrace-syscalls",
            "ftrace-sched"} <= set(names), names


@pytest.mark.parametrize("sub,hook", plain_hooks())
def test_plain_layout_reader_gets_every_line(sub, hook, tmp_path):
    written, read = conformance(sub, hook, {}, tmp_path)
    print(f"plain {hook}: written {written} read {read}")


LAYOUTS = [pytest.param(False, id="bind"), pytest.param(True, id="rbind")]


@pytest.fixture(scope="module")
def daemonset_root(tmp_path_factory):
    return tmp_path_factory.mktemp("daemonset")


@pytest.mark.parametrize("recursive", LAYOUTS)
def test_daemonset_layout_is_real_and_lists_every_hook(recursive, daemonset_root):
    wrap = daemonset.wrap(daemonset_root, recursive)
    mounts = subprocess.run([*wrap, "cat", "/proc/self/mounts"], capture_output=True, text=True,
                            check=True).stdout
    host_sys = str(daemonset.host(daemonset_root) / "sys")
    points = {ln.split()[1]: ln.split()[2] for ln in mounts.splitlines()}
    assert points["/sys"] == "sysfs" and points[host_sys] == "sysfs"
    assert not any(p.startswith("/sys/") for p in points), "the pod's /sys is a fresh sysfs"
    assert (f"{host_sys}/kernel/tracing" in points) == recursive
    assert agent_replica.listed(daemonset.env(daemonset_root), wrap) == plain_hooks()
    assert " /sys/kernel/tracing tracefs " in Path("/proc/mounts").read_text(), "host unchanged"


def daemonset_cases() -> list:
    return [pytest.param(sub, hook, recursive, id=f"{hook}-{'rbind' if recursive else 'bind'}")
            for recursive in (False, True) for sub, hook in plain_hooks()]


@pytest.mark.parametrize("sub,hook,recursive", daemonset_cases())
def test_daemonset_layout_reader_gets_every_line(sub, hook, recursive, daemonset_root, tmp_path):
    host_mounts = Path("/proc/mounts").read_text()
    wrap = daemonset.wrap(daemonset_root, recursive)
    written, read = conformance(sub, hook, daemonset.env(daemonset_root), tmp_path, wrap)
    print(f"daemonset-{'rbind' if recursive else 'bind'} {hook}: written {written} read {read}")
    assert Path("/proc/mounts").read_text() == host_mounts, "the host's mounts changed"


def test_get_all_is_never_empty_without_a_reason_the_agent_shows(tmp_path):
    """No tracefs anywhere: the agent still lists the hooks; --run says why on stderr."""
    env = {"TRACER_SYSFS_PATH": str(tmp_path)}
    listed = agent_replica.listed(env)
    assert {h for _, h in listed} >= {h for _, h in plain_hooks()}
    for sub in sorted({s for s, _ in listed}):
        got = subprocess.run(["./manager.py", "--get-all"], cwd=agent_replica.HOOKS / sub, env=env,
                             capture_output=True, text=True, timeout=30)
        assert got.returncode == 0 and got.stdout.split()
        assert got.stderr.startswith(f"{sub} manager: no hook can run here: ") and "tracefs" in got.stderr
    sub, hook = listed[0]
    run = subprocess.run([agent_replica.binary(), "run", "-hooks", agent_replica.HOOKS, "-sub", sub,
                          "-hook", hook, "-args", "--pid 1", "-out", tmp_path / "out",
                          "-env", f"TRACER_SYSFS_PATH={tmp_path}"],
                         input="", capture_output=True, text=True, timeout=60)
    assert run.stdout.startswith("handshake-failed"), run.stdout
    assert "tracefs not found" in run.stdout and "cannot run on this kernel" in run.stdout
