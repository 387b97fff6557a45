"""Turn the traced PIDs into the task IDs the kernel's PID filters need.

set_event_pid and set_ftrace_pid match task (thread) IDs, so a multi-threaded
process is listed with all its threads; children started later are followed
by the event-fork / function-fork options instead.
"""

from __future__ import annotations

import os

from tracer import paths
from tracer.errors import TracerError


def task_ids(pid: int) -> list[int]:
    try:
        tids = sorted(int(t.name) for t in (paths.procfs() / str(pid) / "task").iterdir()
                      if t.name.isdigit())
    except OSError:
        raise TracerError(f"PID {pid} exited before tracing started") from None
    return tids or [pid]


def task_ids_if_alive(pid: int) -> list[int]:
    if pid == os.getpid():
        return []
    try:
        return task_ids(pid)
    except TracerError:
        return []


def task_ids_of(pids: tuple[int, ...], may_vanish: frozenset[int] = frozenset()) -> list[int]:
    """Every task ID to put in the PID filter (processes and their threads), each once.

    Never ours: a container that holds the tracer would otherwise have it trace its own
    writes, each traced write making more to write. A PID of `may_vanish` (a container's
    process: the container is the target) that is gone by now is left out; any other is
    an error.
    """
    tids: dict[int, None] = {}
    for pid in pids:
        if pid != os.getpid():
            tids.update(dict.fromkeys(task_ids_if_alive(pid) if pid in may_vanish else task_ids(pid)))
    return list(tids)
