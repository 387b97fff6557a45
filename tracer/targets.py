"""Who a session traces: --pid and --container resolved once, before any source is built.

The sources get this typed set and never go back to the container layer to rewrite
their options: the PIDs to trace now, whether children follow, and (with
--container) the containers and the tagger that names a task's container.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracer import procfs
from tracer.containers.hooks import ContainerTags
from tracer.containers.model import Container
from tracer.containers.resolve import resolve as resolve_containers


@dataclass(frozen=True)
class Targets:
    pids: tuple[int, ...]  # the given PIDs, then the containers' processes at start
    follow_forks: bool = True
    containers: tuple[Container, ...] = ()
    tags: ContainerTags | None = None  # pid -> container short id; None without --container
    # pid -> start time (procfs.start_times), read when the pids were
    started: dict[int, int] = field(default_factory=dict, compare=False)

    def cgroup_ids(self) -> list[int]:
        """The containers' cgroup v2 ids (those that have one), for an in-kernel filter."""
        return [cg for cg in (self.tags.cgroup_ids.values() if self.tags else ()) if cg]

    def to_mark(self) -> dict[int, int]:
        """The PIDs a source marks as traced at start, each with its start time: `pids`
        and, when children follow, the processes they have started. A source checks the
        times after marking (procfs.replaced): a process that ended before its mark was
        written leaves a mark the kernel never clears, which a process reusing the number
        would inherit."""
        marked = {p: self.started[p] for p in self.pids if p in self.started}
        if self.follow_forks:
            marked.update(procfs.start_times(procfs.descendants(list(marked))))
        return marked


def resolve(pids: list[int], containers: list[str], follow_forks: bool = True) -> Targets:
    """The target set of `--pid pids --container containers`; a TracerError names a
    container that matches nothing (nothing is attached yet)."""
    found = resolve_containers(containers) if containers else []
    all_pids = list(dict.fromkeys(pids))
    for c in found:
        all_pids += [p for p in c.pids if p not in all_pids]
    return Targets(tuple(all_pids), follow_forks, tuple(found),
                   ContainerTags(found) if found else None, procfs.start_times(all_pids))
