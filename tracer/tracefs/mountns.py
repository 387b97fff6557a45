"""Make tracefs visible where BCC and we look, in this process's own mount namespace.

In container-tracer's DaemonSet the host's /sys is bound at TRACER_SYSFS_PATH (a
non-recursive bind hides the tracefs mounted under it) and /sys is the container's
own fresh sysfs, whose kernel/tracing is an empty directory. BCC reads tracepoint
formats only from /sys/kernel/{debug/,}tracing. So, where one of those directories
lacks tracefs, the manager moves itself into a private mount namespace (its copy of
every mount made private first, so nothing propagates back) and mounts tracefs
there. tracefs is one per kernel: the same instances and events as the host's; the
host's mounts are never changed. The cgroup v2 hierarchy, hidden the same way under the
bound /sys (ebpf-packets attaches to it, --container reads it), is mounted there likewise
when its directory is empty.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

from tracer.errors import TracerError

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
BCC_TRACEFS = Path("/sys/kernel/tracing")
BCC_DEBUGFS_TRACEFS = Path("/sys/kernel/debug/tracing")


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _is_tracefs(path: Path) -> bool:
    try:
        return (path / "events").is_dir() and (path / "trace").is_file()
    except OSError:
        return False


def missing_tracefs(sysfs: Path) -> list[Path]:
    """Mount points (existing empty sysfs directories) that should show tracefs but do not."""
    wanted = [] if _is_tracefs(BCC_DEBUGFS_TRACEFS) else [BCC_TRACEFS]
    wanted.append(sysfs / "kernel/tracing")
    out: list[Path] = []
    for p in wanted:
        if p not in out and p.is_dir() and not _is_tracefs(p):
            out.append(p)
    return out


def missing_cgroup2(sysfs: Path) -> Path | None:
    """sysfs/fs/cgroup when it is an empty directory (a non-recursive bind hid what was
    mounted there), so no cgroup hierarchy shows under it."""
    top = sysfs / "fs/cgroup"
    try:
        if not top.is_dir() or any(top.iterdir()):
            return None
    except OSError:
        return None
    return top


def ensure_tracefs(sysfs: Path) -> list[Path]:
    """Mount tracefs where missing_tracefs() says (and cgroup2 where missing_cgroup2() says),
    in a private mount namespace; return where.

    Call it before any thread starts (a namespace is changed for the calling thread only).
    Without root nothing is done: the usual errors say what is missing."""
    targets = missing_tracefs(sysfs)
    cgroup2 = missing_cgroup2(sysfs)
    if not (targets or cgroup2) or os.geteuid() != 0:
        return []
    libc = _libc()

    def check(rc: int, what: str) -> None:
        if rc != 0:
            err = ctypes.get_errno()
            raise TracerError(f"cannot {what}: {os.strerror(err)}; mount tracefs at"
                              f" {targets[0]} (mount -t tracefs nodev {targets[0]}) or give the"
                              " manager CAP_SYS_ADMIN")

    check(libc.unshare(CLONE_NEWNS), "make a private mount namespace for tracefs")
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make this process's mounts private")
    for t in targets:
        check(libc.mount(b"nodev", str(t).encode(), b"tracefs", 0, None), f"mount tracefs at {t}")
    if cgroup2 is not None and libc.mount(b"cgroup2", str(cgroup2).encode(), b"cgroup2", 0, None) == 0:
        targets.append(cgroup2)  # else: the hooks that need it say so when they run
    return targets
