"""The hook catalogue: every hook of every subsystem, by name (names are unique).

It sits above the subsystems whose hook descriptions it gathers: everything it
imports points down, and no subsystem imports it.
"""

from __future__ import annotations

from tracer.ebpf.hookdefs import HOOKS as EBPF
from tracer.errors import TracerError, quote
from tracer.ftrace.hookdefs import HOOKS as FTRACE
from tracer.hooks.spec import Hook
from tracer.policy.hookdefs import PREFIX as POLICY_PREFIX
from tracer.policy.hookdefs import hooks as policy_hooks

SUBSYSTEMS = ("ebpf", "ftrace")
ALL: tuple[Hook, ...] = (*EBPF, *FTRACE)


def hooks(subsystem: str | None = None) -> list[Hook]:
    # policy hooks are files an administrator drops in policies/: read at each call
    every = (*EBPF, *policy_hooks(), *FTRACE)
    return [h for h in every if subsystem is None or h.subsystem == subsystem]


def get(name: str, subsystem: str | None = None) -> Hook:
    # the built-in hooks first: reading every policy file would cost a --run a tenth of a second
    builtin = [h for h in ALL if subsystem is None or h.subsystem == subsystem]
    for h in builtin if not name.startswith(POLICY_PREFIX) else hooks(subsystem):
        if h.name == name:
            return h
    names = ", ".join(h.name for h in hooks(subsystem))
    where = f"the {subsystem} manager" if subsystem else "tracer"
    raise TracerError(f"unknown hook {quote(name)} for {where}: use one of {names} (see --get-all)")
