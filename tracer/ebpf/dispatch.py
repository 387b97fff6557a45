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
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tracer.ebpf import btf
from tracer.ebpf import compile as bpfc
from tracer.ebpf.cheader import CFG_CGROUPS, CFG_DEFAULT, CFG_FOLLOW, CFG_GEN, CFG_TASK_FIELDS
from tracer.errors import TracerError, quote
from tracer.syscalls import desc, specs
from tracer.syscalls.table import NR_MAX, Syscall

MAX_SLOTS = 64
# raw tracepoint -> program, attached with the first syscall: bpf/task_events.c's signals and
# ends of traced tasks, and the task switches that make a CPU's cached slot stale (dispatch.c)
TASK_EVENTS = {"sched_process_exit": "task_exit", "signal_deliver": "sig_deliver",
               "signal_generate": "sig_generate", "sched_switch": "cpu_switch"}
SLOT_NEVER = 255
FRONT_ENDS = {  # mode -> (entry function, exit function)
    # raw mode: every call is seen at exit; the entry tracepoints serve only the calls
    # captured at entry (execve, exit_group)
    "raw_tracepoint": ("tp_enter{n}", "raw_exit"),
    "tracepoint": ("tp_enter{n}", "tp_exit"),
    "kprobe": ("kp_enter", "kp_exit"),
}
EXEC = desc.with_flag(desc.EXEC)
# Raw mode sees calls at exit; these must also be recorded at entry, since at exit the
# kernel has replaced the registers holding their number and arguments.
RECORD_AT_ENTRY = desc.with_flag(desc.SIGRETURN)


def prog_types(mode: str) -> tuple[int, int]:
    """(entry side, exit side) program types of a front end: raw mode's entry side is the
    per-syscall tracepoints of the calls captured at entry."""
    from bcc import BPF

    exit_type = {"raw_tracepoint": BPF.RAW_TRACEPOINT, "tracepoint": BPF.TRACEPOINT,
                 "kprobe": BPF.KPROBE}[mode]
    return (BPF.TRACEPOINT if mode == "raw_tracepoint" else exit_type), exit_type


def possible_cpus() -> int:
    """How many CPU numbers this machine can have (entries of the per-CPU slot cache)."""
    try:
        from bcc.utils import get_possible_cpus

        return max(get_possible_cpus()) + 1
    except Exception:
        return os.cpu_count() or 1


