"""ftrace-syscalls: the syscalls tracepoints (entry and exit) of the traced PIDs."""

from __future__ import annotations

import os
from pathlib import Path

from tracer.capabilities import Capabilities
from tracer.errors import TracerError, quote
from tracer.ftrace.source import FtraceSession, enable_all
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.targets import Targets
from tracer.tracefs.mount import find_tracefs

SYSTEM = "syscalls"


def check_syscalls(names: list[str], tracefs: Path) -> None:
    """Every name must be one of the kernel's own syscall events, checked against the listing
    of events/syscalls before any path is built from a name (names come from remote users)."""
    try:
        known = set(os.listdir(tracefs / "events" / SYSTEM))
    except OSError as e:
        raise TracerError(f"cannot list {tracefs / 'events' / SYSTEM}: {e.strerror}") from None
    unknown = [n for n in names if f"sys_enter_{n}" not in known or f"sys_exit_{n}" not in known]
    if unknown:
        raise TracerError(f"--syscalls: no tracepoint for {', '.join(quote(n) for n in unknown[:5])}"
                          f" on this kernel (see {tracefs / 'events' / SYSTEM})")


def events_for(session: FtraceSession, names: list[str] | None) -> list[tuple[str, str | None]]:
    """The whole syscalls system, or sys_enter_/sys_exit_ of each name given."""
    if not names:
        return [(SYSTEM, None)]
    inst = session.instance
    assert inst is not None
    check_syscalls(names, inst.tracefs)
    out: list[tuple[str, str | None]] = []
    for n in dict.fromkeys(names):
        out += [(SYSTEM, f"sys_enter_{n}"), (SYSTEM, f"sys_exit_{n}")]
    return out


def _configure(session: FtraceSession) -> None:
    enable_all(session, events_for(session, session.opts.syscalls))


def create(hook: Hook, opts: HookOptions, targets: Targets, caps: Capabilities) -> FtraceSession:
    names = opts.syscalls
    if names:
        check_syscalls(names, caps.tracefs or find_tracefs())
    return FtraceSession(hook, opts, targets, _configure)
