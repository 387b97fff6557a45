"""The ebpf-summary hook (and `tracer trace --summary`): strace -c figures counted in the
kernel (bpf/summary.c), read every --interval seconds and at the stop, written as tables:
one per traced process, then the total, each like `strace -c`, followed by latency
histograms (log2 buckets)."""

from __future__ import annotations

import ctypes as ct
import os
import time
from dataclasses import dataclass, field

from tracer import procfs
from tracer.ebpf import btf, progstats
from tracer.ebpf import compile as bpfc
from tracer.ebpf.cheader import CFG_CGROUPS, CFG_FOLLOW, CFG_GEN
from tracer.ebpf.dispatch import possible_cpus
from tracer.errors import TracerError
from tracer.hooks.options import HookOptions
from tracer.pipeline.writer import TraceWriter
from tracer.syscalls.table import SyscallTable
from tracer.targets import Targets
from tracer.targets import resolve as resolve_targets

DEFAULT_INTERVAL = 10
RULE = "------ ----------- ----------- --------- --------- ----------------"
HEAD = "% time     seconds  usecs/call     calls    errors syscall"


@dataclass
class Row:
    calls: int = 0
    errors: int = 0
    ns: int = 0
    hist: list[int] = field(default_factory=lambda: [0] * 24)


def table(rows: dict[str, Row]) -> list[str]:
    """`strace -c` lines for `rows` (syscall name -> figures), busiest first."""
    total_ns = sum(r.ns for r in rows.values())
    out = [HEAD, RULE]
    order = sorted(rows.items(), key=lambda kv: (-kv[1].ns, -kv[1].calls, kv[0]))
    for name, r in order:
        pct = 100.0 * r.ns / total_ns if total_ns else 0.0
        per = r.ns // 1000 // r.calls if r.calls else 0
        errs = str(r.errors) if r.errors else ""
        out.append(f"{pct:6.2f} {r.ns / 1e9:11.6f} {per:11d} {r.calls:9d} {errs:>9} {name}")
    calls = sum(r.calls for r in rows.values())
    errors = sum(r.errors for r in rows.values())
    out.append(RULE)
    out.append(f"{100.0 if total_ns else 0.0:6.2f} {total_ns / 1e9:11.6f} "
               f"{total_ns // 1000 // calls if calls else 0:11d} {calls:9d} "
               f"{str(errors) if errors else '':>9} total")
    return out


def histogram(name: str, hist: list[int]) -> str:
    """`NAME latency: <1us:3 <2us:1 ...`: log2 buckets of nanoseconds, shown in us/ms/s."""
    parts = []
    for b, n in enumerate(hist):
        if n:
            parts.append(f"<{_dur(1 << (b + 1))}:{n}")
    return f"{name} latency: " + " ".join(parts)


def _dur(ns: int) -> str:
    for unit, div in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if ns >= div:
            return f"{ns // div}{unit}"
    return f"{ns}ns"


# raw tracepoint -> program of bpf/summary.c (BCC attaches its TRACEPOINT_PROBEs on load)
# sched_switch first: a CPU's cached answer is only valid once task switches clear it
PROGRAMS = {b"sched_switch": b"sum_switch", b"sys_enter": b"sum_enter", b"sys_exit": b"sum_exit"}


