"""The per-PID tail-call dispatch, loaded for real into this kernel."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from bounds import bound
from ebpf_harness import Harness, of_pid

from tracer import capabilities as cap

CAPS = cap.probe()
NO_KPROBES = f"this kernel has no kprobes ({CAPS.reason(cap.KPROBES)}); runs under vagrant/run-qemu"
MODES = [
    "raw_tracepoint",
    "tracepoint",
    pytest.param("kprobe", marks=[pytest.mark.kprobes,
                                  pytest.mark.skipif(not CAPS.has(cap.KPROBES), reason=NO_KPROBES)]),
]


@pytest.fixture
def harness():
    made = []

    def make(mode: str, **kw) -> Harness:
        h = Harness(mode, **kw)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


@pytest.mark.parametrize("mode", MODES)
def test_two_pids_different_handlers_and_an_untraced_one(mode, harness, workload, tmp_path):
    h = harness(mode)
    a, b, c = workload(), workload(), workload()
    h.install(1, "openat")
    h.install(2, "getppid")
    h.disp.assign(a.pid, 1)
    h.disp.assign(b.pid, 2)
    for w, name in ((a, "a"), (b, "b"), (c, "c")):
        w.do(f"open {tmp_path}/{name}-file")
        w.do("getppid")
    lines = h.read()
    la, lb = of_pid(lines, a.pid), of_pid(lines, b.pid)
    assert any(f'"{tmp_path}/a-file"' in ln and "openat(AT_FDCWD" in ln for ln in la), la
    assert not [ln for ln in la if "getppid(" in ln]
    assert any(ln.endswith(f"getppid() = {os.getpid()}") for ln in lb), lb
    assert not [ln for ln in lb if "openat(" in ln]
    assert of_pid(lines, c.pid) == []


@pytest.mark.parametrize("follow", [True, False])
def test_fork_following(follow, harness, workload, tmp_path):
    h = harness("raw_tracepoint", follow_forks=follow)
    w = workload()
    h.install(1, "openat")
    h.disp.assign(w.pid, 1)
    child = int(w.do(f"forkopen {tmp_path}/child-file"))
    lines = of_pid(h.read(), child)
    if follow:
        assert any(f'"{tmp_path}/child-file"' in ln for ln in lines), lines
    else:
        assert lines == []


def test_the_tracer_never_traces_itself(harness, workload, tmp_path):
    h = harness("raw_tracepoint")
    h.install(0, "openat")  # the default set: every process without a set of its own
    h.disp.set_default(True)
    w = workload()
    w.do(f"open {tmp_path}/other")
    (tmp_path / "mine").write_text("x")
    lines = h.read()
    h.disp.set_default(False)
    assert of_pid(lines, w.pid), "the default handler set traces other processes"
    assert of_pid(lines, os.getpid()) == []


def test_handlers_change_while_tracing(harness, workload, tmp_path):
    h = harness("raw_tracepoint")
    a, b = workload(), workload()
    h.install(1, "openat")
    h.install(2, "openat")
    h.disp.assign(a.pid, 1)
    h.disp.assign(b.pid, 2)
    a.do("getppid")
    b.do(f"open {tmp_path}/b1")
    assert not [ln for ln in of_pid(h.read(), a.pid) if "getppid" in ln]

    h.install(1, "getppid")  # add a handler to A's set only
    h.uninstall(1, "openat")  # and remove one
    a.do("getppid")
    a.do(f"open {tmp_path}/a-after-remove")
    b.do(f"open {tmp_path}/b2")
    lines = h.read()
    assert any("getppid()" in ln for ln in of_pid(lines, a.pid))
    assert not [ln for ln in of_pid(lines, a.pid) if "a-after-remove" in ln]
    # B's handlers were not touched: none of its events went missing
    assert [ln for ln in of_pid(h.seen, b.pid) if "/b1" in ln or "/b2" in ln] != []
    assert len([ln for ln in of_pid(h.seen, b.pid) if f"{tmp_path}/b" in ln]) == 2

    h.disp.release(a.pid)  # stop tracing A altogether
    a.do("getppid")
    assert of_pid(h.read(), a.pid) == []
    assert h.disp.lost() == 0


@pytest.fixture
def high_pid():
    """Make the next PID exceed 4,000,000 (pid_max raised), restoring pid_max after."""
    pid_max = Path("/proc/sys/kernel/pid_max")
    last = Path("/proc/sys/kernel/ns_last_pid")
    old = pid_max.read_text()
    pid_max.write_text("4194304")
    try:
        last.write_text("4000000")
        yield
    finally:
        pid_max.write_text(old)


def test_pid_above_four_million(high_pid, harness, workload, tmp_path):
    w = workload()
    assert w.pid > 4_000_000, f"got PID {w.pid}"
    h = harness("raw_tracepoint")
    h.install(1, "openat")
    h.disp.assign(w.pid, 1)
    w.do(f"open {tmp_path}/high")
    lines = of_pid(h.read(), w.pid)
    assert any(f'"{tmp_path}/high"' in ln for ln in lines), lines


def test_execve_and_exit_group_are_paired_with_their_entry(harness, tmp_path):
    h = harness("raw_tracepoint")
    h.install(1, "execve", "exit_group")
    sh = subprocess.Popen(["/bin/sh", "-c", "read x; exec /bin/true one two"], stdin=subprocess.PIPE,
                          text=True)
    h.disp.assign(sh.pid, 1)
    sh.communicate("go\n")
    lines = of_pid(h.read(), sh.pid)
    assert any('execve("/bin/true", ["/bin/true", "one", "two"]' in ln and ln.endswith("= 0")
               for ln in lines), lines
    assert any(ln.endswith("exit_group(0) = ?") for ln in lines), lines


def _calls(lines: list[str]) -> list[str]:
    """The NAME(ARGS) = RET part of each line."""
    return [ln.split(" ", 3)[3] for ln in lines]


@pytest.mark.kprobes
@pytest.mark.skipif(not CAPS.has(cap.KPROBES), reason=NO_KPROBES)
def test_kprobe_and_tracepoint_front_ends_give_the_same_events(harness, workload, tmp_path):
    got = {}
    for mode in ("tracepoint", "kprobe"):
        h = harness(mode)
        w = workload()
        w.do("getppid")  # started up and waiting: only the commands below make syscalls
        h.install(1, "openat", "getppid", "close")
        h.disp.assign(w.pid, 1)
        for i in range(3):
            w.do(f"open {tmp_path}/missing-{i}")
            w.do(f"open {Path(__file__)}")
            w.do("getppid")
        got[mode] = _calls(of_pid(h.read(settle=1.0), w.pid))
        h.close()
    assert len(got["tracepoint"]) == 3 * 4, got["tracepoint"]  # open (fails), open + close, getppid
    assert got["kprobe"] == got["tracepoint"], got


def test_strings_up_to_4k_then_marked_cut(harness):
    h = harness("raw_tracepoint")
    h.install(1, "openat")
    long_path = "/" + "a" * 5000
    p = subprocess.Popen(["/usr/bin/python3", "-c", "import os, sys\nsys.stdin.readline()\n"
                          f"try: os.open({long_path!r}, 0)\nexcept OSError: pass"],
                         stdin=subprocess.PIPE, text=True)
    h.disp.assign(p.pid, 1)
    p.communicate("go\n")
    line = next(ln for ln in of_pid(h.read(), p.pid) if "aaaa" in ln)
    shown = line.split('"')[1]
    # a path is shown as strace does: PATH_MAX - 1 (4095) characters, then marked cut
    assert (len(shown), line[line.index(shown) + len(shown):][:6]) == (4095, '"..., ')
    assert line.endswith("= -1 ENAMETOOLONG (File name too long)")


@pytest.fixture
def spinner():
    """A process that makes getppid calls without pause on the last CPU, so that it is
    seldom switched out: a slot change must reach it without waiting for a task switch."""
    cpu = str(max(os.sched_getaffinity(0)))
    p = subprocess.Popen(["taskset", "-c", cpu, "python3", "-c",
                          "import os\nwhile True: os.getppid()"])
    yield p
    p.kill()
    p.wait()


def test_a_running_process_sees_its_slot_change_at_once(harness, spinner):
    h = harness("raw_tracepoint")
    h.install(1, "getppid")
    time.sleep(0.3)  # its CPU has cached "untraced" for it by now
    assert of_pid(h.read_for(0.3), spinner.pid) == []
    h.disp.assign(spinner.pid, 1)
    got = of_pid(h.read_until(lambda ls: len(of_pid(ls, spinner.pid)) > 100, bound(0.5)), spinner.pid)
    assert len(got) > 100, len(got)
    h.disp.release(spinner.pid)
    released = time.time_ns()
    # what was queued before the release still comes (under emulation, for seconds): only a
    # call made after it would be wrong. 2 ms: the lines' clock is the monotonic one shifted to
    # the wall clock once; one call may straddle the release.
    after = [ln for ln in of_pid(h.read_for(bound(0.8)), spinner.pid)
             if int(ln.split()[0].replace(".", "")) > released + 2_000_000]
    assert after == [], (len(after), after[:3])


@pytest.fixture
def two_spinners():
    """A traced and an untraced getppid loop sharing one CPU, so that it switches between them
    all the time."""
    cpu = str(max(os.sched_getaffinity(0)))
    ps = [subprocess.Popen(["taskset", "-c", cpu, "python3", "-c", "import os\nwhile True: os.getppid()"])
          for _ in range(2)]
    yield ps
    for p in ps:
        p.kill()
        p.wait()


def test_an_untraced_process_never_takes_the_slot_cached_while_attaching(harness, two_spinners):
    """A CPU's cached slot belongs to the task that ran the front end: were the front end
    attached before the task-switch program, a slot cached in between would pass to the next
    task on that CPU."""
    traced, untraced = two_spinners
    h = harness("raw_tracepoint")
    h.disp.assign(traced.pid, 1)
    getppid = h.table.get("getppid")
    stray = 0
    for _ in range(40):
        h.install(1, "getppid")
        got = h.read_until(lambda ls: of_pid(ls, traced.pid), bound(0.05))
        assert of_pid(got, traced.pid), "the traced process was not seen"
        stray += len(of_pid(got, untraced.pid))
        h.disp.detach()
        h.disp.uninstall(1, getppid)
    assert stray == 0
