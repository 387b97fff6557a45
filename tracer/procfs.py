"""The host's processes, read from procfs: every walk of /proc is here, through
paths.procfs() (TRACER_PROCFS_PATH when the host's /proc is mounted elsewhere)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from tracer import paths
from tracer.errors import TracerError


def pids() -> list[int]:
    """Every PID now, from one directory listing."""
    try:
        return [int(e.name) for e in os.scandir(paths.procfs()) if e.name.isascii() and e.name.isdigit()]
    except OSError as e:
        raise TracerError(f"cannot list {paths.procfs()}: {e.strerror}") from None


def exists(pid: int) -> bool:
    return (paths.procfs() / str(pid)).is_dir()


def _stat_field(pids: Iterable[int], field: int) -> dict[int, int]:
    """PID -> field number `field` of /proc/PID/stat (proc(5) numbering), for the PIDs alive."""
    out = {}
    proc = paths.procfs()
    for pid in pids:
        try:
            with open(f"{proc}/{pid}/stat", "rb") as f:
                # the name (field 2) may hold spaces and parentheses: count from its last ")"
                out[pid] = int(f.read().rsplit(b")", 1)[1].split()[field - 3])
        except (OSError, ValueError, IndexError):
            pass  # gone meanwhile
    return out


def parents() -> dict[int, int]:
    """PID -> parent PID of every process, from one pass over procfs."""
    return _stat_field(pids(), 4)


def start_times(of: Iterable[int]) -> dict[int, int]:
    """PID -> start time (clock ticks after boot) of those of `of` alive now. With its PID,
    it names one process: a later process given the same number has another."""
    return _stat_field(of, 22)


def replaced(started: dict[int, int]) -> list[int]:
    """The PIDs of `started` (from start_times) that no longer name the process they
    named then: it ended, and the number is free or another process's."""
    now = start_times(started)
    return [pid for pid, t in started.items() if now.get(pid) != t]


def descendants(roots: list[int]) -> list[int]:
    """The processes already started by `roots`, their children's children too.

    One procfs pass for any number of PIDs (a scan per PID took 18 s for 1000 of them).
    """
    if not roots:
        return []
    children: dict[int, list[int]] = {}
    for pid, ppid in parents().items():
        children.setdefault(ppid, []).append(pid)
    seen = set(roots)
    found: list[int] = []
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in seen:
                seen.add(child)
                found.append(child)
                todo.append(child)
    return found
