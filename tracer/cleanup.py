"""`--clear`: remove what a killed run of ours left in the kernel, and nothing else.

Ours is recognised by the name prefix every session uses (paths.PREFIX) for
tracefs instances, dynamic event groups and pinned BPF objects; a name ending
in the PID of a process still running belongs to a live session and is left
alone. BPF programs and maps that are not pinned die with the process that
loaded them. Running it twice is harmless: the second run finds nothing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tracer import paths
from tracer.errors import TracerError
from tracer.tracefs import dynevent, instance, naming
from tracer.tracefs.mount import find_tracefs

PIN_DIR = "fs/bpf/tracer"


def _leftover(name: str) -> bool:
    return naming.is_ours(name) and not naming.owner_alive(name)


def _clear_instances(tracefs: Path) -> list[str]:
    done = []
    for inst in instance.ours(tracefs):
        if not _leftover(inst.name):
            continue
        try:
            inst.destroy()
        except TracerError as e:
            raise TracerError(f"{e}; stop the process reading it and retry --clear") from None
        done.append(f"removed tracefs instance {inst.name}")
    return done


def _clear_dynamic_events(tracefs: Path) -> list[str]:
    done = []
    for ev in dynevent.dynevents(tracefs=tracefs):
        if not _leftover(ev.system):
            continue
        try:
            ev.destroy(force=True)  # a leftover may still be enabled in some instance
        except TracerError as e:
            raise TracerError(f"{e}; stop the process using it and retry --clear") from None
        done.append(f"removed {ev.kind} {ev.system}/{ev.event}")
    return done


def _clear_stale_sockets() -> list[str]:
    """Control sockets of `tracer trace` runs that were killed (their PID is gone)."""
    done = []
    for sock in sorted(paths.STATE_DIR.glob("trace-*.sock")) if paths.STATE_DIR.is_dir() else []:
        m = re.fullmatch(r"trace-(\d+)\.sock", sock.name)
        if m and not Path(f"/proc/{m.group(1)}").is_dir():
            sock.unlink(missing_ok=True)
            done.append(f"removed stale control socket {sock}")
    return done


def clear() -> list[str]:
    """Remove our leftovers; return one line per thing removed (nothing: already clean)."""
    tracefs = find_tracefs()
    # Instances first: a leftover event enabled in a leftover instance is released with it.
    done = _clear_instances(tracefs) + _clear_dynamic_events(tracefs)
    done += _clear_stale_sockets()
    pins = paths.sysfs() / PIN_DIR
    if pins.is_dir():
        shutil.rmtree(pins, ignore_errors=True)
        done.append(f"removed pinned BPF objects under {pins}")
    return done
