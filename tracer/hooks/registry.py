"""Every hook of every subsystem, by name. Names are unique across subsystems."""

from __future__ import annotations

from tracer.errors import TracerError, quote
from tracer.hooks.spec import Hook

SUBSYSTEMS = ("ebpf", "ftrace")


def hooks(subsystem: str | None = None) -> list[Hook]:
    from tracer.ebpf.hookdefs import HOOKS as EBPF
    from tracer.ftrace.hookdefs import HOOKS as FTRACE

    every = list(EBPF) + list(FTRACE)
    return [h for h in every if subsystem is None or h.subsystem == subsystem]


def get(name: str, subsystem: str | None = None) -> Hook:
    for h in hooks(subsystem):
        if h.name == name:
            return h
    names = ", ".join(h.name for h in hooks(subsystem))
    where = f"the {subsystem} manager" if subsystem else "tracer"
    raise TracerError(f"unknown hook {quote(name)} for {where}: use one of {names} (see --get-all)")
