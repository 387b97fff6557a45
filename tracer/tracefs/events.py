"""Trace events under an `events/` directory (of the top instance or of one instance)."""

from __future__ import annotations

from pathlib import Path

from tracer.errors import TracerError, quote
from tracer.tracefs import files

# Files that sit beside the system directories, not event systems themselves.
_NOT_SYSTEMS = {"enable", "filter", "header_event", "header_page"}


def systems(root: Path) -> list[str]:
    """Event systems (groups) of the instance rooted at `root`."""
    d = root / "events"
    return sorted(p.name for p in d.iterdir() if p.is_dir() and p.name not in _NOT_SYSTEMS)


def events(root: Path, system: str) -> list[str]:
    d = root / "events" / system
    if not d.is_dir():
        raise TracerError(f"no event system {quote(system)} in {root / 'events'}")
    return sorted(p.name for p in d.iterdir() if p.is_dir())


def event_dir(root: Path, system: str, event: str | None = None) -> Path:
    d = root / "events" / system
    if event:
        d = d / event
    if not d.is_dir():
        name = f"{system}:{event}" if event else system
        raise TracerError(f"no trace event {name} in {root / 'events'}")
    return d


def exists(root: Path, system: str, event: str | None = None) -> bool:
    d = root / "events" / system
    return (d / event if event else d).is_dir()


def set_enabled(root: Path, system: str, event: str | None, on: bool) -> None:
    """Enable or disable one event, or a whole system when `event` is None."""
    d = event_dir(root, system, event)
    name = f"{system}:{event}" if event else system
    files.write(d / "enable", "1" if on else "0", f"{'enable' if on else 'disable'} {name}")


def is_enabled(root: Path, system: str, event: str) -> bool:
    return files.read(event_dir(root, system, event) / "enable").strip() == "1"


def set_filter(root: Path, system: str, event: str | None, expr: str) -> None:
    """Set (or with expr '0' clear) the filter of an event or of every event of a system."""
    d = event_dir(root, system, event)
    name = f"{system}:{event}" if event else system
    try:
        files.write(d / "filter", expr, f"set the filter of {name}")
    except TracerError:
        # The kernel explains a bad filter by reading it back.
        detail = " ".join(files.read(d / "filter").split()) if event else ""
        raise TracerError(f"bad filter {quote(expr)} for {name}:"
                          f" {detail or 'rejected by the kernel'}") from None


def get_filter(root: Path, system: str, event: str) -> str:
    return files.read(event_dir(root, system, event) / "filter").strip()
