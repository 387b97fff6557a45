"""Read a process's container from its /proc/PID/cgroup lines.

Every runtime names the container's cgroup after its 64-hex id, so one parser
covers all of them on cgroup v1 and v2:

  podman      libpod-<id>, libpod-<id>.scope (machine.slice, user@.service, libpod_parent)
  docker      docker-<id>.scope (systemd driver), /docker/<id> (cgroupfs driver)
  containerd  cri-containerd-<id>.scope, nerdctl-<id>.scope, kubepods.../<id>, /<namespace>/<id>
  cri-o       crio-<id>.scope

The monitors (libpod-conmon-<id>.scope, crio-conmon-<id>.scope) are not the
container and do not match: their component is not '<prefix>-<64 hex>'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracer import paths

_PREFIXED = re.compile(r"(libpod|docker|cri-containerd|crio|nerdctl)-([0-9a-f]{64})(?:\.scope)?")
_BARE = re.compile(r"[0-9a-f]{64}")
_RUNTIME = {"libpod": "podman", "docker": "docker", "cri-containerd": "containerd",
            "crio": "cri-o", "nerdctl": "containerd"}


@dataclass(frozen=True)
class Line:
    hierarchy: int  # 0 is the unified (v2) hierarchy
    controllers: str  # "" on v2, e.g. "cpu,cpuacct" or "name=systemd" on v1
    path: str


@dataclass(frozen=True)
class Match:
    id: str
    runtime: str
    path: str  # the cgroup path up to and including the container's component


def parse(text: str) -> list[Line]:
    lines = []
    for raw in text.splitlines():
        parts = raw.split(":", 2)
        if len(parts) == 3 and parts[0].isdigit():
            lines.append(Line(int(parts[0]), parts[1], parts[2]))
    return lines


def _bare_runtime(parent: str) -> str:
    # A bare id says nothing by itself: docker's cgroupfs driver puts it under
    # /docker, Kubernetes' cgroupfs driver under kubepods/<qos>/pod<uid>, and
    # containerd's own (ctr, nerdctl) under /<namespace>.
    return "docker" if parent == "docker" else "containerd"


def matches_in_path(path: str) -> list[Match]:
    """Every container a cgroup path is inside, outermost first (nesting is rare but real: kind)."""
    found: list[Match] = []
    comps = path.split("/")
    for i, comp in enumerate(comps):
        m = _PREFIXED.fullmatch(comp)
        if m:
            found.append(Match(m.group(2), _RUNTIME[m.group(1)], "/".join(comps[:i + 1])))
        elif _BARE.fullmatch(comp):
            found.append(Match(comp, _bare_runtime(comps[i - 1] if i else ""),
                               "/".join(comps[:i + 1])))
    return found


def _preferred(lines: list[Line]) -> list[Line]:
    # v2 first (its path is the one bpf_get_current_cgroup_id() sees), then the
    # systemd v1 hierarchy, then the controllers: on hybrid hosts some runtimes
    # leave the unified path at the host's (docker's cgroupfs driver does).
    def rank(line: Line) -> int:
        return 0 if line.hierarchy == 0 else 1 if line.controllers == "name=systemd" else 2
    return sorted(lines, key=rank)


def matches(text: str) -> list[Match]:
    """The containers of one process (outermost first), from the first line that names any."""
    for line in _preferred(parse(text)):
        found = matches_in_path(line.path)
        if found:
            return found
    return []


def container_paths(text: str, container_id: str) -> tuple[list[str], str | None]:
    """A container's directories in every hierarchy, and the v2 one, from one member's lines."""
    all_paths: list[str] = []
    v2 = None
    for line in parse(text):
        for m in matches_in_path(line.path):
            if m.id == container_id:
                if m.path not in all_paths:
                    all_paths.append(m.path)
                if line.hierarchy == 0:
                    v2 = m.path
    return all_paths, v2


def read(pid: int) -> str | None:
    """The text of /proc/PID/cgroup (through TRACER_PROCFS_PATH), None once the task is gone."""
    try:
        with open(paths.procfs() / str(pid) / "cgroup") as f:
            return f.read()
    except (OSError, ValueError):
        return None
