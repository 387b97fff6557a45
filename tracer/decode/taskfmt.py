"""What happens to a task besides its calls, as strace prints it: `--- SIGCHLD {...} ---` for a
signal it gets, `+++ exited with 3 +++` or `+++ killed by SIGSEGV (core dumped) +++` for its end;
and the same facts as JSON fields."""

from __future__ import annotations

from typing import Any

from tracer.decode import flags as F
from tracer.decode import procfmt as P


def signal_text(sig: int, info: bytes) -> str:
    return f"--- {F.signame(sig)} {P.siginfo(info)} ---"


def signal_json(sig: int, info: bytes) -> dict[str, Any]:
    return {"signal": F.signame(sig), "siginfo": P.siginfo(info)}


def exit_text(status: int | None) -> str:
    """`status` as wait(2) gives it; None when the kernel did not say."""
    if status is None:
        return "+++ exited +++"
    if status & 0x7F == 0:
        return f"+++ exited with {(status >> 8) & 0xFF} +++"
    core = " (core dumped)" if status & 0x80 else ""
    return f"+++ killed by {F.signame(status & 0x7F)}{core} +++"


def exit_json(status: int | None) -> dict[str, Any]:
    if status is None:
        return {"exited": None}
    if status & 0x7F == 0:
        return {"exited": (status >> 8) & 0xFF}
    return {"killed_by": F.signame(status & 0x7F), "core_dumped": bool(status & 0x80)}
