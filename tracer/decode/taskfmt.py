"""What happens to a task besides its calls, as strace prints it: `--- SIGCHLD {...} ---` for a
signal it gets, `+++ exited with 3 +++` or `+++ killed by SIGSEGV (core dumped) +++` for its end;
each with the same facts as JSON fields."""

from __future__ import annotations

from typing import Any

from tracer.decode import flags as F
from tracer.decode import procfmt as P


def signal(sig: int, info: bytes) -> tuple[str, dict[str, Any]]:
    """The line and the JSON fields of signal `sig` with its siginfo `info`."""
    shown = P.siginfo(info)
    return f"--- {F.signame(sig)} {shown} ---", {"signal": F.signame(sig), "siginfo": shown}


def end(status: int | None) -> tuple[str, dict[str, Any]]:
    """The line and the JSON fields of a task's end: `status` as wait(2) gives it, None when
    the kernel did not say."""
    if status is None:
        return "+++ exited +++", {"exited": None}
    if status & 0x7F == 0:
        code = (status >> 8) & 0xFF
        return f"+++ exited with {code} +++", {"exited": code}
    sig, core = F.signame(status & 0x7F), bool(status & 0x80)
    return (f"+++ killed by {sig}{' (core dumped)' if core else ''} +++",
            {"killed_by": sig, "core_dumped": core})
