"""One `tracer trace` run: check everything, load, attach, drain until stopped, detach.

Every user error is found before anything is attached: the specs' syntax, PIDs,
syscall names and handler files (by reading them) first, then the handler files
are compiled against the loaded (not yet attached) dispatcher; a failure closes
it all. The session loop is the hooks' own (tracer.pipeline.session.drive).
"""

from __future__ import annotations

import os
import sys
import time

from tracer import capabilities as cap
from tracer import safefile
from tracer.ebpf.engine import Engine
from tracer.ebpf.plan import Plan, plan_for
from tracer.errors import TracerError, quote
from tracer.pipeline.session import drive, install_stop_handlers
from tracer.pipeline.writer import TraceWriter
from tracer.syscalls import table as systable
from tracer.trace import spec as sp
from tracer.trace.control import ControlServer
from tracer.trace.state import TraceState, check_handlers


class TraceRun:
    """`tracer trace`'s event source (tracer.hooks.spec.EventSource): the hooks' engine, with
    handler sets per PID changed at run time through the control socket."""

    def __init__(self, specs: list[str], fmt: str, follow: bool) -> None:
        self.texts = specs
        self.fmt = fmt
        self.follow = follow
        self.engine: Engine | None = None
        self.state: TraceState | None = None
        self.server: ControlServer | None = None

    # -- start -------------------------------------------------------------------------------
    def _check(self) -> tuple[Plan, list[sp.Spec]]:
        caps = cap.probe()
        if caps.tracefs is None:
            raise TracerError(caps.reason(cap.TRACEFS))
        tab = systable.load(caps.tracefs)
        specs = [sp.parse(t) for t in self.texts]
        names: set[str] = set()
        for s in specs:
            sp.resolve_targets(s.targets)
            names.update(sc.name for sc in check_handlers(s.handlers, tab))
        return plan_for(caps, tab, len(names)), specs

    def start(self) -> None:
        plan, specs = self._check()
        self.engine = Engine(plan, self.fmt, self.follow)
        try:
            self.engine.load()
            self.state = TraceState(self.engine.disp, plan.table, self.follow)
            for s in specs:
                self.state.add(s)
            self.engine.open()
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

    # -- the session loop's side -------------------------------------------------------------
    def poll(self, timeout: float, writer: TraceWriter) -> None:
        assert self.engine is not None
        self.engine.drain(writer, timeout)

    def close(self, writer: TraceWriter | None) -> None:
        """Leave nothing behind: socket, attachments, programs, maps (in that order)."""
        if self.server is not None:
            self.server.close()  # waits for a request in progress
            self.server = None
        if self.engine is None:
            return
        try:
            self.engine.detach(writer)  # no new events; what is buffered is still written
        except BrokenPipeError:
            if writer is not None:
                writer.discard()
        finally:
            if self.state is not None:
                self.state.close()
            self.engine.close()
            self.engine = None

    def notes(self) -> list[str]:
        return []


def run(specs: list[str], output: str | None, fmt: str, follow: bool) -> int:
    """`fmt`: text, json or strace (lines as strace -f -ttt -T writes them)."""
    from tracer import early

    tr = TraceRun(specs, fmt, follow)
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
        drive(tr, writer, stop)
    finally:
        try:
            _finish(writer, fmt in ("json", "strace"))
        except BrokenPipeError:
            writer.discard()
            _finish(writer, fmt in ("json", "strace"))
    if writer.failed is not None:
        where = output or "standard output"
        raise TracerError(f"cannot write {where}: {writer.failed.strerror}; stopped with"
                          f" {writer.events} events written and {writer.lost} lost", exit_code=1)
    return 0


def _finish(writer: TraceWriter, lines_only: bool) -> None:
    if lines_only:  # JSON or strace lines only: no closing comment
        writer.flush()
        os.close(writer.fd)
    else:
        writer.finish()
