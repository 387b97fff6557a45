"""Buffered, flushed-on-time writes of formatted lines into the trace file."""

from __future__ import annotations

import errno
import os
import time

# A FIFO nobody reads fills up; keep this much pending before counting lines as lost.
FIFO_BACKLOG = 64 << 20
CHUNK = 1 << 20


class TraceWriter:
    """Collects text, writes it in large chunks, keeps the totals for the last line."""

    def __init__(self, fd: int, fifo: bool = False) -> None:
        self.fd = fd
        self.fifo = fifo
        self.events = 0
        self.lost = 0
        self._parts: list[str] = []
        self._size = 0
        self._pending = b""  # FIFO only: bytes the reader has not taken yet

    def write(self, text: str, events: int) -> None:
        """Queue `text` (whole lines) that holds `events` events."""
        self._parts.append(text)
        self._size += len(text)
        self.events += events
        if self._size >= CHUNK:
            self.flush()

    def write_lost(self, n: int) -> None:
        """Record, at this point of the file, that the kernel dropped `n` events."""
        if n > 0:
            self.lost += n
            self.write(f"LOST {n} events\n", 0)

    def note(self, text: str) -> None:
        self.write(f"# {text}\n", 0)

    def flush(self) -> None:
        if not self._parts and not self._pending:
            return
        data = self._pending + "".join(self._parts).encode("utf-8", "backslashreplace")
        self._parts.clear()
        self._size = 0
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EINTR:
                    continue
                raise
            view = view[n:]
        self._pending = bytes(view)
        if len(self._pending) > FIFO_BACKLOG:  # the reader stalled: drop, but say so
            dropped = self._pending.count(b"\n")
            self._pending = b""
            self.lost += dropped
            self._parts.append(f"LOST {dropped} lines (trace pipe reader too slow)\n")

    def finish(self, notes: list[str] | None = None) -> None:
        for n in notes or []:
            self.note(n)
        self.note(f"tracer stopped: {self.events} events written, {self.lost} events lost")
        self.flush()
        deadline = time.monotonic() + 1.0  # a FIFO reader gets a moment, never a hang
        while self._pending and time.monotonic() < deadline:
            time.sleep(0.02)
            self.flush()
        os.close(self.fd)
