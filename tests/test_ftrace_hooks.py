"""The ftrace-* hooks end to end on this kernel (as root): real sessions on real workloads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ftrace"))
from bounds import bound  # noqa: E402
from ftrace_kernel import (  # noqa: E402
    CAPS,
    Workload,
    files_sees_workload,
    kernel_clean,  # noqa: F401  (autouse fixture)
    needs_dynamic_libc,
    needs_kprobes,
    needs_root,
)

from tracer import manager, targets  # noqa: E402
from tracer.errors import TracerError  # noqa: E402
from tracer.ftrace import functions, lines  # noqa: E402
from tracer.hooks import options, registry  # noqa: E402
from tracer.pipeline.writer import TraceWriter  # noqa: E402
from tracer.tracefs.mount import find_tracefs  # noqa: E402

pytestmark = needs_root
ROOT = Path(__file__).resolve().parents[1]
MANAGER = ROOT / "trace-hooks" / "ftrace" / "manager.py"
FUNCTIONS_UNAVAILABLE = functions.unavailable(CAPS)


def play(hook_name: str, args: str, script: str, tmp_path: Path, polls: int = 5) -> tuple[str, TraceWriter]:
    """Run one session of `hook_name` around a workload; return the trace file's text."""
    hook = registry.get(hook_name, "ftrace")
    w = Workload(script)
    out = tmp_path / "trace.txt"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    writer = TraceWriter(fd)
    try:
        opts = options.parse(hook, f"--pid {w.pid} {args}")
        who = targets.resolve(opts.pids, opts.containers, opts.follow_forks)
        source = hook.runner(hook, opts, who, CAPS)
        source.start()
        try:
            w.go()
            for _ in range(polls):
                source.poll(0.1, writer)
        finally:
            source.close(writer)
            source.close(writer)  # idempotent
        writer.finish(source.notes())
    finally:
        w.kill()
    return out.read_text(), writer


# -- the hook list -------------------------------------------------------------------------

def test_get_all_lists_what_can_run(capsys):
    assert manager.main("ftrace", ["--get-all"]) == 0
    listed = capsys.readouterr().out.split()
    assert {"ftrace-syscalls", "ftrace-sched", "ftrace-files"} <= set(listed)
    assert ("ftrace-functions" in listed) == (FUNCTIONS_UNAVAILABLE is None)


def test_describe_files_names_the_mechanism(capsys):
    assert manager.main("ftrace", ["--describe", "ftrace-files"]) == 0
    out = capsys.readouterr().out
    if CAPS.has("kprobes"):
        assert "kprobe on do_sys_openat2" in out
    else:
        assert "uprobes on the C library's open functions" in out
        assert "kprobes are unavailable" in out


def test_describe_functions_says_why_not(capsys):
    assert manager.main("ftrace", ["--describe", "ftrace-functions"]) == 0
    out = capsys.readouterr().out
    assert "--filter PATTERN" in out
    if FUNCTIONS_UNAVAILABLE:
        assert f"Available here: no, {FUNCTIONS_UNAVAILABLE}" in out


# -- each hook on a real workload ----------------------------------------------------------

def test_syscalls(tmp_path):
    text, writer = play("ftrace-syscalls", "", "cat /etc/hostname >/dev/null", tmp_path)
    assert any(ln.startswith("cat-") and "sys_openat(" in ln for ln in text.splitlines()), text
    assert "sys_openat -> 0x3" in text
    assert writer.events > 0 and writer.lost == 0
    assert text.splitlines()[-1] == f"# tracer stopped: {writer.events} events written, 0 events lost"


def test_syscalls_only_those_asked(tmp_path):
    text, _ = play("ftrace-syscalls", "--syscalls openat,close", "cat /etc/hostname", tmp_path)
    events = {lines.parse(ln)["event"] for ln in text.splitlines() if lines.parse(ln)}
    assert events == {"sys_enter_openat", "sys_exit_openat", "sys_enter_close", "sys_exit_close"}


def test_syscalls_unknown_name_fails_and_cleans_up(tmp_path):
    with pytest.raises(TracerError, match="no tracepoint for 'nosuchcall'"):
        play("ftrace-syscalls", "--syscalls openat,nosuchcall", "true", tmp_path)
    # kernel_clean asserts nothing was left behind


def test_syscalls_json(tmp_path):
    text, _ = play("ftrace-syscalls", "--format json --syscalls openat", "cat /etc/hostname", tmp_path)
    objs = [json.loads(ln) for ln in text.splitlines() if not ln.startswith("#")]
    assert objs and all({"timestamp", "comm", "pid", "cpu", "event", "details"} <= o.keys() for o in objs)
    cat = [o for o in objs if o["comm"] == "cat"]
    assert {o["event"] for o in cat} == {"sys_enter_openat", "sys_exit_openat"}
    assert all(isinstance(o["timestamp"], float) and o["pid"] > 0 for o in cat)


def test_sched(tmp_path):
    text, _ = play("ftrace-sched", "", "cat /etc/hostname; /bin/true", tmp_path)
    assert "sched_process_fork:" in text
    assert any("sched_process_exec:" in ln and "/cat" in ln for ln in text.splitlines()), text
    assert "sched_process_exit: comm=cat" in text


