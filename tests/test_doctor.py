"""The capability probe: real answers for this kernel, and tracefs found through relocated paths."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from bounds import bound

from tracer import capabilities as cap
from tracer.ebpf import frontend, plan
from tracer.errors import TracerError
from tracer.hooks import options, registry
from tracer.tracefs.mount import find_tracefs

ROOT = Path(__file__).resolve().parents[1]
TRACEFS = Path("/sys/kernel/tracing")


@pytest.mark.smoke
def test_doctor_reports_every_feature_with_a_reason():
    out = subprocess.run([str(ROOT / ".venv/bin/tracer"), "doctor"], capture_output=True, text=True,
                         timeout=bound(60))
    assert out.returncode == 0, out.stderr
    for name in cap.ORDER:
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith(name + " ")), None)
        assert line, f"{name} missing from:\n{out.stdout}"
        assert len(line.split(None, 2)) >= 2
    kprobes = next(ln for ln in out.stdout.splitlines() if ln.startswith("kprobes "))
    if (TRACEFS / "kprobe_events").exists():
        assert " yes " in kprobes
    else:
        assert " NO " in kprobes and "no kprobe_events in tracefs" in kprobes


def test_fast_probe_matches_the_kernel():
    caps = cap.probe()
    assert caps.has(cap.KPROBES) == (TRACEFS / "kprobe_events").exists()
    assert caps.has(cap.UPROBES) == (TRACEFS / "uprobe_events").exists()
    assert caps.has(cap.SYSCALL_TRACEPOINTS) == (TRACEFS / "events/syscalls").is_dir()


def test_doctor_describe_and_a_run_agree_on_how_syscalls_are_caught():
    """One answer (tracer/ebpf/frontend.py): doctor and --describe say what a run's plan uses,
    for all syscalls and for a few, and the buffer kind."""
    caps = cap.probe()
    hook = registry.get("ebpf-syscalls")
    many = plan.make_plan(hook, options.parse(hook, "--pid 1"), caps)
    few = plan.make_plan(hook, options.parse(hook, "--pid 1 --syscalls openat"), caps)
    assert many.mode == ("raw_tracepoint" if caps.has(cap.RAW_TRACEPOINTS) else "tracepoint")
    assert few.mode == ("kprobe" if caps.has(cap.KPROBES) else "tracepoint")
    assert many.ringbuf == few.ringbuf == caps.has(cap.RINGBUF)
    said = frontend.describe(caps)
    for mode in (many.mode, few.mode):
        assert frontend._HOW[mode] in said
    assert ("BPF ring buffer" if many.ringbuf else "perf buffer") in said
    tracer = str(ROOT / ".venv/bin/tracer")
    doctor = subprocess.run([tracer, "doctor", "--fast"], capture_output=True, text=True, timeout=60)
    assert f"ebpf syscall handlers attach with: {said}\n" in doctor.stdout
    describe = subprocess.run([tracer, "describe", "ebpf-syscalls"], capture_output=True, text=True,
                              timeout=60)
    assert said in describe.stdout


@pytest.fixture
def relocated(tmp_path):
    """A host /proc and /sys "mounted elsewhere": a mounts file naming tracefs at
    /sys/kernel/tracing, and a sysfs tree whose kernel/tracing is the real one."""
    proc = tmp_path / "host-proc"
    sys_ = tmp_path / "host-sys"
    proc.mkdir()
    (sys_ / "kernel").mkdir(parents=True)
    (proc / "mounts").write_text("sysfs /sys sysfs rw 0 0\ntracefs /sys/kernel/tracing tracefs rw 0 0\n")
    (sys_ / "kernel/tracing").symlink_to(TRACEFS)
    return proc, sys_


def test_tracefs_found_under_relocated_sysfs(relocated):
    proc, sys_ = relocated
    assert find_tracefs(proc, sys_) == sys_ / "kernel/tracing"


def test_a_sysfs_path_without_tracefs_is_a_clear_error(relocated, tmp_path):
    proc, _ = relocated
    empty = tmp_path / "empty-sys"
    empty.mkdir()
    with pytest.raises(TracerError, match=f"tracefs not found under {empty}"):
        find_tracefs(proc, empty)


def test_manager_honours_relocated_paths(relocated, workload, outdir):
    proc, sys_ = relocated
    os.symlink("/proc/self", proc / "self")
    w = workload()
    (proc / str(w.pid)).symlink_to(f"/proc/{w.pid}")
    (proc / "sys").symlink_to("/proc/sys")
    env = {**os.environ, "TRACER_PROCFS_PATH": str(proc), "TRACER_SYSFS_PATH": str(sys_)}
    r = subprocess.run(["./manager.py", "--get-all"], cwd=ROOT / "trace-hooks/ftrace", capture_output=True,
                       text=True, env=env, timeout=bound(10))
    assert r.returncode == 0 and "ftrace-syscalls" in r.stdout.split()
