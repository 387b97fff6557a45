"""Names of what we create in the kernel: `tracer_<stem>_<owner pid>s<owner start time>`.

The prefix lets --clear tell our objects from everyone else's; the owner suffix lets
it skip the objects of sessions that are still running. A PID alone is not enough:
once the owner is gone its PID is reused, so the owner is the process with that PID
*and* that start time (clock ticks after boot, /proc/PID/stat field 22).
"""

from __future__ import annotations

import os
import re

from tracer import paths
from tracer.errors import TracerError, quote

_OWNER = re.compile(r"_([0-9]+)(?:s([0-9]+))?$")
# Instance and dynamic event group names end up as directory names and in
# "p:GROUP/EVENT" commands; keep them to characters every kernel accepts there.
_STEM = re.compile(r"[A-Za-z0-9_-]+")


def owned_name(stem: str, pid: int | None = None, dash_ok: bool = True) -> str:
    """`tracer_<stem>_<pid>`; without `dash_ok` dashes become underscores.

    Dynamic event group names must be C identifiers, instance names need not be.
    """
    if not _STEM.fullmatch(stem):
        raise TracerError(f"bad tracefs name stem {quote(stem)}: use letters, digits, '_' and '-'")
    if not dash_ok:
        stem = stem.replace("-", "_")
    pid = os.getpid() if pid is None else pid
    start = start_time(pid)
    return f"{paths.PREFIX}{stem}_{pid}" + (f"s{start}" if start is not None else "")


def start_time(pid: int) -> int | None:
    """When `pid` started, in clock ticks after boot (None: no such process)."""
    try:
        stat = (paths.procfs() / str(pid) / "stat").read_bytes()
        return int(stat.rsplit(b")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def owner(name: str) -> tuple[int | None, int | None]:
    """(owner PID, owner start time) from a name; the start time is None in old names."""
    m = _OWNER.search(name)
    if not m:
        return None, None
    return int(m.group(1)), (int(m.group(2)) if m.group(2) else None)


def is_ours(name: str) -> bool:
    return name.startswith(paths.PREFIX)


def owner_pid(name: str) -> int | None:
    return owner(name)[0]


def owner_alive(name: str) -> bool:
    """True when the process named by the suffix (PID and start time) still runs, and is not us.

    We are excluded so that --clear run from a session's own process, or a test,
    still removes what it considers leftovers.
    """
    pid, start = owner(name)
    if pid is None or pid == os.getpid():
        return False
    now = start_time(pid)
    return now is not None and (start is None or now == start)
