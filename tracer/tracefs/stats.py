"""Per-CPU ring buffer counters of an instance: how many events the kernel dropped."""

from __future__ import annotations

from pathlib import Path


def _field(text: str, name: str) -> int:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            try:
                return int(value.split()[0])
            except (IndexError, ValueError):
                return 0
    return 0


def lost_events(root: Path) -> int:
    """Events lost so far in the instance at `root`, summed over CPUs.

    "overrun" counts events overwritten before being read (the default,
    overwrite mode); "dropped events" counts those refused when overwrite is off.
    Only one of the two grows for a given buffer, so the sum is the loss.
    """
    total = 0
    for stats in sorted((root / "per_cpu").glob("cpu*/stats")):
        try:
            text = stats.read_text()
        except OSError:  # a CPU went offline under us
            continue
        total += _field(text, "overrun") + _field(text, "dropped events")
    return total
