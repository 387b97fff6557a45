"""Non-blocking reads of an instance's trace_pipe, for a poll loop."""

from __future__ import annotations

import errno
import os
import select
from pathlib import Path

from tracer.errors import TracerError

READ_SIZE = 1 << 16


class TracePipe:
    """trace_pipe consumes what it returns: each line is read exactly once.

    Lines come back whole; a trailing partial line waits for the next read.
    The open file keeps the instance busy (rmdir fails with EBUSY), so close()
    must come before the instance is destroyed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.fd: int | None = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            raise TracerError(f"cannot open {path}: {e.strerror}") from None
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLIN)
        self._rest = b""

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for data; True if some is ready."""
        if self.fd is None:
            return False
        try:
            return bool(self._poll.poll(max(0, int(timeout * 1000))))
        except InterruptedError:
            return False

    def read_lines(self, limit: int = 64 << 20) -> list[str]:
        """Every complete line available now (up to about `limit` bytes), without blocking."""
        if self.fd is None:
            return []
        chunks = [self._rest]
        size = 0
        while size < limit:
            try:
                data = os.read(self.fd, READ_SIZE)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EINTR):
                    break
                raise TracerError(f"cannot read {self.path}: {e.strerror}") from None
            if not data:
                break
            chunks.append(data)
            size += len(data)
        data = b"".join(chunks)
        head, sep, self._rest = data.rpartition(b"\n")
        if not sep:
            self._rest = data
            return []
        return head.decode("utf-8", "backslashreplace").split("\n")

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
