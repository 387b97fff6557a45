"""container_of(pid): the short id that tags each event line, cheap enough to call per event.

The answer depends only on the task's cgroup, so a cached entry is re-read
from /proc/PID/cgroup once it is older than TTL: that bounds the cost to one
small read per PID per TTL and also catches PID reuse (a recycled PID in
another cgroup gets the right answer at the next re-read; forget() on the exit
event makes it exact). When the task is already gone we keep what we knew,
because the event being formatted came from it before it exited.
"""

from __future__ import annotations

import os
import time

from tracer.containers import cgroup, unified
from tracer.containers.model import SHORT_LEN

TTL = 1.0  # seconds
MAX_ENTRIES = 1 << 16  # a long trace without exit events must not grow without bound
_by_pid: dict[int, tuple[str | None, float]] = {}
_by_cgroup: dict[int, str | None] = {}
_cgroup_scanned = 0.0


def _lookup(pid: int) -> str | None | bool:
    """The short id, None for a host task, False when the task is gone."""
    text = cgroup.read(pid)
    if text is None:
        return False
    found = cgroup.matches(text)
    return found[-1].id[:SHORT_LEN] if found else None  # the innermost container


def container_of(pid: int) -> str | None:
    """The 12-char id of the container host PID `pid` is in, None for a host process."""
    now = time.monotonic()
    hit = _by_pid.get(pid)
    if hit is not None and now < hit[1]:
        return hit[0]
    got = _lookup(pid)
    if got is False:
        cid = hit[0] if hit is not None else None
    else:
        cid = got  # type: ignore[assignment]
    if len(_by_pid) >= MAX_ENTRIES:
        _by_pid.clear()  # cheaper than LRU bookkeeping per event; refills from /proc
    _by_pid[pid] = (cid, now + TTL)
    return cid


def knows(pid: int) -> bool:
    """Whether a tag for `pid` can be had: a cached entry, or its task still exists."""
    return pid in _by_pid or cgroup.read(pid) is not None


def note_fork(parent: int, child: int) -> None:
    """On a fork event: the child starts in its parent's cgroup, even if it exits before we look."""
    hit = _by_pid.get(parent)
    cid = hit[0] if hit is not None else container_of(parent)
    _by_pid[child] = (cid, time.monotonic() + TTL)


def remember(pid: int, short_id: str | None) -> None:
    """Seed the cache (e.g. with the PIDs resolve() found when the trace starts)."""
    _by_pid[pid] = (short_id, time.monotonic() + TTL)


def forget(pid: int) -> None:
    """On an exit event, so a reused PID is looked up afresh."""
    _by_pid.pop(pid, None)


def clear() -> None:
    global _cgroup_scanned
    _by_pid.clear()
    _by_cgroup.clear()
    _cgroup_scanned = 0.0


def _scan_cgroups() -> None:
    top = unified.root()
    if top is None:
        return
    for dirpath, _dirs, _files in os.walk(top):
        rel = "/" + os.path.relpath(dirpath, top)
        found = cgroup.matches_in_path(rel)
        if found:
            try:
                _by_cgroup[os.stat(dirpath).st_ino] = found[-1].id[:SHORT_LEN]
            except OSError:
                pass


def container_of_cgroup(cgroup_id: int) -> str | None:
    """The short id for a v2 cgroup id as bpf_get_current_cgroup_id() gives it.

    Exact even for tasks long gone, which is why a BPF record carrying the cgroup
    id is the better key; unknown ids trigger a rescan of the hierarchy at most
    once per TTL and are then remembered as host cgroups.
    """
    global _cgroup_scanned
    if cgroup_id in _by_cgroup:
        return _by_cgroup[cgroup_id]
    now = time.monotonic()
    if now - _cgroup_scanned >= TTL:
        _cgroup_scanned = now
        _scan_cgroups()
        if cgroup_id in _by_cgroup:
            return _by_cgroup[cgroup_id]
        _by_cgroup[cgroup_id] = None
    return None
