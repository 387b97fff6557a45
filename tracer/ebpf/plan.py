"""Decide what a session attaches, before anything touches the kernel.

Every user error (unknown syscall, a syscall outside the hook's family, no
target) is found here, so a failed start leaves nothing behind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tracer import capabilities as cap
from tracer.capabilities import Capabilities
from tracer.errors import TracerError, quote
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.syscalls import families, table
from tracer.syscalls.table import Syscall, SyscallTable

# Up to this many syscalls are caught one tracepoint (or kprobe) each, so processes
# that are not traced pay nothing for the syscalls nobody asked for (1.1x instead of
# 1.3x for a getppid loop). Beyond it the raw sys_exit tracepoint is cheaper: the
# kernel waits out an RCU grace period (~40 ms, serialised) to detach each per-syscall
# event, and a stop must take under 2 s.
FEW = 8
RINGBUF_DEFAULT = 16 << 20
PERFBUF_DEFAULT = 4 << 20
HOOK_FAMILY = {"ebpf-files": "files", "ebpf-process": "process", "ebpf-network": "network"}


@dataclass
class Plan:
    table: SyscallTable
    syscalls: list[Syscall]
    mode: str
    ringbuf: bool
    buffer_size: int


def choose_mode(caps: Capabilities, count: int) -> str:
    forced = os.environ.get("TRACER_ATTACH")
    if forced:
        return forced
    if count <= FEW:
        return "kprobe" if caps.has(cap.KPROBES) else "tracepoint"
    return "raw_tracepoint" if caps.has(cap.RAW_TRACEPOINTS) else "tracepoint"


def select_syscalls(tab: SyscallTable, family: str | None, names: list[str] | None) -> list[Syscall]:
    pool = [tab.by_name[n] for n in families.FAMILIES[family] if n in tab.by_name] if family else list(tab)
    if not names:
        return pool
    allowed = {s.name for s in pool}
    chosen = []
    for n in names:
        sc = tab.get(n)  # unknown name: error with the closest names
        if sc.name not in allowed:
            raise TracerError(f"syscall {quote(n)} is not one of the {family} syscalls of this hook:"
                              f" use ebpf-syscalls --syscalls {n}")
        chosen.append(sc)
    return chosen


def make_plan(hook: Hook, opts: HookOptions, caps: Capabilities) -> Plan:
    if caps.tracefs is None:
        raise TracerError(caps.reason(cap.TRACEFS))
    tab = table.load(caps.tracefs)
    syscalls = select_syscalls(tab, HOOK_FAMILY.get(hook.name), opts.extra.get("syscalls"))
    ringbuf = caps.has(cap.RINGBUF) and os.environ.get("TRACER_BUFFER", "ring") != "perf"
    size = opts.buffer_size or (RINGBUF_DEFAULT if ringbuf else PERFBUF_DEFAULT)
    return Plan(tab, syscalls, choose_mode(caps, len(syscalls)), ringbuf, size)
