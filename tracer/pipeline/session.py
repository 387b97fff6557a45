"""Run one tracing session: attach, announce the file, drain until told to stop, detach.

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
from tracer.hooks.spec import Hook
from tracer.pipeline import tracefile
from tracer.pipeline.writer import TraceWriter

POLL_INTERVAL = 0.1  # seconds: bounds both line latency and stop latency


class StopFlag:
    def __init__(self) -> None:
        self.stopped = False
        self.signal: int | None = None

    def __call__(self, signum: int, frame: object) -> None:
        self.stopped = True
        self.signal = signum


def install_stop_handlers() -> StopFlag:
    flag = StopFlag()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, flag)
    return flag


def announce_path(path: Path) -> None:
    sys.stdout.write(f"{path}\n")
    sys.stdout.flush()


def run(hook: Hook, opts: HookOptions, caps: Capabilities,
        announce: Callable[[Path], None] = announce_path, stop: StopFlag | None = None) -> int:
    """Play `hook` until SIGINT/SIGTERM; return the exit code."""
    stop = stop or install_stop_handlers()
    source = hook.load_runner()(hook, opts, caps)
    out = tracefile.create(hook.name)
    writer = TraceWriter(out.fd)
    try:
        source.start()
        out.start_feeder()
    except BaseException:
        os.close(out.fd)
        out.discard()
        raise
    try:
        announce(out.announced)
        while not stop.stopped:
            source.poll(POLL_INTERVAL, writer)
            writer.flush()
    finally:
        try:
            source.close(writer)
        finally:
            try:
                writer.finish(source.notes())
            finally:
                out.complete()
    return 0


def fail(err: TracerError, prog: str = "tracer") -> int:
    sys.stderr.write(f"{prog}: {err}\n")
    sys.stderr.flush()
    return err.exit_code
