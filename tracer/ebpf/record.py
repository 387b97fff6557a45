"""The layout of the records the BPF side emits (mirrors struct event/blob in bpf/tracer.h)."""

from __future__ import annotations

import struct

# ts, tgid, tid, cgroup, ret, args[6], nr, flags, size, nblobs, comm[16]
HEADER = struct.Struct("<QIIQq6QHHHH16s")
BLOB = struct.Struct("<BBBxI")  # arg, kind, trunc, pad, len
EV_ENTER = 1
assert HEADER.size == 104


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