def _pow2_pages(size: int, minimum: int = 1) -> int:
    pages = max(minimum, size // os.sysconf("SC_PAGE_SIZE"))
    return 1 << (pages.bit_length() - 1)


def task_offsets(path: Path = btf.VMLINUX) -> dict[str, int]:
    """Where the kernel's task_struct (the running one's BTF, or `path`) has the members
    the programs read (bpf/task_events.c, bpf/dispatch.c), by their names in CFG_TASK_FIELDS;
    one it lacks is left out."""
    found = dict(btf.offsets("task_struct", (*CFG_TASK_FIELDS.values(), "state"), path))
    if "state" in found:  # named state before Linux 5.14
        found.setdefault("__state", found.pop("state"))
    return found


class Dispatcher:
    def __init__(self, mode: str, ringbuf: bool, buffer_size: int, follow_forks: bool = True,
                 extra_sources: tuple = (), timing: bool = False, floor: bool = False) -> None:
        if mode not in FRONT_ENDS:
            raise TracerError(f"unknown attach mode {quote(mode)}: use one of {', '.join(FRONT_ENDS)}")
        self.mode = mode
        self.ringbuf = ringbuf
        self.buffer_size = buffer_size
        self.follow = follow_forks
        self.extra_sources = extra_sources
        # raw mode sees calls at exit only: durations need the raw entry tracepoint too
        self.timing = timing and mode == "raw_tracepoint"
        self.floor = floor  # front ends that return at once: the cost floor (bench/run.py)
        self.bpf: Any = None
        self.gen = 0  # config's CFG_GEN
        self._gen_lock = threading.Lock()  # control requests change slots from another thread
        self.attached: set[str] = set()  # syscall events (or "*" for the raw tracepoints)
        self.described: set[int] = set()
        self.handler_fds: dict[tuple[str, bool], int] = {}  # (function, at entry) -> program

    # -- loading -----------------------------------------------------------------------------
    def prog_types(self) -> tuple[int, int]:
        """BPF program types of the entry side and of the exit side (a tail call keeps the
        caller's type, so every handler a prog array holds must have its side's type)."""
        return prog_types(self.mode)

    def map_flags(self) -> list[str]:
        """The -D flags that size the shared maps: the dispatch's and any module sharing them
        (a user's handler file) are built with the same."""
        flags = [f"-DNR_MAX={NR_MAX}", f"-DMAX_SLOTS={MAX_SLOTS}", f"-DMAX_CPUS={possible_cpus()}"]
        if self.ringbuf:
            flags += ["-DUSE_RINGBUF", f"-DRINGBUF_PAGES={_pow2_pages(self.buffer_size)}"]
        return flags

    def load(self) -> None:
        entry_type, exit_type = self.prog_types()
        flags = [*self.map_flags(), "-DTASK_EVENTS"]
        if btf.task_pt_regs():
            flags.append("-DHAVE_TASK_PT_REGS")
        if self.floor:
            flags.append("-DTRACER_FLOOR")
        text = bpfc.source("dispatch.c", "handlers.c", "task_events.c", *self.extra_sources)
        self.bpf = bpfc.build(text, flags)
        q = bpfc.Quiet()
        try:
            with q:
                self.handler_fds["handle_entry", True] = bpfc.load_as(self.bpf, "handle_entry", entry_type)
                self.handler_fds["handle_call", False] = bpfc.load_as(self.bpf, "handle_call", exit_type)
                # execve's serves both sides of the call, as each side's program type
                self.handler_fds["handle_exec", True] = bpfc.load_as(self.bpf, "handle_exec", entry_type)
                self.handler_fds["handle_exec", False] = bpfc.load_as(self.bpf, "handle_exec", exit_type)
                try:  # iovec arrays are a refinement: without it those calls show pointers
                    fd = bpfc.load_as(self.bpf, "handle_iov", exit_type)
                except Exception:
                    fd = self.handler_fds["handle_call", False]
                self.handler_fds["handle_iov", False] = fd
                entry, exit_ = FRONT_ENDS[self.mode]
                for fn in [entry.format(n=n) for n in range(7)] if "{n}" in entry else [entry]:
                    self.bpf.load_func(fn, entry_type)
                self.bpf.load_func(exit_, exit_type)
                if self.timing:
                    self.bpf.load_func("raw_enter", exit_type)
        except Exception as e:
            self.close()
            raise TracerError(f"the kernel refused a BPF program ({e}): {q.errors()}") from None
        cfg = self.bpf["config"]
        self.bpf["pid_slot"][ct.c_int(os.getpid())] = ct.c_uint8(SLOT_NEVER)  # never trace ourselves
        cfg[ct.c_int(CFG_FOLLOW)] = ct.c_uint64(1 if self.follow else 0)
        self.gen = 1
        cfg[ct.c_int(CFG_GEN)] = ct.c_uint64(self.gen)
        self._load_task_events()

    def _load_task_events(self) -> None:
        """Signal and exit records; task_exit also forgets the tasks that end (-DTASK_EVENTS)."""
        from bcc import BPF

        found = task_offsets()
        cfg = self.bpf["config"]
        for k, member in CFG_TASK_FIELDS.items():
            cfg[ct.c_int(k)] = ct.c_uint64(found.get(member, 0))
        q = bpfc.Quiet()
        try:
            with q:
                for fn in TASK_EVENTS.values():
                    self.bpf.load_func(fn, BPF.RAW_TRACEPOINT)
        except Exception as e:
            self.close()
            raise TracerError(f"the kernel refused a BPF program ({e}): {q.errors()}") from None

    def load_func(self, name: str, entry: bool = False) -> int:
        """Load one more handler function of the compiled object (a user handler)."""
        return self.bpf.load_func(name, self.prog_types()[0 if entry else 1]).fd

    # -- handler sets ------------------------------------------------------------------------
    def describe(self, sc: Syscall) -> None:
        """Tell the generic handler what to capture for `sc` (once per syscall)."""
        if sc.nr in self.described:
            return
        spec = specs.spec_for(sc)
        table = self.bpf["descs"]
        leaf = table.Leaf()
        sized = (specs.BUF_IN, specs.LENPTR, specs.IOV, specs.ARRAY, specs.BITS)
        for i, cap in enumerate(spec.captures[:6]):
            leaf.kind[i] = cap.kind
            leaf.size_arg[i] = cap.size if cap.kind in sized else 0
            leaf.fixed[i] = cap.size if cap.kind == specs.FIXED else cap.elem
            # a call captured at entry takes all its memory there
            leaf.when[i] = specs.ENTRY if spec.at_enter else cap.when
        leaf.at_enter = 1 if spec.at_enter else 0
        leaf.entry = 1 if spec.needs_entry else 0
        table[ct.c_int(sc.nr)] = leaf
        self.described.add(sc.nr)

    def install(self, slot: int, sc: Syscall, exit_fd: int | None = None,
                enter_fd: int | None = None) -> None:
        """Make `slot` handle `sc`: the generic handlers unless programs are given."""
        self.describe(sc)
        idx = ct.c_int(slot * NR_MAX + sc.nr)
        spec = specs.spec_for(sc)
        if enter_fd is None and spec.needs_entry:
            enter_fd = self.handler_fds["handle_exec" if sc.name in EXEC else "handle_entry", True]
        if enter_fd is not None:
            self.bpf["enter_progs"][idx] = ct.c_int(enter_fd)
        if exit_fd is None:
            exit_fd = self.handler_fds["handle_exec" if sc.name in EXEC else
                                       "handle_iov" if spec.iov else "handle_call", False]
        self.bpf["exit_progs"][idx] = ct.c_int(exit_fd)
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
        self.assign_all([pid], slot)

    def assign_all(self, pids: list[int], slot: int) -> None:
        """`pids` use `slot`; the CPUs' cached slots are made stale once, after all of them."""
        table = self.bpf["pid_slot"]
        for pid in pids:
            if pid != os.getpid():
                table[ct.c_int(pid)] = ct.c_uint8(slot + 1)
        self._changed()

    def release(self, pid: int) -> None:
        self.release_all([pid])

    def release_all(self, pids: list[int]) -> None:
        table = self.bpf["pid_slot"]
        for pid in pids:
            if pid != os.getpid():
                table[ct.c_int(pid)] = ct.c_uint8(0)
        if pids:
            self._changed()

    def _changed(self) -> None:
        """A slot may have changed: every CPU's cached slot is stale (dispatch.c current_slot)."""
        with self._gen_lock:
            self.gen += 1
            self.bpf["config"][ct.c_int(CFG_GEN)] = ct.c_uint64(self.gen)

    def slot_of(self, pid: int) -> int | None:
        v = self.bpf["pid_slot"][ct.c_int(pid)].value
        return None if v in (0, SLOT_NEVER) else v - 1

    def pids(self, candidates: list[int]) -> dict[int, int]:
        """Which of `candidates` (e.g. the PIDs in /proc) have a slot, and which."""
        found = {}
        for pid in candidates:
            slot = self.slot_of(pid)
            if slot is not None:
                found[pid] = slot
        return found

    def assign_cgroup(self, cgroup_id: int, slot: int) -> None:
        """Every process of this cgroup (v2 id) uses `slot`, including ones that join it later."""
        self.bpf["cgroup_slot"][ct.c_uint64(cgroup_id)] = ct.c_uint8(slot + 1)
        self.bpf["config"][ct.c_int(CFG_CGROUPS)] = ct.c_uint64(1)
        self._changed()

    def set_default(self, on: bool) -> None:
        self.bpf["config"][ct.c_int(CFG_DEFAULT)] = ct.c_uint64(1 if on else 0)
        self._changed()

    # -- front end -----------------------------------------------------------------------------
    def attach(self, sc: Syscall) -> None:
        """Catch `sc`: the raw exit tracepoint catches all at once; the other modes per syscall."""
        entry, exit_ = FRONT_ENDS[self.mode]
        entry = entry.format(n=min(6, len(sc.args)))
        raw = self.mode == "raw_tracepoint"
        need_entry = not raw or specs.spec_for(sc).needs_entry or sc.name in RECORD_AT_ENTRY
        q = bpfc.Quiet()
        try:
            with q:
                if "*task" not in self.attached:
                    # before any front end: a CPU's cached slot (current_slot) is only valid
                    # once task switches clear it, so whatever was cached earlier is dropped
                    self.attached.add("*task")
                    for tp, fn in TASK_EVENTS.items():
                        self.bpf.attach_raw_tracepoint(tp=tp, fn_name=fn)
                    self._changed()
                if raw and "*" not in self.attached:
                    self.bpf.attach_raw_tracepoint(tp="sys_exit", fn_name=exit_)
                    self.attached.add("*")
                if raw and self.timing and "*enter" not in self.attached:
                    self.bpf.attach_raw_tracepoint(tp="sys_enter", fn_name="raw_enter")
                    self.attached.add("*enter")
                if need_entry and sc.event not in self.attached:
                    if self.mode == "kprobe":
                        fn = f"__x64_sys_{sc.event}"
                        self.bpf.attach_kprobe(event=fn, fn_name=entry)
                        self.attached.add(sc.event)
                        # enough kretprobe instances for calls that block, or their returns are missed
                        self.bpf.attach_kretprobe(event=fn, fn_name=exit_,
                                                  maxactive=max(64, 8 * (os.cpu_count() or 1)))
                    else:
                        self.bpf.attach_tracepoint(tp=f"syscalls:sys_enter_{sc.event}", fn_name=entry)
                        self.attached.add(sc.event)
                        if not raw:
                            self.bpf.attach_tracepoint(tp=f"syscalls:sys_exit_{sc.event}", fn_name=exit_)
        except Exception as e:
            raise TracerError(f"cannot attach to {sc.name} with {self.mode}: {e} {q.errors()}") from None

    def detach(self) -> None:
        """Stop catching syscalls (the maps and buffer stay readable until close()).

        The kernel waits out an RCU grace period for each tracepoint or kprobe it
        unregisters (tens of ms): 32 of them one after the other took 2.5 s. BCC's
        calls release the GIL, so the waits overlap in threads.
        """
        if self.bpf is None:
            return
        raw = self.mode == "raw_tracepoint"
        steps = []
        for key in list(self.attached):
            if key == "*":
                steps.append(lambda: self.bpf.detach_raw_tracepoint(tp="sys_exit"))
            elif key == "*enter":
                steps.append(lambda: self.bpf.detach_raw_tracepoint(tp="sys_enter"))
            elif key == "*task":
                continue  # after the front ends: see below
            elif self.mode == "kprobe":
                steps.append(lambda k=key: self.bpf.detach_kprobe(event=f"__x64_sys_{k}"))
                steps.append(lambda k=key: self.bpf.detach_kretprobe(event=f"__x64_sys_{k}"))
            else:
                steps.append(lambda k=key: self.bpf.detach_tracepoint(tp=f"syscalls:sys_enter_{k}"))
                if not raw:
                    steps.append(lambda k=key: self.bpf.detach_tracepoint(tp=f"syscalls:sys_exit_{k}"))

        def run(step: Any) -> None:
            try:
                step()
            except Exception:
                pass  # half-attached (exit side failed): close() releases the rest

        q = bpfc.Quiet()
        with q, ThreadPoolExecutor(max_workers=min(32, max(1, len(steps) + len(TASK_EVENTS)))) as pool:
            list(pool.map(run, steps))
            # cpu_switch must clear a CPU's cached slot for as long as a front end can make one
            if "*task" in self.attached:
                list(pool.map(run, [lambda tp=tp: self.bpf.detach_raw_tracepoint(tp=tp)
                                    for tp in TASK_EVENTS]))
        self.attached.clear()

    def lost(self) -> int:
        return bpfc.lost_events(self.bpf)

    def close(self) -> None:
        if self.bpf is not None:
            self.detach()
            bpfc.release(self.bpf)
            self.bpf = None
