"""ftrace-functions: the function tracer, limited to the traced PIDs (and a --filter)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tracer.capabilities import Capabilities
from tracer.errors import TracerError, quote
from tracer.ftrace.source import FtraceSession
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.targets import Targets


def unavailable(caps: Capabilities) -> str | None:
    """Why the function tracer cannot be used here, or None.

    Kernel lockdown (integrity mode) leaves tracefs readable but refuses the
    function tracer's files with EPERM; opening set_ftrace_pid finds that out
    without changing anything.
    """
    if caps.tracefs is None:
        return "tracefs not found"
    root: Path = caps.tracefs
    try:
        tracers = (root / "available_tracers").read_text().split()
    except OSError as e:
        return f"cannot read {root / 'available_tracers'}: {e.strerror}"
    if "function" not in tracers:
        return "this kernel has no function tracer (CONFIG_FUNCTION_TRACER off)"
    try:
        os.close(os.open(root / "set_ftrace_pid", os.O_RDONLY | os.O_CLOEXEC))
    except OSError as e:
        return (f"the kernel refuses the function tracer ({root / 'set_ftrace_pid'}: {e.strerror});"
                " kernel lockdown forbids it" if e.errno == 1 else
                f"cannot open {root / 'set_ftrace_pid'}: {e.strerror}")
    return None


def _configure(session: FtraceSession) -> None:
    inst = session.instance
    assert inst is not None
    inst.set_ftrace_pids(session.tids, session.targets.follow_forks)
    pattern = session.opts.filter
    if pattern:
        inst.set_ftrace_filter(pattern)
    inst.set_tracer("function")


def _reset(session: FtraceSession) -> None:
    assert session.instance is not None
    if session.instance.exists():
        session.instance.set_tracer("nop")


# A glob of kernel function names, nothing more: set_ftrace_filter also takes commands
# ("func:traceoff", ":mod:", "!" and several lines), which a remote user must not send.
FILTER_PATTERN = r"[A-Za-z0-9_.*?\[\]]{1,128}"
FILTER_HELP = ("give a glob of kernel function names (letters, digits, '_', '.', '*', '?',"
               " [...]), e.g. 'vfs_*'")


def check_filter(pattern: str) -> None:
    if not re.fullmatch(FILTER_PATTERN, pattern, re.ASCII):
        raise TracerError(f"--filter {quote(pattern)}: {FILTER_HELP}")


def create(hook: Hook, opts: HookOptions, targets: Targets, caps: Capabilities) -> FtraceSession:
    pattern = opts.filter
    if pattern is not None:
        check_filter(pattern)
    return FtraceSession(hook, opts, targets, _configure, teardown=_reset, pid_filter="set_ftrace_pid")
