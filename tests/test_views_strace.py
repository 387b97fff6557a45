"""--format strace: our lines against real `strace -f -ttt -T` of the same workload (strace
writing to stderr), through one grammar (tests/strace_text.py): same line shapes, same calls
per process, same returns, same exit statuses, the [pid N] prefix where strace puts it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bounds import bound, started, wait_until
from strace_text import Line, parse, skipped_runs

from tracer.trace import control

ROOT = Path(__file__).resolve().parents[1]
MANAGER = ROOT / "trace-hooks/ebpf/manager"
# A shell that forks, execs, exits with codes and fails a call, started after a marker read.
SCRIPT = ("read x; cat /etc/hostname >/dev/null; (exit 3); sh -c 'exit 4';"
          " ls /nonexistent 2>/dev/null; exit 2")
ARGV = ["setarch", "-R", "sh", "-c", SCRIPT]
MARKER = ("read", '1')
FORKS = {"clone", "clone3", "fork", "vfork"}
# How often the shell polls wait4 and where SIGCHLD lands depend on timing, which strace's
# own slowness changes: these calls are compared by shape only, not by count.
TIMING = {"rt_sigreturn", "rt_sigsuspend", "wait4"}


def real_strace(tmp: Path) -> str:
    err = tmp / "strace.err"
    with open(err, "w") as f:
        subprocess.run(["strace", "-f", "-ttt", "-T", "-q", *ARGV], input=b"g\n", stderr=f,
                       stdout=subprocess.DEVNULL, check=False, timeout=bound(60))
    return err.read_text()


def waiting_on_stdin(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return cmd.startswith(b"sh\0") and state == "S"


def start_workload() -> subprocess.Popen:
    w = subprocess.Popen(ARGV, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert wait_until(lambda: waiting_on_stdin(w.pid), 10, 0.02), "workload did not start"
    return w


def ours_by_hook(tmp: Path) -> str:
    w = start_workload()
    m = subprocess.Popen([str(MANAGER), "--run", "ebpf-syscalls", "--args",
                          f"--pid {w.pid} --format strace"], cwd=MANAGER.parent, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={"TRACER_OUTPUT_DIR": str(tmp), "TRACER_OUTPUT_MODE": "file",
                              "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    path = m.stdout.readline().strip()
    assert path, m.stderr.read()
    w.communicate(b"g\n", timeout=bound(60))
    time.sleep(0.5)
    m.send_signal(signal.SIGINT)
    assert m.wait(timeout=bound(30)) == 0
    return Path(path).read_text()


def ours_by_trace(tmp: Path) -> str:
    w = start_workload()
    out = tmp / "trace.out"
    t = subprocess.Popen([sys.executable, "-m", "tracer", "trace", "-o", str(out), "--format", "strace",
                          f"{w.pid}:files,process,read,write,wait4"], stderr=subprocess.PIPE, text=True)
    sock = control.socket_path(t.pid)  # exists once everything is attached
    started(t, sock.exists, 30, "tracer trace")
    w.communicate(b"g\n", timeout=bound(60))
    time.sleep(0.5)
    t.send_signal(signal.SIGINT)
    assert t.wait(timeout=bound(30)) == 0, t.stderr.read()
    return out.read_text()


def by_process(lines: list[Line]) -> dict[str, list[Line]]:
    """Lines per process, named P0 (the workload), P1... in order of creation. A line without
    a [pid N] prefix belongs to the one process traced then, as strace prints it."""
    children = [int(ln.ret) for ln in lines
                if ln.kind == "call" and ln.name in FORKS and ln.ret.isdigit()]
    root = next((ln.pid for ln in lines if ln.pid is not None and ln.pid not in children), None)
    names = {root: "P0", **{c: f"P{i + 1}" for i, c in enumerate(children)}}
    live = {root: True}
    out: dict[str, list[Line]] = {}
    for ln in lines:
        pid = ln.pid
        if pid is None:
            assert len(live) == 1, f"a line without [pid N] while {len(live)} processes live"
            pid = next(iter(live))
        live[pid] = True
        out.setdefault(names[pid], []).append(ln)
        if ln.kind == "call" and ln.name in FORKS and ln.ret.isdigit():
            live[int(ln.ret)] = True
        if ln.kind == "exit":
            live.pop(pid, None)
    return out


def from_marker(procs: dict[str, list[Line]]) -> dict[str, list[Line]]:
    root = procs["P0"]
    k = next(i for i, ln in enumerate(root) if (ln.name, ln.ret) == MARKER)
    return {**procs, "P0": root[k:]}


def kept(lines: list[Line], names: set[str]) -> list[Line]:
    return [ln for ln in lines if ln.kind == "exit"
            or (ln.kind == "call" and ln.name in names and ln.name not in TIMING)]


def shape(ln: Line) -> tuple:
    ret = re.sub(r"0x[0-9a-f]+", "ADDR", ln.ret)
    ret = re.sub(r"^\d{3,}$", "N", ret)  # child PIDs
    return (ln.kind, ln.name, ret if ln.name not in FORKS else "PID", ln.status)


def absent(ours: list, ref: list, why: str) -> int:
    """How many of `ref`'s items `ours` lacks, where `ours` is `ref` with some left out (in
    the same order); anything else fails with `why` and the two lists' difference."""
    k = 0
    for item in ref:
        if k < len(ours) and ours[k] == item:
            k += 1
    if k < len(ours):
        assert ours == ref, why
    return len(ref) - len(ours)


