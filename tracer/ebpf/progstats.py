"""How often the kernel skipped one of our programs instead of running it.

The kernel runs a BPF program at most once at a time per CPU: a run that would nest (the same
program, same CPU, already running) is skipped and counted in the program's recursion_misses
(kernel 5.12+). Where syscall tracepoints run their programs preemptible (7.x, built with
PREEMPT_LAZY), a task preempted inside our sys_enter or sys_exit program holds it on that CPU,
and every other task's call there is skipped until it resumes: a trace must say so, since those
calls are missing from it.
"""

from __future__ import annotations

import ctypes as ct
from typing import Any

_SYS_BPF = 321  # x86_64
_BPF_OBJ_GET_INFO_BY_FD = 15
# struct bpf_prog_info (uapi/linux/bpf.h): recursion_misses at byte 208; a kernel older than the
# field writes less and leaves it 0. The buffer covers the struct as of 6.x: the kernel refuses
# none of its own fields and writes no more than it knows.
_INFO_SIZE = 232
_RECURSION_MISSES = 208


class _InfoAttr(ct.Structure):
    _fields_ = [("bpf_fd", ct.c_uint32), ("info_len", ct.c_uint32), ("info", ct.c_uint64)]


_libc = ct.CDLL(None, use_errno=True)
_libc.syscall.restype = ct.c_long


def recursion_misses(prog_fd: int) -> int:
    """Runs of the program `prog_fd` the kernel skipped; 0 where the kernel does not count them."""
    buf = ct.create_string_buffer(_INFO_SIZE)
    attr = _InfoAttr(prog_fd, _INFO_SIZE, ct.addressof(buf))
    if _libc.syscall(_SYS_BPF, _BPF_OBJ_GET_INFO_BY_FD, ct.byref(attr), ct.sizeof(attr)) != 0:
        return 0
    if attr.info_len < _RECURSION_MISSES + 8:
        return 0
    return int.from_bytes(buf.raw[_RECURSION_MISSES:_RECURSION_MISSES + 8], "little")


def skipped_runs(bpf: Any) -> int:
    """Skipped runs of every program a BCC object loaded (read before it is released)."""
    if bpf is None:
        return 0
    return sum(recursion_misses(f.fd) for f in list(bpf.funcs.values()) if getattr(f, "fd", -1) >= 0)


def note(skipped: int) -> list[str]:
    """The closing note of a trace whose programs the kernel skipped `skipped` times."""
    if not skipped:
        return []
    return [f"the kernel skipped tracer's programs {skipped} times (a task preempted inside one"
            f" holds it on its CPU): up to {skipped} calls of traced processes are missing"]
