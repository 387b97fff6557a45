"""Say in the trace file, while tracing goes on, when a traced container exits."""

from __future__ import annotations

import time

from tracer.containers import cache, unified
from tracer.containers.hooks import ContainerTags
from tracer.containers.model import Container
from tracer.containers.resolve import resolve
from tracer.errors import TracerError
from tracer.pipeline.writer import TraceWriter

CHECK_EVERY = 1.0  # seconds


class ContainerWatch:
    def __init__(self, tags: ContainerTags) -> None:
        self.tags = tags
        self.reported: set[str] = set()
        self.last = 0.0

    def check(self, writer: TraceWriter, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < CHECK_EVERY:
            return
        self.last = now
        for c in self.tags.exited():
            if c.short_id not in self.reported:
                self.reported.add(c.short_id)
                writer.note(f"container {c.label} exited during the trace; tracing goes on")


def remember_tasks(tags: ContainerTags) -> set[int]:
    """Tag every task in the traced containers now with its container, so its lines are
    tagged even once it has exited; the tasks' ids."""
    seen: set[int] = set()
    for c in tags.containers:
        found = unified.tasks(c)
        if found is None:  # no v2 directory visible: ask the runtime (slower)
            found = _pids_of(c)
        for t in found:
            cache.remember(t, c.short_id)
        seen |= found
    return seen


def current_pids(tags: ContainerTags) -> set[int]:
    """The PIDs in the traced containers now (a container that is gone has none)."""
    return set().union(*(_pids_of(c) for c in tags.containers))


def _pids_of(c: Container) -> set[int]:
    try:
        return set().union(*(r.pids for r in resolve([c.id])))
    except TracerError:
        return set()


class Constant:
    """A tagger giving every task the same container id (the session traces only it)."""

    def __init__(self, tags: ContainerTags, cid: str) -> None:
        self.inner = tags
        self.containers = tags.containers
        self.cid = cid

    def __call__(self, pid: int) -> str:
        return self.cid

    def exited(self) -> list[Container]:
        return self.inner.exited()
