"""ftrace-sched: process lifecycle (fork, exec, exit) of the traced PIDs and their children."""

from __future__ import annotations

from tracer.capabilities import Capabilities
from tracer.ftrace.source import FtraceSession, enable_all
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.targets import Targets

EVENTS = ("sched_process_fork", "sched_process_exec", "sched_process_exit")


def _configure(session: FtraceSession) -> None:
    enable_all(session, [("sched", e) for e in EVENTS])


def create(hook: Hook, opts: HookOptions, targets: Targets, caps: Capabilities) -> FtraceSession:
    return FtraceSession(hook, opts, targets, _configure)
