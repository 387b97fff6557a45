"""ftrace-syscalls: the syscalls tracepoints (entry and exit) of the traced PIDs."""

from __future__ import annotations

from tracer.capabilities import Capabilities
from tracer.errors import TracerError
from tracer.ftrace.source import FtraceSession, enable_all
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook

SYSTEM = "syscalls"


def events_for(session: FtraceSession, names: list[str] | None) -> list[tuple[str, str | None]]:
    """The whole syscalls system, or sys_enter_/sys_exit_ of each name given."""
    if not names:
        return [(SYSTEM, None)]
    inst = session.instance
    assert inst is not None
    unknown = [n for n in names if not inst.has_event(SYSTEM, f"sys_enter_{n}")]
    if unknown:
        raise TracerError(f"--syscalls: no tracepoint for {', '.join(unknown)} on this kernel"
                          f" (see {inst.tracefs / 'events' / SYSTEM})")
    out: list[tuple[str, str | None]] = []
    for n in dict.fromkeys(names):
        out += [(SYSTEM, f"sys_enter_{n}"), (SYSTEM, f"sys_exit_{n}")]
    return out


def _configure(session: FtraceSession) -> None:
    enable_all(session, events_for(session, session.opts.extra.get("syscalls")))


def create(hook: Hook, opts: HookOptions, caps: Capabilities) -> FtraceSession:
    return FtraceSession(hook, opts, _configure)
