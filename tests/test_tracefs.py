"""The tracefs library against the running kernel (as root): real instances, events, probes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ftrace"))
from bounds import bound  # noqa: E402
from ftrace_kernel import (  # noqa: E402
    HAS_KPROBES,
    Workload,
    kernel_clean,  # noqa: F401  (autouse fixture)
    needs_dynamic_libc,
    needs_kprobes,
    needs_root,
    needs_uprobes,
)

from tracer import cleanup  # noqa: E402
from tracer.errors import TracerError  # noqa: E402
from tracer.ftrace import elfsyms, libc  # noqa: E402
from tracer.tracefs import dynevent, errorlog, events, instance, naming  # noqa: E402
from tracer.tracefs.instance import Instance  # noqa: E402
from tracer.tracefs.mount import find_tracefs  # noqa: E402

pytestmark = needs_root


def drain(inst: Instance, settle: float = 0.3) -> list[str]:
    """Everything in the instance's trace_pipe now (after letting per-CPU buffers settle)."""
    time.sleep(bound(settle))
    pipe = inst.open_pipe()
    try:
        out: list[str] = []
        while True:
            got = pipe.read_lines()
            if not got:
                return out
            out += got
    finally:
        pipe.close()


@pytest.fixture
def inst():
    i = Instance.create("test")
    try:
        yield i
    finally:
        i.destroy()


# -- locating tracefs ---------------------------------------------------------------------

def test_find_tracefs_default():
    assert (find_tracefs() / "trace_pipe").exists()


def test_find_tracefs_follows_relocated_sysfs(tmp_path, monkeypatch):
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel" / "tracing").symlink_to(find_tracefs())
    monkeypatch.setenv("TRACER_SYSFS_PATH", str(tmp_path))
    assert find_tracefs() == tmp_path / "kernel" / "tracing"


def test_find_tracefs_uses_relocated_mount_table(tmp_path, monkeypatch):
    proc, sysfs = tmp_path / "proc", tmp_path / "sys"
    proc.mkdir()
    (sysfs / "fs").mkdir(parents=True)
    (sysfs / "fs" / "tr").symlink_to(find_tracefs())
    (proc / "mounts").write_text("tracefs /sys/fs/tr tracefs rw 0 0\n")
    monkeypatch.setenv("TRACER_PROCFS_PATH", str(proc))
    monkeypatch.setenv("TRACER_SYSFS_PATH", str(sysfs))
    assert find_tracefs() == sysfs / "fs" / "tr"


def test_find_tracefs_bad_path_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACER_SYSFS_PATH", str(tmp_path))
    with pytest.raises(TracerError, match=f"tracefs not found under {tmp_path}"):
        find_tracefs()


# -- instances ----------------------------------------------------------------------------

def test_instance_name_prefix_and_owner_suffix(inst):
    assert inst.name == naming.owned_name("test")
    assert inst.name == f"tracer_test_{os.getpid()}s{naming.start_time(os.getpid())}"
    assert inst.path.is_dir()
    assert naming.owner_pid(inst.name) == os.getpid()
    assert Instance.find(inst.name).path == inst.path
    assert inst.name in instance.names()


def test_instance_names_are_unique(inst):
    other = Instance.create("test")
    try:
        assert other.name == naming.owned_name("test-2")
        assert other.path.is_dir()
    finally:
        other.destroy()


def test_instance_destroy_is_idempotent():
    i = Instance.create("gone")
    i.destroy()
    i.destroy()
    assert not i.exists()
    assert Instance.find(i.name) is None


def test_instance_busy_destroy_says_why(inst):
    pipe = inst.open_pipe()
    try:
        with pytest.raises(TracerError, match="still has one of its files open"):
            inst.destroy()
    finally:
        pipe.close()


def test_top_instance_untouched(inst):
    top = find_tracefs()
    before = (top / "set_event").read_text(), (top / "set_event_pid").read_text()
    inst.set_event_pids([os.getpid()], True)
    inst.enable("sched", "sched_process_exec")
    assert ((top / "set_event").read_text(), (top / "set_event_pid").read_text()) == before


def test_buffer_size(inst):
    inst.set_buffer_size_kb(256)
    # The kernel rounds up to whole sub-buffers (pages).
    assert 256 <= int(inst.read("buffer_size_kb")) < 256 + 16


