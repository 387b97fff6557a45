"""ebpf-summary and `tracer trace --summary`: counts and errors made in the kernel, against
`strace -c -f` of the same deterministic workload (tests/summary_workload.c)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bounds import bound, started, wait_until

from tracer import procfs
from tracer.views import summary

ROOT = Path(__file__).resolve().parents[1]
MANAGER = ROOT / "trace-hooks/ebpf/manager"
# the calls the workload makes after its start byte (the loader makes none of them)
AFTER_START = {"getppid", "chdir", "umask", "clone", "wait4"}
ROW = re.compile(r"^\s*(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+)\s+(\d+)\s+(\d+)?\s+(\w+)$")


@pytest.fixture(scope="module")
def exe(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sw") / "summary_workload"
    subprocess.run(["gcc", "-O1", "-o", str(out), str(ROOT / "tests/summary_workload.c")], check=True)
    return out


def parse_table(lines: list[str]) -> dict[str, tuple[int, int]]:
    """syscall -> (calls, errors) of one strace -c table."""
    out = {}
    for ln in lines:
        m = ROW.match(ln)
        if m and m.group(6) != "total":
            out[m.group(6)] = (int(m.group(4)), int(m.group(5) or 0))
    return out


def strace_c(exe: Path) -> dict[str, tuple[int, int]]:
    r = subprocess.run(["strace", "-c", "-f", "-q", str(exe)], input=b"g", capture_output=True,
                       timeout=bound(60))
    return parse_table(r.stderr.decode().splitlines())


def blocked(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "S"
    except OSError:
        return False


def loaded(m: subprocess.Popen, timeout: float = 120) -> None:
    """Until summary.c's programs are in the kernel (the test holds the kernel lock: ours)."""

    def in_kernel() -> bool:
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
        return any(p.get("name") == "sum_exit" for p in json.loads(out or "[]"))

    started(m, in_kernel, timeout, "tracer trace --summary", 0.1)
    time.sleep(0.2)  # attached right after loading


