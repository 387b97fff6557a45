"""Drain a loaded dispatch's event buffer into a trace writer.

The BPF ring buffer is read straight from its memory mapping (RingReader); the perf
buffer, on kernels without one, through BCC's callback. Drops are counted in the
kernel for both (bpf/maps.h submit()) and written as `LOST n events` where they
are noticed.
"""

from __future__ import annotations

import ctypes as ct
import os
import time
from typing import Any

from tracer.ebpf.dispatch import Dispatcher
from tracer.ebpf.lines import LineMaker
from tracer.ebpf.ringbuf import RingReader
from tracer.pipeline.writer import TraceWriter

DRAIN_BUDGET = 0.05  # seconds of draining before control returns to the caller's loop
LOST_CHECK = 0.05  # seconds between reads of the kernel's drop counter
FINISH_STUCK = 1.0  # seconds a final drain waits on a record its producer never committed


class Consumer:
    def __init__(self, disp: Dispatcher, lines: LineMaker, ringbuf: bool, buffer_size: int) -> None:
        self.disp = disp
        self.lines = lines
        self.ringbuf = ringbuf
        self.buffer_size = buffer_size
        self.reader: RingReader | None = None
        self.lost_seen = 0
        self.last_check = 0.0

    def open(self) -> None:
        events = self.disp.bpf["events"]
        if self.ringbuf:
            self.reader = RingReader(events.map_fd, events.max_entries)
            return
        pages = max(8, (self.buffer_size // (os.cpu_count() or 1)) // os.sysconf("SC_PAGE_SIZE"))

        def on_event(cpu: int, data: Any, size: int) -> None:
            self.lines.handle(ct.string_at(data, size), [0])

        def on_lost(count: int) -> None:
            # The kernel-side counter has these drops already (at once; these records come
            # late or never). Given so that BCC does not print them on stderr.
            pass

        events.open_perf_buffer(on_event, page_cnt=1 << (pages.bit_length() - 1), lost_cb=on_lost)

    def drain(self, writer: TraceWriter, timeout: float) -> None:
        """Wait up to `timeout` s for events, write what is ready, note new drops."""
        if self.reader is not None:
            self.reader.wait(timeout)
            deadline = time.monotonic() + DRAIN_BUDGET
            while self.reader.drain(self.lines.handle) and time.monotonic() < deadline:
                pass
        else:
            self.disp.bpf.perf_buffer_poll(timeout=int(timeout * 1000))
        self._write_taken(writer)
        self.check_lost(writer)

    def check_lost(self, writer: TraceWriter, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_check < LOST_CHECK:
            return
        self.last_check = now
        lost = self.disp.lost()
        if lost > self.lost_seen:
            writer.write_lost(lost - self.lost_seen)
            self.lost_seen = lost

    def finish(self, writer: TraceWriter) -> None:
        """After detaching: write everything the buffer still holds, then the last drops.

        Nothing new arrives once detached, so this ends; a time budget here would leave
        queued events neither written nor counted.
        """
        stuck = time.monotonic() + FINISH_STUCK
        while True:
            if self.reader is not None:
                self.reader.drain(self.lines.handle)
            else:
                self.disp.bpf.perf_buffer_poll(timeout=0)
            wrote = self._write_taken(writer)
            if not wrote and not (self.reader is not None and self.reader.pending()):
                break
            if not wrote and time.monotonic() > stuck:  # a record never committed
                break
        self.lines.flush()
        self._write_taken(writer)
        self.check_lost(writer, force=True)

    def _write_taken(self, writer: TraceWriter) -> bool:
        """Write the lines made so far; whether there were any."""
        text, n = self.lines.take()
        if text:
            writer.write(text, n)
        return bool(text)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
