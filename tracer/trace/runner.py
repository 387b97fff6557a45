"""One `tracer trace` run: check everything, load, attach, drain until stopped, detach.

Every user error is found before anything is attached: the specs' syntax, PIDs,
syscall names and handler files (by reading them) first, then the handler files
are compiled against the loaded (not yet attached) dispatcher; a failure closes
it all. SIGINT and SIGTERM set a flag the loop checks every POLL seconds.
"""

from __future__ import annotations

import ctypes as ct
import os
import sys
import time
from typing import Any

from tracer import capabilities as cap
from tracer.ebpf import plan
from tracer.ebpf.dispatch import Dispatcher
from tracer.ebpf.lines import LineMaker
from tracer.ebpf.ringbuf import RingReader
from tracer.errors import TracerError
from tracer.pipeline.session import StopFlag, install_stop_handlers
from tracer.pipeline.writer import TraceWriter
from tracer.syscalls import table as systable
from tracer.trace import spec as sp
from tracer.trace.control import ControlServer
from tracer.trace.state import TraceState, check_handlers

POLL = 0.1  # seconds: bounds line latency and stop latency
DRAIN_BUDGET = 0.05
LOST_CHECK = 0.25


class TraceRun:
    def __init__(self, specs: list[str], output: str | None, as_json: bool, follow: bool) -> None:
        self.texts = specs
        self.output = output
        self.as_json = as_json
        self.follow = follow
        self.disp: Dispatcher | None = None
        self.state: TraceState | None = None
        self.reader: RingReader | None = None
        self.server: ControlServer | None = None
        self.lost_seen = 0

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
        ringbuf = caps.has(cap.RINGBUF) and os.environ.get("TRACER_BUFFER", "ring") != "perf"
        size = plan.RINGBUF_DEFAULT if ringbuf else plan.PERFBUF_DEFAULT
        self.disp = Dispatcher(plan.choose_mode(caps, count), ringbuf, size, self.follow)
        self.lines = LineMaker(tab, self.as_json)
        try:
            self.disp.load()
            self.state = TraceState(self.disp, tab, self.follow)
            for s in specs:
                self.state.add(s)
            self._open_buffer(ringbuf, size)
            self.server = ControlServer(self.handle)
            self.server.start()
        except BaseException:
            self.close(None)
            raise

    def _open_buffer(self, ringbuf: bool, size: int) -> None:
        assert self.disp is not None
        events = self.disp.bpf["events"]
        if ringbuf:
            self.reader = RingReader(events.map_fd, events.max_entries)
            return
        pages = max(8, (size // (os.cpu_count() or 1)) // os.sysconf("SC_PAGE_SIZE"))

        def on_event(cpu: int, data: Any, n: int) -> None:
            self.lines.handle(ct.string_at(data, n), [0])

        def on_lost(count: int) -> None:
            pass  # submit() counted these drops in the kernel's `lost` already

        events.open_perf_buffer(on_event, page_cnt=1 << (pages.bit_length() - 1), lost_cb=on_lost)

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
                raise TracerError(f"unknown request '{op}'")
        except TracerError as e:
            return {"ok": False, "error": str(e)}
        except Exception as e:  # a bug must not kill the tracer: report it to the client
            return {"ok": False, "error": f"internal error: {type(e).__name__}: {e}"}
        total = time.monotonic() - t0
        # "ms": from the request to the maps changed, compiling handler files excepted
        return {"ok": True, "lines": lines, "ms": round((total - self.state.compile_s) * 1000, 2),
                "compile_ms": round(self.state.compile_s * 1000, 1)}

    # -- loop --------------------------------------------------------------------------------
    def _drain(self, writer: TraceWriter, timeout: float) -> None:
        assert self.disp is not None
        if self.reader is not None:
            self.reader.wait(timeout)
            deadline = time.monotonic() + DRAIN_BUDGET
            while self.reader.drain(self.lines.handle) and time.monotonic() < deadline:
                pass
        else:
            self.disp.bpf.perf_buffer_poll(timeout=int(timeout * 1000))
        text, n = self.lines.take()
        if text:
            writer.write(text, n)

    def _check_lost(self, writer: TraceWriter) -> None:
        assert self.disp is not None
        lost = self.disp.lost()
        if lost > self.lost_seen:
            writer.write_lost(lost - self.lost_seen)
            self.lost_seen = lost

    def loop(self, writer: TraceWriter, stop: StopFlag) -> None:
        last = 0.0
        try:
            while not stop.stopped:
                self._drain(writer, POLL)
                now = time.monotonic()
                if now - last >= LOST_CHECK:
                    last = now
                    self._check_lost(writer)
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
            if writer is not None and self.disp.bpf is not None:
                self._drain(writer, 0)
                self._check_lost(writer)
        except BrokenPipeError:
            if writer is not None:
                discard(writer)
        finally:
            if self.reader is not None:
                self.reader.close()
                self.reader = None
            if self.state is not None:
                self.state.close()
            self.disp.close()
            self.disp = None


def run(specs: list[str], output: str | None, as_json: bool, follow: bool) -> int:
    tr = TraceRun(specs, output, as_json, follow)
    # stop signals during start-up: stop cleanly too, not with a traceback
    stop = install_stop_handlers()
    if output:
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        except OSError as e:
            raise TracerError(f"cannot write {output}: {e.strerror}") from None
    else:
        sys.stdout.flush()
        fd = os.dup(1)
    writer = TraceWriter(fd)
    try:
        tr.start()
    except BaseException:
        os.close(fd)
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
