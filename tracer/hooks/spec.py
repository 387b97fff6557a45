"""What a hook is: a name, what it traces, the options it takes, what it needs, and
the function that builds its event source (the interface the session loop drives)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from tracer.capabilities import Capabilities
from tracer.pipeline.writer import TraceWriter


class EventSource(Protocol):
    """What every subsystem's session offers to the session loop."""

    def start(self) -> None:
        """Attach everything; on failure release what was attached and raise TracerError."""

    def poll(self, timeout: float, writer: TraceWriter) -> None:
        """Wait up to `timeout` seconds for events and write all that are ready."""

    def close(self, writer: TraceWriter) -> None:
        """Detach everything (idempotent), then write the events still buffered."""

    def notes(self) -> list[str]:
        """`#` lines to write at the end (for example a container that exited)."""


@dataclass(frozen=True)
class Option:
    """A hook-specific option accepted inside --args."""

    flag: str
    help: str
    kind: str = "str"  # "str" | "int" | "flag" | "list" (comma separated) | "choice"
    choices: tuple[str, ...] = ()
    default: Any = None
    metavar: str = ""
    # kind "str": the whole value must match this (ASCII) regular expression
    pattern: str = ""
    pattern_help: str = ""  # what a valid value looks like, for the error

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


# runner(hook, options, targets, capabilities) -> the session's event source; the
# options and targets are tracer.hooks.options.HookOptions and tracer.targets.Targets.
Runner = Callable[..., EventSource]


@dataclass(frozen=True)
class Hook:
    name: str
    subsystem: str
    summary: str
    traces: str
    runner: Runner = field(compare=False)
    options: tuple[Option, ...] = ()
    requires: tuple[str, ...] = ()  # capability names, all needed
    example: str = ""
    # Values of --format this hook writes when not the common ones (ebpf-packets: pcapng).
    formats: tuple[str, ...] | None = None
    # Say which kernel mechanism carries the hook on this machine (for --describe).
    mechanism: Callable[[Capabilities], str] | None = field(default=None, compare=False)
    # Extra availability rule beyond `requires`: returns a reason it cannot run, or None.
    unavailable: Callable[[Capabilities], str | None] | None = field(default=None, compare=False)

    def why_unavailable(self, caps: Capabilities) -> str | None:
        for name in self.requires:
            if not caps.has(name):
                return f"needs {name}: {caps.reason(name)}"
        return self.unavailable(caps) if self.unavailable else None
