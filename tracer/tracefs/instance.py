"""A tracefs instance: a private ring buffer with its own events, PID filters and tracer.

Sessions never touch the top-level instance (other tools, and the user, own
it). Instance names are `tracer_<stem>_<pid>`; see naming.py.
"""

from __future__ import annotations

import errno
import time
from pathlib import Path

from tracer.errors import TracerError, quote
from tracer.tracefs import events, files, naming, stats
from tracer.tracefs.mount import find_tracefs
from tracer.tracefs.pipe import TracePipe


class Instance:
    def __init__(self, tracefs: Path, name: str) -> None:
        self.tracefs = tracefs
        self.name = name
        self.path = tracefs / "instances" / name

    def __repr__(self) -> str:
        return f"Instance({self.name!r})"

    # -- life cycle ---------------------------------------------------------------

    @classmethod
    def create(cls, stem: str, tracefs: Path | None = None) -> Instance:
        """Make a new instance named `tracer_<stem>_<our pid>` (with -2, -3... when taken)."""
        tracefs = tracefs or find_tracefs()
        base = tracefs / "instances"
        if not base.is_dir():
            raise TracerError(f"no {base}: this kernel has no tracefs instances (needs Linux 3.10+)")
        for n in range(1, 1000):
            name = naming.owned_name(stem if n == 1 else f"{stem}-{n}")
            try:
                (base / name).mkdir()
            except FileExistsError:
                continue
            except OSError as e:
                raise TracerError(f"cannot create tracefs instance {base / name}: {e.strerror}") from None
            return cls(tracefs, name)
        raise TracerError(f"cannot create a tracefs instance for {stem}: 999 names taken in {base}")

    @classmethod
    def find(cls, name: str, tracefs: Path | None = None) -> Instance | None:
        tracefs = tracefs or find_tracefs()
        return cls(tracefs, name) if (tracefs / "instances" / name).is_dir() else None

    def exists(self) -> bool:
        return self.path.is_dir()

    def destroy(self) -> None:
        """Remove the instance; its events stop and its buffer is freed. Idempotent.

        EBUSY while someone else (a --clear, a reader of tracefs) has one of its files
        open for a moment is retried for up to a second.
        """
        for wait in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, None):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as e:
                if e.errno == errno.EBUSY and wait is not None:
                    time.sleep(wait)
                    continue
                why = " (a process still has one of its files open)" if e.errno == errno.EBUSY else ""
                raise TracerError(f"cannot remove tracefs instance {self.path}: {e.strerror}{why}") from None

    # -- settings -----------------------------------------------------------------

    def write(self, name: str, text: str, what: str, append: bool = False) -> None:
        files.write(self.path / name, text, what, append=append)

    def read(self, name: str) -> str:
        return files.read(self.path / name)

    def set_buffer_size_kb(self, kb: int) -> None:
        """Per-CPU ring buffer size (the kernel's buffer_size_kb is per CPU)."""
        self.write("buffer_size_kb", str(max(1, kb)), f"set the buffer size of {self.name}")

    def cpus(self) -> int:
        """How many per-CPU buffers the instance has (what buffer_size_kb is multiplied by)."""
        return max(1, len(list((self.path / "per_cpu").glob("cpu[0-9]*"))))

    def set_total_buffer_size(self, size: int) -> None:
        """Size the ring buffer so that all CPUs' buffers together hold `size` bytes."""
        self.set_buffer_size_kb(size // 1024 // self.cpus())

    def set_option(self, option: str, on: bool) -> None:
        f = self.path / "options" / option
        if not f.exists():
            raise TracerError(f"this kernel has no trace option {quote(option)} ({f} missing)")
        files.write(f, "1" if on else "0", f"set option {option} of {self.name}")

    def set_tracing_on(self, on: bool) -> None:
        self.write("tracing_on", "1" if on else "0", f"switch tracing of {self.name}")

    def set_tracer(self, tracer: str) -> None:
        available = self.read("available_tracers").split()
        if tracer not in available:
            raise TracerError(f"this kernel has no {quote(tracer)} tracer"
                              f" (available: {', '.join(available)})")
        self.write("current_tracer", tracer, f"set the tracer of {self.name} to {tracer}")

    def set_event_pids(self, pids: list[int], follow_forks: bool) -> None:
        """Only these PIDs (and with `follow_forks`, the children they fork) produce events."""
        self.set_option("event-fork", follow_forks)
        self.write("set_event_pid", " ".join(map(str, pids)), f"set the event PIDs of {self.name}")

    def add_filter_pids(self, name: str, pids: list[int]) -> None:
        """Add PIDs to the PID filter `name` (set_event_pid or set_ftrace_pid), keeping those
        there (children the kernel added)."""
        self.write(name, " ".join(map(str, pids)), f"add PIDs to {name} of {self.name}", append=True)

    def filter_pids(self, name: str) -> set[int]:
        """The task IDs in the PID filter `name` now."""
        return {int(w) for w in self.read(name).split() if w.isdigit()}  # empty: "no pid"

    def remove_filter_pids(self, name: str, gone: set[int]) -> bool:
        """Take `gone` out of the PID filter `name`. The file has no
        removal syntax, so it is read and written back whole: a child the kernel added in
        between is dropped. Returns False, leaving the file alone, when nothing would remain,
        as an empty filter traces every task."""
        now = self.filter_pids(name)
        keep = now - gone
        if keep == now:
            return True
        if not keep:
            return False
        self.write(name, " ".join(map(str, sorted(keep))), f"take ended tasks out of {name} of {self.name}")
        return True

    def set_ftrace_pids(self, pids: list[int], follow_forks: bool) -> None:
        """The function tracer's PID filter, with children followed via function-fork."""
        self.set_option("function-fork", follow_forks)
        self.write("set_ftrace_pid", " ".join(map(str, pids)), f"set the function-trace PIDs of {self.name}")

    def set_ftrace_filter(self, pattern: str) -> None:
        """Trace only the kernel functions matching `pattern` (a glob); none matching is an error."""
        what = (f"limit function tracing to '{pattern}' (no kernel function matches; see"
                " available_filter_functions)")
        # The newline makes the kernel parse the pattern inside write(), where a mismatch is
        # reported; a pattern left unterminated is parsed at close(), whose errors are lost.
        self.write("set_ftrace_filter", pattern + "\n", what)
        now = self.read("set_ftrace_filter").strip()
        if not now or now.startswith("#### all functions enabled"):
            raise TracerError(f"cannot {what}")

    # -- events -------------------------------------------------------------------

    def systems(self) -> list[str]:
        return events.systems(self.path)

    def events(self, system: str) -> list[str]:
        return events.events(self.path, system)

    def enable(self, system: str, event: str | None = None) -> None:
        events.set_enabled(self.path, system, event, True)

    def disable(self, system: str, event: str | None = None) -> None:
        events.set_enabled(self.path, system, event, False)

    def set_filter(self, system: str, event: str | None, expr: str) -> None:
        events.set_filter(self.path, system, event, expr)

    # -- output -------------------------------------------------------------------

    def open_pipe(self) -> TracePipe:
        return TracePipe(self.path / "trace_pipe")

    def lost_events(self) -> int:
        return stats.lost_events(self.path)


def names(tracefs: Path | None = None) -> list[str]:
    """All instance names (ours and others')."""
    base = (tracefs or find_tracefs()) / "instances"
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def roots(tracefs: Path) -> list[Path]:
    """The top instance and every instance: each has its own events/*/enable files."""
    return [tracefs] + [tracefs / "instances" / n for n in names(tracefs)]


def ours(tracefs: Path | None = None) -> list[Instance]:
    tracefs = tracefs or find_tracefs()
    return [Instance(tracefs, n) for n in names(tracefs) if naming.is_ours(n)]
