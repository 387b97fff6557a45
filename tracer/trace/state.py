"""Who is traced with which handlers, kept in step with the Dispatcher's maps.

A handler set is a frozenset of (syscall name, source): source "" is the generic
handler, otherwise the key of a loaded user module. Each distinct set has its own
slot (slot 0 is the default set); PIDs with equal sets share a slot.

A change never edits a slot other PIDs still use: the changed PID gets a slot
holding its new set (filled in completely first), then one pid_slot write moves it
there. So the PIDs not named in a change keep their programs, untouched, and lose
no event; the old slot is emptied once nobody uses it. The default set is the
exception: it is edited in place, since every process without a set uses it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tracer import procfs
from tracer.ebpf import userhandlers as uh
from tracer.ebpf.dispatch import MAX_SLOTS, Dispatcher
from tracer.errors import TracerError
from tracer.syscalls.table import Syscall, SyscallTable
from tracer.trace import spec as sp

GENERIC = ""


def check_handlers(handlers: tuple[str, ...], table: SyscallTable) -> list[Syscall]:
    """Every syscall `handlers` name, or the error a user can act on (no kernel involved)."""
    found: list[Syscall] = []
    for h in handlers:
        if sp.is_file(h):
            found += uh.parse(h, table).syscalls
        elif sp.family(h):
            found += [table.by_name[n] for n in sp.family(h) if n in table.by_name]
        else:
            found.append(table.get(h))
    return found


class TraceState:
    def __init__(self, disp: Dispatcher, table: SyscallTable, follow: bool) -> None:
        self.disp = disp
        self.table = table
        self.follow = follow
        self.slots: dict[int, frozenset] = {0: frozenset()}
        self.pids: dict[int, int] = {}  # PIDs named by a spec -> their slot
        self.modules: dict[str, uh.UserModule] = {}  # content key -> loaded module
        self.lock = threading.Lock()
        self.compile_s = 0.0  # time spent compiling handler files (ctl reports it apart)

    # -- resolving handlers ---------------------------------------------------------------
    def _entries(self, handlers: tuple[str, ...]) -> dict[str, str]:
        """syscall name -> source, loading the handler files not loaded yet."""
        out: dict[str, str] = {}
        for h in handlers:
            if sp.is_file(h):
                mod = uh.parse(h, self.table)
                if mod.key not in self.modules:
                    t0 = time.monotonic()
                    self.modules[mod.key] = uh.load(self.disp, mod)  # unused ones: see _gc
                    self.compile_s += time.monotonic() - t0
                for sc in mod.syscalls:
                    out[sc.name] = mod.key
            elif sp.family(h):
                out.update((n, GENERIC) for n in sp.family(h) if n in self.table.by_name)
            else:
                out[self.table.get(h).name] = GENERIC
        return out

    def _names(self, handlers: tuple[str, ...]) -> tuple[set[str], set[Path]]:
        """For removal: the syscall names and the handler files `handlers` stand for."""
        names: set[str] = set()
        files: set[Path] = set()
        for h in handlers:
            if sp.is_file(h):
                files.add(Path(h).expanduser().resolve())
            elif sp.family(h):
                names.update(sp.family(h))
            else:
                names.add(self.table.get(h).name)
        return names, files

    # -- slots ------------------------------------------------------------------------------
    def _install(self, slot: int, name: str, src: str) -> None:
        fd = self.modules[src].fds[name] if src else None
        self.disp.install(slot, self.table.by_name[name], exit_fd=fd)

    def _slot_for(self, hset: frozenset) -> int:
        for s, h in self.slots.items():
            if s and h == hset:
                return s
        free = [s for s in range(1, MAX_SLOTS) if s not in self.slots]
        if not free:
            raise TracerError(f"too many different handler sets (at most {MAX_SLOTS - 1}):"
                              " give some PIDs the same handlers")
        slot = free[0]
        self.slots[slot] = hset  # before installing: a failure half-way is cleaned by _gc
        for name, src in sorted(hset):
            self._install(slot, name, src)
        return slot

    def _family(self, pid: int, old: int | None) -> list[int]:
        """`pid` and the children that followed it into its current slot."""
        if not self.follow:
            return [pid]
        kids = [k for k in procfs.descendants([pid]) if k not in self.pids and self.disp.slot_of(k) == old]
        return [pid, *kids]

    def _set_pid(self, pid: int, hset: frozenset) -> None:
        old = self.pids.get(pid)
        movers = self._family(pid, old)
        if not hset:
            for m in movers:
                self.disp.release(m)
            self.pids.pop(pid, None)
            return
        started = procfs.start_times(movers)
        slot = self._slot_for(hset)  # may build a handler: a mover can end meanwhile
        self.disp.assign_all(list(started), slot)  # one map write each: atomic per process
        self.disp.release_all(procfs.replaced(started))  # ended unmarked: the kernel won't clear it
        self.pids[pid] = slot

    def _set_default(self, hset: frozenset) -> None:
        old = self.slots[0]
        names = {n for n, _ in hset}
        for name, src in sorted(hset - old):
            self._install(0, name, src)
        for name, _ in old:
            if name not in names:
                self.disp.uninstall(0, self.table.by_name[name])
        self.slots[0] = hset
        self.disp.set_default(bool(hset))

    def _gc(self) -> None:
        for pid in [p for p in self.pids if not sp.pid_exists(p)]:
            del self.pids[pid]  # the kernel cleared its pid_slot entry when it exited
        used = set(self.pids.values())
        in_kernel: set[int] | None = None
        for s in [s for s in self.slots if s and s not in used]:
            if self.follow:  # children that followed a PID may still use its old slot
                if in_kernel is None:
                    in_kernel = set(self.disp.pids(procfs.pids()).values())
                if s in in_kernel:
                    continue
            for name, _ in self.slots.pop(s):
                self.disp.uninstall(s, self.table.by_name[name])
        sources = {src for h in self.slots.values() for _, src in h if src}
        for key in [k for k in self.modules if k not in sources]:
            self.modules.pop(key).close()

    # -- the operations ----------------------------------------------------------------------
    def add(self, spec: sp.Spec) -> list[str]:
        """Add the spec's handlers to its targets' sets (or to the default set)."""
        with self.lock:
            pids = sp.resolve_targets(spec.targets)  # errors before anything changes
            try:
                entries = self._entries(spec.handlers)
                if not spec.targets:
                    merged = dict(self.slots[0])
                    merged.update(entries)
                    self._set_default(frozenset(merged.items()))
                    return [f"default: {self._show(self.slots[0])}"]
                out = []
                for pid in pids:
                    merged = dict(self.slots[self.pids[pid]]) if pid in self.pids else {}
                    merged.update(entries)
                    self._set_pid(pid, frozenset(merged.items()))
                    out.append(f"{pid}: {self._show(self.slots[self.pids[pid]])}")
                return out
            finally:
                self._gc()

    def remove(self, text: str) -> list[str]:
        """`PID[,PID...]` (all their handlers), `PID:HANDLER,...`, or `HANDLER,...` (default set)."""
        with self.lock:
            try:
                if all(sp.is_pid(t.strip()) for t in text.split(",")):
                    targets, handlers = tuple(t.strip() for t in text.split(",")), ()
                else:
                    spec = sp.parse(text)
                    targets, handlers = spec.targets, spec.handlers
                names, files = self._names(handlers)

                def keep(item: tuple[str, str]) -> bool:
                    name, src = item
                    if not handlers:
                        return False
                    if name in names:
                        return False
                    return not (src and self.modules[src].path in files)

                if not targets:
                    self._set_default(frozenset(i for i in self.slots[0] if keep(i)))
                    return [f"default: {self._show(self.slots[0])}"]
                pids = []
                for t in targets:
                    pids += [int(t)] if sp.is_pid(t) else sp.resolve_target(t)
                out = []
                for pid in pids:
                    if pid not in self.pids:
                        raise TracerError(f"PID {pid} has no handler set of its own")
                    self._set_pid(pid, frozenset(i for i in self.slots[self.pids[pid]] if keep(i)))
                    slot = self.pids.get(pid)
                    out.append(f"{pid}: {self._show(self.slots[slot]) if slot else 'none'}")
                return out
            finally:
                self._gc()

    def listing(self) -> list[str]:
        with self.lock:
            self._gc()
            lines = [f"default: {self._show(self.slots[0])}"]
            for slot in sorted(s for s in self.slots if s):
                pids = sorted(p for p, s in self.pids.items() if s == slot)
                who = ",".join(map(str, pids)) or "(followed children only)"
                lines.append(f"{who}: {self._show(self.slots[slot])}")
            return lines

    def _show(self, hset: frozenset) -> str:
        if not hset:
            return "none"
        generic = sorted(n for n, src in hset if not src)
        parts = [",".join(generic)] if generic else []
        for key in sorted({src for _, src in hset if src}):
            mine = sorted(n for n, src in hset if src == key)
            parts.append(f"{self.modules[key].path}({','.join(mine)})")
        return " ".join(parts)

    def close(self) -> None:
        for mod in self.modules.values():
            mod.close()
        self.modules.clear()
