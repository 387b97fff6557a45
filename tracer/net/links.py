"""Where a target's packets flow: its network namespace and the host-side end of its links.

A container's namespace is joined to ours by a veth pair; the end inside reports its
peer's interface index (IFLA_LINK) and the peer's namespace (IFLA_LINK_NETNSID). tc
programs go on our end, so the container cannot see or remove them. Everything is
read through pyroute2 netlink sockets: one opened in our namespace, and one opened in
the target's namespace from a short-lived thread that setns()es into it (a thread's
namespace is its own; the socket keeps the namespace it was created in).
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass, field

from tracer import paths
from tracer.errors import TracerError

CLONE_NEWNET = 0x40000000


@dataclass(frozen=True)
class Iface:
    index: int
    name: str
    kind: str  # "veth", "loopback", ... ("" when the kernel does not say)


@dataclass(frozen=True)
class HostLink:
    """Our end of a link into the target's namespace, with the name of the end inside."""

    index: int
    name: str
    inner: str


@dataclass
class NetTarget:
    """One network namespace the traced PIDs live in."""

    inode: int
    pids: list[int]
    ns_path: str  # /proc/PID/ns/net of one of them
    shared: bool  # True: it is our own namespace (host network)
    inner: list[Iface] = field(default_factory=list)
    host_links: list[HostLink] = field(default_factory=list)


def _attr(msg: object, name: str) -> object:
    return msg.get_attr(name)  # type: ignore[attr-defined]


def _kind(msg: object) -> str:
    info = _attr(msg, "IFLA_LINKINFO")
    kind = info.get_attr("IFLA_INFO_KIND") if info else None  # type: ignore[attr-defined]
    if kind:
        return str(kind)
    return "loopback" if _attr(msg, "IFLA_IFNAME") == "lo" else ""


def netns_inode(pid: int) -> int:
    path = paths.procfs() / str(pid) / "ns/net"
    try:
        return os.stat(path).st_ino
    except OSError as e:
        raise TracerError(f"cannot read the network namespace of PID {pid} ({path}): {e.strerror};"
                          " is the process still running?") from None


def own_inode() -> int:
    return os.stat("/proc/self/ns/net").st_ino


def _in_netns(ns_path: str, work: object) -> object:
    """Run work(IPRoute) on a netlink socket opened inside the namespace at ns_path."""
    from pyroute2 import IPRoute

    out: dict[str, object] = {}

    def run() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(ns_path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
            finally:
                os.close(fd)
            with IPRoute() as ipr:
                out["value"] = work(ipr)  # type: ignore[operator]
        except BaseException as e:  # handed to the caller's thread
            out["error"] = e

    t = threading.Thread(target=run, name="tracer-netns", daemon=True)
    t.start()
    t.join()
    if "error" in out:
        e = out["error"]
        raise TracerError(f"cannot read the interfaces of network namespace {ns_path}: {e}") from None
    return out["value"]


def _inner_links(ipr: object) -> list[tuple[Iface, int | None, int | None]]:
    found = []
    for m in ipr.get_links():  # type: ignore[attr-defined]
        iface = Iface(m["index"], str(_attr(m, "IFLA_IFNAME")), _kind(m))
        found.append((iface, _attr(m, "IFLA_LINK"), _attr(m, "IFLA_LINK_NETNSID")))
    return found


def discover(pids: list[int]) -> list[NetTarget]:
    """Group `pids` by network namespace and find our end of each namespace's veths; a PID
    whose process has ended is left out."""
    from pyroute2 import IPRoute

    own = own_inode()
    by_ns: dict[int, NetTarget] = {}
    for pid in pids:
        try:
            ino = netns_inode(pid)
        except TracerError:
            if (paths.procfs() / str(pid)).exists():
                raise
            continue
        if ino in by_ns:
            by_ns[ino].pids.append(pid)
            continue
        by_ns[ino] = NetTarget(ino, [pid], str(paths.procfs() / str(pid) / "ns/net"), ino == own)
    with IPRoute() as ipr:
        ours = {m["index"]: m for m in ipr.get_links()}
        for t in by_ns.values():
            if t.shared:
                t.inner = [Iface(i, str(_attr(m, "IFLA_IFNAME")), _kind(m)) for i, m in ours.items()]
                continue
            inner = _in_netns(t.ns_path, _inner_links)
            t.inner = [i for i, _, _ in inner]  # type: ignore[misc]
            fd = os.open(t.ns_path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                nsid = ipr.get_netnsid(fd=fd).get("nsid", -1)
            finally:
                os.close(fd)
            for iface, peer, peer_ns in inner:  # type: ignore[misc]
                m = ours.get(peer) if peer is not None and peer_ns is not None else None
                if m is None or _kind(m) != "veth" or _attr(m, "IFLA_LINK") != iface.index:
                    continue
                if nsid >= 0 and _attr(m, "IFLA_LINK_NETNSID") != nsid:
                    continue  # the same indexes, but another namespace's pair
                t.host_links.append(HostLink(m["index"], str(_attr(m, "IFLA_IFNAME")), iface.name))
    return list(by_ns.values())