# -- events ---------------------------------------------------------------------------------

def test_list_systems_and_events(inst):
    assert {"sched", "syscalls"} <= set(inst.systems())
    assert "sched_process_exec" in inst.events("sched")
    with pytest.raises(TracerError, match="no event system 'nosuch'"):
        inst.events("nosuch")


def test_enable_disable(inst):
    inst.enable("sched", "sched_process_exec")
    assert events.is_enabled(inst.path, "sched", "sched_process_exec")
    inst.disable("sched", "sched_process_exec")
    assert not events.is_enabled(inst.path, "sched", "sched_process_exec")
    with pytest.raises(TracerError, match="no trace event sched:nosuch"):
        inst.enable("sched", "nosuch")


def test_filter(inst):
    inst.set_filter("sched", "sched_process_exec", "pid == 1")
    assert events.get_filter(inst.path, "sched", "sched_process_exec") == "pid == 1"
    with pytest.raises(TracerError, match="bad filter 'nosuchfield == 1'"):
        inst.set_filter("sched", "sched_process_exec", "nosuchfield == 1")
    inst.set_filter("sched", "sched_process_exec", "0")
    assert events.get_filter(inst.path, "sched", "sched_process_exec") == "none"


def test_filter_selects_events(inst):
    inst.enable("sched", "sched_process_exec")
    inst.set_filter("sched", "sched_process_exec", 'filename ~ "*/true"')
    for prog in ("/bin/true", "/bin/echo"):
        subprocess.run([prog], stdout=subprocess.DEVNULL, check=True)
    lines = drain(inst)
    assert any("filename=/usr/bin/true" in ln or "filename=/bin/true" in ln for ln in lines), lines
    assert not any("echo" in ln for ln in lines), lines


def test_event_pid_filter_follows_forks(inst):
    traced = Workload("cat /etc/hostname; /bin/true")
    bystander = Workload("/bin/echo")
    try:
        inst.set_event_pids([traced.pid], follow_forks=True)
        inst.enable("sched", "sched_process_exec")
        inst.enable("sched", "sched_process_fork")
        traced.go()
        bystander.go()
        lines = drain(inst)
    finally:
        traced.kill()
        bystander.kill()
    execs = [ln for ln in lines if "sched_process_exec" in ln]
    assert any("/cat" in ln for ln in execs) and any("/true" in ln for ln in execs), lines
    assert not any("/echo" in ln for ln in execs), lines
    assert any(f"pid={traced.pid} child_comm" in ln for ln in lines), lines


def test_event_pid_filter_without_fork_follow(inst):
    # The shell forks for cat, then replaces itself with true: same PID.
    traced = Workload("cat /etc/hostname; exec /bin/true")
    try:
        inst.set_event_pids([traced.pid], follow_forks=False)
        inst.enable("sched", "sched_process_exec")
        inst.enable("sched", "sched_process_fork")
        traced.go()
        lines = drain(inst)
    finally:
        traced.kill()
    assert any("sched_process_fork" in ln for ln in lines), lines  # the parent's own event
    execs = [ln for ln in lines if "sched_process_exec" in ln]
    assert any("/true" in ln for ln in execs), lines  # exec in the traced PID itself
    assert not any("/cat" in ln for ln in execs), lines  # the child is not traced


def test_trace_pipe_is_non_blocking(inst):
    pipe = inst.open_pipe()
    try:
        t0 = time.monotonic()
        assert pipe.read_lines() == []
        assert pipe.wait(0.05) is False
        assert time.monotonic() - t0 < bound(1)
    finally:
        pipe.close()


def test_overruns_are_counted(inst):
    inst.set_buffer_size_kb(4)
    assert inst.lost_events() == 0
    w = Workload("dd if=/dev/zero of=/dev/null bs=1 count=100000")
    try:
        inst.set_event_pids([w.pid], True)
        inst.enable("syscalls", "sys_enter_read")
        w.go()
    finally:
        w.kill()
    assert inst.lost_events() > 1000


# -- dynamic events: uprobes (this kernel) --------------------------------------------------

def _libc_open() -> tuple[str, int]:
    lib = libc.libraries([os.getpid()])[0]
    return lib.path, elfsyms.function_offsets(Path(lib.path), {"open"})["open"]


