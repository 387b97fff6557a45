"""The eBPF engine of one session, the same for the ebpf hooks and `tracer trace`: the
dispatcher in the kernel and the consumer that turns its records into lines."""

from __future__ import annotations

from typing import Callable

from tracer.ebpf.consumer import Consumer
from tracer.ebpf.dispatch import Dispatcher
from tracer.ebpf.lines import LineMaker
from tracer.ebpf.plan import Plan
from tracer.pipeline.writer import TraceWriter


class Engine:
    """load() -> (install handlers, assign PIDs on `disp`) -> open() -> drain()... ->
    detach(writer) -> close(): close() alone, on any path, leaves nothing in the kernel."""

    def __init__(self, plan: Plan, fmt: str, follow_forks: bool,
                 container_of: Callable[[int], str | None] | None = None) -> None:
        self.disp = Dispatcher(plan.mode, plan.ringbuf, plan.buffer_size, follow_forks,
                               timing=fmt in ("strace", "json"))
        self.lines = LineMaker(plan.table, fmt == "json", container_of, strace=fmt == "strace")
        self.consumer = Consumer(self.disp, self.lines, plan.ringbuf, plan.buffer_size)

    def load(self) -> None:
        self.disp.load()

    def open(self) -> None:
        """Start reading the event buffer (once the handlers and PIDs are in place)."""
        self.consumer.open()

    def drain(self, writer: TraceWriter, timeout: float) -> None:
        self.consumer.drain(writer, timeout)

    def detach(self, writer: TraceWriter | None) -> None:
        """No new events; what is buffered is still written (to `writer`, if there is one)."""
        if self.disp.bpf is None:
            return
        self.disp.detach()
        if writer is not None:
            self.consumer.finish(writer)

    def close(self) -> None:
        """Free the buffer readers, programs and maps (idempotent)."""
        try:
            self.consumer.close()
        finally:
            self.disp.close()
