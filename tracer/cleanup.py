"""`--clear`: remove what a killed run of ours left in the kernel, and nothing else.

Ours is recognised by the name prefix every session uses (paths.PREFIX) for
tracefs instances, dynamic event groups and pinned BPF objects; a name ending
in the PID and start time of a process still running belongs to a live session
and is left alone (a PID alone could be another process's by now). BPF programs
and maps that are not pinned die with the process that loaded them. Also removed:
control sockets nobody listens on, and in TRACER_OUTPUT_DIR the named pipes and
still-empty trace files of sessions whose process is gone. Running it twice is
harmless: the second run finds nothing.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import stat
from pathlib import Path

from tracer import paths
from tracer.errors import TracerError
from tracer.tracefs import dynevent, instance, naming
from tracer.tracefs.mount import find_tracefs

PIN_DIR = "fs/bpf/tracer"
# tracefile.create()'s names: HOOK-TIME-PID-RANDOM (the announced pipe) and the same .txt
_TRACE_FILE = re.compile(r"[A-Za-z0-9_.-]+-[0-9]{8}T[0-9]{6}-([0-9]+)-[0-9a-f]{8}(?:\.txt)?")


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
            # Enabled only in a leftover instance (removed above) or the top one: never
            # touch the instances of live sessions, another session's rmdir would fail.
            ev.destroy(force=True, roots=[r for r in instance.roots(tracefs)
                                          if r == tracefs or not naming.owner_alive(r.name)])
        except TracerError as e:
            raise TracerError(f"{e}; stop the process using it and retry --clear") from None
        done.append(f"removed {ev.kind} {ev.system}/{ev.event}")
    return done


def _listening(sock: Path) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(str(sock))
        return True
    except OSError as e:
        return e.errno not in (errno.ECONNREFUSED, errno.ENOENT)
    finally:
        s.close()


def _clear_stale_sockets() -> list[str]:
    """Control sockets of `tracer trace` runs that were killed: nobody listens on them
    (a PID check alone would keep one whose PID was reused)."""
    done = []
    for sock in sorted(paths.STATE_DIR.glob("trace-*.sock")) if paths.STATE_DIR.is_dir() else []:
        if re.fullmatch(r"trace-[0-9]+\.sock", sock.name) and not _listening(sock):
            sock.unlink(missing_ok=True)
            done.append(f"removed stale control socket {sock}")
    return done


def _owner_alive_at(pid: int, when: float) -> bool:
    """Whether `pid` runs and already ran at wall time `when` (a reused PID started later)."""
    start = naming.start_time(pid)
    if start is None:
        return False
    return _boot_time() + start / os.sysconf("SC_CLK_TCK") <= when + 1.0


def _boot_time() -> float:
    for line in (paths.procfs() / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def _clear_trace_files() -> list[str]:
    """Named pipes and empty trace files a killed session left in the output directory."""
    d = paths.output_dir()
    done = []
    try:
        entries = list(os.scandir(d))
    except OSError:
        return done
    for e in entries:
        m = _TRACE_FILE.fullmatch(e.name)
        if not m:
            continue
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        fifo = stat.S_ISFIFO(st.st_mode)
        if not (fifo or (stat.S_ISREG(st.st_mode) and st.st_size == 0)):
            continue  # a trace with data in it is the user's to keep
        if _owner_alive_at(int(m.group(1)), st.st_ctime):
            continue
        try:
            os.unlink(e.path)
        except OSError:
            continue
        done.append(f"removed {'named pipe' if fifo else 'empty trace file'} {e.path}")
    return done


def clear() -> list[str]:
    """Remove our leftovers; return one line per thing removed (nothing: already clean)."""
    tracefs = find_tracefs()
    # Instances first: a leftover event enabled in a leftover instance is released with it.
    done = _clear_instances(tracefs) + _clear_dynamic_events(tracefs)
    done += _clear_stale_sockets() + _clear_trace_files()
    # ebpf-packets' tc filters (its cgroup programs are BPF links: gone with their process)
    from tracer.net import tc

    done += tc.clear()
    pins = paths.sysfs() / PIN_DIR
    if pins.is_dir():
        shutil.rmtree(pins, ignore_errors=True)
        done.append(f"removed pinned BPF objects under {pins}")
    return done