@pytest.mark.skipif(shutil.which("readelf") is None, reason="no readelf (binutils) here")
def test_elf_offsets_match_readelf():
    path, off = _libc_open()
    out = subprocess.run(["readelf", "-W", "--dyn-syms", path], capture_output=True, text=True).stdout
    vaddrs = {int(f[1], 16) for f in (ln.split() for ln in out.splitlines())
              if len(f) >= 8 and f[7].split("@")[0] == "open"}
    # libc's text segment maps file offset == virtual address on Debian; the reader must agree.
    assert off in vaddrs


@needs_uprobes
@needs_dynamic_libc
def test_uprobe_create_trace_destroy(inst):
    path, off = _libc_open()
    group = naming.owned_name("uptest", dash_ok=False)
    ev = dynevent.uprobe_alloc(group, "open", path, off, "path=+0(%di):ustring")
    assert not ev.exists()  # alloc changes nothing in the kernel
    ev.create()
    try:
        assert ev.exists()
        assert any(e.system == group and e.event == "open" and e.kind == dynevent.UPROBE
                   for e in dynevent.dynevents())
        w = Workload("cat /etc/hostname")
        try:
            inst.set_event_pids([w.pid], True)
            inst.enable(group, "open")
            w.go()
        finally:
            w.kill()
        lines = drain(inst)
        assert any('path="/etc/hostname"' in ln and "cat-" in ln for ln in lines), lines
        with pytest.raises(dynevent.DynEventError, match="Device or resource busy|enabled"):
            ev.destroy()  # still enabled in our instance
    finally:
        ev.destroy(force=True)
    assert not ev.exists()


@needs_uprobes
@needs_dynamic_libc
def test_uretprobe(inst):
    path, off = _libc_open()
    group = naming.owned_name("uptest", dash_ok=False)
    ev = dynevent.uretprobe_alloc(group, "open_ret", path, off, "ret=$retval")
    ev.create()
    try:
        assert ev.command().startswith(f"r:{group}/open_ret ")
        w = Workload("cat /etc/hostname")
        try:
            inst.set_event_pids([w.pid], True)
            inst.enable(group, "open_ret")
            w.go()
        finally:
            w.kill()
        assert any("open_ret:" in ln and "ret=0x3" in ln for ln in drain(inst))
    finally:
        ev.destroy(force=True)


@needs_uprobes
def test_uprobe_parse_error_carries_kernel_message():
    path, off = _libc_open()
    group = naming.owned_name("uptest", dash_ok=False)
    ev = dynevent.uprobe_alloc(group, "bad", path, off, "path=+0(%zz):ustring")
    with pytest.raises(dynevent.DynEventError) as err:
        ev.create()
    assert "Invalid register name" in err.value.kernel_message
    assert "Invalid register name" in str(err.value)
    assert "Invalid register name" in dynevent.error_last()
    assert not ev.exists()


def test_error_log_entries_split():
    text = ("[  1.0] trace_kprobe: error: Unknown type\n  Command: p:a/b f x=+0($arg2):bad\n"
            "                                ^\n[  2.0] trace_uprobe: error: Invalid register name\n"
            "  Command: p:a/c /x:0x1 p=+0(%zz):ustring\n")
    assert len(errorlog.entries(text)) == 2


# -- dynamic events: kprobes ----------------------------------------------------------------

@pytest.mark.skipif(HAS_KPROBES, reason="this kernel has kprobes")
def test_kprobes_missing_is_a_clear_error():
    with pytest.raises(TracerError, match="this kernel has no kprobes: no kprobe_events"):
        dynevent.kprobe_alloc("tracer_x_1", "open", "do_sys_openat2", "file=+0($arg2):ustring")
    with pytest.raises(TracerError, match="no kprobe_events"):
        dynevent.kprobe_raw(None, "open", "do_sys_openat2", "")
    with pytest.raises(TracerError, match="no kprobe_events"):
        dynevent.kprobe_destroy(None, None, None, None, force=True)


KPROBE_FN = "do_sys_openat2"
KPROBE_FMT = "file=+0($arg2):ustring"


def _trace_cat(inst: Instance, group: str, names: list[str]) -> list[str]:
    w = Workload("cat /etc/hostname")
    try:
        inst.set_event_pids([w.pid], True)
        for n in names:
            inst.enable(group, n)
        w.go()
    finally:
        w.kill()
    return drain(inst)


