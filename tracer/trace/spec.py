"""Parse `[TARGET[,TARGET...]:]HANDLER[,HANDLER...]` and resolve both sides.

A TARGET is a PID today; other kinds (a container by name, later) register a
resolver in TARGET_KINDS under a prefix, e.g. `container=web`, and resolve to the
PIDs they stand for. A HANDLER is a syscall name, a family (files, process,
network) or the path of a handler file (it has a '/' or ends in '.c').
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from tracer import procfs
from tracer.errors import TracerError, quote
from tracer.syscalls import families

SYNTAX = "expected [PID[,PID...]:]HANDLER[,HANDLER...], e.g. 1234,5678:openat,read"
# prefix -> resolver(value) -> PIDs. `--container NAME` will add "container=" here.
TARGET_KINDS: dict[str, Callable[[str], list[int]]] = {}


@dataclass(frozen=True)
class Spec:
    targets: tuple[str, ...]  # empty: the default handler set
    handlers: tuple[str, ...]
    text: str


def is_pid(text: str) -> bool:
    """ASCII decimal digits only ('²'.isdigit() is True, int('²') fails)."""
    return text.isascii() and text.isdigit() and len(text) <= 10


def is_file(handler: str) -> bool:
    return "/" in handler or handler.endswith(".c")


def parse(text: str) -> Spec:
    """Split one SPEC; no lookups yet (see resolve_targets and the session)."""
    left, colon, right = text.partition(":")
    if colon and "/" not in left:  # a colon after a path's '/' belongs to the path
        targets, handlers = left, right
        if not targets:
            raise TracerError(f"bad spec {quote(text)}: nothing before ':'; {SYNTAX}")
        tlist = tuple(t.strip() for t in targets.split(","))
    else:
        handlers, tlist = text, ()
    hlist = tuple(h.strip() for h in handlers.split(","))
    if not handlers or any(not h for h in hlist) or any(not t for t in tlist):
        raise TracerError(f"bad spec {quote(text)}: {SYNTAX}")
    for t in tlist:
        if not is_pid(t) and not any(t.startswith(k) for k in TARGET_KINDS):
            raise TracerError(f"bad spec {quote(text)}: {quote(t)} is not a PID; {SYNTAX}")
    return Spec(tlist, hlist, text)


def pid_exists(pid: int) -> bool:
    return procfs.exists(pid)


def resolve_target(target: str) -> list[int]:
    """The PIDs `target` stands for; an error if there are none."""
    if is_pid(target):
        pid = int(target)
        if pid <= 0 or not pid_exists(pid):
            raise TracerError(f"no process with PID {target}")
        if pid == os.getpid():
            raise TracerError(f"PID {target} is the tracer itself")
        return [pid]
    for prefix, resolve in TARGET_KINDS.items():
        if target.startswith(prefix):
            pids = resolve(target[len(prefix):])
            if not pids:
                raise TracerError(f"{quote(target)} has no processes")
            return pids
    raise TracerError(f"{quote(target)} is not a PID; {SYNTAX}")


def resolve_targets(targets: tuple[str, ...]) -> list[int]:
    pids: list[int] = []
    for t in targets:
        pids += [p for p in resolve_target(t) if p not in pids]
    return pids


def family(handler: str) -> tuple[str, ...] | None:
    return families.FAMILIES.get(handler)
