"""Read and write tracefs control files, turning kernel refusals into one-line errors.

tracefs reports most mistakes as a bare errno on write(); the caller knows what
it was trying to do, so it passes that in and the error names it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from tracer.errors import TracerError, quote


def read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        raise TracerError(f"cannot read {path}: {e.strerror}") from None


def write(path: Path, text: str, what: str, append: bool = False) -> None:
    """Write `text` in one write() call, as tracefs parses each write as a whole.

    `append` matters for files such as uprobe_events or set_event_pid, where a
    truncating open would first wipe what everyone else put there.
    """
    flags = os.O_WRONLY | os.O_CLOEXEC | (os.O_APPEND if append else os.O_TRUNC)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise TracerError(f"cannot {what}: {path}: {e.strerror}") from None
    try:
        os.write(fd, text.encode())
    except OSError as e:
        hint = " (the kernel rejected the value)" if e.errno == errno.EINVAL else ""
        raise TracerError(f"cannot {what}: writing {quote(text.strip())} to {path}:"
                          f" {e.strerror}{hint}") from None
    finally:
        os.close(fd)