@needs_kprobes
def test_kprobe_and_kretprobe_raw(inst):
    group = naming.owned_name("kptest", dash_ok=False)
    kp = dynevent.kprobe_raw(group, "open", KPROBE_FN, KPROBE_FMT)
    try:
        kr = dynevent.kretprobe_raw(group, "open_ret", KPROBE_FN, "ret=$retval")
        try:
            listed = {(e.kind, e.event) for e in dynevent.dynevents() if e.system == group}
            assert listed == {(dynevent.KPROBE, "open"), (dynevent.KRETPROBE, "open_ret")}
            lines = _trace_cat(inst, group, ["open", "open_ret"])
            assert any('file="/etc/hostname"' in ln and "cat-" in ln for ln in lines), lines
            # fd 3: hex where $retval is untyped, decimal where the kernel types it from BTF (7.x)
            assert any("open_ret:" in ln and re.search(r"ret=(0x)?3\b", ln) for ln in lines), lines
        finally:
            kr.destroy(force=True)
    finally:
        kp.destroy(force=True)
    assert not kp.exists() and not kr.exists()


@needs_kprobes
def test_kprobe_alloc_then_create_and_destroy_with_force(inst):
    group = naming.owned_name("kptest", dash_ok=False)
    kp = dynevent.kprobe_alloc(group, "open", KPROBE_FN, KPROBE_FMT)
    kr = dynevent.kretprobe_alloc(group, "open_ret", KPROBE_FN, "ret=$retval", max_active=16)
    assert kr.command().startswith(f"r16:{group}/open_ret {KPROBE_FN}")
    assert not kp.exists() and not kr.exists()  # alloc only describes
    kp.create()
    kr.create()
    try:
        lines = _trace_cat(inst, group, ["open", "open_ret"])
        assert any('file="/etc/hostname"' in ln for ln in lines), lines
        with pytest.raises(dynevent.DynEventError):
            dynevent.kprobe_destroy(group, "open", KPROBE_FN, None, force=False)  # enabled: busy
        assert kp.exists()
        assert dynevent.kprobe_destroy(group, None, KPROBE_FN, None, force=True) == 2
    finally:
        for ev in (kp, kr):
            if ev.exists():
                ev.destroy(force=True)
    assert not kp.exists() and not kr.exists()
    with pytest.raises(TracerError, match="no kprobe matches"):
        dynevent.kprobe_destroy(group, None, None, None, force=True)


@needs_kprobes
def test_kprobe_bad_fetch_arg_reports_error_log():
    group = naming.owned_name("kptest", dash_ok=False)
    with pytest.raises(dynevent.DynEventError) as err:
        dynevent.kprobe_raw(group, "bad", KPROBE_FN, "file=+0($arg2):nosuchtype")
    assert "Unknown type" in err.value.kernel_message
    assert "Unknown type" in str(err.value)
    assert "Unknown type" in dynevent.error_last()
    assert not events.exists(find_tracefs(), group, "bad")


# -- cleanup --------------------------------------------------------------------------------

def test_cleanup_removes_dead_owners_only():
    tracefs = find_tracefs()
    dead = 4194304 + 1  # above any pid_max: no such process
    stale = tracefs / "instances" / f"tracer_stale_{dead}"
    live = tracefs / "instances" / f"tracer_live_{os.getppid()}"
    foreign = tracefs / "instances" / f"other_{dead}"
    made = [stale, live, foreign]
    for d in made:
        d.mkdir()
    ev = None
    try:
        if (tracefs / "uprobe_events").exists():
            path, off = _libc_open()
            ev = dynevent.uprobe_alloc(f"tracer_stale_{dead}", "open", path, off, "")
            ev.create()
            (stale / "events" / ev.system / "open" / "enable").write_text("1")
        done = cleanup.clear()
        assert f"removed tracefs instance tracer_stale_{dead}" in done
        assert not stale.exists() and live.exists() and foreign.exists()
        if ev:
            assert f"removed uprobe tracer_stale_{dead}/open" in done
            assert not ev.exists()
        again = cleanup.clear()
        assert not any(str(dead) in line for line in again)  # idempotent
    finally:
        for d in made:
            if d.exists():
                d.rmdir()
        if ev and ev.exists():
            ev.destroy(force=True)
