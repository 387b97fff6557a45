"""Buffered, flushed-on-time writes of formatted lines into the trace file."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time

# A FIFO nobody reads fills up; keep this much pending before counting lines as lost.
FIFO_BACKLOG = 64 << 20
CHUNK = 1 << 20
# The output filesystem refused more data: the session stops, and what was not
# written is counted as lost, never silently dropped.
FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _position(fd: int) -> int | None:
    """Where the next write lands in a regular file; None for pipes and terminals."""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND:
            return os.fstat(fd).st_size
        return os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        return None


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
        self._queued = 0  # events in _parts
        self.offset = _position(fd)  # end of the last whole chunk (a full file is cut back to it)
        self.failed: OSError | None = None  # the write error that stopped the output

    def _drop(self, events: int) -> None:
        self.events -= events
        self.lost += events

    def write(self, text: str, events: int) -> None:
        """Queue `text` (whole lines) that holds `events` events."""
        if self.failed is not None:
            self.events += events
            self._drop(events)
            return
        self._queued += events
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
        events, self._queued = self._queued, 0
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
                if e.errno not in FULL:
                    raise
                self._fail(e, events)
                return
            view = view[n:]
        if not self.fifo and self.offset is not None:
            self.offset += len(data)
        self._pending = bytes(view)
        if len(self._pending) > FIFO_BACKLOG:  # the reader stalled: drop, but say so
            dropped = self._pending.count(b"\n")
            self._pending = b""
            self.lost += dropped
            self._parts.append(f"LOST {dropped} lines (trace pipe reader too slow)\n")

    def _fail(self, err: OSError, events: int) -> None:
        """The chunk did not fit: cut the file back to its last whole chunk (no half
        line) and count the chunk's events as lost."""
        self.failed = err
        self._drop(events)
        self._pending = b""
        self._cut()

    def _cut(self) -> None:
        if not self.fifo and self.offset is not None:
            try:
                os.ftruncate(self.fd, self.offset)
                os.lseek(self.fd, self.offset, os.SEEK_SET)
            except OSError:
                pass  # not a regular file (stdout of tracer trace)

    def _last_line(self, text: str) -> None:
        """After a failure, one more try for the closing line (cutting the chunk freed space)."""
        data = text.encode()
        try:
            if os.write(self.fd, data) == len(data):
                return
        except OSError:
            pass
        self._cut()

    def discard(self) -> None:
        """Send the rest of the output nowhere (its reader went away): fd becomes /dev/null."""
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, self.fd)
        os.close(null)
        self._parts.clear()
        self._size = 0
        self._pending = b""

    def finish(self, notes: list[str] | None = None) -> None:
        for n in notes or []:
            self.note(n)
        if self.failed is None:
            self.note(f"tracer stopped: {self.events} events written, {self.lost} events lost")
            self.flush()
        if self.failed is not None:
            self._last_line(f"# tracer stopped: {self.events} events written, {self.lost} events"
                            f" lost (output stopped: {self.failed.strerror})\n")
            os.close(self.fd)
            return
        deadline = time.monotonic() + 1.0  # a FIFO reader gets a moment, never a hang
        while self._pending and time.monotonic() < deadline:
            time.sleep(0.02)
            self.flush()
        os.close(self.fd)
