"""What a hook's session needs for --container: a tagger and the exit note
(tracer/targets.py resolves the containers and builds it).

    line_tag = tags(pid)            # 12-char id or None, per event
    line_tag = tags.of_cgroup(cg)   # the same from a record's bpf_get_current_cgroup_id()
    tags.note_fork(ppid, pid); tags.forget(pid)   # from fork/exit events, if seen
    notes = tags.notes()            # '#' lines for containers that exited meanwhile
"""

from __future__ import annotations

from tracer.containers import cache, unified
from tracer.containers.model import Container


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
    knows = staticmethod(cache.knows)
    forget = staticmethod(cache.forget)

    def exited(self) -> list[Container]:
        return [c for c in self.containers if not unified.is_running(c)]

    def notes(self) -> list[str]:
        return [f"# container {c.label} exited during the trace" for c in self.exited()]

