"""Locate tracefs through the (possibly relocated) host /proc and /sys."""

from __future__ import annotations

import re
from pathlib import Path

from tracer import paths
from tracer.errors import TracerError

_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def _mount_points(procfs: Path) -> list[tuple[str, str]]:
    try:
        text = (procfs / "mounts").read_text()
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out.append((_unescape(parts[1]), parts[2]))
    return out


def _is_tracefs(path: Path) -> bool:
    try:
        return (path / "trace").is_file() and (path / "events").is_dir()
    except PermissionError:
        raise TracerError(f"no permission to read {path}: run as root") from None


def candidates(procfs: Path | None = None, sysfs: Path | None = None) -> list[Path]:
    """Directories that may hold tracefs, best first, all inside `sysfs`.

    The mount table says where the host mounted tracefs (or debugfs); a mount
    point under /sys is re-rooted onto `sysfs`, so a host /sys mounted at
    /host/sys is followed, and a bogus TRACER_SYSFS_PATH is never silently
    replaced by our own /sys.
    """
    procfs = procfs or paths.procfs()
    sysfs = sysfs or paths.sysfs()
    found: list[Path] = []
    for point, fstype in _mount_points(procfs):
        if fstype not in ("tracefs", "debugfs"):
            continue
        rel = point.rstrip("/")
        if rel == "/sys" or rel.startswith("/sys/"):
            base = sysfs / rel[len("/sys/"):]
        elif sysfs == Path("/sys"):
            base = Path(rel)
        else:
            continue
        found.append(base if fstype == "tracefs" else base / "tracing")
    found += [sysfs / "kernel/tracing", sysfs / "kernel/debug/tracing"]
    unique: list[Path] = []
    for c in found:
        if c not in unique:
            unique.append(c)
    return unique


def find_tracefs(procfs: Path | None = None, sysfs: Path | None = None) -> Path:
    """The tracefs root, or a TracerError saying how to get one."""
    sysfs = sysfs or paths.sysfs()
    for c in candidates(procfs, sysfs):
        if _is_tracefs(c):
            return c
    raise TracerError(
        f"tracefs not found under {sysfs} (looked at {sysfs}/kernel/tracing and the mount table):"
        f" mount it with 'mount -t tracefs nodev {sysfs}/kernel/tracing'"
        f" or set {paths.SYSFS_ENV} to the host's /sys"
    )
