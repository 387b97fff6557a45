"""Decide what goes where for the traced PIDs: tc on our veth ends, programs on cgroups.

    targets = links.discover(pids)          # by network namespace
    plan = make_plan(targets, pids, ...)    # tc links, cgroup dirs (capture or attribution)
    plan.describe()                         # the '#' lines saying so
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tracer.containers import cgroup as cgroups
from tracer.containers import unified
from tracer.errors import TracerError
from tracer.net.links import HostLink, NetTarget


@dataclass
class NetPlan:
    targets: list[NetTarget]
    tc_links: list[tuple[HostLink, NetTarget]] = field(default_factory=list)
    # cgroup v2 directory -> True: its programs also emit (no tc sees its packets)
    cgroups: dict[Path, bool] = field(default_factory=dict)
    cgroup_targets: dict[Path, list[int]] = field(default_factory=dict)

    def describe(self) -> list[str]:
        lines = []
        for t in self.targets:
            who = "PID" + ("s " if len(t.pids) > 1 else " ") + ",".join(map(str, t.pids[:8]))
            if t.shared:
                lines.append(f"{who}: host network namespace (no namespace of its own): packets are"
                             " taken by cgroup_skb programs on the process's cgroup, only sockets"
                             " opened after the start are attributed, and kept")
            elif t.host_links:
                ends = ", ".join(f"{h.inner} (our end {h.name})" for h in t.host_links)
                lines.append(f"{who}: network namespace {t.inode}, tc clsact ingress+egress on {ends}")
                if any(i.kind == "loopback" for i in t.inner):
                    lines.append(f"{who}: loopback traffic inside namespace {t.inode}: taken by the"
                                 " cgroup_skb programs as it leaves (or enters) a socket of the target")
            else:
                lines.append(f"{who}: network namespace {t.inode} has no veth into ours; packets are"
                             " taken by cgroup_skb programs on the process's cgroup")
        for d, capture in self.cgroups.items():
            lines.append(f"cgroup {d}: {'capture and ' if capture else ''}process attribution"
                         " (socket create/bind/connect/sendmsg, cgroup_skb)")
        return lines


def cgroup_dir(pid: int) -> Path:
    """The v2 cgroup directory of a process (where cgroup BPF programs attach)."""
    text = cgroups.read(pid)
    top = unified.root()
    if top is None:
        raise TracerError("no cgroup v2 hierarchy is mounted (ebpf-packets attaches programs"
                          " to it): mount one at /sys/fs/cgroup/unified or /sys/fs/cgroup")
    for line in cgroups.parse(text or ""):
        if line.hierarchy == 0 and ".." not in line.path.split("/"):
            return top / line.path.lstrip("/")
    raise TracerError(f"PID {pid} has no cgroup v2 directory visible here; is it still running?")


def _outermost(dirs: dict[Path, bool]) -> dict[Path, bool]:
    """Programs on a cgroup also run for its descendants: keep only the outermost ones."""
    keep = {}
    for d, capture in dirs.items():
        parents = [p for p in dirs if p != d and p in d.parents]
        if not parents:
            keep[d] = capture or any(dirs[x] for x in dirs if d in x.parents)
    return keep


def make_plan(targets: list[NetTarget], container_dirs: dict[int, Path]) -> NetPlan:
    """container_dirs: PID -> its container's cgroup directory (for --container targets)."""
    plan = NetPlan(targets)
    dirs: dict[Path, bool] = {}
    for t in targets:
        capture = not t.host_links
        for link in t.host_links:
            plan.tc_links.append((link, t))
        for pid in t.pids:
            d = container_dirs.get(pid) or cgroup_dir(pid)
            dirs[d] = dirs.get(d, False) or capture
            plan.cgroup_targets.setdefault(d, []).append(pid)
    plan.cgroups = _outermost(dirs)
    return plan