def run_ours(exe: Path, cmd: list[str], tmp: Path) -> str:
    w = subprocess.Popen([str(exe)], stdin=subprocess.PIPE)
    while not blocked(w.pid):
        time.sleep(0.01)
    m = subprocess.Popen([a.replace("PID", str(w.pid)) for a in cmd], cwd=tmp, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={"TRACER_OUTPUT_DIR": str(tmp), "TRACER_OUTPUT_MODE": "file",
                              "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    if "--run" in cmd:
        path = Path(m.stdout.readline().strip())
    else:
        path = tmp / "summary.out"
        loaded(m)  # no ready signal on this path: wait for its programs
    assert m.poll() is None, m.stderr.read()
    w.communicate(b"g", timeout=bound(60))
    time.sleep(0.3)
    m.send_signal(signal.SIGINT)
    assert m.wait(timeout=bound(30)) == 0, m.stderr.read()
    return path.read_text()


def last_tables(text: str) -> dict[str, dict[str, tuple[int, int]]]:
    """The last report's tables: '# pid N (comm)' and '# all traced processes' -> rows."""
    report = text[text.rindex("# summary at "):]
    tables: dict[str, list[str]] = {}
    cur = None
    for ln in report.splitlines():
        if ln.startswith("# pid ") or ln == "# all traced processes":
            cur = ln[2:]
            tables[cur] = []
        elif cur and not ln.startswith("#"):
            tables[cur].append(ln)
    return {k: parse_table(v) for k, v in tables.items()}


@pytest.mark.parametrize("how", ["hook", "trace"])
def test_summary_matches_strace_c(how, exe, tmp_path):
    ref = strace_c(exe)
    cmd = [str(MANAGER), "--run", "ebpf-summary", "--args", "--pid PID --interval 1"] if how == "hook" \
        else [sys.executable, "-m", "tracer", "trace", "--summary", "-o", str(tmp_path / "summary.out"),
              "PID:all"]
    text = run_ours(exe, cmd, tmp_path)
    tables = last_tables(text)
    total = tables.pop("all traced processes")
    for name in AFTER_START:
        assert total.get(name) == ref[name], f"{name}: ours {total.get(name)}, strace -c {ref[name]}"
    assert ref["getppid"] == (1300, 0) and ref["chdir"] == (57, 57)
    # per process: the workload and its child, each with its own figures
    per = sorted(t["getppid"][0] for t in tables.values() if "getppid" in t)
    assert per == [300, 1000]
    # the table has strace -c's shape: header, rules, total line
    assert "% time     seconds  usecs/call     calls    errors syscall" in text
    assert re.search(r"^100\.00 +\d+\.\d{6} +\d+ +\d+ +\d* +total$", text, re.M)
    assert re.search(r"^# getppid latency: (<\d+[nmu]?s:\d+ ?)+$", text, re.M)


def test_table_shape_like_strace_c():
    rows = {"getppid": summary.Row(calls=1300, ns=5_875_000), "chdir": summary.Row(57, 57, 430_000)}
    lines = summary.table(rows)
    assert lines[0] == "% time     seconds  usecs/call     calls    errors syscall"
    assert lines[2] == " 93.18    0.005875           4      1300           getppid"
    assert lines[3] == "  6.82    0.000430           7        57        57 chdir"
    assert lines[-1] == "100.00    0.006305           4      1357        57 total"


def test_bad_interval():
    r = subprocess.run([str(MANAGER), "--run", "ebpf-summary", "--args", "--pid 1 --interval 0"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "--interval" in r.stderr


def test_an_untraced_process_is_never_counted_under_the_task_cached_while_attaching():
    """A CPU's cached task word belongs to the task that made it: were the syscall programs
    attached before the task-switch one, a word cached in between would count the next task's
    calls under the traced process."""
    from tracer.syscalls import table

    cpu = str(max(os.sched_getaffinity(0)))
    loop = "import os\nwhile True: os.{}()"
    traced, untraced = (subprocess.Popen(["taskset", "-c", cpu, sys.executable, "-c", loop.format(f)])
                        for f in ("getppid", "getuid"))
    s = summary.Summary(table.load(Path("/sys/kernel/tracing")), ["getppid", "getuid"], follow=False)
    try:
        s.start(procfs.start_times([traced.pid]))
        for _ in range(40):
            s.detach()
            s.attach()
            time.sleep(0.02)
        got = {name: row for (pid, _), rows in s.read().items() if pid == traced.pid
               for name, row in rows.items()}
    finally:
        s.close()
        for p in (traced, untraced):
            p.kill()
            p.wait()
    assert "getppid" in got
    assert "getuid" not in got, got["getuid"]


def test_processes_taking_turns_on_one_cpu_keep_exact_counts(tmp_path):
    """Two counted processes making the same syscall on one CPU take that CPU's row from each
    other at every task switch: each takeover moves the row's figures into the per-process
    entry, and no call may be lost or counted twice on the way."""
    from tracer.syscalls import table

    exe = tmp_path / "getppid"
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(ROOT / "bench/getppid.c")], check=True)
    cpu = str(max(os.sched_getaffinity(0)))
    calls = 300_000
    procs = [subprocess.Popen(["taskset", "-c", cpu, str(exe), str(calls)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env={**os.environ, "WAIT": "1"}) for _ in range(2)]
    s = summary.Summary(table.load(Path("/sys/kernel/tracing")), ["getppid"], follow=False)
    try:
        s.start(procfs.start_times(p.pid for p in procs))
        for p in procs:
            p.stdin.write(b"g")
            p.stdin.flush()
        for p in procs:
            p.communicate(timeout=bound(60))
        s.detach()
        got = {pid: rows["getppid"].calls for (pid, _), rows in s.read().items()}
        moved = {k.tgid for k, per_cpu in s.bpf["stats"].items() if any(v.calls for v in per_cpu)}
        skipped = s.skipped()
    finally:
        s.close()
    assert moved == {p.pid for p in procs}, "the processes never took the row from each other"
    if skipped == 0:
        assert got == {p.pid: calls for p in procs}
    else:
        # A kernel that runs syscall programs preemptible (7.x) skips them for a task while a
        # preempted one holds them on its CPU: every call is counted or in the skipped runs.
        assert set(got) == {p.pid for p in procs} and max(got.values()) <= calls, got
        assert sum(got.values()) + skipped >= 2 * calls, (got, skipped)


def _report_tables(text: str) -> list[list[str]]:
    """Per report: the '# pid N (comm)' headings of its tables."""
    return [re.findall(r"^# pid (\d+) \(", r, re.M) for r in text.split("# summary at ")[1:]]


@pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")
def test_a_report_between_shows_only_processes_that_made_calls_since_the_last(tmp_path):
    """A table repeated unchanged for every process each interval (ended ones too) floods a
    long session; the total and the last report still cover all of them."""
    from tracer import capabilities, targets
    from tracer.hooks import options, registry
    from tracer.pipeline.writer import TraceWriter

    readers = [subprocess.Popen(["/bin/sh", "-c", "while read x; do :; done"], stdin=subprocess.PIPE)
               for _ in range(2)]
    busy, idle = readers
    hook = registry.get("ebpf-summary")
    pids = " ".join(f"--pid {p.pid}" for p in readers)
    source = hook.runner(hook, options.parse(hook, f"{pids} --no-follow-forks"),
                         targets.resolve([p.pid for p in readers], [], False), capabilities.probe())
    out = tmp_path / "summary.txt"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT, 0o644)
    writer = TraceWriter(fd)
    try:
        source.start()

        def reads(p: subprocess.Popen) -> int:
            return int(re.search(r"^syscr: (\d+)", Path(f"/proc/{p.pid}/io").read_text(), re.M)[1])

        def report(*who: subprocess.Popen) -> None:
            before = {p: reads(p) for p in who}
            for p in who:  # a line each: the shell's read() calls
                p.stdin.write(b"line\n")
                p.stdin.flush()
            # each has read its line and blocks in the next read: the calls it made are counted
            assert wait_until(lambda: all(reads(p) > n and blocked(p.pid) for p, n in before.items()),
                              10, 0.02), "the shells did not read their lines"
            source.report(writer)

        report(busy, idle)
        report(busy)
        report()
    finally:
        source.close(writer)
        writer.flush()
        os.close(fd)
        for p in readers:
            p.stdin.close()
            p.wait(timeout=bound(10))
    text = out.read_text()
    b, i = str(busy.pid), str(idle.pid)
    assert [sorted(r) for r in _report_tables(text)] == [sorted([b, i]), [b], [], sorted([b, i])], text
    reports = text.split("# summary at ")[1:]
    assert "# 1 process with no call since the last summary" in reports[1]
    assert "# 2 processes with no call since the last summary" in reports[2]
    # the total of a report between still counts the idle process's calls
    total = [parse_table(r[r.index("# all traced processes"):].splitlines()) for r in reports]
    assert total[1]["read"][0] == total[3]["read"][0] > total[0]["read"][0]
