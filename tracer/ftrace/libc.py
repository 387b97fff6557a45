"""Which C library the traced processes run, as a path the kernel can open from here.

A traced process may live in another mount namespace (a container): the path
in its /proc/PID/maps is then relative to its root, so we go through
/proc/PID/root unless the plain path names the very same file (same device and
inode as the mapping) here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from tracer import paths
from tracer.errors import TracerError

# libc.so.6 (glibc), libc.musl-x86_64.so.1 / ld-musl-*.so.1 (musl: libc is the loader).
_LIBC = re.compile(r"/(libc[.-][^/]*\.so[.\d]*|libc\.so\.\d+|ld-musl-[^/]+\.so\.\d+)$")


@dataclass(frozen=True)
class Library:
    path: str  # as the kernel should open it from our mount namespace
    dev: int
    inode: int


def _mapped_libc(pid: int) -> tuple[str, int, int] | None:
    """(path in the process's namespace, device, inode) of its mapped C library."""
    try:
        text = (paths.procfs() / str(pid) / "maps").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and _LIBC.search(parts[5]) and not parts[5].endswith(" (deleted)"):
            major, minor = (int(x, 16) for x in parts[3].split(":"))
            return parts[5], os.makedev(major, minor), int(parts[4])
    return None


def _same_file(path: str, dev: int, inode: int) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    # The maps device number and stat's can differ for overlay-like filesystems;
    # the inode alone then decides, which is safe because we also compare paths.
    return st.st_ino == inode and (st.st_dev == dev or os.major(dev) == 0)


def libraries(pids: list[int]) -> list[Library]:
    """The distinct C libraries mapped by `pids`; a TracerError if none maps one."""
    found: dict[tuple[int, int], Library] = {}
    for pid in pids:
        mapped = _mapped_libc(pid)
        if mapped is None:
            continue
        path, dev, inode = mapped
        if (dev, inode) in found:
            continue
        if not _same_file(path, dev, inode):
            path = str(paths.procfs() / str(pid) / "root" / path.lstrip("/"))
            if not _same_file(path, dev, inode):
                continue
        found[(dev, inode)] = Library(path, dev, inode)
    if not found:
        raise TracerError(f"no C library found in the maps of PID(s) {', '.join(map(str, pids))}:"
                          " ftrace-files probes libc's open functions, so it cannot trace a static"
                          " binary; use ebpf-files or ftrace-syscalls --syscalls openat")
    return list(found.values())
