"""Run one tracing session: attach, announce the file, drain until told to stop, detach.
The loop itself (drive) is the same for the hooks and `tracer trace`.

SIGINT (what the node agent sends) and SIGTERM only set a flag; the loop notices
within one poll interval, so detaching happens here, in one place, on every path.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Callable

from tracer.capabilities import Capabilities
from tracer.errors import TracerError
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import EventSource, Hook
from tracer.pipeline import tracefile
from tracer.pipeline.writer import TraceWriter
from tracer.targets import Targets

POLL_INTERVAL = 0.1  # seconds: bounds both line latency and stop latency


class StopFlag:
    """Set by SIGINT/SIGTERM/SIGHUP, and by the death of the parent (the agent).

    A parent that dies cannot send SIGINT any more; its death means the same. It is
    noticed as a change of getppid() (we were reparented), checked every poll, rather
    than by PR_SET_PDEATHSIG, which fires when the forking *thread* of a multi-threaded
    parent exits, with the parent alive.
    """

    def __init__(self, ppid: int | None = None) -> None:
        self._stopped = False
        self.signal: int | None = None
        self.ppid = os.getppid() if ppid is None else ppid
        self.orphaned = False

    def __call__(self, signum: int, frame: object) -> None:
        self._stopped = True
        self.signal = signum

    @property
    def stopped(self) -> bool:
        if not self._stopped and self.ppid > 1 and os.getppid() != self.ppid:
            self._stopped = self.orphaned = True
        return self._stopped

    @stopped.setter
    def stopped(self, value: bool) -> None:
        self._stopped = value


def install_stop_handlers(ppid: int | None = None) -> StopFlag:
    flag = StopFlag(ppid)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, flag)
    return flag


def announce_path(path: Path) -> None:
    sys.stdout.write(f"{path}\n")
    sys.stdout.flush()


def run(hook: Hook, opts: HookOptions, targets: Targets, caps: Capabilities,
        announce: Callable[[Path], None] = announce_path, stop: StopFlag | None = None) -> int:
    """Play `hook` on `targets` until SIGINT/SIGTERM; return the exit code."""
    stop = stop or install_stop_handlers()
    if stop.stopped:  # told to stop before anything was attached: nothing to undo
        return 0
    source = hook.runner(hook, opts, targets, caps)
    out = tracefile.create(hook.name)
    writer = TraceWriter(out.fd)
    try:
        source.start()
        out.start_feeder()
    except BaseException:
        os.close(out.fd)
        out.discard()
        raise
    notes: list[str] | None = None
    try:
        notes = drive(source, writer, stop, started=lambda: announce(out.announced))
    finally:
        if notes is None:  # the loop failed: what the source has to say still ends the file
            notes = source.notes()
        try:
            writer.finish(notes)
        finally:
            out.complete()
    return outcome(writer, out.file, notes)


def drive(source: EventSource, writer: TraceWriter, stop: StopFlag,
          started: Callable[[], None] | None = None) -> list[str]:
    """The one session loop: drain a started `source` into `writer` until told to stop (or
    the output fails, or its reader goes away), then close the source, on every path.
    `started` runs first (announcing the output). Returns the source's closing notes."""
    try:
        if started is not None:
            started()
        while not stop.stopped and writer.failed is None:
            source.poll(POLL_INTERVAL, writer)
            writer.flush()
    except BrokenPipeError:
        writer.discard()  # our reader went away (`tracer trace | head`): stop, quietly
    finally:
        source.close(writer)
    return source.notes()


def outcome(writer: TraceWriter, path: Path, notes: list[str]) -> int:
    """0, or the one-line error of a session that ended badly after it started."""
    if writer.failed is not None:
        raise TracerError(f"cannot write {path}: {writer.failed.strerror}; the session stopped"
                          f" with {writer.events} events written and {writer.lost} lost:"
                          f" free space in {path.parent} or set TRACER_OUTPUT_DIR elsewhere",
                          exit_code=1)
    failed = [n for n in notes if n.startswith("cleanup failed")]
    if failed:
        raise TracerError(failed[0], exit_code=1)
    return 0
