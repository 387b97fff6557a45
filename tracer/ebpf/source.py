"""The ebpf hooks' event source: plan -> load and attach -> drain -> lines -> detach."""

from __future__ import annotations

from tracer import procfs
from tracer.capabilities import Capabilities
from tracer.ebpf import progstats
from tracer.ebpf.engine import Engine
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
        self.targets = targets
        self.engine = Engine(plan, opts.format, targets.follow_forks, targets.tags)
        self.watch = containerwatch.ContainerWatch(targets.tags) if targets.tags else None
        self.skipped = 0

    def start(self) -> None:
        disp = self.engine.disp
        try:
            self.engine.load()
            for sc in self.plan.syscalls:
                disp.install(TRACED_SLOT, sc)
            marked = self.targets.to_mark()
            disp.assign_all(list(marked), TRACED_SLOT)
            disp.release_all(procfs.replaced(marked))
            # A container is followed two ways: its processes' children (fork following,
            # which works on any cgroup layout) and, where it has a cgroup v2 id, every
            # process in its cgroup (processes `podman exec` adds descend from none of them).
            for cgroup_id in self.targets.cgroup_ids():
                disp.assign_cgroup(cgroup_id, TRACED_SLOT)
            self.engine.open()
        except BaseException:
            self.engine.close()
            raise

    def poll(self, timeout: float, writer: TraceWriter) -> None:
        self.engine.drain(writer, timeout)
        if self.watch:
            self.watch.check(writer)

    def close(self, writer: TraceWriter) -> None:
        try:
            self.engine.detach(writer)
            if self.watch:
                self.watch.check(writer, force=True)
        finally:
            self.skipped = progstats.skipped_runs(self.engine.disp.bpf)
            self.engine.close()

    def notes(self) -> list[str]:
        return progstats.note(self.skipped)


def create(hook: Hook, opts: HookOptions, targets: Targets, caps: Capabilities) -> EbpfSource:
    return EbpfSource(make_plan(hook, opts, caps), opts, targets)
