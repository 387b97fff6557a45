"""What the BPF handlers capture for each argument of each syscall, compiled from the
syscall descriptions (tracer/syscalls/desc) into the per-syscall descriptor the generic
handler reads (struct desc in bpf/tracer.h)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from tracer.syscalls import desc
from tracer.syscalls.desc.types import (
    ARRAY,
    ARRAY_RET,
    BITS,
    BUF_IN,
    BUF_RET,
    ENTRY,
    EXIT,
    FIXED,
    IOV,
    KINDS,
    LENPTR,
    MSGHDR,
    NONE,
    STR,
    STRV,
    capture,
)
from tracer.syscalls.table import Syscall

__all__ = ["ARRAY", "ARRAY_RET", "BITS", "BUF_IN", "BUF_RET", "ENTRY", "EXIT", "FIXED", "IOV", "KINDS",
           "LENPTR", "MSGHDR", "NONE", "STR", "STRV", "CallSpec", "Capture", "spec_for"]


@dataclass(frozen=True)
class Capture:
    kind: int = NONE
    size: int = 0  # BUF_IN/LENPTR/IOV/ARRAY/BITS: index of the length argument; FIXED: bytes
    when: int = EXIT
    elem: int = 0  # ARRAY/ARRAY_RET: bytes per element; BITS: most bytes; BUF_IN: bytes more


@dataclass(frozen=True)
class CallSpec:
    captures: tuple[Capture, ...]  # one per argument, at most 6
    at_enter: bool = False  # capture and emit at entry: execve (its memory is gone at exit), exit*
    needs_entry: bool = False  # the entry side must run: captures at entry, or at_enter
    iov: bool = False  # has iovec arrays (or a msghdr's): captured by their own handler (handle_iov)


def compile_call(call: desc.Call) -> CallSpec:
    caps = []
    for a in call.args[:6]:
        c = capture(a.type)
        size, elem = c.size, 0
        if c.param:
            try:
                size, elem = call.index(a.param), c.size
            except ValueError:
                raise ValueError(f"{call.name}.{a.name}: no length argument {a.param!r}") from None
        elif c.kind == ARRAY_RET:
            size, elem = 0, c.size
        caps.append(Capture(c.kind, size, c.when, elem))
    at_enter = call.has(desc.AT_ENTRY)
    entry = at_enter or any(c.when & ENTRY for c in caps)
    return CallSpec(tuple(caps), at_enter, entry, any(c.kind in (IOV, MSGHDR) for c in caps))


# A syscall newer than the descriptions: its path-like strings, known by their C type and name.
_PATH_NAMES = {"filename", "pathname", "path", "oldname", "newname", "name", "specialfile",
               "dev_name", "dir_name", "type", "uname"}


@functools.lru_cache(maxsize=1024)
def spec_for(sc: Syscall) -> CallSpec:
    """The capture spec of `sc`, from its description (its path strings for an undescribed one)."""
    call = desc.get(sc.name)
    if call is None:
        return CallSpec(tuple(Capture(STR if "char *" in f.type and f.name in _PATH_NAMES else NONE)
                              for f in sc.args[:6]))
    return compile_call(call)
