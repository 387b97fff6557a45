"""One `tracer trace` run: check everything, load, attach, drain until stopped, detach.

Every user error is found before anything is attached: the specs' syntax, PIDs,
syscall names and handler files (by reading them) first, then the handler files
are compiled against the loaded (not yet attached) dispatcher; a failure closes
it all. SIGINT and SIGTERM set a flag the loop checks every POLL seconds.
"""

from __future__ import annotations

import os
import sys
import time

from tracer import capabilities as cap
from tracer import safefile
from tracer.ebpf import frontend
from tracer.ebpf.consumer import Consumer
from tracer.ebpf.dispatch import Dispatcher
from tracer.ebpf.lines import LineMaker
from tracer.errors import TracerError, quote
from tracer.pipeline.session import StopFlag, install_stop_handlers
from tracer.pipeline.writer import TraceWriter
from tracer.syscalls import table as systable
from tracer.trace import spec as sp
from tracer.trace.control import ControlServer
from tracer.trace.state import TraceState, check_handlers

POLL = 0.1  # seconds: bounds line latency and stop latency


class TraceRun:
    def __init__(self, specs: list[str], output: str | None, fmt: str, follow: bool) -> None:
        self.texts = specs
        self.output = output
        self.as_json = fmt == "json"
        self.strace = fmt == "strace"
        self.follow = follow
        self.disp: Dispatcher | None = None
        self.state: TraceState | None = None
        self.consumer: Consumer | None = None
        self.server: ControlServer | None = None

    # -- start -------------------------------------------------------------------------------
    def _check(self) -> tuple[systable.SyscallTable, list[sp.Spec], int, cap.Capabilities]:
        caps = cap.probe()
        if caps.tracefs is None:
            raise TracerError(caps.reason(cap.TRACEFS))
        tab = systable.load(caps.tracefs)
        specs = [sp.parse(t) for t in self.texts]
        names: set[str] = set()
        for s in specs:
            sp.resolve_targets(s.targets)
            names.update(sc.name for sc in check_handlers(s.handlers, tab))
        return tab, specs, len(names), caps

    def start(self) -> None:
        tab, specs, count, caps = self._check()
        front = frontend.choose(caps, count)
        ringbuf, size = front.ringbuf, front.default_size()
        self.disp = Dispatcher(front.mode, ringbuf, size, self.follow,
                               timing=self.as_json or self.strace)
        self.lines = LineMaker(tab, self.as_json, strace=self.strace)
        try:
            self.disp.load()
            self.state = TraceState(self.disp, tab, self.follow)
            for s in specs:
                self.state.add(s)
            self.consumer = Consumer(self.disp, self.lines, ringbuf, size)
            self.consumer.open()
            self.server = ControlServer(self.handle)
            self.server.start()
        except BaseException:
            self.close(None)
            raise

    # -- control requests (on the server's thread) -----------------------------------------
    def handle(self, req: dict) -> dict:
        assert self.state is not None
        t0 = time.monotonic()
        self.state.compile_s = 0.0
        try:
            op = req.get("op")
            if op == "add":
                lines = []
                for text in req.get("specs") or []:
                    lines += self.state.add(sp.parse(text))
            elif op == "remove":
                lines = []
                for text in req.get("targets") or []:
                    lines += self.state.remove(text)
            elif op == "list":
                lines = self.state.listing()
            else:
                raise TracerError(f"unknown request {quote(op)}")
        except TracerError as e:
            return {"ok": False, "error": str(e)}
        except Exception as e:  # a bug must not kill the tracer: report it to the client
            return {"ok": False, "error": f"internal error: {type(e).__name__}: {e}"}
        total = time.monotonic() - t0
        # "ms": from the request to the maps changed, compiling handler files excepted
        return {"ok": True, "lines": lines, "ms": round((total - self.state.compile_s) * 1000, 2),
                "compile_ms": round(self.state.compile_s * 1000, 1)}

    # -- loop --------------------------------------------------------------------------------
    def loop(self, writer: TraceWriter, stop: StopFlag) -> None:
        assert self.consumer is not None
        try:
            while not stop.stopped and writer.failed is None:
                self.consumer.drain(writer, POLL)
                writer.flush()
        except BrokenPipeError:
            discard(writer)  # our reader went away (`| head`): stop, quietly


    def close(self, writer: TraceWriter | None) -> None:
        """Leave nothing behind: socket, attachments, programs, maps (in that order)."""
        if self.server is not None:
            self.server.close()  # waits for a request in progress
            self.server = None
        if self.disp is None:
            return
        try:
            self.disp.detach()  # no new events; what is buffered is still written
            if writer is not None and self.disp.bpf is not None and self.consumer is not None:
                self.consumer.finish(writer)
        except BrokenPipeError:
            if writer is not None:
                discard(writer)
        finally:
            if self.consumer is not None:
                self.consumer.close()
                self.consumer = None
            if self.state is not None:
                self.state.close()
            self.disp.close()
            self.disp = None


def run(specs: list[str], output: str | None, fmt: str, follow: bool) -> int:
    """`fmt`: text, json or strace (lines as strace -f -ttt -T writes them)."""
    from tracer import early

    tr = TraceRun(specs, output, fmt, follow)
    as_json = fmt in ("json", "strace")  # lines only: no closing comment
    # stop signals during start-up: stop cleanly too, not with a traceback
    stop = install_stop_handlers(early.PPID)
    for sig in early.received:
        stop(sig, None)
    if stop.stopped:  # told to stop before anything was attached
        return 0
    if output:
        fd = safefile.create_output(output)
    else:
        sys.stdout.flush()
        fd = os.dup(1)
    writer = TraceWriter(fd)
    try:
        tr.start()
    except BaseException:
        os.close(fd)
        if output:  # ours, new and empty: nothing to keep
            os.unlink(output)
        raise
    try:
        tr.loop(writer, stop)
    finally:
        try:
            tr.close(writer)
        finally:
            try:
                _finish(writer, as_json)
            except BrokenPipeError:
                discard(writer)
                _finish(writer, as_json)
    if writer.failed is not None:
        where = output or "standard output"
        raise TracerError(f"cannot write {where}: {writer.failed.strerror}; stopped with"
                          f" {writer.events} events written and {writer.lost} lost", exit_code=1)
    return 0


def _finish(writer: TraceWriter, as_json: bool) -> None:
    if as_json:  # JSON lines only: no closing comment
        writer.flush()
        os.close(writer.fd)
    else:
        writer.finish()


def discard(writer: TraceWriter) -> None:
    """Send the rest of the output nowhere: the writer's fd becomes /dev/null."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, writer.fd)
    os.close(null)
