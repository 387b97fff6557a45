"""The ebpf hooks' event source: plan -> load and attach -> drain -> lines -> detach."""

from __future__ import annotations

from tracer import procfs
from tracer.capabilities import Capabilities
from tracer.ebpf.consumer import Consumer
from tracer.ebpf.dispatch import Dispatcher
from tracer.ebpf.lines import LineMaker
from tracer.ebpf.plan import Plan, make_plan
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.pipeline import containerwatch
from tracer.pipeline.writer import TraceWriter
from tracer.targets import Targets

TRACED_SLOT = 1  # the hooks give every traced PID the same handler set


class EbpfSource:
    def __init__(self, plan: Plan, opts: HookOptions, targets: Targets) -> None:
        self.plan = plan
        self.opts = opts
        self.targets = targets
        self.disp = Dispatcher(plan.mode, plan.ringbuf, plan.buffer_size, targets.follow_forks,
                               timing=opts.format in ("strace", "json"))
        self.lines = LineMaker(plan.table, opts.format == "json", targets.tags,
                               strace=opts.format == "strace")
        self.consumer = Consumer(self.disp, self.lines, plan.ringbuf, plan.buffer_size)
        self.watch = containerwatch.ContainerWatch(targets.tags) if targets.tags else None

    def start(self) -> None:
        try:
            self.disp.load()
            for sc in self.plan.syscalls:
                self.disp.install(TRACED_SLOT, sc)
            pids = list(self.targets.pids)
            if self.targets.follow_forks:
                pids += procfs.descendants(pids)
            for pid in pids:
                self.disp.assign(pid, TRACED_SLOT)
            # A container is followed two ways: its processes' children (fork following,
            # which works on any cgroup layout) and, where it has a cgroup v2 id, every
            # process in its cgroup (processes `podman exec` adds descend from none of them).
            for cgroup_id in self.targets.cgroup_ids():
                self.disp.assign_cgroup(cgroup_id, TRACED_SLOT)
            self.consumer.open()
        except BaseException:
            self.consumer.close()
            self.disp.close()
            raise

    def poll(self, timeout: float, writer: TraceWriter) -> None:
        self.consumer.drain(writer, timeout)
        if self.watch:
            self.watch.check(writer)

    def close(self, writer: TraceWriter) -> None:
        if self.disp.bpf is None:
            return
        self.disp.detach()  # no new events; what is buffered is still written
        try:
            self.consumer.finish(writer)
            if self.watch:
                self.watch.check(writer, force=True)
        finally:
            self.consumer.close()
            self.disp.close()

    def notes(self) -> list[str]:
        return []


def create(hook: Hook, opts: HookOptions, targets: Targets, caps: Capabilities) -> EbpfSource:
    return EbpfSource(make_plan(hook, opts, caps), opts, targets)
