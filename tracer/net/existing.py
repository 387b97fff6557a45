"""The owners of sockets the targets opened before the session: the cgroup programs learn
owners as sockets are created, bound or connected, which a socket that already exists never
is again.

Each socket descriptor of a target (/proc/PID/fd) is copied into this process with
pidfd_getfd(2) for a moment, long enough to read its cookie (SO_COOKIE, the key the BPF
programs use) and, for a listener or a bound UDP socket, its protocol and local port.
"""

from __future__ import annotations

import ctypes
import os
import socket
from dataclasses import dataclass
from typing import Iterator

from tracer import paths
from tracer.syscalls import desc

SYS_PIDFD_GETFD = desc.by_name()["pidfd_getfd"].nr  # os has no pidfd_getfd (Python 3.11)
SO_COOKIE = 57

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


@dataclass(frozen=True)
class Held:
    """One socket a target holds."""

    pid: int
    comm: str
    cookie: int
    port_key: int | None  # proto << 16 | local port, for a listener or an unconnected UDP socket


def _socket_fds(pid: int) -> list[int]:
    base = paths.procfs() / str(pid) / "fd"
    out = []
    try:
        for e in os.scandir(base):
            try:
                if os.readlink(e.path).startswith("socket:"):
                    out.append(int(e.name))
            except (OSError, ValueError):
                pass  # closed meanwhile
    except OSError:
        pass  # the process is gone, or we may not look
    return out


def _comm(pid: int) -> str:
    try:
        return (paths.procfs() / str(pid) / "comm").read_text().strip()
    except OSError:
        return "?"


def _port_key(s: socket.socket) -> int | None:
    try:
        port = s.getsockname()[1]
    except OSError:
        return None
    if not port:
        return None
    if s.type == socket.SOCK_STREAM:
        if not s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            return None
        return socket.IPPROTO_TCP << 16 | port
    if s.type == socket.SOCK_DGRAM:
        try:
            s.getpeername()
            return None  # connected: its flow names it
        except OSError:
            return socket.IPPROTO_UDP << 16 | port
    return None


def _held_by(pid: int) -> Iterator[Held]:
    fds = _socket_fds(pid)
    if not fds:
        return
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return  # gone, or a kernel without pidfd_open
    comm = _comm(pid)
    try:
        for fd in fds:
            mine = _libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
            if mine < 0:
                continue
            try:
                s = socket.socket(fileno=mine)
            except OSError:
                os.close(mine)
                continue
            try:
                if s.family not in (socket.AF_INET, socket.AF_INET6):
                    continue  # no packet of ours names it
                cookie = int.from_bytes(s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8), "little")
                yield Held(pid, comm, cookie, _port_key(s))
            except OSError:
                pass  # not an inet socket the kernel gives a cookie for
            finally:
                s.detach()
                os.close(mine)
    finally:
        os.close(pidfd)


def held(pids: list[int]) -> list[Held]:
    """Every socket `pids` hold now, once each (a socket shared by several processes is
    named after the first of them)."""
    seen: dict[int, Held] = {}
    for pid in pids:
        for h in _held_by(pid):
            seen.setdefault(h.cookie, h)
    return list(seen.values())
