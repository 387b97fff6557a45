"""What a hook's session needs for --container: PIDs to trace, a tagger, the exit note.

    opts, tags = targets(opts)      # opts.pids now holds every container process
    line_tag = tags(pid)            # 12-char id or None, per event
    line_tag = tags.of_cgroup(cg)   # the same from a record's bpf_get_current_cgroup_id()
    tags.note_fork(ppid, pid); tags.forget(pid)   # from fork/exit events, if seen
    notes = tags.notes()            # '#' lines for containers that exited meanwhile
"""

from __future__ import annotations

import dataclasses

from tracer.containers import cache, unified
from tracer.containers.model import Container
from tracer.containers.resolve import resolve
from tracer.hooks.options import HookOptions


class ContainerTags:
    """Callable pid -> short id (or None), knowing the containers the trace started with."""

    def __init__(self, containers: list[Container]) -> None:
        self.containers = containers
        # short id -> v2 cgroup id (None without one), for an in-kernel filter
        self.cgroup_ids = {c.short_id: unified.cgroup_id(c) for c in containers}
        for c in containers:
            for pid in c.pids:
                # Read now while the task exists (a nested task gets its inner
                # container); one that already exited keeps the id resolve() saw.
                if cache.container_of(pid) is None:
                    cache.remember(pid, c.short_id)

    def __call__(self, pid: int) -> str | None:
        return cache.container_of(pid)

    def of_cgroup(self, cgroup_id: int) -> str | None:
        """Tag from the record's bpf_get_current_cgroup_id(): right even for exited tasks."""
        return cache.container_of_cgroup(cgroup_id)

    note_fork = staticmethod(cache.note_fork)
    forget = staticmethod(cache.forget)

    def exited(self) -> list[Container]:
        return [c for c in self.containers if not unified.is_running(c)]

    def notes(self) -> list[str]:
        return [f"# container {c.label} exited during the trace" for c in self.exited()]


def targets(opts: HookOptions) -> tuple[HookOptions, ContainerTags]:
    """Resolve opts.containers (TracerError if one is unknown) and add their PIDs to opts.pids."""
    containers = resolve(opts.containers)
    pids = list(opts.pids)
    for c in containers:
        pids += [p for p in c.pids if p not in pids]
    return dataclasses.replace(opts, pids=pids), ContainerTags(containers)
