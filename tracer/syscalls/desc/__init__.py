"""One description per x86_64 syscall, grouped by family like strace's tables.

    from tracer.syscalls import desc
    desc.by_name()["openat"].args[2].type   # 'open_flags'

Each family module holds CALLS; this package joins them and checks them once.
"""

from __future__ import annotations

import dataclasses
import functools

from tracer.syscalls.desc import files, ipc, memory, misc, net, process, signals, time
from tracer.syscalls.desc.model import AT_ENTRY, EXEC, FORK, NO_RETURN, SIGRETURN, Arg, Call, parse_args

FAMILIES = {"files": files, "process": process, "memory": memory, "net": net, "signals": signals,
            "time": time, "ipc": ipc, "misc": misc}

__all__ = ["AT_ENTRY", "EXEC", "FORK", "NO_RETURN", "SIGRETURN", "Arg", "Call", "all_calls", "by_name",
           "by_nr", "get", "parse_args", "with_flag"]


@functools.lru_cache(maxsize=1)
def all_calls() -> tuple[Call, ...]:
    """Every description, by number; each knows its family."""
    out = []
    for fam, mod in FAMILIES.items():
        out += [dataclasses.replace(c, family=fam) for c in mod.CALLS]
    out.sort(key=lambda c: c.nr)
    _check(out)
    return tuple(out)


def _check(calls: list[Call]) -> None:
    seen_nr: dict[int, str] = {}
    seen_name: set[str] = set()
    for c in calls:
        if c.nr in seen_nr or c.name in seen_name:
            raise ValueError(f"syscall described twice: {c.nr} {c.name}")
        seen_nr[c.nr] = c.name
        seen_name.add(c.name)
        names = [a.name for a in c.args]
        for a in c.args:
            if a.param and a.param[0].isalpha() and a.param not in names:
                raise ValueError(f"{c.name}: {a.name} refers to no argument {a.param}")
        if len(c.args) > 6:
            raise ValueError(f"{c.name}: more than 6 arguments")


@functools.lru_cache(maxsize=1)
def by_name() -> dict[str, Call]:
    return {c.name: c for c in all_calls()}


@functools.lru_cache(maxsize=1)
def by_nr() -> dict[int, Call]:
    return {c.nr: c for c in all_calls()}


def get(name: str) -> Call | None:
    return by_name().get(name)


def with_flag(flag: str) -> frozenset[str]:
    """Names of the calls that have `flag` (e.g. desc.EXEC)."""
    return frozenset(c.name for c in all_calls() if flag in c.flags)
