"""The container's directory in the cgroup v2 (unified) hierarchy: its id and whether it is populated.

bpf_get_current_cgroup_id() returns the kernfs id of the task's v2 cgroup, which
is the inode number of that directory; comparing it in the kernel is the cheap
way to keep one container's events. On a hybrid host (v1 controllers plus
/sys/fs/cgroup/unified) a runtime may leave its containers at the v2 root,
and then there is no id to filter on.
"""

from __future__ import annotations

import os
from pathlib import Path

from tracer import paths
from tracer.containers import cgroup, scan
from tracer.containers.model import Container


def root() -> Path | None:
    """Where the v2 hierarchy is mounted (hybrid layout first), None without one."""
    base = paths.sysfs() / "fs/cgroup"
    for cand in (base / "unified", base):
        if (cand / "cgroup.controllers").exists():
            return cand
    return None


def directory(container: Container) -> Path | None:
    top = root()
    rel = container.cgroup_v2_path
    # "/../.." means the container is outside our cgroup namespace (we run in a
    # container with the host's /proc): the directory is not under our mount.
    if top is None or not rel or ".." in rel.split("/"):
        return None
    return top / rel.lstrip("/")


def cgroup_id(container: Container) -> int | None:
    """The v2 cgroup id of the container's own directory, None when it has none.

    Tasks may sit in sub-directories of it (a container running systemd uses
    <scope>/init.scope and friends): an in-kernel filter that must catch them
    compares bpf_get_current_ancestor_cgroup_id(cgroup_level(container)) instead.
    """
    d = directory(container)
    try:
        return os.stat(d).st_ino if d else None
    except OSError:
        return None


def cgroup_level(container: Container) -> int | None:
    """Depth of the container's v2 directory (the root is level 0), for the ancestor helper."""
    comps = [c for c in (container.cgroup_v2_path or "").split("/") if c]
    return len(comps) if comps and ".." not in comps else None


def tasks(container: Container) -> set[int] | None:
    """The ids of the tasks in the container now, from its v2 directories' cgroup.threads
    (one file read per directory: cheap enough to run while a trace starts); None when it
    has no v2 directory visible from here."""
    d = directory(container)
    if d is None or not d.is_dir():
        return None
    found: set[int] = set()
    for dirpath, _dirs, _files in os.walk(d):
        try:
            found.update(int(t) for t in Path(dirpath, "cgroup.threads").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def _populated(d: Path) -> bool | None:
    """populated from cgroup.events; None when unreadable (gone, or not visible from here)."""
    try:
        for line in (d / "cgroup.events").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "populated":
                return value.strip() == "1"
    except OSError:
        pass
    return None


def is_running(container: Container) -> bool:
    """Whether any process is still in the container (for the 'exited during the trace' note)."""
    d = directory(container)
    if d is not None:
        state = _populated(d)
        if state is not None:
            return state
    # No v2 directory (none here, or the runtime already removed it, or our
    # sysfs is not the host's): ask /proc, the known PIDs first since that is usually enough.
    for pid in list(container.pids) + [p for p in scan.pids() if p not in container.pids]:
        text = cgroup.read(pid)
        if text and any(m.id == container.id for m in cgroup.matches(text)):
            return True
    return False
