"""Create the session's output: the complete trace file and, by default, the announced pipe.

The directory comes from TRACER_OUTPUT_DIR, never from --args: the tokens come
from remote users of a node agent, so they must not choose where root writes.

TRACER_OUTPUT_MODE says what the manager announces (the complete trace is always
the regular file BASE.txt, new, mode 0600):
- paced (default): the named pipe BASE, fed one line per read() of its reader
  (tracer/pipeline/feeder.py), for container-tracer's agent, which keeps only the
  first line of each read and stops at the first end of file;
- fifo: the named pipe BASE, fed in bulk, for readers that split lines themselves;
- file: BASE.txt itself, for readers that follow a growing file.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess
import sys
import time
from pathlib import Path

from tracer import paths, safefile
from tracer.errors import TracerError

MODES = ("paced", "fifo", "file")
FEEDER = Path(__file__).with_name("feeder.py")


def _open_dir(d: Path) -> int:
    try:
        fd = safefile.open_dir(d, make=True)  # refuses a directory others can write to
    except OSError as e:
        raise TracerError(f"cannot use output directory {d}: {e.strerror};"
                          f" set {paths.OUTPUT_DIR_ENV} to a writable directory") from None
    return fd


def output_mode() -> str:
    mode = os.environ.get(paths.OUTPUT_MODE_ENV) or "paced"
    if mode not in MODES:
        raise TracerError(f"{paths.OUTPUT_MODE_ENV}={mode} is not valid: use {', '.join(MODES)}")
    return mode


class TraceOutput:
    """The trace file (written by the session) and the pipe announced in front of it."""

    def __init__(self, file: Path, fd: int, fifo: Path | None, mode: str) -> None:
        self.file = file
        self.fd = fd  # write end of the complete trace file
        self.fifo = fifo
        self.mode = mode
        self._feeder: subprocess.Popen | None = None
        self._done: int | None = None  # closing it tells the feeder the file is complete

    @property
    def announced(self) -> Path:
        return self.fifo or self.file

    def start_feeder(self) -> None:
        """Start copying the file into the pipe; a no-op in file mode."""
        if self.fifo is None:
            return
        src = os.open(self.file, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        done_r, self._done = os.pipe()
        try:
            ino = os.stat(self.fifo, follow_symlinks=False).st_ino
            self._feeder = subprocess.Popen(
                [sys.executable, "-I", "-S", str(FEEDER), str(self.fifo), str(ino), str(src),
                 str(done_r), self.mode],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(src, done_r), start_new_session=True)
        except OSError as e:
            raise TracerError(f"cannot start the pipe feeder: {e.strerror}") from None
        finally:
            os.close(src)
            os.close(done_r)

    def complete(self) -> None:
        """The file holds the whole trace (its fd is closed): let the feeder finish."""
        if self._done is not None:
            os.close(self._done)
            self._done = None

    def discard(self) -> None:
        """Nothing was announced: remove what create() made."""
        self.complete()
        for p in (self.fifo, self.file):
            if p is not None:
                try:
                    os.unlink(p)
                except OSError:
                    pass


def create(hook_name: str) -> TraceOutput:
    """Create BASE.txt (and the pipe BASE unless in file mode) for a new session."""
    mode = output_mode()
    d = paths.output_dir()
    dfd = _open_dir(d)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", hook_name)
    base = f"{safe}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{secrets.token_hex(4)}"
    made: list[str] = []
    try:
        fd = safefile.create_new(base + ".txt", dfd)
        made.append(base + ".txt")
        os.fchmod(fd, 0o600)  # the umask may have taken bits away; never added any
        if mode != "file":
            os.mkfifo(base, 0o600, dir_fd=dfd)  # fails if the name exists
            made.append(base)
            os.chmod(base, 0o600, dir_fd=dfd, follow_symlinks=False)
            if not stat.S_ISFIFO(os.stat(base, dir_fd=dfd, follow_symlinks=False).st_mode):
                raise TracerError(f"{d / base} was replaced while creating it; try again")
    except (OSError, TracerError) as e:
        for name in made:
            try:
                os.unlink(name, dir_fd=dfd)
            except OSError:
                pass
        if made:
            os.close(fd)
        if isinstance(e, TracerError):
            raise
        raise TracerError(f"cannot create a trace file in {d}: {e.strerror};"
                          f" set {paths.OUTPUT_DIR_ENV} to a writable directory") from None
    finally:
        os.close(dfd)
    root = d.resolve()
    return TraceOutput(root / (base + ".txt"), fd, root / base if mode != "file" else None, mode)
