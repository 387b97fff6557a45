"""The ebpf-packets event source: plan -> attach (tc, cgroups) -> drain -> lines/pcapng -> detach."""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import time
from typing import Any

from tracer import procfs
from tracer.capabilities import Capabilities
from tracer.ebpf.cheader import CFG_OWNERS, CFG_PORT, CFG_PROTO
from tracer.errors import TracerError
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.net import decode, existing, links, programs, record
from tracer.net.pcapng import PcapngWriter
from tracer.net.plan import NetPlan, cgroup_dir, make_plan
from tracer.net.tc import TcSession
from tracer.pipeline import containerwatch
from tracer.pipeline.writer import TraceWriter
from tracer.targets import Targets

PROTOS = {"tcp": 6, "udp": 17, "icmp": 1}
DEFAULT_BUFFER = 4 << 20


class IfaceInfo:
    """How lines and the capture file name the interface a packet was seen on."""

    def __init__(self, name: str, host: str | None, container: str | None, ethernet: bool) -> None:
        self.name = name
        self.host = host
        self.container = container
        self.ethernet = ethernet

    @property
    def label(self) -> str:
        return f"{self.name}@{self.host}" if self.host else self.name


class PacketSource:
    def __init__(self, opts: HookOptions, targets: Targets, proto: int, port: int) -> None:
        self.opts = opts
        self.targets = targets
        self.tags = targets.tags
        self.proto = proto
        self.port = port
        self.json = opts.format == "json"
        self.pcap: PcapngWriter | None = None
        self.bpf: Any = None
        self.tc: TcSession | None = None
        self.link_fds: list[int] = []
        self.plan: NetPlan | None = None
        self.ifaces: dict[int, IfaceInfo] = {}
        self.cg_ifaces: dict[int, str] = {}
        self.pending: list[record.Packet] = []
        self.header_written = False
        self.lost_seen = 0
        self.wall = time.time_ns() - time.monotonic_ns()  # bpf_ktime_get_ns is CLOCK_MONOTONIC
        self.watch = containerwatch.ContainerWatch(self.tags) if self.tags else None

    # ---- attach
    def _container_dirs(self) -> dict[int, Any]:
        from tracer.containers import unified

        dirs = {}
        for c in (self.tags.containers if self.tags else []):
            d = unified.directory(c)
            if d is not None:
                dirs.update({pid: d for pid in c.pids})
        return dirs

    def _container_of(self, pid: int) -> str | None:
        return self.tags(pid) if self.tags else None

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self._detach()
            self._release()
            raise

    def _start(self) -> None:
        gone = set(procfs.replaced(self.targets.started))  # ended, or their number reused
        targets = links.discover([p for p in self.opts.pids if p not in gone])
        if not targets:
            raise TracerError("every target process has exited: start it again, then trace it")
        self.plan = plan = make_plan(targets, self._container_dirs())
        owners = any(capture for capture in plan.cgroups.values()) and not self.tags
        size = self.opts.buffer_size or DEFAULT_BUFFER
        pages = max(1, size // os.sysconf("SC_PAGE_SIZE"))
        pages = 1 << (pages.bit_length() - 1)  # the ring buffer wants a power of two
        self.bpf = programs.build(pages, owners, self.opts.follow_forks)
        cfg = self.bpf["config"]
        for i, v in ((CFG_PROTO, self.proto), (CFG_PORT, self.port), (CFG_OWNERS, int(owners))):
            cfg[ctypes.c_int(i)] = ctypes.c_uint32(v)
        marked = self.targets.to_mark()
        if owners:
            traced = self.bpf["traced"]
            for pid in marked:
                traced[ctypes.c_uint32(pid)] = ctypes.c_uint8(1)
        # a process that ended before its mark was written left one no exit clears, and a
        # number reused since the targets were resolved names another process
        for pid in procfs.replaced(marked):
            del marked[pid]
            if owners:
                traced.pop(ctypes.c_uint32(pid), None)
        self._seed_owners(list(marked))
        for t in targets:
            # the cgroup programs emit what no tc sees: all of a shared namespace, loopback
            self.cg_ifaces.update({i.index: i.name for i in t.inner
                                   if not t.host_links or i.kind == "loopback"})
            for h in t.host_links:
                self.ifaces[h.index] = IfaceInfo(h.inner, h.name, self._container_of(t.pids[0]), True)
        self.bpf["events"].open_ring_buffer(self._on_event)
        if self.opts.format == "pcapng":
            self.pcap = PcapngWriter("ebpf-packets", programs.SNAP)
        # cgroups first: the flows they learn are what tc names owners from
        for d, capture in plan.cgroups.items():
            for func, kind, attach in programs.ATTRIBUTION:
                func = programs.CAPTURE.get(func, func) if capture else func
                fn = programs.load(self.bpf, func, kind, attach)
                self.link_fds.append(programs.link_cgroup(fn.fd, str(d), attach))
        if plan.tc_links:
            out = programs.load(self.bpf, programs.TC_OUT, "SCHED_CLS")
            inn = programs.load(self.bpf, programs.TC_IN, "SCHED_CLS")
            self.tc = TcSession()
            for h, _t in plan.tc_links:
                # our end's ingress carries what leaves the target, its egress what enters
                self.tc.attach(h.index, h.name, {"ingress": ("out", out.fd), "egress": ("in", inn.fd)})

    def _seed_owners(self, pids: list[int]) -> None:
        """Owners of the sockets the targets opened before now, which no cgroup program will
        see created: by cookie, and listeners and bound UDP sockets by port."""
        socks, ports = self.bpf["sock_owner"], self.bpf["port_owner"]
        cgids: dict[int, int] = {}
        for h in existing.held(pids):
            if h.pid not in cgids:
                try:
                    cgids[h.pid] = cgroup_dir(h.pid).stat().st_ino  # a v2 cgroup's id
                except (TracerError, OSError):
                    cgids[h.pid] = 0
            o = socks.Leaf()
            o.tgid = o.tid = h.pid
            o.cgid = cgids[h.pid]
            o.comm = h.comm.encode()[:15]
            o.kept = 1
            socks[ctypes.c_uint64(h.cookie)] = o
            if h.port_key is not None:
                ports[ctypes.c_uint32(h.port_key)] = o

    # ---- drain
    def _on_event(self, ctx: Any, data: Any, size: int) -> None:
        self.pending.append(record.parse(ctypes.string_at(data, size)))

    def _iface(self, p: record.Packet) -> IfaceInfo:
        info = self.ifaces.get(p.ifindex) if p.ethernet else None
        if info is None:
            name = self.cg_ifaces.get(p.ifindex) or (f"if{p.ifindex}" if p.ifindex else "?")
            cid = None
            if self.tags and p.known:
                cid = self.tags.of_cgroup(p.cgid) or self._container_of(p.tgid)
            info = IfaceInfo(name, None, cid, p.ethernet)
        return info

    def _format(self, p: record.Packet, info: IfaceInfo, s: decode.Summary) -> str:
        ts = self.wall + p.ts
        direction = "out" if p.outbound else "in"
        if self.json:
            obj = {"timestamp": f"{ts // 1_000_000_000}.{ts % 1_000_000_000:09d}", "direction": direction,
                   "interface": info.name, "host_interface": info.host, "protocol": s.proto,
                   "src": s.src, "sport": s.sport, "dst": s.dst, "dport": s.dport, "length": p.length,
                   "tcp_flags": s.flags, "info": s.info or None,
                   "pid": p.tgid if p.known else None, "tid": p.tid if p.known else None,
                   "comm": p.comm if p.known else None}
            if self.tags:
                obj["container"] = info.container
            return json.dumps(obj, separators=(",", ":"))
        owner = f"{p.comm} {p.tgid}/{p.tid}" if p.known else "? ?"
        cid = f" {info.container or '-'}" if self.tags else ""
        what = f"{s.endpoint(s.src, s.sport)} > {s.endpoint(s.dst, s.dport)}" if s.src else ""
        tail = f" [{s.flags}]" if s.flags is not None else ""
        tail += f" {s.info}" if s.info else ""
        return (f"{ts // 1_000_000_000}.{ts % 1_000_000_000:09d} {owner}{cid} {direction}"
                f" {info.label} {s.proto} {what} len {p.length}{tail}").replace("  ", " ")

    def _comment(self, p: record.Packet, info: IfaceInfo) -> str:
        who = f"pid {p.tgid} tid {p.tid} comm {p.comm}" if p.known else "owner unknown"
        return who + (f" container {info.container}" if info.container else "")

    def _write(self, writer: TraceWriter) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        out = []
        for p in batch:
            info = self._iface(p)
            s = decode.summarize(p.data, p.ethernet)
            out.append(self._format(p, info, s))
            if self.pcap:
                desc = f"{info.name} of the traced target" + (f", seen on {info.host}" if info.host else "")
                i = self.pcap.iface(info.label, desc)
                self.pcap.add(i, self.wall + p.ts, p.data, p.length, self._comment(p, info), p.outbound,
                              p.ethernet)
        writer.write("\n".join(out) + "\n", len(out))
        if self.pcap:
            self.pcap.flush()

    def _lost(self, writer: TraceWriter) -> None:
        total = self.bpf["lost"].sum(ctypes.c_int(0)).value
        if total > self.lost_seen:
            writer.write_lost(total - self.lost_seen)
            self.lost_seen = total

    def _header(self, writer: TraceWriter) -> None:
        self.header_written = True
        for line in self.plan.describe() if self.plan else []:
            writer.note(line)
        if self.proto or self.port:
            writer.note("in-kernel filter:" + (f" protocol {self.proto}" if self.proto else "")
                        + (f" port {self.port}" if self.port else ""))
        if self.pcap:
            writer.note(f"capture file: {self.pcap.path}")

    def poll(self, timeout: float, writer: TraceWriter) -> None:
        if not self.header_written:
            self._header(writer)
        self.bpf.ring_buffer_poll(int(timeout * 1000))
        self._write(writer)
        self._lost(writer)
        if self.watch:
            self.watch.check(writer)

    # ---- detach
    def _detach(self) -> list[str]:
        problems = []
        if self.tc:
            problems = self.tc.close()
            self.tc = None
        for fd in self.link_fds:
            os.close(fd)
        self.link_fds = []
        return problems

    def _release(self) -> None:
        if self.bpf is not None:
            self.bpf.cleanup()
            self.bpf = None
        if self.pcap:
            self.pcap.close()

    def close(self, writer: TraceWriter) -> None:
        if self.bpf is None:
            return
        problems = self._detach()
        try:
            if not self.header_written:
                self._header(writer)
            self.bpf.ring_buffer_consume()
            self._write(writer)
            self._lost(writer)
            if self.watch:
                self.watch.check(writer, force=True)
            for p in problems:
                writer.note(f"could not remove {p}; run --clear")
            if self.pcap:
                writer.note(f"capture file {self.pcap.path}: {self.pcap.packets} packets")
        finally:
            self._release()

    def notes(self) -> list[str]:
        return []


def create(hook: Hook, opts: HookOptions, targets: Targets, caps: Capabilities) -> PacketSource:
    proto = opts.proto
    port = opts.port
    if port is not None and not 1 <= port <= 65535:
        raise TracerError(f"--port {port} out of range: give a port from 1 to 65535")
    if not targets.pids:
        raise TracerError("the containers given have no running process: start them first")
    opts = dataclasses.replace(opts, pids=list(targets.pids), follow_forks=targets.follow_forks)
    return PacketSource(opts, targets, PROTOS[proto] if proto else 0, port or 0)