def test_absent_counts_only_what_was_left_out():
    assert absent([1, 2, 3], [1, 2, 3], "") == 0
    assert absent([1, 3], [1, 2, 3], "") == 1
    for ours in ([1, 4, 3], [3, 1], [1, 2, 3, 4]):
        with pytest.raises(AssertionError):
            absent(ours, [1, 2, 3], "")


def test_the_closing_notes_are_read_apart_from_the_calls():
    from tracer.ebpf import progstats

    call = "1700000000.000001 getpid()".ljust(40) + "= 5 <0.000010>"
    text = "\n".join([call, *(f"# {n}" for n in progstats.note(3)), "# tracer stopped: 1 events written"])
    assert [ln.name for ln in parse(text, strace_side=False)] == ["getpid"]
    assert skipped_runs(text) == 3 and skipped_runs(call) == 0


@pytest.mark.parametrize("how", ["hook", "trace"])
def test_strace_format_matches_real_strace(how, tmp_path):
    ref_text = real_strace(tmp_path)
    ours_text = (ours_by_hook if how == "hook" else ours_by_trace)(tmp_path)
    ref = from_marker(by_process(parse(ref_text, strace_side=True)))
    ours = from_marker(by_process(parse(ours_text, strace_side=False)))
    assert set(ref) == set(ours)
    assert any(ln.kind == "signal" for p in ref for ln in ref[p]), "strace saw no signal: nothing compared"
    # Where the kernel runs syscall tracepoints preemptible (7.x), a task preempted in one of our
    # programs makes the kernel skip it for the others on that CPU: the trace ends saying how
    # often, and at most that many of strace's lines may be missing from ours; nothing else may
    # differ. Elsewhere that count is 0 and the lines must be the same.
    allowed, missing = skipped_runs(ours_text), 0
    for p in ref:
        names = {ln.name for ln in ours[p] if ln.kind == "call"}  # tracer trace: the families asked for
        r, o = kept(ref[p], names), kept(ours[p], names)
        missing += absent([shape(ln) for ln in o], [shape(ln) for ln in r],
                          f"{p}: calls differ from strace's")
        # the signals each process got (a SIGCHLD per child): where they land among the calls
        # is timing, which strace's stops change
        missing += absent(sorted(ln.name for ln in ours[p] if ln.kind == "signal"),
                          sorted(ln.name for ln in ref[p] if ln.kind == "signal"),
                          f"{p}: signals differ from strace's")
        # the [pid N] prefix: on every line of a child, in both
        if p != "P0":
            assert all(ln.pid is not None for ln in o + r), f"{p}: a child's line without [pid N]"
        # every call that returned has a duration; exit_group does not
        for ln in ours[p]:
            if ln.kind == "call":
                assert (ln.dur is None) == (ln.ret == "?"), ln
        stamps = [ln.ts for ln in ours[p]]
        assert stamps == sorted(stamps), f"{p}: times go backwards within a process"
    assert missing <= allowed, f"{missing} of strace's lines missing, the trace says {allowed} skipped runs"
    # ... and on none of the workload's before its first fork (the fork's own line may come
    # after the child's first lines, so prefixed: strace's <... vfork resumed> is)
    for procs in (ref, ours):
        root = [ln for ln in procs["P0"] if ln.kind != "signal"]
        first = next(i for i, ln in enumerate(root) if ln.name in FORKS)
        assert all(ln.pid is None for ln in root[:first])

