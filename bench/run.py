#!/usr/bin/env python3
"""Benchmark the ebpf pipeline side by side, in one run, and print a table.

  sudo .venv/bin/python bench/run.py [--calls N]

Figures (each measured in this run, against the same baseline):
  - events/s drained into the trace file, and events lost, for a getppid loop traced by ebpf-syscalls;
  - ns per getppid call of a traced process and of an untraced one (while a session traces
    another PID), against no tracer, `strace -f` and BCC's own `trace-bpfcc`; the untraced
    one also with --format strace (its raw entry tracepoint);
  - ns per call of a process counted by ebpf-summary, beside `strace -c -f`, and against the
    floor of its two attach points (empty programs on raw sys_enter and sys_exit); and the wall
    time of two real commands (find, gcc) counted by ebpf-summary and under `strace -c -f`;
  - the cost floor: ns per call of an untraced process under the dispatch's own front-end
    programs emptied (-DTRACER_FLOOR: the same programs on the same attach points, returning at
    once) and under the real dispatch, taken in turns, for all syscalls and for --syscalls openat;
  - startup time of every hook (launch to the trace file's path on stdout).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANAGERS = {"ebpf": ROOT / "trace-hooks/ebpf/manager", "ftrace": ROOT / "trace-hooks/ftrace/manager"}


def build(tmp: Path) -> Path:
    exe = tmp / "getppid"
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(ROOT / "bench/getppid.c")], check=True)
    return exe


def loop(exe: Path, calls: int, wrap: list[str] | None = None) -> float:
    """ns per call of a getppid loop, optionally under a wrapper command (strace)."""
    out = subprocess.run([*(wrap or []), str(exe), str(calls)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


class Session:
    """A manager --run in the background; `path` is the trace file, startup its latency."""

    def __init__(self, hook: str, args: str) -> None:
        sub = hook.split("-", 1)[0]
        t0 = time.monotonic()
        self.proc = subprocess.Popen([str(MANAGERS[sub]), "--run", hook, "--args", args],
                                     cwd=MANAGERS[sub].parent, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        self.startup = time.monotonic() - t0
        if not line:
            raise SystemExit(f"{hook} did not start: {self.proc.stderr.read().strip()}")
        self.path = Path(line)
        if stat.S_ISFIFO(self.path.lstat().st_mode):  # the agent's paced pipe: read the file beside it
            self.path = self.path.with_name(self.path.name + ".txt")

    def stop(self) -> tuple[int, int]:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)
        last = self.path.read_text().rstrip("\n").rsplit("\n", 1)[-1]
        m = re.search(r"(\d+) events written, (\d+) events lost", last)
        self.path.unlink()
        return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def settle(path: Path, quiet: float = 0.3, limit: float = 60.0) -> float:
    """Wait until the trace file stops growing; return when it last grew."""
    size, last, start = -1, time.monotonic(), time.monotonic()
    while time.monotonic() - start < limit:
        now = path.stat().st_size
        if now != size:
            size, last = now, time.monotonic()
        elif time.monotonic() - last > quiet:
            break
        time.sleep(0.02)
    return last


def drained(exe: Path, calls: int, syscalls: str | None) -> tuple[float, int, int, float]:
    """Trace a getppid loop: (events/s written, events written, lost, ns/call of the loop)."""
    work = subprocess.Popen([str(exe), str(calls)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "WAIT": "1"})
    args = f"--pid {work.pid}" + (f" --syscalls {syscalls}" if syscalls else "")
    s = Session("ebpf-syscalls", args)
    t0 = time.monotonic()
    work.stdin.write("x")
    work.stdin.close()
    ns = float(work.stdout.read().strip())
    work.wait()
    end = settle(s.path)
    written, lost = s.stop()
    return written / (end - t0), written, lost, ns


def summarized(exe: Path, calls: int) -> float:
    """ns per call of the loop counted by ebpf-summary (in-kernel counts, no events)."""
    work = subprocess.Popen([str(exe), str(calls)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "WAIT": "1"})
    s = Session("ebpf-summary", f"--pid {work.pid} --interval 3600")
    work.stdin.write("x")
    work.stdin.close()
    ns = float(work.stdout.read().strip())
    work.wait()
    s.stop()
    return ns


def untraced_cost(exe: Path, calls: int, args: str) -> float:
    idle = subprocess.Popen(["sleep", "1000"])
    s = Session("ebpf-syscalls", f"--pid {idle.pid} {args}".strip())
    try:
        return loop(exe, calls)
    finally:
        s.stop()
        idle.kill()
        idle.wait()


def floor_and_dispatch(exe: Path, calls: int, names: list[str] | None,
                       rounds: int = 21) -> tuple[str, float, float, float, float]:
    """(attach mode, ns/call with nothing attached, under the floor, under the dispatch, and the
    dispatch's cost over the floor) of an untraced getppid loop while another PID is traced
    with `names` (None: every syscall).

    Both objects stay loaded and are attached in turn, in short rounds whose order alternates,
    all on one CPU: this machine's speed drifts by more than the few percent measured, so the
    cost over the floor is the median of each round's dispatch/floor ratio (two loops run
    seconds apart), and the ns figures are medians too."""
    sys.path.insert(0, str(ROOT))
    from tracer import capabilities
    from tracer.ebpf import frontend
    from tracer.ebpf.dispatch import Dispatcher
    from tracer.syscalls import table

    caps = capabilities.probe()
    tab = table.load(caps.tracefs)
    scs = [tab.get(n) for n in names] if names else list(tab)
    front = frontend.choose(caps, len(scs))
    idle = subprocess.Popen(["sleep", "1000"])
    disps: dict[bool, Dispatcher] = {}
    times: dict[bool | None, list[float]] = {None: [], True: [], False: []}
    ratios: list[float] = []
    pin = ["taskset", "-c", str(max(os.sched_getaffinity(0)))]
    short = max(100_000, calls // 5)
    try:
        for floor in (True, False):
            d = disps[floor] = Dispatcher(front.mode, front.ringbuf, 1 << 20, floor=floor)
            d.load()
            for sc in scs:
                d.install(1, sc)
            d.assign(idle.pid, 1)
            d.detach()
        for r in range(rounds):
            times[None].append(loop(exe, short, pin))
            got = {}
            for floor in ((True, False) if r % 2 else (False, True)):
                d = disps[floor]
                for sc in scs:
                    d.attach(sc)
                got[floor] = loop(exe, short, pin)
                d.detach()
                times[floor].append(got[floor])
            ratios.append(got[False] / got[True])
    finally:
        for d in disps.values():
            d.close()
        idle.kill()
        idle.wait()
    med = statistics.median
    return front.mode, med(times[None]), med(times[True]), med(times[False]), med(ratios) - 1


def summary_floor(exe: Path, calls: int, rounds: int = 11) -> dict[str, float]:
    """ns/call of a getppid loop that is counted, each loop a new process counted from its first
    call, in the same alternating rounds as floor_and_dispatch: with nothing attached ("none"),
    under the summary's floor ("floor"), under its programs without the clock reads
    ("no clock") and under its programs ("summary"); and the summary's cost over the floor
    ("over", the median of each round's ratio)."""
    sys.path.insert(0, str(ROOT))
    from tracer import capabilities
    from tracer.syscalls import table
    from tracer.views.summary import Summary

    tab = table.load(capabilities.probe().tracefs)
    pin = ["taskset", "-c", str(max(os.sched_getaffinity(0)))]
    short = max(100_000, calls // 5)
    builds = {"floor": {"floor": True}, "no clock": {"clock": False}, "summary": {}}
    sums: dict[str, Summary] = {}
    times: dict[str, list[float]] = {name: [] for name in ("none", *builds)}
    ratios: list[float] = []

    def counted(s: Summary | None) -> float:
        work = subprocess.Popen([*pin, str(exe), str(short)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env={**os.environ, "WAIT": "1"})
        if s is not None:
            s.add(work.pid)
            s.attach()
        out, _ = work.communicate("x")
        if s is not None:
            s.detach()
        return float(out.strip())

    try:
        for name, kw in builds.items():
            s = sums[name] = Summary(tab, None, **kw)
            s.start({})
            s.detach()
        for r in range(rounds):
            times["none"].append(counted(None))
            got = {}
            for name in (list(builds) if r % 2 else list(builds)[::-1]):
                got[name] = counted(sums[name])
                times[name].append(got[name])
            ratios.append(got["summary"] / got["floor"])
    finally:
        for s in sums.values():
            s.close()
    med = statistics.median
    return {**{name: med(t) for name, t in times.items()}, "over": med(ratios) - 1}


# Real commands beside the getppid loop: one that makes a syscall every ~2 us, one that computes.
WORKLOADS = {"find /usr -xdev": ["find", "/usr", "-xdev"],
             "gcc -O2 bench/getppid.c": ["gcc", "-O2", "-o", "/dev/null", str(ROOT / "bench/getppid.c")]}


def workload_costs(argv: list[str], rounds: int = 5) -> tuple[float, float, float]:
    """Wall seconds of `argv` with nothing attached, counted by ebpf-summary (the process and
    its children), and under `strace -c -f`: medians of alternating rounds."""
    sys.path.insert(0, str(ROOT))
    from tracer import capabilities
    from tracer.syscalls import table
    from tracer.views.summary import Summary

    def run(s: Summary | None, wrap: list[str]) -> float:
        # the shell waits for a line, so that the process is counted from its first call
        work = subprocess.Popen(["sh", "-c", 'read x; exec "$@" > /dev/null', "sh", *wrap, *argv],
                                stdin=subprocess.PIPE)
        if s is not None:
            s.add(work.pid)
        t0 = time.monotonic()
        work.communicate(b"go\n")
        return time.monotonic() - t0

    s = Summary(table.load(capabilities.probe().tracefs), None)
    s.start({})
    times: dict[str, list[float]] = {"none": [], "summary": [], "strace": []}
    try:
        run(None, [])  # a first run warms the page cache
        for _ in range(rounds):
            times["none"].append(run(None, []))
            times["summary"].append(run(s, []))
            times["strace"].append(run(None, ["strace", "-c", "-f", "-o", "/dev/null"]))
    finally:
        s.close()
    med = statistics.median
    return med(times["none"]), med(times["summary"]), med(times["strace"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=2_000_000, help="getppid calls per loop")
    ns = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench: run as root")
    n = ns.calls
    with tempfile.TemporaryDirectory() as d:
        os.environ.setdefault("TRACER_OUTPUT_DIR", d)
        exe = build(Path(d))
        rows: list[tuple[str, str]] = []
        base = min(loop(exe, n) for _ in range(3))
        rows.append(("getppid, no tracer", f"{base:.0f} ns/call"))

        rate, written, lost, traced_ns = drained(exe, n, "getppid")
        rows.append(("ebpf-syscalls --syscalls getppid: drained", f"{rate:,.0f} events/s"
                     f" ({written:,} written, {lost:,} lost = {100 * lost / max(1, written + lost):.1f}%)"))
        rows.append(("  traced process", f"{traced_ns:.0f} ns/call = {traced_ns / base:.2f}x"))
        rate, written, lost, traced_ns = drained(exe, n, None)
        rows.append(("ebpf-syscalls (all syscalls): drained", f"{rate:,.0f} events/s"
                     f" ({written:,} written, {lost:,} lost = {100 * lost / max(1, written + lost):.1f}%)"))
        rows.append(("  traced process", f"{traced_ns:.0f} ns/call = {traced_ns / base:.2f}x"))

        for label, args in (("all syscalls", ""), ("--syscalls openat", "--syscalls openat"),
                            ("all syscalls, --format strace", "--format strace")):
            t = min(untraced_cost(exe, n, args) for _ in range(2))
            rows.append((f"untraced process, session on another PID, {label}",
                         f"{t:.0f} ns/call = {t / base:.2f}x"))

        for label, names in (("all syscalls", None), ("--syscalls openat", ["openat"])):
            mode, none, floor, ours, over = floor_and_dispatch(exe, n, names)
            rows.append((f"untraced process, {label}, {mode}: no tracer", f"{none:.0f} ns/call"))
            rows.append(("  floor (empty programs, same attach points)",
                         f"{floor:.0f} ns/call = {floor / none:.2f}x"))
            rows.append(("  dispatch", f"{ours:.0f} ns/call = {ours / none:.2f}x"
                                       f" = {100 * over:+.1f}% over the floor (median of rounds)"))

        small = max(20_000, n // 50)  # strace is ~1000x slower: fewer calls
        st = loop(exe, small, ["strace", "-f", "-qq", "-o", "/dev/null"])
        rows.append(("traced process under strace -f", f"{st:.0f} ns/call = {st / base:.1f}x"))
        sm = min(summarized(exe, n) for _ in range(2))
        rows.append(("traced process under ebpf-summary", f"{sm:.0f} ns/call = {sm / base:.2f}x"))
        f = summary_floor(exe, n)
        none = f["none"]
        rows.append(("  counted process, no tracer (alternating rounds)", f"{none:.0f} ns/call"))
        rows.append(("  floor (empty programs on raw sys_enter and sys_exit)",
                     f"{f['floor']:.0f} ns/call = {f['floor'] / none:.2f}x"))
        rows.append(("  ebpf-summary's programs without their two clock reads",
                     f"{f['no clock']:.0f} ns/call = {f['no clock'] / none:.2f}x"))
        rows.append(("  ebpf-summary's programs",
                     f"{f['summary']:.0f} ns/call = {f['summary'] / none:.2f}x"
                     f" = {100 * f['over']:+.1f}% over the floor (median of rounds)"))
        sc = loop(exe, small, ["strace", "-c", "-f", "-o", "/dev/null"])
        rows.append(("traced process under strace -c -f", f"{sc:.0f} ns/call = {sc / base:.1f}x"))
        for label, argv in WORKLOADS.items():
            none, summ, strc = workload_costs(argv)
            rows.append((f"{label}: no tracer", f"{none:.3f} s"))
            rows.append(("  counted by ebpf-summary", f"{summ:.3f} s = {summ / none:.2f}x"))
            rows.append(("  under strace -c -f", f"{strc:.3f} s = {strc / none:.2f}x"))
        tb = trace_bpfcc(exe, small)
        rows.append(("traced process under trace-bpfcc", tb))

        for exe_m in MANAGERS.values():
            out = subprocess.run([str(exe_m), "--get-all"], capture_output=True, text=True, cwd=exe_m.parent)
            for hook in out.stdout.split():
                idle = subprocess.Popen(["sleep", "1000"])
                try:
                    s = Session(hook, f"--pid {idle.pid}")
                    s.stop()
                    rows.append((f"startup {hook}", f"{s.startup:.2f} s"))
                finally:
                    idle.kill()
                    idle.wait()
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  figure")
    print(f"{'-' * width}  {'-' * 40}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def trace_bpfcc(exe: Path, calls: int) -> str:
    """BCC's trace tool printing every getppid of the loop (its per-event Python callback)."""
    tool = "/usr/sbin/trace-bpfcc"
    if not Path(tool).exists():
        return "trace-bpfcc not installed"
    work = subprocess.Popen([str(exe), str(calls)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "WAIT": "1"})
    # SIGINT at its default: a shell's background job (and so this script) may have it ignored,
    # which the tool would inherit and never stop on
    tr = subprocess.Popen([tool, "-p", str(work.pid), "t:syscalls:sys_enter_getppid"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(4)  # trace-bpfcc prints nothing when ready: give its compile time
    work.stdin.write("x")
    work.stdin.close()
    ns = float(work.stdout.read().strip())
    work.wait()
    tr.send_signal(signal.SIGINT)
    try:
        tr.wait(timeout=10)
    except subprocess.TimeoutExpired:  # still printing its backlog: a KeyboardInterrupt raised in
        tr.kill()                      # its per-event callback is swallowed there
        tr.wait()
    base = loop(exe, calls)
    return f"{ns:.0f} ns/call = {ns / base:.2f}x"


if __name__ == "__main__":
    sys.exit(main())
