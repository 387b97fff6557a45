"""`tracer export FILE --to perfetto OUT`: a Perfetto trace (protobuf), one track per thread
under its process, a slice per syscall, encoded here (no Perfetto code or download needed).

The subset of Perfetto's schema written (protos/perfetto/trace/perfetto_trace.proto, field
numbers in brackets):
  Trace: packet [1] (TracePacket, repeated)
  TracePacket: timestamp [8], trusted_packet_sequence_id [10], track_event [11],
               sequence_flags [13] (1: SEQ_INCREMENTAL_STATE_CLEARED), track_descriptor [60]
  TrackDescriptor: uuid [1], name [2], process [3], thread [4], parent_uuid [5]
  ProcessDescriptor: pid [1], process_name [6]
  ThreadDescriptor: pid [1], tid [2], thread_name [5]
  TrackEvent: debug_annotations [4], type [9] (1 SLICE_BEGIN, 2 SLICE_END, 3 INSTANT),
              track_uuid [11], categories [22], name [23]
  DebugAnnotation: int_value [4], string_value [6], name [10]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracer.views.calls import Call

SLICE_BEGIN, SLICE_END, INSTANT = 1, 2, 3
SEQ = 1  # one writer sequence
THREAD_UUID = 1 << 32  # thread track uuids: this + tid; process tracks: the pid


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 values: two's complement, 10 bytes
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def vint(field: int, n: int) -> bytes:
    return _varint(field << 3) + _varint(n)


def blob(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def text(field: int, s: str) -> bytes:
    return blob(field, s.encode("utf-8", "replace"))


def packet(body: bytes, ts: int | None = None, first: bool = False) -> bytes:
    p = (vint(8, ts) if ts is not None else b"") + vint(10, SEQ) + (vint(13, 1) if first else b"") + body
    return blob(1, p)


def annotation(name: str, value: Any) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int):
        return blob(4, text(10, name) + text(6, value if isinstance(value, str) else str(value)))
    return blob(4, text(10, name) + vint(4, value))


def encode(calls: list[Call]) -> bytes:
    """The whole trace: descriptors of every process and thread, then each call's slice."""
    out = bytearray()
    procs: dict[int, str] = {}
    threads: dict[int, tuple[int, str]] = {}
    for c in calls:
        procs.setdefault(c.pid, c.comm)
        threads[c.tid] = (c.pid, c.comm)  # the latest name: after an execve
    first = True
    for pid, comm in sorted(procs.items()):
        desc = vint(1, pid) + blob(3, vint(1, pid) + text(6, comm))
        out += packet(blob(60, desc), first=first)
        first = False
    for tid, (pid, comm) in sorted(threads.items()):
        desc = vint(1, THREAD_UUID + tid) + vint(5, pid) + \
            blob(4, vint(1, pid) + vint(2, tid) + text(5, comm))
        out += packet(blob(60, desc))
    for c in sorted(calls, key=lambda c: (c.start, c.tid)):
        track = vint(11, THREAD_UUID + c.tid)
        notes = b"".join(annotation(k, v) for k, v in c.args.items() if not k.endswith("_raw"))
        if c.ret is None:
            out += packet(blob(11, vint(9, INSTANT) + track + text(22, "syscall") + text(23, c.name)
                               + notes), c.start)
            continue
        notes += annotation("ret", int(c.ret))
        out += packet(blob(11, vint(9, SLICE_BEGIN) + track + text(22, "syscall") + text(23, c.name)
                           + notes), c.start)
        out += packet(blob(11, vint(9, SLICE_END) + track), max(c.end, c.start))
    return bytes(out)


def write(calls: list[Call], out: str | Path) -> Path:
    path = Path(out)
    path.write_bytes(encode(calls))
    return path
