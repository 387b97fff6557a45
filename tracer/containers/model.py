"""What we know about one container: who runs it and which host tasks are in it."""

from __future__ import annotations

from dataclasses import dataclass

ID_LEN = 64
SHORT_LEN = 12  # the length docker and podman print


@dataclass(frozen=True)
class Container:
    id: str  # 64 lowercase hex digits
    runtime: str  # podman, docker, containerd or cri-o
    name: str | None = None  # from the podman/docker CLI when one is installed
    pids: tuple[int, ...] = ()  # host PIDs (thread-group ids) of its processes, sorted
    # Every cgroup directory of the container as /proc/PID/cgroup names them
    # (cut at the container's own component), v1 controllers and v2 alike.
    cgroup_paths: tuple[str, ...] = ()
    cgroup_v2_path: str | None = None  # its directory in the unified hierarchy, if it has one

    @property
    def short_id(self) -> str:
        return self.id[:SHORT_LEN]

    @property
    def label(self) -> str:
        """How messages name it: short id, and its name when known."""
        return f"{self.short_id} ({self.name})" if self.name else self.short_id
