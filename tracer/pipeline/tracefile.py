"""Create the session's trace file: a new, unique, 0600 file (or FIFO) in the output dir.

The directory comes from TRACER_OUTPUT_DIR, never from --args: the tokens come
from remote users of a node agent, so they must not choose where root writes.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from pathlib import Path

from tracer import paths
from tracer.errors import TracerError


def _open_dir(d: Path) -> int:
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        raise TracerError(f"cannot use output directory {d}: {e.strerror};"
                          f" set {paths.OUTPUT_DIR_ENV} to a writable directory") from None
    return fd


def create(hook_name: str) -> tuple[Path, int, bool]:
    """Return (path, fd, is_fifo) of a newly created trace file."""
    mode = os.environ.get(paths.OUTPUT_MODE_ENV, "file")
    if mode not in ("file", "fifo"):
        raise TracerError(f"{paths.OUTPUT_MODE_ENV}={mode} is not valid: use file or fifo")
    d = paths.output_dir()
    dfd = _open_dir(d)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", hook_name)
    name = f"{safe}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        if mode == "fifo":
            name += ".pipe"
            os.mkfifo(name, 0o600, dir_fd=dfd)  # fails if the name exists
            # O_RDWR: opening never waits for a reader, and writes never see EPIPE.
            fd = os.open(name, os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.close(fd)
                raise TracerError(f"{d / name} was replaced while opening it; try again")
        else:
            name += ".txt"
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                         0o600, dir_fd=dfd)
        os.fchmod(fd, 0o600)  # the umask may have taken bits away; never added any
    except OSError as e:
        raise TracerError(f"cannot create a trace file in {d}: {e.strerror};"
                          f" set {paths.OUTPUT_DIR_ENV} to a writable directory") from None
    finally:
        os.close(dfd)
    return d.resolve() / name, fd, mode == "fifo"
