"""How the ebpf engine catches syscalls and hands events back, decided here only:
`tracer doctor`, `--describe` and every session (hooks and `tracer trace`) ask this.

Up to FEW syscalls are caught one tracepoint (or kprobe) each, so processes that are
not traced pay nothing for the syscalls nobody asked for. Beyond it the raw sys_exit
tracepoint is cheaper: the kernel waits out an RCU grace period (~40 ms, serialised)
to detach each per-syscall event, and a stop must take under 2 s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tracer import capabilities as cap
from tracer.capabilities import Capabilities

FEW = 8
RINGBUF_DEFAULT = 16 << 20
PERFBUF_DEFAULT = 4 << 20
MODES = ("raw_tracepoint", "tracepoint", "kprobe")
ATTACH_ENV = "TRACER_ATTACH"  # force a mode (tests of each front end)
BUFFER_ENV = "TRACER_BUFFER"  # "perf": the perf buffer even where the ring buffer works

_HOW = {
    "raw_tracepoint": "the raw sys_exit tracepoint (every call seen at exit; execve, exit_group"
                      " and rt_sigreturn also at entry through their own tracepoints)",
    "tracepoint": "the syscalls:sys_enter_NAME/sys_exit_NAME tracepoints of each syscall",
    "kprobe": "kprobes/kretprobes on the __x64_sys_NAME functions",
}


@dataclass(frozen=True)
class Frontend:
    mode: str  # one of MODES
    ringbuf: bool  # BPF ring buffer; the perf buffer otherwise

    def default_size(self) -> int:
        return RINGBUF_DEFAULT if self.ringbuf else PERFBUF_DEFAULT


def mode_for(caps: Capabilities, count: int) -> str:
    """The attach mode for `count` syscalls."""
    forced = os.environ.get(ATTACH_ENV)
    if forced:
        return forced
    if count <= FEW:
        return "kprobe" if caps.has(cap.KPROBES) else "tracepoint"
    return "raw_tracepoint" if caps.has(cap.RAW_TRACEPOINTS) else "tracepoint"


def uses_ringbuf(caps: Capabilities) -> bool:
    return caps.has(cap.RINGBUF) and os.environ.get(BUFFER_ENV, "ring") != "perf"


def choose(caps: Capabilities, count: int) -> Frontend:
    return Frontend(mode_for(caps, count), uses_ringbuf(caps))


def describe(caps: Capabilities, count: int | None = None) -> str:
    """In words: what catches `count` syscalls (default: more than FEW) and, with --syscalls
    naming up to FEW, what catches those; and which buffer carries the events."""
    how = (f"{_HOW[mode_for(caps, count or FEW + 1)]}; with --syscalls naming up to {FEW}:"
           f" {_HOW[mode_for(caps, 1)]}")
    if not caps.has(cap.KPROBES):
        how += f" (kprobes are unavailable: {caps.reason(cap.KPROBES)})"
    buf = "BPF ring buffer" if uses_ringbuf(caps) else "perf buffer"
    return f"{how}; events through the {buf}"