def test_sched_no_follow_forks(tmp_path):
    text, _ = play("ftrace-sched", "--no-follow-forks", "cat /etc/hostname; exec /bin/true", tmp_path)
    assert "sched_process_fork:" in text
    assert not any("sched_process_exec:" in ln and "/cat" in ln for ln in text.splitlines()), text


@files_sees_workload
def test_files_child_path_shows_up(tmp_path):
    text, _ = play("ftrace-files", "", "cat /etc/hostname >/dev/null", tmp_path)
    assert any(ln.startswith("cat-") and '"/etc/hostname"' in ln for ln in text.splitlines()), text
    if not CAPS.has("kprobes"):
        assert "# uprobes on " in text
    assert not (find_tracefs() / "uprobe_events").read_text().count(f"_{os.getpid()}/")


@files_sees_workload
def test_files_json_has_the_path(tmp_path):
    text, _ = play("ftrace-files", "--format json", "cat /etc/hostname", tmp_path)
    objs = [json.loads(ln) for ln in text.splitlines() if not ln.startswith("#")]
    key = "file" if CAPS.has("kprobes") else "path"
    assert any(o["comm"] == "cat" and o.get("fields", {}).get(key) == "/etc/hostname" for o in objs), text


@needs_kprobes
def test_files_with_kprobes(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACER_FTRACE_FILES", "kprobe")
    text, _ = play("ftrace-files", "", "cat /etc/hostname", tmp_path)
    assert any("cat-" in ln and 'file="/etc/hostname"' in ln for ln in text.splitlines()), text
    assert "open_ret:" in text and "ret=" in text


@needs_dynamic_libc
def test_files_uprobe_fallback_forced(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACER_FTRACE_FILES", "uprobe")
    text, _ = play("ftrace-files", "", "cat /etc/hostname", tmp_path)
    assert any('path="/etc/hostname"' in ln for ln in text.splitlines()), text


@pytest.mark.skipif(FUNCTIONS_UNAVAILABLE is not None, reason=f"{FUNCTIONS_UNAVAILABLE}")
def test_functions(tmp_path):
    text, _ = play("ftrace-functions", "--filter 'vfs_read*'", "cat /etc/hostname", tmp_path)
    assert any(ln.startswith("cat-") and "vfs_read" in ln for ln in text.splitlines()), text
    assert all(lines.parse(ln)["event"] == "function" for ln in text.splitlines()
               if not ln.startswith("#"))


@pytest.mark.skipif(FUNCTIONS_UNAVAILABLE is not None, reason=f"{FUNCTIONS_UNAVAILABLE}")
def test_functions_bad_filter(tmp_path):
    with pytest.raises(TracerError, match="no kernel function matches"):
        play("ftrace-functions", "--filter no_such_function_xyz", "true", tmp_path)


def test_lost_events_are_reported(tmp_path):
    text, writer = play("ftrace-syscalls", "--buffer-size 64K --syscalls read",
                        "dd if=/dev/zero of=/dev/null bs=1 count=300000 2>/dev/null", tmp_path)
    assert writer.lost > 0
    assert any(ln.startswith("LOST ") and ln.endswith(" events") for ln in text.splitlines()), text[-500:]
    assert f"{writer.lost} events lost" in text.splitlines()[-1]


def test_unknown_container_is_a_clear_error(tmp_path):
    hook = registry.get("ftrace-sched", "ftrace")
    opts = options.parse(hook, "--container no-such-box")
    with pytest.raises(TracerError, match="no running container matches 'no-such-box'"):
        targets.resolve(opts.pids, opts.containers)


# -- the manager contract ------------------------------------------------------------------

def _kernel_state() -> tuple[list[str], str]:
    tr = find_tracefs()
    return sorted(p.name for p in (tr / "instances").iterdir()), (tr / "uprobe_events").read_text()


@pytest.mark.parametrize("hook", ["ftrace-syscalls",
                                  pytest.param("ftrace-files", marks=files_sees_workload)])
def test_manager_run_and_sigint(tmp_path, hook):
    before = _kernel_state()
    w = subprocess.Popen(["/bin/sh", "-c", "while :; do cat /etc/hostname >/dev/null; sleep 0.1; done"])
    env = dict(os.environ, TRACER_OUTPUT_DIR=str(tmp_path))
    try:
        m = subprocess.Popen([sys.executable, str(MANAGER), "--run", hook, "--args", f"--pid {w.pid}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        announced = Path(m.stdout.readline().strip())
        assert announced.parent == tmp_path and announced.exists()
        path = announced.with_name(announced.name + ".txt")  # the complete trace beside the pipe
        assert len(_kernel_state()[0]) == len(before[0]) + 1  # its instance is there
        time.sleep(bound(0.8))
        m.send_signal(signal.SIGINT)
        out, err = m.communicate(timeout=bound(20))
    finally:
        w.kill()
        w.wait()
    assert m.returncode == 0 and out == "" and err == ""
    text = path.read_text()
    assert "/etc/hostname" in text or "sys_" in text
    assert text.splitlines()[-1].startswith("# tracer stopped: ")
    assert _kernel_state() == before


def test_manager_run_bad_args_prints_one_line():
    m = subprocess.run([sys.executable, str(MANAGER), "--run", "ftrace-syscalls", "--args", "--pid 0"],
                       capture_output=True, text=True)
    assert m.returncode != 0 and m.stdout == ""
    assert len(m.stderr.splitlines()) == 1
