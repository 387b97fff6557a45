"""Names of what we create in the kernel: `tracer_<stem>_<pid of the owner>`.

The prefix lets --clear tell our objects from everyone else's; the owner PID
suffix lets it skip the objects of sessions that are still running.
"""

from __future__ import annotations

import os
import re

from tracer import paths
from tracer.errors import TracerError

_OWNER = re.compile(r"_(\d+)$")
# Instance and dynamic event group names end up as directory names and in
# "p:GROUP/EVENT" commands; keep them to characters every kernel accepts there.
_STEM = re.compile(r"[A-Za-z0-9_-]+")


def owned_name(stem: str, pid: int | None = None, dash_ok: bool = True) -> str:
    """`tracer_<stem>_<pid>`; without `dash_ok` dashes become underscores.

    Dynamic event group names must be C identifiers, instance names need not be.
    """
    if not _STEM.fullmatch(stem):
        raise TracerError(f"bad tracefs name stem '{stem}': use letters, digits, '_' and '-'")
    if not dash_ok:
        stem = stem.replace("-", "_")
    return f"{paths.PREFIX}{stem}_{os.getpid() if pid is None else pid}"


def is_ours(name: str) -> bool:
    return name.startswith(paths.PREFIX)


def owner_pid(name: str) -> int | None:
    m = _OWNER.search(name)
    return int(m.group(1)) if m else None


def owner_alive(name: str) -> bool:
    """True when the process named by the `_<pid>` suffix still runs (and is not us).

    We are excluded so that --clear run from a session's own process, or a test,
    still removes what it considers leftovers.
    """
    pid = owner_pid(name)
    return pid is not None and pid != os.getpid() and (paths.procfs() / str(pid)).is_dir()
