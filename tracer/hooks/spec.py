"""What a hook is: a name, what it traces, the options it takes, what it needs."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from tracer.capabilities import Capabilities
    from tracer.hooks.options import HookOptions
    from tracer.pipeline.source import EventSource


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


@dataclass(frozen=True)
class Hook:
    name: str
    subsystem: str
    summary: str
    traces: str
    runner: str  # "module:function", imported only when the hook runs
    options: tuple[Option, ...] = ()
    requires: tuple[str, ...] = ()  # capability names, all needed
    example: str = ""
    # Say which kernel mechanism carries the hook on this machine (for --describe).
    mechanism: Callable[[Capabilities], str] | None = field(default=None, compare=False)
    # Extra availability rule beyond `requires`: returns a reason it cannot run, or None.
    unavailable: Callable[[Capabilities], str | None] | None = field(default=None, compare=False)

    def why_unavailable(self, caps: Capabilities) -> str | None:
        for name in self.requires:
            if not caps.has(name):
                return f"needs {name}: {caps.reason(name)}"
        return self.unavailable(caps) if self.unavailable else None

    def load_runner(self) -> Callable[[Hook, HookOptions, Capabilities], EventSource]:
        module, _, func = self.runner.partition(":")
        return getattr(importlib.import_module(module), func)