class Summary:
    """Loads bpf/summary.c, marks the traced PIDs, reads the per-CPU counters."""

    def __init__(self, table: SyscallTable, syscalls: list[str] | None, follow: bool = True,
                 floor: bool = False, clock: bool = True) -> None:
        self.table = table
        self.syscalls = syscalls
        self.follow = follow
        self.floor = floor  # programs that return at once: the cost floor (bench/run.py)
        self.clock = clock  # False: no latencies, what the clock costs (bench/run.py)
        self.bpf = None
        self.gen = 0  # config's CFG_GEN

    def start(self, pids: dict[int, int], cgroups: list[int] | None = None) -> None:
        """Count `pids` (PID -> start time, from procfs.start_times; their children too when
        following forks), and every process of the cgroups `cgroups` (by cgroup v2 id)."""
        flags = [f"-DMAX_CPUS={possible_cpus()}"] + (["-DTASK_STORAGE"] if btf.task_storage() else [])
        flags += (["-DTRACER_FLOOR"] if self.floor else []) + ([] if self.clock else ["-DTRACER_NO_CLOCK"])
        self.bpf = bpfc.build(bpfc.source("summary.c"), flags)
        try:
            wanted = self.bpf["wanted"]
            nrs = [self.table.get(n).nr for n in self.syscalls] if self.syscalls else \
                [sc.nr for sc in self.table]
            for nr in nrs:
                wanted[ct.c_int(nr)] = ct.c_uint8(1)
            self.bpf["config"][ct.c_int(CFG_FOLLOW)] = ct.c_uint64(1 if self.follow else 0)
            traced = self.bpf["traced"]
            for pid in pids:
                if pid != os.getpid():
                    traced[ct.c_int(pid)] = ct.c_uint8(1)
            for pid in procfs.replaced(pids):  # ended unmarked: the kernel won't clear it
                traced[ct.c_int(pid)] = ct.c_uint8(0)
            for cg in cgroups or []:
                self.bpf["cgroups"][ct.c_uint64(cg)] = ct.c_uint8(1)
            self.bpf["config"][ct.c_int(CFG_CGROUPS)] = ct.c_uint64(1 if cgroups else 0)
            self._changed()
            self.attach()
        except BaseException:
            self.close()
            raise

    def attach(self) -> None:
        """The syscall programs (BCC attaches the TRACEPOINT_PROBEs on load)."""
        for tp, fn in PROGRAMS.items():
            self.bpf.attach_raw_tracepoint(tp=tp, fn_name=fn)
            if tp == b"sched_switch":
                self._changed()  # drop answers cached before switches cleared them

    def detach(self) -> None:
        """The syscall programs before the task-switch one, which must clear a CPU's word for
        as long as they can make one."""
        for tp in reversed(PROGRAMS):
            self.bpf.detach_raw_tracepoint(tp=tp)

    def add(self, pid: int) -> None:
        if pid != os.getpid():
            self.bpf["traced"][ct.c_int(pid)] = ct.c_uint8(1)
            self._changed()

    def _changed(self) -> None:
        """The counted set changed: every CPU's cached answer is stale (bpf/summary.c this_cpu)."""
        self.gen += 1
        self.bpf["config"][ct.c_int(CFG_GEN)] = ct.c_uint64(self.gen)

    def read(self) -> dict[tuple[int, str], dict[str, Row]]:
        """(pid, comm) -> syscall name -> figures, summed over CPUs: the figures moved into
        `stats`, then those still in the CPUs' rows (read in this order, a row moved meanwhile
        is missing from this report and in the next, never counted twice)."""
        figures: dict[tuple[int, int], Row] = {}
        comms: dict[int, dict[str, int]] = {}  # pid -> comm -> calls made under that name

        def add(tgid: int, nr: int, v: ct.Structure) -> None:
            if not v.calls:
                return
            row = figures.setdefault((tgid, nr), Row())
            row.calls += v.calls
            row.errors += v.errors
            row.ns += v.ns
            for i in range(24):
                row.hist[i] += v.hist[i]
            seen = comms.setdefault(tgid, {})
            comm = v.comm.decode("utf-8", "replace")
            seen[comm] = seen.get(comm, 0) + v.calls

        for k, per_cpu in self.bpf["stats"].items():
            for v in per_cpu:
                add(k.tgid, k.nr, v)
        for nr, per_cpu in self.bpf["rows"].items():
            for r in per_cpu:
                if r.tgid:
                    add(r.tgid, nr.value, r.s)
        names = {sc.nr: sc.name for sc in self.table}
        by_pid: dict[int, dict[str, Row]] = {}
        for (tgid, nr), row in figures.items():
            by_pid.setdefault(tgid, {})[names.get(nr, f"syscall_{nr}")] = row
        # one table per process, named as it made most of its calls (an exec changes the name)
        return {(pid, max(comms[pid], key=comms[pid].__getitem__)): rows for pid, rows in by_pid.items()}

    def skipped(self) -> int:
        """Runs of the programs the kernel skipped (tracer/ebpf/progstats.py)."""
        return progstats.skipped_runs(self.bpf)

    def close(self) -> None:
        if self.bpf is not None:
            q = bpfc.Quiet()
            with q:
                try:
                    self.detach()
                except Exception:
                    pass  # not attached: cleanup() releases whatever is
                self.bpf.cleanup()
            self.bpf = None


def render(figures: dict[tuple[int, str], dict[str, Row]], at: float,
           shown: set[tuple[int, str]] | None = None) -> str:
    """The tables of one report: each process (of `shown`, when given), then the total over
    all of them."""
    lines = [f"# summary at {at:.6f}"]
    total: dict[str, Row] = {}
    for (pid, comm), rows in sorted(figures.items()):
        if shown is None or (pid, comm) in shown:
            lines.append(f"# pid {pid} ({comm})")
            lines += table(rows)
            lines += [f"# {histogram(n, r.hist)}" for n, r in sorted(rows.items())]
        for n, r in rows.items():
            t = total.setdefault(n, Row())
            t.calls += r.calls
            t.errors += r.errors
            t.ns += r.ns
            t.hist = [a + b for a, b in zip(t.hist, r.hist)]
    if shown is not None and len(shown) < len(figures):
        idle = len(figures) - len(shown)
        lines.append(f"# {idle} process{'es' if idle > 1 else ''} with no call since the last summary"
                     " (their last tables still hold)")
    lines.append("# all traced processes")
    lines += table(total)
    return "\n".join(lines) + "\n"


