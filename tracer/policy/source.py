"""A policy as an event source of the session loop: plan -> load -> attach -> drain -> detach."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tracer import capabilities as cap
from tracer.capabilities import Capabilities
from tracer.ebpf.consumer import Consumer
from tracer.ebpf.plan import PERFBUF_DEFAULT, RINGBUF_DEFAULT
from tracer.ebpf.source import descendants
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.pipeline import containerwatch
from tracer.pipeline.writer import TraceWriter
from tracer.policy import plan as planner
from tracer.policy import schema
from tracer.policy.engine import PolicyEngine
from tracer.policy.format import PolicyLines

ALL_SLOT = 0       # system-wide: every process without a slot of its own
TARGET_SLOT = 1    # the traced PIDs and containers


def compile_file(path: str | Path, caps: Capabilities, resolve_btf: bool = True) -> planner.Plan:
    """Read, check and plan the policy at `path` (nothing touches the kernel)."""
    return planner.make(schema.load(path), planner.kernel_of(caps), resolve_btf)


class PolicySource:
    def __init__(self, plan: planner.Plan, opts: HookOptions, caps: Capabilities,
                 container_of: Any = None) -> None:
        self.plan = plan
        self.opts = opts
        ringbuf = caps.has(cap.RINGBUF) and os.environ.get("TRACER_BUFFER", "ring") != "perf"
        size = opts.buffer_size or (RINGBUF_DEFAULT if ringbuf else PERFBUF_DEFAULT)
        self.engine = PolicyEngine(plan, ringbuf, size, opts.follow_forks)
        self.lines = PolicyLines(plan, opts.format == "json", container_of)
        self.consumer = Consumer(self.engine, self.lines, ringbuf, size)  # type: ignore[arg-type]
        self.tags = container_of
        self.watch = containerwatch.ContainerWatch(container_of) if container_of else None

    def start(self) -> None:
        try:
            self.engine.load()
            targeted = bool(self.opts.pids or self.opts.containers)
            slot = TARGET_SLOT if targeted else ALL_SLOT
            self.engine.install(slot)
            if targeted:
                pids = list(self.opts.pids)
                if self.opts.follow_forks:
                    pids += descendants(pids)
                for pid in pids:
                    self.engine.assign(pid, slot)
                for cgroup_id in (self.tags.cgroup_ids.values() if self.tags else ()):
                    if cgroup_id:
                        self.engine.assign_cgroup(cgroup_id, slot)
            else:
                self.engine.set_default(True)
            self.consumer.open()
            self.engine.attach()
        except BaseException:
            self.consumer.close()
            self.engine.close()
            raise

    def poll(self, timeout: float, writer: TraceWriter) -> None:
        self.consumer.drain(writer, timeout)
        if self.watch:
            self.watch.check(writer)

    def close(self, writer: TraceWriter) -> None:
        if self.engine.bpf is None:
            return
        self.engine.detach()
        try:
            self.consumer.finish(writer)
        finally:
            self.consumer.close()
            self.engine.close()

    def notes(self) -> list[str]:
        return []


def create(hook: Hook, opts: HookOptions, caps: Capabilities) -> PolicySource:
    """The runner of an ebpf-policy-NAME hook (or of `tracer policy FILE`, which names the file)."""
    from tracer.policy import hookdefs

    path = opts.extra.get("policy_file") or hookdefs.file_of(hook.name)
    plan = compile_file(path, caps)
    opts, tags = containerwatch.resolve(opts)
    return PolicySource(plan, opts, caps, tags)
