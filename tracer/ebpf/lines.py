"""Turn BPF records into trace-file lines: `TIMESTAMP COMM PID/TID [CID] NAME(ARGS) = RET`.

This is the hot path of the consumer: per-syscall formatters are built once,
comm strings are cached, and records without captured memory skip blob parsing.
"""

from __future__ import annotations

import json
import struct
import time
from typing import Any, Callable

from tracer import decode
from tracer.decode import taskfmt
from tracer.ebpf.record import EV_ENTER, EV_EXIT, EV_LATE, EV_SENT, EV_SIGNAL, HEADER, blobs_at
from tracer.syscalls import desc, specs
from tracer.syscalls.table import SyscallTable
from tracer.views.strace import StraceLines

_NO_BLOBS: dict = {}
_NO_TRUNC: frozenset = frozenset()
NORETURN = desc.with_flag(desc.NO_RETURN)
EXEC_NRS = frozenset(c.nr for c in desc.all_calls() if c.has(desc.EXEC))
# an entry record and an exit record make one line: execve, execveat, and the calls with
# memory captured at entry (select's fd_sets, a socklen before the call ...)
PAIRED = EXEC_NRS | frozenset(c.nr for c in desc.all_calls() if specs.compile_call(c).needs_entry
                              and not c.has(desc.NO_RETURN))
ENTRY_KEY = 8  # entry-time captures are handed to the decoders at argument index + 8
CALL_CACHE = 1 << 16  # formatted calls and line prefixes kept; cleared when full
SIGINFO = struct.Struct("<6Q")  # a signal record's siginfo, in its args


def formatters(table: SyscallTable, as_json: bool) -> dict[int, Callable]:
    """The strace-style formatter (or JSON maker) of every syscall, built once."""
    make = decode.make_json if as_json else decode.make_formatter
    return {sc.nr: make(sc) for sc in table}


