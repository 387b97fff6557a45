"""`--clear`: remove what a killed run of ours left in the kernel, and nothing else.

Ours is recognised by the name prefix every session uses (paths.PREFIX) for
tracefs instances, dynamic event groups and pinned BPF objects. BPF programs and
maps that are not pinned die with the process that loaded them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from tracer import paths
from tracer.errors import TracerError
from tracer.tracefs.mount import find_tracefs

PIN_DIR = "fs/bpf/tracer"
_DYN_LINE = re.compile(r"^[prtfe]\d*:(?P<group>[^/\s]+)/(?P<event>\S+)")


def _alive_owner(name: str) -> bool:
    """Our tracefs names end in _<pid>: a live session's objects are not leftovers."""
    m = re.search(r"_(\d+)$", name)
    return bool(m) and (paths.procfs() / m.group(1)).is_dir() and int(m.group(1)) != os.getpid()


def _clear_dynamic_events(tracefs: Path) -> list[str]:
    done = []
    for fname in ("dynamic_events", "kprobe_events", "uprobe_events"):
        f = tracefs / fname
        if not f.exists():
            continue
        for line in f.read_text().splitlines():
            m = _DYN_LINE.match(line)
            if not m or not m.group("group").startswith(paths.PREFIX) or _alive_owner(m.group("group")):
                continue
            group, event = m.group("group"), m.group("event")
            enable = tracefs / "events" / group / event / "enable"
            try:
                if enable.exists():
                    enable.write_text("0")
                with open(f, "a") as fh:
                    fh.write(f"-:{group}/{event}\n")
                done.append(f"removed dynamic event {group}/{event}")
            except OSError as e:
                raise TracerError(f"cannot remove dynamic event {group}/{event}: {e.strerror};"
                                  " stop the process using it and retry --clear") from None
    return done


def clear() -> list[str]:
    """Remove our leftovers; return one line per thing removed (nothing: already clean)."""
    tracefs = find_tracefs()
    done = []
    inst = tracefs / "instances"
    if inst.is_dir():
        for d in sorted(inst.iterdir()):
            if d.name.startswith(paths.PREFIX) and not _alive_owner(d.name):
                try:
                    d.rmdir()
                except OSError as e:
                    raise TracerError(f"cannot remove tracefs instance {d}: {e.strerror};"
                                      " stop the process reading it and retry --clear") from None
                done.append(f"removed tracefs instance {d.name}")
    done += _clear_dynamic_events(tracefs)
    pins = paths.sysfs() / PIN_DIR
    if pins.is_dir():
        shutil.rmtree(pins, ignore_errors=True)
        done.append(f"removed pinned BPF objects under {pins}")
    return done
