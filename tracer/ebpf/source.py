"""The ebpf hooks' event source: plan -> load and attach -> drain -> lines -> detach."""

from __future__ import annotations

import ctypes as ct
import os
import time
from typing import Any

from tracer import paths
from tracer.capabilities import Capabilities
from tracer.ebpf.dispatch import Dispatcher
from tracer.ebpf.lines import LineMaker
from tracer.ebpf.plan import Plan, make_plan
from tracer.ebpf.ringbuf import RingReader
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.pipeline import containerwatch
from tracer.pipeline.writer import TraceWriter

TRACED_SLOT = 1  # the hooks give every traced PID the same handler set
LOST_CHECK = 0.05  # seconds between reads of the kernel's lost counters
DRAIN_BUDGET = 0.05  # seconds of draining before control returns to the session loop


def descendants(pids: list[int]) -> list[int]:
    """PIDs already started by the traced ones (fork following covers the later ones)."""
    import psutil

    psutil.PROCFS_PATH = str(paths.procfs())
    found = []
    for pid in pids:
        try:
            found += [c.pid for c in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            pass
    return found


class EbpfSource:
    def __init__(self, plan: Plan, opts: HookOptions, container_of: Any = None) -> None:
        self.plan = plan
        self.opts = opts
        self.disp = Dispatcher(plan.mode, plan.ringbuf, plan.buffer_size, opts.follow_forks)
        self.lines = LineMaker(plan.table, opts.format == "json", container_of)
        self.watch = containerwatch.ContainerWatch(container_of) if container_of else None
        self.reader: RingReader | None = None
        self.perf_lost = 0
        self.lost_seen = 0
        self.last_lost_check = 0.0
        self._notes: list[str] = []

    def start(self) -> None:
        try:
            self.disp.load()
            for sc in self.plan.syscalls:
                self.disp.install(TRACED_SLOT, sc)
            pids = list(self.opts.pids)
            if self.opts.follow_forks:
                pids += descendants(pids)
            for pid in pids:
                if pid != os.getpid():
                    self.disp.assign(pid, TRACED_SLOT)
            self._open_buffer()
        except BaseException:
            self.disp.close()
            raise

    def _open_buffer(self) -> None:
        events = self.disp.bpf["events"]
        if self.plan.ringbuf:
            self.reader = RingReader(events.map_fd, events.max_entries)
        else:
            pages = max(8, (self.plan.buffer_size // os.cpu_count()) // os.sysconf("SC_PAGE_SIZE"))
            pages = 1 << (pages.bit_length() - 1)

            def on_event(cpu: int, data: Any, size: int) -> None:
                self.lines.handle(ct.string_at(data, size), [0])

            def on_lost(count: int) -> None:
                # The same drops the kernel-side counter has (it counts them at once; these
                # records come late or never): kept to check, not added.
                self.perf_lost += count

            events.open_perf_buffer(on_event, page_cnt=pages, lost_cb=on_lost)

    def _drain(self, writer: TraceWriter, timeout: float) -> None:
        if self.reader is not None:
            self.reader.wait(timeout)
            deadline = time.monotonic() + DRAIN_BUDGET
            while self.reader.drain(self.lines.handle) and time.monotonic() < deadline:
                pass
        else:
            self.disp.bpf.perf_buffer_poll(timeout=int(timeout * 1000))
        text, n = self.lines.take()
        if text:
            writer.write(text, n)
        if self.watch:
            self.watch.check(writer)
        now = time.monotonic()
        if now - self.last_lost_check >= LOST_CHECK:
            self.last_lost_check = now
            lost = self.disp.lost()
            if lost > self.lost_seen:
                writer.write_lost(lost - self.lost_seen)
                self.lost_seen = lost

    def poll(self, timeout: float, writer: TraceWriter) -> None:
        self._drain(writer, timeout)

    def close(self, writer: TraceWriter) -> None:
        if self.disp.bpf is None:
            return
        self.disp.detach()  # no new events; what is buffered is still written
        try:
            self.last_lost_check = 0.0
            self._drain(writer, 0)
            if self.watch:
                self.watch.check(writer, force=True)
        finally:
            if self.reader is not None:
                self.reader.close()
                self.reader = None
            self.disp.close()

    def notes(self) -> list[str]:
        return self._notes


def create(hook: Hook, opts: HookOptions, caps: Capabilities) -> EbpfSource:
    opts, tags = containerwatch.resolve(opts)
    return EbpfSource(make_plan(hook, opts, caps), opts, tags)
