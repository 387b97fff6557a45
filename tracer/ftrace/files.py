"""ftrace-files: the files the traced processes open, with the path as text.

Two ways, chosen by what the kernel has:
- kprobes: a kprobe on do_sys_openat2 fetching the user string of its filename
  argument, and a kretprobe for the result (every open path of the kernel);
- otherwise uprobes on the open functions of the C library the traced
  processes have mapped, fetching the path argument as a user string. This
  sees calls through libc only (not raw syscalls, not static binaries).
PID filtering is the instance's set_event_pid, as for the other hooks.
"""

from __future__ import annotations

import os
from pathlib import Path

from tracer import capabilities as cap
from tracer.capabilities import Capabilities
from tracer.errors import TracerError
from tracer.ftrace import elfsyms, libc
from tracer.ftrace.source import FtraceSession
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.targets import Targets
from tracer.tracefs import dynevent

KPROBE_FUNCTION = "do_sys_openat2"
KPROBE_ARGS = "file=+0($arg2):ustring"
KRETPROBE_ARGS = "ret=$retval"

# C library functions taking a path, and which argument holds it (1-based).
LIBC_FUNCTIONS: dict[str, int] = {
    "open": 1, "open64": 1, "__open_2": 1, "__open64_2": 1,
    "openat": 2, "openat64": 2, "__openat_2": 2, "__openat64_2": 2,
    "creat": 1, "creat64": 1, "fopen": 1, "fopen64": 1, "freopen": 1, "freopen64": 1,
}
# Argument registers of the uprobe fetch-arg syntax, per machine.
_ARG_REGS = {"x86_64": ("%di", "%si"), "aarch64": ("%x0", "%x1")}


def uses_kprobes(caps: Capabilities) -> bool:
    return caps.has(cap.KPROBES)


def mechanism(caps: Capabilities) -> str:
    if uses_kprobes(caps):
        return (f"kprobe on {KPROBE_FUNCTION} with fetch-arg '{KPROBE_ARGS}' and a kretprobe"
                f" ('{KRETPROBE_ARGS}'), in a private tracefs instance filtered by set_event_pid")
    return ("uprobes on the C library's open functions (open, openat, creat, fopen, freopen and"
            " their 64/_2 variants) in the traced processes' own mapped libc, fetching the path"
            " with a '+0(%di):ustring' style fetch-arg; only calls made through libc are seen."
            f" kprobes are unavailable: {caps.reason(cap.KPROBES)}")


def unavailable(caps: Capabilities) -> str | None:
    if uses_kprobes(caps):
        return None
    if not caps.has(cap.UPROBES):
        return f"needs kprobes or uprobes: {caps.reason(cap.KPROBES)}; {caps.reason(cap.UPROBES)}"
    if os.uname().machine not in _ARG_REGS:
        return f"uprobe path fetch-args are not written for {os.uname().machine} yet"
    return None


def group_name(session: FtraceSession) -> str:
    """A dynamic event group per session, from its (unique) instance name.

    It keeps the tracer_ prefix and _<pid> suffix, so --clear recognises it;
    group names must be C identifiers, hence no dashes.
    """
    assert session.instance is not None
    return session.instance.name.replace("-", "_")


def _kprobes(session: FtraceSession, group: str) -> list[dynevent.DynEvent]:
    return [dynevent.kprobe_alloc(group, "open", KPROBE_FUNCTION, KPROBE_ARGS),
            dynevent.kretprobe_alloc(group, "open_ret", KPROBE_FUNCTION, KRETPROBE_ARGS)]


def _uprobes(session: FtraceSession, group: str) -> list[dynevent.DynEvent]:
    regs = _ARG_REGS[os.uname().machine]
    probes = []
    libs = libc.libraries(session.tids)
    for n, lib in enumerate(libs, start=1):
        offsets = elfsyms.function_offsets(Path(lib.path), set(LIBC_FUNCTIONS))
        seen: set[int] = set()
        for name in LIBC_FUNCTIONS:  # dict order: the plain name wins over its aliases
            off = offsets.get(name)
            if off is None or off in seen:
                continue
            seen.add(off)
            event = name.strip("_") + ("" if n == 1 else f"_lib{n}")
            fetch = f"path=+0({regs[LIBC_FUNCTIONS[name] - 1]}):ustring"
            probes.append(dynevent.uprobe_alloc(group, event, lib.path, off, fetch))
        if not seen:
            raise TracerError(f"no open functions found in {lib.path}'s dynamic symbols")
    session.note(f"uprobes on {', '.join(lib.path for lib in libs)}:"
                 f" {', '.join(p.event for p in probes)}")
    return probes


def _configure(session: FtraceSession) -> None:
    inst = session.instance
    assert inst is not None
    group = group_name(session)
    probes = _kprobes(session, group) if session.kprobes else _uprobes(session, group)
    inst.set_event_pids(session.tids, session.targets.follow_forks)
    for ev in probes:
        session.add_dynevent(ev)
        inst.enable(ev.system, ev.event)


class FilesSession(FtraceSession):
    def __init__(self, hook: Hook, opts: HookOptions, targets: Targets, kprobes: bool) -> None:
        super().__init__(hook, opts, targets, _configure)
        self.kprobes = kprobes


def create(hook: Hook, opts: HookOptions, targets: Targets, caps: Capabilities) -> FtraceSession:
    # TRACER_FTRACE_FILES=uprobe forces the fallback, to test it on a kernel with kprobes.
    forced = os.environ.get("TRACER_FTRACE_FILES")
    kprobes = uses_kprobes(caps) if forced not in ("uprobe", "kprobe") else forced == "kprobe"
    return FilesSession(hook, opts, targets, kprobes)
