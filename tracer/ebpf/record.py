"""The layout of the records the BPF side emits (struct event/blob in bpf/tracer.h).

The C side checks itself against these fields: the generated header (tracer/ebpf/cheader.py)
asserts every offset and size at compile time."""

from __future__ import annotations

import struct

# (C field, struct format) in order: struct event
EVENT_FIELDS = (("ts", "Q"), ("tgid", "I"), ("tid", "I"), ("cgroup", "Q"), ("ret", "q"),
                ("args", "6Q"), ("nr", "H"), ("flags", "H"), ("size", "H"), ("nblobs", "H"),
                ("comm", "16s"), ("ts_exit", "Q"))
BLOB_FIELDS = (("arg", "B"), ("kind", "B"), ("trunc", "B"), ("pad", "x"), ("len", "I"))
HEADER = struct.Struct("<" + "".join(f for _, f in EVENT_FIELDS))
BLOB = struct.Struct("<" + "".join(f for _, f in BLOB_FIELDS))
EV_ENTER = 1  # event flag: emitted at syscall entry (no return value)
# records about a task rather than a call (bpf/task_events.c): `nr` is the signal and `args` its
# siginfo; or `ret` is the exit code as wait(2) reports it (-1: unknown)
EV_SIGNAL = 2
EV_EXIT = 4
EV_LATE = 8  # a signal the kernel dropped when it was sent: shown after the task's next call
EV_SENT = 16  # a signal sent to the task, to be delivered (shown if the task dies of it untaken)
assert HEADER.size == 112


def offsets(fields: tuple[tuple[str, str], ...]) -> dict[str, int]:
    """Each field's byte offset in the packed little-endian layout."""
    out, fmt = {}, "<"
    for name, f in fields:
        out[name] = struct.calcsize(fmt)
        fmt += f
    return out


def blobs_at(buf: object, pos: int, count: int) -> tuple[dict[int, bytes], frozenset[int]]:
    """The `count` captured arguments that start at `pos` in `buf`."""
    blobs: dict[int, bytes] = {}
    trunc = []
    unpack = BLOB.unpack_from
    for _ in range(count):
        arg, _kind, cut, n = unpack(buf, pos)
        blobs[arg] = bytes(buf[pos + 8:pos + 8 + n])
        if cut:
            trunc.append(arg)
        pos += (8 + n + 7) & ~7
    return blobs, frozenset(trunc)
