"""A policy as an event source of the session loop: plan -> load -> attach -> drain -> detach."""

from __future__ import annotations

from pathlib import Path

from tracer import procfs
from tracer.capabilities import Capabilities
from tracer.ebpf import progstats
from tracer.ebpf.consumer import Consumer
from tracer.ebpf.frontend import PERFBUF_DEFAULT, RINGBUF_DEFAULT, uses_ringbuf
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.pipeline import containerwatch
from tracer.pipeline.writer import TraceWriter
from tracer.policy import plan as planner
from tracer.policy import schema
from tracer.policy.engine import PolicyEngine
from tracer.policy.format import PolicyLines
from tracer.targets import Targets

ALL_SLOT = 0       # system-wide: every process without a slot of its own
TARGET_SLOT = 1    # the traced PIDs and containers


def compile_file(path: str | Path, caps: Capabilities, resolve_btf: bool = True) -> planner.Plan:
    """Read, check and plan the policy at `path` (nothing touches the kernel)."""
    return planner.make(schema.load(path), planner.kernel_of(caps), resolve_btf)


class PolicySource:
    def __init__(self, plan: planner.Plan, opts: HookOptions, targets: Targets, caps: Capabilities) -> None:
        self.plan = plan
        self.opts = opts
        self.targets = targets
        ringbuf = uses_ringbuf(caps)
        size = opts.buffer_size or (RINGBUF_DEFAULT if ringbuf else PERFBUF_DEFAULT)
        self.engine = PolicyEngine(plan, ringbuf, size, targets.follow_forks)
        self.lines = PolicyLines(plan, opts.format == "json", targets.tags)
        self.consumer = Consumer(self.engine, self.lines, ringbuf, size)  # type: ignore[arg-type]
        self.skipped = 0
        self.watch = containerwatch.ContainerWatch(targets.tags) if targets.tags else None

    def start(self) -> None:
        try:
            self.engine.load()
            targeted = bool(self.targets.pids or self.targets.containers)
            slot = TARGET_SLOT if targeted else ALL_SLOT
            self.engine.install(slot)
            if targeted:
                marked = self.targets.to_mark()
                for pid in marked:
                    self.engine.assign(pid, slot)
                for pid in procfs.replaced(marked):
                    self.engine.release(pid)
                for cgroup_id in self.targets.cgroup_ids():
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
            self.skipped = progstats.skipped_runs(self.engine.bpf)
            self.consumer.close()
            self.engine.close()

    def notes(self) -> list[str]:
        return progstats.note(self.skipped)


def create(hook: Hook, opts: HookOptions, targets: Targets, caps: Capabilities,
           path: Path | None = None) -> PolicySource:
    """The source of an ebpf-policy-NAME hook, whose file its description names (`path`), or
    of `tracer policy FILE`, which names the file in the options."""
    path = opts.policy_file or path
    return PolicySource(compile_file(path, caps), opts, targets, caps)
