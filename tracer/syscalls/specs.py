"""What the BPF handlers capture for each argument of each syscall.

The generic handler is one BPF program driven by a per-syscall descriptor map:
these specs are turned into that map's values. Keep the kinds in sync with
bpf/tracer.h (CAP_*).
"""

from __future__ import annotations

from dataclasses import dataclass

from tracer.syscalls.table import Syscall

NONE = 0  # the register value only
STR = 1  # NUL-terminated user string (a path, a name)
BUF_IN = 2  # user buffer; its length is the value of argument `size`
BUF_RET = 3  # user buffer filled by the call; its length is the return value (read, recv)
FIXED = 4  # user memory of `size` bytes (a struct: stat, timespec, int[2] ...)
LENPTR = 5  # user buffer whose length is the int that argument `size` points to (accept's addr)
STRV = 6  # NULL-terminated array of strings (execve's argv)

_PATH_NAMES = {"filename", "pathname", "path", "oldname", "newname", "name", "specialfile",
               "dev_name", "dir_name", "type", "uname"}


@dataclass(frozen=True)
class Capture:
    kind: int = NONE
    size: int = 0  # BUF_IN/LENPTR: index of the length argument; FIXED: bytes


@dataclass(frozen=True)
class CallSpec:
    captures: tuple[Capture, ...]  # one per argument, at most 6
    at_enter: bool = False  # capture and emit at entry: execve (its memory is gone at exit), exit*


def _generic(sc: Syscall) -> CallSpec:
    caps = []
    for f in sc.args[:6]:
        if "char *" in f.type and f.name in _PATH_NAMES:
            caps.append(Capture(STR))
        else:
            caps.append(Capture(NONE))
    return CallSpec(tuple(caps))


def spec_for(sc: Syscall) -> CallSpec:
    """The capture spec of `sc`: hand-written for common syscalls, from its format otherwise."""
    return _generic(sc)
