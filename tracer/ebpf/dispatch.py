"""Load the dispatch and its handlers into the kernel and drive its maps.

One Dispatcher per session: one BCC object holding the front end (how syscalls
are caught, per the capability probe), the generic handlers, and the maps that
say which process (TGID) uses which handler set (slot) and which program handles
each syscall of each slot. Handlers are changed per slot and syscall at run time
by map updates alone, without reloading anything.
"""

from __future__ import annotations

import ctypes as ct
import os
from typing import Any

from tracer.ebpf import compile as bpfc
from tracer.errors import TracerError
from tracer.syscalls import specs
from tracer.syscalls.table import NR_MAX, Syscall

MAX_SLOTS = 64
CFG_DEFAULT, CFG_SELF, CFG_FOLLOW = 0, 1, 2
FRONT_ENDS = {  # mode -> (entry function, exit function)
    "raw_tracepoint": ("raw_enter", "raw_exit"),
    "tracepoint": ("tp_enter", "tp_exit"),
    "kprobe": ("kp_enter", "kp_exit"),
}
EXEC = frozenset({"execve", "execveat"})


def _pow2_pages(size: int, minimum: int = 1) -> int:
    pages = max(minimum, size // os.sysconf("SC_PAGE_SIZE"))
    return 1 << (pages.bit_length() - 1)


class Dispatcher:
    def __init__(self, mode: str, ringbuf: bool, buffer_size: int, follow_forks: bool = True,
                 extra_sources: tuple = ()) -> None:
        if mode not in FRONT_ENDS:
            raise TracerError(f"unknown attach mode '{mode}': use one of {', '.join(FRONT_ENDS)}")
        self.mode = mode
        self.ringbuf = ringbuf
        self.buffer_size = buffer_size
        self.follow = follow_forks
        self.extra_sources = extra_sources
        self.bpf: Any = None
        self.attached: set[str] = set()  # syscall events (or "*" for the raw tracepoints)
        self.described: set[int] = set()
        self.handler_fds: dict[str, int] = {}

    # -- loading -----------------------------------------------------------------------------
    def load(self) -> None:
        from bcc import BPF

        prog_type = {"raw_tracepoint": BPF.RAW_TRACEPOINT, "tracepoint": BPF.TRACEPOINT,
                     "kprobe": BPF.KPROBE}[self.mode]
        flags = [f"-DNR_MAX={NR_MAX}", f"-DMAX_SLOTS={MAX_SLOTS}"]
        if self.ringbuf:
            flags += ["-DUSE_RINGBUF", f"-DRINGBUF_PAGES={_pow2_pages(self.buffer_size)}"]
        text = bpfc.source("dispatch.c", "handlers.c", *self.extra_sources)
        self.bpf = bpfc.build(text, flags)
        q = bpfc.Quiet()
        try:
            with q:
                for fn in ("handle_enter", "handle_exit", "handle_exec"):
                    self.handler_fds[fn] = self.bpf.load_func(fn, prog_type).fd
                for fn in FRONT_ENDS[self.mode]:
                    self.bpf.load_func(fn, prog_type)
        except Exception as e:
            self.close()
            raise TracerError(f"the kernel refused a BPF program ({e}): {q.errors()}") from None
        cfg = self.bpf["config"]
        cfg[ct.c_int(CFG_SELF)] = ct.c_uint64(os.getpid())
        cfg[ct.c_int(CFG_FOLLOW)] = ct.c_uint64(1 if self.follow else 0)

    def load_func(self, name: str) -> int:
        """Load one more handler function of the compiled object (a user handler)."""
        from bcc import BPF

        prog_type = {"raw_tracepoint": BPF.RAW_TRACEPOINT, "tracepoint": BPF.TRACEPOINT,
                     "kprobe": BPF.KPROBE}[self.mode]
        return self.bpf.load_func(name, prog_type).fd

    # -- handler sets ------------------------------------------------------------------------
    def describe(self, sc: Syscall) -> None:
        """Tell the generic handler what to capture for `sc` (once per syscall)."""
        if sc.nr in self.described:
            return
        spec = specs.spec_for(sc)
        table = self.bpf["descs"]
        leaf = table.Leaf()
        for i, cap in enumerate(spec.captures[:6]):
            leaf.kind[i] = cap.kind
            leaf.size_arg[i] = cap.size if cap.kind in (specs.BUF_IN, specs.LENPTR) else 0
            leaf.fixed[i] = cap.size if cap.kind == specs.FIXED else 0
        leaf.at_enter = 1 if spec.at_enter else 0
        table[ct.c_int(sc.nr)] = leaf
        self.described.add(sc.nr)

    def install(self, slot: int, sc: Syscall, exit_fd: int | None = None,
                enter_fd: int | None = None) -> None:
        """Make `slot` handle `sc`: the generic handlers unless programs are given."""
        self.describe(sc)
        idx = ct.c_int(slot * NR_MAX + sc.nr)
        spec = specs.spec_for(sc)
        if enter_fd is None and spec.at_enter:
            enter_fd = self.handler_fds["handle_exec" if sc.name in EXEC else "handle_enter"]
        if enter_fd is not None:
            self.bpf["enter_progs"][idx] = ct.c_int(enter_fd)
        self.bpf["exit_progs"][idx] = ct.c_int(exit_fd if exit_fd is not None
                                               else self.handler_fds["handle_exit"])
        self.bpf["wanted"][idx] = ct.c_uint8(1)
        self.attach(sc)

    def uninstall(self, slot: int, sc: Syscall) -> None:
        idx = ct.c_int(slot * NR_MAX + sc.nr)
        self.bpf["wanted"][idx] = ct.c_uint8(0)
        for name in ("enter_progs", "exit_progs"):
            try:
                del self.bpf[name][idx]
            except KeyError:
                pass

    def assign(self, pid: int, slot: int) -> None:
        self.bpf["pid_slot"][ct.c_uint32(pid)] = ct.c_uint32(slot)

    def release(self, pid: int) -> None:
        try:
            del self.bpf["pid_slot"][ct.c_uint32(pid)]
        except KeyError:
            pass

    def pids(self) -> dict[int, int]:
        return {k.value: v.value for k, v in self.bpf["pid_slot"].items()}

    def set_default(self, on: bool) -> None:
        self.bpf["config"][ct.c_int(CFG_DEFAULT)] = ct.c_uint64(1 if on else 0)

    # -- front end -----------------------------------------------------------------------------
    def attach(self, sc: Syscall) -> None:
        """Catch `sc`: the raw tracepoints catch all at once; the other modes per syscall."""
        enter, exit_ = FRONT_ENDS[self.mode]
        key = "*" if self.mode == "raw_tracepoint" else sc.event
        if key in self.attached:
            return
        q = bpfc.Quiet()
        try:
            with q:
                if self.mode == "raw_tracepoint":
                    self.bpf.attach_raw_tracepoint(tp="sys_enter", fn_name=enter)
                    self.attached.add(key)
                    self.bpf.attach_raw_tracepoint(tp="sys_exit", fn_name=exit_)
                elif self.mode == "tracepoint":
                    self.bpf.attach_tracepoint(tp=f"syscalls:sys_enter_{sc.event}", fn_name=enter)
                    self.attached.add(key)
                    self.bpf.attach_tracepoint(tp=f"syscalls:sys_exit_{sc.event}", fn_name=exit_)
                else:
                    fn = f"__x64_sys_{sc.event}"
                    self.bpf.attach_kprobe(event=fn, fn_name=enter)
                    self.attached.add(key)
                    # maxactive: enough kretprobe instances for calls that block (traceleft missed these)
                    self.bpf.attach_kretprobe(event=fn, fn_name=exit_, maxactive=max(64, 8 * os.cpu_count()))
        except Exception as e:
            raise TracerError(f"cannot attach to {sc.name} with {self.mode}: {e} {q.errors()}") from None

    def detach(self) -> None:
        """Stop catching syscalls (the maps and buffer stay readable until close())."""
        if self.bpf is None:
            return
        enter, exit_ = FRONT_ENDS[self.mode]
        q = bpfc.Quiet()
        with q:
            for key in list(self.attached):
                try:
                    if self.mode == "raw_tracepoint":
                        self.bpf.detach_raw_tracepoint(tp="sys_enter")
                        self.bpf.detach_raw_tracepoint(tp="sys_exit")
                    elif self.mode == "tracepoint":
                        self.bpf.detach_tracepoint(tp=f"syscalls:sys_enter_{key}")
                        self.bpf.detach_tracepoint(tp=f"syscalls:sys_exit_{key}")
                    else:
                        self.bpf.detach_kprobe(event=f"__x64_sys_{key}")
                        self.bpf.detach_kretprobe(event=f"__x64_sys_{key}")
                except Exception:
                    pass  # half-attached (exit side failed): close() releases the rest
                self.attached.discard(key)

    def lost(self) -> int:
        return sum(sum(v) for v in self.bpf["lost"].values()) if self.bpf else 0

    def close(self) -> None:
        if self.bpf is not None:
            self.detach()
            q = bpfc.Quiet()
            with q:
                self.bpf.cleanup()
            self.bpf = None