class SummarySource:
    """The event source of the ebpf-summary hook: writes a report every `interval` s."""

    def __init__(self, summary: Summary, targets: Targets, interval: int) -> None:
        if interval <= 0:
            raise TracerError(f"--interval {interval}: give a number of seconds above 0")
        self.summary = summary
        self.targets = targets
        self.interval = interval
        self.next = 0.0
        self.skipped = 0
        # (pid, comm) -> calls in its table at the last report: a report between the first
        # and the last shows only the processes that made calls since (ended ones make none)
        self.reported: dict[tuple[int, str], int] = {}

    def start(self) -> None:
        self.summary.start(self.targets.to_mark(), self.targets.cgroup_ids())
        # a first table after a second (a reader sees at once that counting works), then
        # one every interval
        self.next = time.monotonic() + min(1.0, self.interval)

    def poll(self, timeout: float, writer: TraceWriter) -> None:
        time.sleep(timeout)
        if time.monotonic() >= self.next:
            self.next += self.interval
            self.report(writer)

    def report(self, writer: TraceWriter, last: bool = False) -> None:
        """Write the tables so far (cumulative): the last report all of them, and counts the
        calls as events; one before it those that changed since the one before."""
        figures = self.summary.read()
        counts = {k: sum(r.calls for r in rows.values()) for k, rows in figures.items()}
        shown = None
        if not last and self.reported:
            shown = {k for k, n in counts.items() if self.reported.get(k) != n}
        self.reported = counts
        writer.write(render(figures, time.time(), shown), sum(counts.values()) if last else 0)

    def close(self, writer: TraceWriter) -> None:
        if self.summary.bpf is None:
            return
        try:
            self.report(writer, last=True)
        finally:
            self.skipped = self.summary.skipped()
            self.summary.close()

    def notes(self) -> list[str]:
        return progstats.note(self.skipped)


def create(hook: object, opts: HookOptions, targets: Targets, caps: object) -> SummarySource:
    from tracer import capabilities as cap
    from tracer.syscalls import table as systable

    if opts.format != "text":
        raise TracerError("ebpf-summary writes strace -c tables: leave out --format")
    tracefs = getattr(caps, "tracefs", None)
    if tracefs is None:
        raise TracerError(caps.reason(cap.TRACEFS))  # type: ignore[attr-defined]
    tab = systable.load(tracefs)
    for n in opts.syscalls or []:
        tab.get(n)  # an unknown name: the error with the closest names
    return SummarySource(Summary(tab, opts.syscalls, targets.follow_forks), targets,
                         DEFAULT_INTERVAL if opts.interval is None else opts.interval)


def run_trace(specs: list[str], output: str | None, follow: bool, interval: int) -> int:
    """`tracer trace --summary SPEC...`: SPEC is PID[,PID...]:SYSCALLS (names or families,
    `all` for every syscall); every PID of every SPEC is counted, with the syscalls of all."""
    from tracer import capabilities as cap
    from tracer.pipeline.session import install_stop_handlers
    from tracer.syscalls import table as systable
    from tracer.trace import spec as sp
    from tracer.trace.state import check_handlers

    caps = cap.probe()
    if caps.tracefs is None:
        raise TracerError(caps.reason(cap.TRACEFS))
    tab = systable.load(caps.tracefs)
    pids: list[int] = []
    names: set[str] = set()
    every = False
    for text in specs:
        s = sp.parse(text)
        if not s.targets:
            raise TracerError(f"--summary needs PIDs: give PID:SYSCALLS, not '{text}'")
        if any(sp.is_file(h) for h in s.handlers):
            raise TracerError("--summary counts syscalls: handler files do not apply")
        pids += sp.resolve_targets(s.targets)
        every |= "all" in s.handlers
        names.update(sc.name for sc in check_handlers(tuple(h for h in s.handlers if h != "all"), tab))
    src = SummarySource(Summary(tab, None if every else sorted(names), follow),
                        resolve_targets(pids, [], follow), interval)
    stop = install_stop_handlers()
    from tracer import safefile

    fd = safefile.create_output(output) if output else os.dup(1)  # new file, never a link
    writer = TraceWriter(fd)
    try:
        src.start()
    except BaseException:
        os.close(fd)
        raise
    try:
        while not stop.stopped:
            src.poll(0.1, writer)
            writer.flush()
    finally:
        src.close(writer)
        writer.flush()
        os.close(fd)
    return 0
