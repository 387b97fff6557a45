"""The records policy handlers emit (mirrors struct pol_event / pol_arg in bpf/policy.h)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

# ts, tgid, tid, cgroup, ret, fn, hook, size, nargs, flags, action, sel, ppid, pad, comm
HEADER = struct.Struct("<QIIQqQHHBBBBII16s")
ARG = struct.Struct("<BBBxI")
EVF_RET = 1
assert HEADER.size == 72


@dataclass
class Event:
    ts: int
    tgid: int
    tid: int
    cgroup: int
    ret: int | None
    fn: int
    hook: int
    action: int
    comm: str
    args: dict[int, tuple[int, bytes, bool]]   # slot -> (type code, data, truncated)


def parse(buf: object, off: int) -> Event:
    (ts, tgid, tid, cgroup, ret, fn, hook, _size, nargs, flags, action, _sel, _ppid, _pad,
     comm) = HEADER.unpack_from(buf, off)
    pos = off + HEADER.size
    args: dict[int, tuple[int, bytes, bool]] = {}
    for _ in range(nargs):
        slot, code, trunc, n = ARG.unpack_from(buf, pos)
        args[slot] = (code, bytes(buf[pos + 8:pos + 8 + n]), bool(trunc))
        pos += (8 + n + 7) & ~7
    return Event(ts, tgid, tid, cgroup, ret if flags & EVF_RET else None, fn, hook, action,
                 comm.split(b"\0", 1)[0].decode("utf-8", "replace"), args)
