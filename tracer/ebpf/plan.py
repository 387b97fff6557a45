"""Decide what a session attaches, before anything touches the kernel.

Every user error (unknown syscall, a syscall outside the hook's family, no
target) is found here, so a failed start leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracer import capabilities as cap
from tracer.capabilities import Capabilities
from tracer.ebpf import frontend
from tracer.errors import TracerError, quote
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.syscalls import families, table
from tracer.syscalls.table import Syscall, SyscallTable

HOOK_FAMILY = {"ebpf-files": "files", "ebpf-process": "process", "ebpf-network": "network"}


@dataclass
class Plan:
    table: SyscallTable
    syscalls: list[Syscall]  # the hooks' one handler set; `tracer trace` installs its own
    mode: str
    ringbuf: bool
    buffer_size: int


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
    syscalls = select_syscalls(tab, HOOK_FAMILY.get(hook.name), opts.syscalls)
    return plan_for(caps, tab, len(syscalls), syscalls, opts.buffer_size)


def plan_for(caps: Capabilities, tab: SyscallTable, count: int, syscalls: list[Syscall] | None = None,
             buffer_size: int | None = None) -> Plan:
    """The front end and buffer for `count` syscalls (the engine's one choice of them)."""
    front = frontend.choose(caps, count)
    return Plan(tab, syscalls or [], front.mode, front.ringbuf, buffer_size or front.default_size())
