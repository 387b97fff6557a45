"""Feed the announced named pipe from the complete trace file, one line per reader's read().

container-tracer's agent opens the announced path and, for every line, makes a new
4 KiB buffered reader and keeps only the first line of what one read() returned; it
stops at the first end of file. So the manager writes the complete trace into a
regular file (PATH.txt) and this separate process copies it into the named pipe PATH:

- paced (the default): a line is written only when the pipe is empty, into a pipe
  of one page, so each read() of a waiting reader returns exactly that line;
- bulk (TRACER_OUTPUT_MODE=fifo): as much as the pipe takes, for readers that split
  lines themselves.

It runs as its own process (stdlib only, started with `python3 -I -S`), so pacing
costs the tracer's own loop nothing; it never holds the manager's stdout or stderr.
It waits for a reader by opening the pipe write-only and non-blocking (which succeeds
only once a reader is there), starts again from the next line if the reader goes
away (EPIPE), and ends when the manager has closed its end of `done` (stopped or
killed): after the last line it closes the pipe (the reader's end of file) and
removes it; the file stays.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import stat
import struct
import sys
import termios
import time

WAIT_READER = 0.01  # seconds between looks for a reader, and for new lines in the file
# After the manager stopped, how long a reader may take to open the pipe or to take the
# next line before the rest is left in the file only.
GRACE = 2.0
PAGE = 4096
SPIN = 200  # looks at an emptying pipe before sleeping in poll()
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def _unread(fd: int) -> int:
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


class Feeder:
    def __init__(self, fifo: str, ino: int, src: int, done: int, paced: bool) -> None:
        self.fifo, self.ino, self.src, self.done, self.paced = fifo, ino, src, done, paced
        self.stopped_at: float | None = None
        self.partial = b""  # file bytes after the last complete line
        self.lines: list[bytes] = []
        self.out: int | None = None
        self.pending = b""  # the rest of a line a bulk or long write did not take

    # -- the manager's side --------------------------------------------------

    def _check_done(self, timeout: float) -> None:
        if self.stopped_at is None and select.select([self.done], [], [], timeout)[0]:
            if os.read(self.done, 64) == b"":
                self.stopped_at = time.monotonic()

    def _refill(self) -> bool:
        """Take the lines the manager appended; False at the file's current end."""
        data = os.read(self.src, 1 << 16)
        if not data:
            return False
        chunks = (self.partial + data).split(b"\n")
        self.partial = chunks.pop()
        self.lines += [c + b"\n" for c in chunks]
        return True

    # -- the reader's side ---------------------------------------------------

    def _open_reader(self) -> bool:
        try:
            fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as e:
            if e.errno == errno.ENXIO:  # nobody reads yet
                return False
            raise
        st = os.fstat(fd)
        if not stat.S_ISFIFO(st.st_mode) or st.st_ino != self.ino:
            os.close(fd)
            raise OSError(errno.EINVAL, f"{self.fifo} is not the pipe the manager created")
        if self.paced:
            try:
                fcntl.fcntl(fd, F_SETPIPE_SZ, PAGE)  # one slot: writable means empty
            except OSError:
                pass  # still paced by FIONREAD below
        self.out = fd
        return True

    def _lost_reader(self) -> None:
        assert self.out is not None
        os.close(self.out)
        self.out = None
        self.pending = b""  # a new reader starts at the next whole line

    def _writable(self, timeout: float) -> bool:
        """The pipe can take the next write: in paced mode, it is empty."""
        assert self.out is not None
        if self.paced and not self.pending:
            # A waiting reader takes a line within microseconds: looking again costs less
            # than sleeping in poll() and being woken (a gone reader shows as EPIPE).
            for _ in range(SPIN):
                if _unread(self.out) == 0:
                    return True
                os.sched_yield()
        ready = select.poll()
        ready.register(self.out, select.POLLOUT)
        if self.stopped_at is None:
            ready.register(self.done, select.POLLIN)
        events = dict(ready.poll(timeout * 1000))
        if events.get(self.out, 0) & select.POLLERR:
            raise BrokenPipeError
        if self.done in events:
            self._check_done(0)
        if not events.get(self.out, 0) & select.POLLOUT:
            return False
        return not self.paced or self.pending != b"" or _unread(self.out) == 0

    def _write_some(self) -> None:
        assert self.out is not None
        if not self.pending:
            if self.paced:
                self.pending = self.lines.pop(0)
            else:
                self.pending = b"".join(self.lines)
                self.lines.clear()
        try:
            n = os.write(self.out, self.pending)
        except BlockingIOError:
            return
        self.pending = self.pending[n:]

    def run(self) -> None:
        progress = time.monotonic()  # when the reader last took something
        while True:
            if self.out is None:
                if self._open_reader():
                    progress = time.monotonic()
                elif self.stopped_at is not None and time.monotonic() - self.stopped_at > GRACE:
                    return  # no reader came: the file has it all
                else:
                    self._check_done(WAIT_READER)
                continue
            if not self.lines and not self.pending:
                if self._refill():
                    continue
                if self.stopped_at is not None:
                    if self.partial:  # a last line without its newline
                        self.lines.append(self.partial)
                        self.partial = b""
                        continue
                    return  # everything delivered: closing is the reader's end of file
                self._check_done(WAIT_READER)
                continue
            try:
                if self._writable(WAIT_READER):
                    self._write_some()
                    progress = time.monotonic()
                elif (self.stopped_at is not None
                      and time.monotonic() - max(progress, self.stopped_at) > GRACE):
                    return  # the reader stopped reading: the file has the rest
            except BrokenPipeError:
                self._lost_reader()


def main(argv: list[str]) -> int:
    fifo, ino, src, done, mode = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), argv[4]
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # the manager decides when we stop, through `done`
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a reader going away is EPIPE, handled
    feeder = Feeder(fifo, ino, src, done, mode == "paced")
    try:
        feeder.run()
    except OSError as e:
        print(f"tracer feeder: {fifo}: {e}", file=sys.stderr)
    finally:
        if feeder.out is not None:
            os.close(feeder.out)
        try:  # a reader opening it later would wait forever for a writer
            if os.stat(fifo).st_ino == ino:
                os.unlink(fifo)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
