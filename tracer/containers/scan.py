"""Find every container with a process on this host by reading /proc/*/cgroup."""

from __future__ import annotations

from tracer import procfs
from tracer.containers import cgroup
from tracer.containers.model import Container
from tracer.errors import TracerError


def pids() -> list[int]:
    try:
        return procfs.pids()
    except TracerError:
        return []


def snapshot() -> dict[str, Container]:
    """id -> Container (without names) for each container that has a process now.

    A process in a nested container counts for the outer one too, so tracing the
    outer container traces everything inside it.
    """
    members: dict[str, list[int]] = {}
    runtime: dict[str, str] = {}
    first_text: dict[str, str] = {}
    for pid in pids():
        text = cgroup.read(pid)
        if not text:
            continue  # exited while we looked, or a kernel thread's empty file
        for m in cgroup.matches(text):
            members.setdefault(m.id, []).append(pid)
            runtime.setdefault(m.id, m.runtime)
            first_text.setdefault(m.id, text)
    found = {}
    for cid, pid_list in members.items():
        all_paths, v2 = cgroup.container_paths(first_text[cid], cid)
        found[cid] = Container(id=cid, runtime=runtime[cid], pids=tuple(sorted(pid_list)),
                               cgroup_paths=tuple(all_paths), cgroup_v2_path=v2)
    return found
