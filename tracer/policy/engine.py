"""Load a planned policy into the kernel, fill its filter maps, attach its front ends.

One BCC module per policy (codegen.source). The per-PID dispatch of dispatch.c
decides which handler set (slot) a process uses: slot 0 for every process when
the policy runs system-wide, slot 1 for the traced PIDs and containers otherwise.
Handlers go into pol_tp_progs/pol_kp_progs at [slot * POL_MAX_HOOKS + hook].
"""

from __future__ import annotations

import ctypes as ct
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tracer import paths
from tracer.ebpf import compile as bpfc
from tracer.ebpf.cheader import CFG_CGROUPS, CFG_DEFAULT, CFG_FOLLOW
from tracer.ebpf.dispatch import MAX_SLOTS, SLOT_NEVER, _pow2_pages
from tracer.errors import TracerError
from tracer.policy import codegen
from tracer.policy import types as T
from tracer.policy.plan import HookPlan, Plan
from tracer.syscalls.table import NR_MAX


class PolicyEngine:
    """Owns the BCC object of one policy; close() releases everything, on every path."""

    def __init__(self, plan: Plan, ringbuf: bool, buffer_size: int, follow_forks: bool = True) -> None:
        self.plan = plan
        self.ringbuf = ringbuf
        self.buffer_size = buffer_size
        self.follow = follow_forks
        self.bpf: Any = None
        self.attached: list[tuple[str, str]] = []

    def _types(self, hp: HookPlan) -> int:
        from bcc import BPF

        return BPF.TRACEPOINT if hp.kind in (T.K_TP, T.K_SYS_TP) else BPF.KPROBE

    def load(self) -> None:
        flags = [f"-DNR_MAX={NR_MAX}", f"-DMAX_SLOTS={MAX_SLOTS}"]
        if self.ringbuf:
            flags += ["-DUSE_RINGBUF", f"-DRINGBUF_PAGES={_pow2_pages(self.buffer_size)}"]
        self.bpf = bpfc.build(codegen.source(self.plan), flags)
        self.bpf["pid_slot"][ct.c_int(os.getpid())] = ct.c_uint8(SLOT_NEVER)
        self.bpf["config"][ct.c_int(CFG_FOLLOW)] = ct.c_uint64(1 if self.follow else 0)
        self._fill_maps()

    def _fill_maps(self) -> None:
        b, p = self.bpf, self.plan
        nums = b["pol_nums"]
        for fid, v in p.nums:
            k = nums.Key()
            k.filter, k.value = fid, v
            nums[k] = ct.c_uint8(1)
        strs = b["pol_strs"]
        for fid, data in p.strs:
            k = strs.Key()
            k.prefixlen = 32 + 8 * len(data)
            k.filter = fid
            ct.memmove(ct.addressof(k) + type(k).data.offset, data, len(data))
            strs[k] = ct.c_uint32(len(data))
        sufs = b["pol_sufs"]
        for fid, lengths in p.suffixes.items():
            v = sufs.Leaf()
            v.n = len(lengths)
            for i, n in enumerate(lengths):
                v.len[i] = n
            sufs[ct.c_uint32(fid)] = v
        addrs = b["pol_addrs"]
        for fid, raw, bits in p.addrs:
            k = addrs.Key()
            k.prefixlen = 32 + bits
            k.filter = fid
            ct.memmove(ct.addressof(k) + type(k).addr.offset, raw, 16)
            addrs[k] = ct.c_uint8(1)
        sysset = b["pol_syscalls"]
        for hp in p.hooks:
            if hp.sysset:
                for nr in hp.syscalls:
                    sysset[ct.c_uint64(hp.id << 32 | nr)] = ct.c_uint8(1)
        for i, fid in enumerate(p.follow):
            b["pol_follow"][ct.c_int(i)] = ct.c_uint32(fid)
        if p.binaries:
            self._binaries()

    def _binaries(self) -> None:
        """The executables of the processes that run already (later ones: sched_process_exec)."""
        table = self.bpf["pol_bin"]
        proc = paths.procfs()
        for d in proc.iterdir():
            if not d.name.isdigit():
                continue
            try:
                exe = os.readlink(d / "exe").encode()[:239]
            except OSError:
                continue
            k = table.Leaf()
            k.prefixlen = len(exe)
            ct.memmove(ct.addressof(k) + type(k).data.offset, exe, len(exe))
            table[ct.c_uint32(int(d.name))] = k

    def install(self, slot: int) -> None:
        """Put every hook's handlers in `slot`."""
        q = bpfc.Quiet()
        try:
            with q:
                for hp in self.plan.hooks:
                    progs = self.bpf["pol_tp_progs" if hp.kind in (T.K_TP, T.K_SYS_TP) else "pol_kp_progs"]
                    fd = self.bpf.load_func(f"pol_enter_{hp.id}", self._types(hp)).fd
                    progs[ct.c_int(slot * T.POL_MAX_HOOKS + hp.id)] = ct.c_int(fd)
                    if hp.ret:
                        fd = self.bpf.load_func(f"pol_return_{hp.id}", self._types(hp)).fd
                        progs[ct.c_int((MAX_SLOTS + slot) * T.POL_MAX_HOOKS + hp.id)] = ct.c_int(fd)
        except Exception as e:
            raise TracerError(f"the kernel refused a policy program ({e}): {q.errors()}") from None

    def set_default(self, on: bool) -> None:
        self.bpf["config"][ct.c_int(CFG_DEFAULT)] = ct.c_uint64(1 if on else 0)

    def assign(self, pid: int, slot: int) -> None:
        if pid != os.getpid():
            self.bpf["pid_slot"][ct.c_int(pid)] = ct.c_uint8(slot + 1)

    def release(self, pid: int) -> None:
        if pid != os.getpid():
            self.bpf["pid_slot"][ct.c_int(pid)] = ct.c_uint8(0)

    def assign_cgroup(self, cgroup_id: int, slot: int) -> None:
        self.bpf["cgroup_slot"][ct.c_uint64(cgroup_id)] = ct.c_uint8(slot + 1)
        self.bpf["config"][ct.c_int(CFG_CGROUPS)] = ct.c_uint64(1)

    def attach(self) -> None:
        b = self.bpf
        q = bpfc.Quiet()
        steps: list[tuple[str, str, str]] = [a for hp in self.plan.hooks for a in hp.attach]
        if self.plan.follow or self.plan.binaries:
            steps.append(("tracepoint", "sched:sched_process_fork", "pol_fork"))
        try:
            with q:
                for how, target, fn in steps:
                    if how == "tracepoint":
                        b.attach_tracepoint(tp=target, fn_name=fn)
                    elif how == "kprobe":
                        b.attach_kprobe(event=target, fn_name=fn)
                    elif how == "kretprobe":
                        b.attach_kretprobe(event=target, fn_name=fn, maxactive=64)
                    else:
                        path, _, sym = target.rpartition(":")
                        if how == "uprobe":
                            b.attach_uprobe(name=path, sym=sym, fn_name=fn)
                        else:
                            b.attach_uretprobe(name=path, sym=sym, fn_name=fn)
                    self.attached.append((how, target))
        except Exception as e:
            raise TracerError(f"cannot attach the policy's {how} {target}: {e} {q.errors()}") from None

    def detach(self) -> None:
        """Detach every front end (in parallel: each waits out an RCU grace period)."""
        if self.bpf is None:
            return
        b = self.bpf

        def one(item: tuple[str, str]) -> None:
            how, target = item
            try:
                if how == "tracepoint":
                    b.detach_tracepoint(tp=target)
                elif how == "kprobe":
                    b.detach_kprobe(event=target)
                elif how == "kretprobe":
                    b.detach_kretprobe(event=target)
                else:
                    path, _, sym = target.rpartition(":")
                    if how == "uprobe":
                        b.detach_uprobe(name=path, sym=sym)
                    else:
                        b.detach_uretprobe(name=path, sym=sym)
            except Exception:
                pass  # close() releases what is left

        items = list(dict.fromkeys(self.attached))
        q = bpfc.Quiet()
        with q, ThreadPoolExecutor(max_workers=min(16, max(1, len(items)))) as pool:
            list(pool.map(one, items))
        self.attached.clear()

    def lost(self) -> int:
        return bpfc.lost_events(self.bpf)

    def close(self) -> None:
        if self.bpf is not None:
            self.detach()
            bpfc.release(self.bpf)
            self.bpf = None