class LineMaker:
    """Collects the formatted lines of the records handed to `handle`."""

    def __init__(self, table: SyscallTable, as_json: bool = False,
                 container_of: Callable[[int], str | None] | None = None,
                 strace: bool = False) -> None:
        self.table = table
        self.as_json = as_json
        self.strace = StraceLines() if strace else None
        self.fmt = formatters(table, as_json)
        self.container_of = container_of
        self.tags: dict[tuple, str] = {}  # (pid, cgroup id) -> " CID" or ""
        self.comms: dict[bytes, str] = {}
        self.calls: dict[tuple, str] = {}  # (nr, ret, args) -> text, for records without memory
        self.prefixes: dict[tuple, str] = {}  # (pid, tid, comm) -> " comm pid/tid "
        self.entered: dict[int, tuple] = {}  # tid -> execve record waiting for its return
        # tid -> lines of signals the kernel dropped when they were sent, each with whether it
        # goes after the task's next call (it was blocked in it) or before (it was running):
        # where strace, which makes the kernel keep them, reports them
        self.late: dict[int, list[tuple[bool, str]]] = {}
        self.ending: dict[int, int] = {}  # tid -> status its exit/exit_group asked for
        self.sent: dict[tuple[int, int], tuple] = {}  # (tgid, signal) -> siginfo, not yet taken
        self.wall = time.time_ns() - time.monotonic_ns()  # bpf_ktime_get_ns is CLOCK_MONOTONIC
        self.out: list[str] = []
        self.count = 0

    def _tag(self, pid: int, cgroup: int) -> str:
        """" CID" for a container's process: from the record's cgroup id, exact even when
        the process is gone by now (short-lived children), else from its PID."""
        tag = self.tags.get((pid, cgroup))
        if tag is None:
            of_cgroup = getattr(self.container_of, "of_cgroup", None)
            cid = (of_cgroup(cgroup) if of_cgroup else None) or self.container_of(pid)
            if len(self.tags) > CALL_CACHE:
                self.tags.clear()
            tag = self.tags[(pid, cgroup)] = f" {cid}" if cid else ""
        return tag

    def handle(self, buf: Any, offs: list[int]) -> None:
        """Format the records at `offs` in `buf`. The common case (a text line for a record
        without captured memory) is inlined here, with the call's text cached."""
        if self.as_json or self.container_of or self.strace:
            for off in offs:
                self._one(buf, off)
            return
        unpack = HEADER.unpack_from
        out = self.out
        calls, prefixes, fmts, wall, late = self.calls, self.prefixes, self.fmt, self.wall, self.late
        n = 0
        for off in offs:
            (ts, pid, tid, _cg, ret, a0, a1, a2, a3, a4, a5, nr, flags, _size, nblobs,
             comm, _ts_exit) = unpack(buf, off)
            if flags or nblobs or nr in PAIRED or late:
                self._one(buf, off)
                continue
            key = (nr, ret, a0, a1, a2, a3, a4, a5)
            call = calls.get(key)
            if call is None:
                fmt = fmts.get(nr)
                call = fmt((a0, a1, a2, a3, a4, a5), ret, _NO_BLOBS, _NO_TRUNC) if fmt else \
                    f"syscall_{nr:#x}() = {ret}"
                if len(calls) > CALL_CACHE:
                    calls.clear()
                calls[key] = call
            pkey = (pid, tid, comm)
            pre = prefixes.get(pkey)
            if pre is None:
                if len(prefixes) > CALL_CACHE:
                    prefixes.clear()
                pre = prefixes[pkey] = f" {self._comm(comm)} {pid}/{tid} "
            out.append("%d.%09d" % divmod(ts + wall, 1_000_000_000) + pre + call + "\n")  # noqa: UP031 (fastest)
            n += 1
        self.count += n

    def _comm(self, comm: bytes) -> str:
        name = self.comms.get(comm)
        if name is None:
            name = self.comms[comm] = comm.split(b"\0", 1)[0].decode("utf-8", "replace")
        return name

    def _one(self, buf: Any, off: int) -> None:
        (ts, pid, tid, cgroup, ret, a0, a1, a2, a3, a4, a5, nr, flags, _size, nblobs,
         comm, ts_exit) = HEADER.unpack_from(buf, off)
        args = (a0, a1, a2, a3, a4, a5)
        if flags & (EV_SIGNAL | EV_EXIT | EV_SENT):
            self._task_event(ts, pid, tid, cgroup, flags, nr, ret, args, comm)
            return
        if tid in self.late:
            self._flush_late(tid, before_call=True)
        if nblobs:
            blobs, trunc = blobs_at(buf, off + HEADER.size, nblobs)
        else:
            blobs, trunc = _NO_BLOBS, _NO_TRUNC
        if flags & EV_ENTER:
            sc = self.table.by_nr.get(nr)
            if sc is None or sc.name not in NORETURN:
                self.entered[tid] = (nr, args, blobs, trunc)  # printed when the call returns
                return
            self.ending[tid] = (a0 & 0xFF) << 8
            ret = None
        elif nr in PAIRED:
            held = self.entered.pop(tid, None)
            if held and held[0] == nr:
                if nr in EXEC_NRS:  # arguments captured at entry, and again at exit when it failed
                    if not nblobs:
                        args, blobs, trunc = held[1:]
                else:
                    merged = dict(blobs)
                    for k, v in held[2].items():
                        merged.setdefault(k, v)
                        merged[k + ENTRY_KEY] = v
                    blobs = merged
                    trunc = trunc | frozenset(k + ENTRY_KEY for k in held[3]) | \
                        frozenset(k for k in held[3] if k not in blobs)
        fmt = self.fmt.get(nr)
        if self.strace is not None:
            self._strace(ts, ts_exit, tid, nr, args, ret, blobs, trunc)
        elif self.as_json:
            obj = fmt(args, ret, blobs, trunc) if fmt else {"syscall": f"syscall_{nr}", "ret": ret}
            # the time spent in the call, where the record has both ends of it
            dur = ts_exit - ts if ts_exit and ts_exit >= ts else None
            self._emit(self._line(ts, pid, tid, cgroup, comm, obj, dur))
        else:
            call = fmt(args, ret, blobs, trunc) if fmt else f"syscall_{nr:#x}() = {ret}"
            self._emit(self._line(ts, pid, tid, cgroup, comm, call))
        if tid in self.late:
            self._flush_late(tid)

    def _emit(self, line: str) -> None:
        self.out.append(line)
        self.count += 1

    def _line(self, ts: int, pid: int, tid: int, cgroup: int, comm: bytes, body: str | dict,
              dur_ns: int | None = None) -> str:
        """`TIMESTAMP COMM PID/TID [CID] BODY`; for a dict BODY (--format json), the JSON object
        of those fields followed by BODY's."""
        stamp = "%d.%09d" % divmod(ts + self.wall, 1_000_000_000)  # noqa: UP031
        name = self._comm(comm)
        tag = self._tag(pid, cgroup) if self.container_of else ""
        if isinstance(body, dict):
            cid = tag.strip()
            return json.dumps({"timestamp": stamp, **({"duration_ns": dur_ns} if dur_ns is not None else {}),
                               "comm": name, "pid": pid, "tid": tid,
                               **({"container": cid} if cid else {}), **body}) + "\n"
        return f"{stamp} {name} {pid}/{tid}{tag} {body}\n"

    def _flush_late(self, tid: int, before_call: bool = False) -> None:
        """The held signal lines of `tid`: all of them, or (`before_call`) those that precede
        its next call."""
        held = self.late.pop(tid)
        if before_call:
            now = [line for after, line in held if not after]
            rest = [(after, line) for after, line in held if after]
            if rest:
                self.late[tid] = rest
        else:
            now = [line for _, line in held]
        self.out.extend(now)
        self.count += len(now)

    def _task_event(self, ts: int, pid: int, tid: int, cgroup: int, flags: int, nr: int, ret: int,
                    args: tuple, comm: bytes) -> None:
        """A signal the task got (nr, with its siginfo in args) or its end (ret: its status)."""
        if flags & EV_SENT:  # shown only if the task dies of it before taking it
            self.sent[(pid, nr)] = args
            return
        if flags & EV_SIGNAL:
            self.sent.pop((pid, nr), None)
            line = self._task_line(ts, pid, tid, cgroup, comm, taskfmt.signal(nr, SIGINFO.pack(*args)))
            if flags & EV_LATE:  # ret: whether the task was blocked (in a call) when it was sent
                self.late.setdefault(tid, []).append((ret == 1, line))
            else:
                self._emit(line)
            return
        asked = self.ending.pop(tid, None)
        status = ret if ret >= 0 else asked
        if tid in self.late:  # its last signals come before its end
            self._flush_late(tid)
        if status is not None and status & 0x7F:
            # killed by a signal the kernel never delivered as such (a fatal one is turned
            # into SIGKILL at once when nobody traces the task the strace way)
            sent = self.sent.pop((pid, status & 0x7F), None)
            if sent is not None:
                self._emit(self._task_line(ts, pid, tid, cgroup, comm,
                                           taskfmt.signal(status & 0x7F, SIGINFO.pack(*sent))))
        self._emit(self._task_line(ts, pid, tid, cgroup, comm, taskfmt.end(status), gone=True))
        if pid == tid:
            self.sent = {k: v for k, v in self.sent.items() if k[0] != pid}

    def _task_line(self, ts: int, pid: int, tid: int, cgroup: int, comm: bytes,
                   shown: tuple[str, dict], gone: bool = False) -> str:
        """The line of a signal or an end (`gone`), from its text and JSON forms."""
        text, obj = shown
        if self.strace is not None:
            return self.strace.task_line(ts + self.wall, tid, text, gone)
        return self._line(ts, pid, tid, cgroup, comm, obj if self.as_json else text)

    def _strace(self, ts: int, ts_exit: int, tid: int, nr: int, args: tuple,
                ret: int | None, blobs: dict, trunc: frozenset) -> None:
        assert self.strace is not None
        sc = self.table.by_nr.get(nr)
        name = sc.name if sc else f"syscall_{nr:#x}"
        fmt = self.fmt.get(nr)
        call = fmt(args, ret, blobs, trunc) if fmt else f"{name}() = {ret}"
        dur = ts_exit - ts if ret is not None and ts_exit else None
        self._emit(self.strace.call(ts + self.wall, dur, tid, name, call))

    def flush(self) -> None:
        """Lines still held (signals of tasks that made no call since): at the end of a trace."""
        for tid in list(self.late):
            self._flush_late(tid)

    def take(self) -> tuple[str, int]:
        """The text collected so far and how many events it holds."""
        text, n = "".join(self.out), self.count
        self.out.clear()
        self.count = 0
        return text, n
