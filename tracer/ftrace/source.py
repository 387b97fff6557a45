"""One ftrace session as an EventSource: a private instance, configured, drained, removed.

Each hook module supplies a `configure(session)` that sets PID filters and
enables its events in `session.instance` (creating any dynamic events through
`session.add_dynevent`, so they are released with the session). Everything
else -- instance life cycle, buffer size, draining trace_pipe, loss counting,
teardown on every path -- is here, once.
"""

from __future__ import annotations

import re
import time
from typing import Callable

from tracer import procfs
from tracer.errors import TracerError
from tracer.ftrace import lines, tasks
from tracer.hooks.options import HookOptions
from tracer.hooks.spec import Hook
from tracer.pipeline import containerwatch
from tracer.pipeline.writer import TraceWriter
from tracer.targets import Targets
from tracer.tracefs.dynevent import DynEvent
from tracer.tracefs.instance import Instance
from tracer.tracefs.mount import find_tracefs
from tracer.tracefs.pipe import TracePipe

Configure = Callable[["FtraceSession"], None]
RESCAN_EVERY = 1.0  # seconds between looks for tasks that joined a traced container
FORK = ("sched", "sched_process_fork")
FORK_MARK = " sched_process_fork: "
FORK_FIELDS = re.compile(r" sched_process_fork: .*?\bpid=(\d+) .*?\bchild_pid=(\d+)")
DRAIN_BUDGET = 0.2  # seconds of draining per poll, so a stop is seen however busy the flow
# A child's first lines can come before its parent's fork line (the fork event fires after the
# child was woken, maybe on another CPU): lines of a task not known yet wait this long for it.
HOLD = 0.5


class FtraceSession:
    def __init__(self, hook: Hook, opts: HookOptions, targets: Targets, configure: Configure,
                 teardown: Configure | None = None, pid_filter: str = "set_event_pid") -> None:
        self.hook = hook
        self.pid_filter = pid_filter  # the instance file configure() writes self.tids to
        if opts.format == "strace":  # ftrace events carry no call duration nor decoded args
            raise TracerError(f"--format strace is for the ebpf hooks; use --format text or json"
                              f" with {hook.name}")
        self.opts = opts
        self.targets = targets
        # --container: the tagger of lines. The kernel's PID filter (with event-fork) holds
        # only the container's tasks when it is the only target, so then every line is the
        # container's, even of a child gone before its line is read.
        self.tags = targets.tags
        if self.tags and not opts.pids and len(targets.containers) == 1:
            only = targets.containers[0].short_id
            self.tags = containerwatch.Constant(self.tags, only)
        self.watch = containerwatch.ContainerWatch(self.tags) if self.tags else None
        self._configure = configure
        self._teardown_hook = teardown
        self.tids: list[int] = []
        # tid -> start time of the tasks written to the PID filter that may still need taking
        # out: a task that ends before it is written stays there, and the kernel removes an
        # ending task only while it follows forks
        self._listed: dict[int, int] = {}
        self._paused = False  # tracing_on off: every task in the PID filter has ended
        self.instance: Instance | None = None
        self.dynevents: list[DynEvent] = []
        self.pipe: TracePipe | None = None
        self._lost_seen = 0
        self._notes: list[str] = []
        self._closed = False
        self._fork_only = False  # sched_process_fork enabled for the tagger alone
        self._held: list[str] = []  # lines from the first of a task not known yet, in order
        self._held_since = 0.0
        if opts.format == "json":
            self._format = (lambda ln: lines.to_json(ln, self.tags)) if self.tags else lines.to_json
        else:
            self._format = (lambda ln: lines.tag(ln, self.tags)) if self.tags else str.lstrip

    @property
    def _tags_per_task(self) -> bool:
        """Lines are tagged task by task (several containers), not all with one id."""
        return self.tags is not None and not isinstance(self.tags, containerwatch.Constant)

    # -- for configure() ---------------------------------------------------------

    def add_dynevent(self, ev: DynEvent) -> None:
        """Create `ev` in the kernel; it is destroyed when the session ends."""
        ev.create()
        self.dynevents.append(ev)

    def note(self, text: str) -> None:
        self._notes.append(text)

    # -- EventSource -------------------------------------------------------------

    def start(self) -> None:
        given = set(self.opts.pids or ())
        # a number freed and reused since --pid/--container was resolved names another process
        gone = set(procfs.replaced(self.targets.started))
        if gone & given:
            raise TracerError(f"PID {min(gone & given)} exited before tracing started")
        pids = tuple(p for p in self.targets.pids if p not in gone)
        tids = tasks.task_ids_of(pids, frozenset(p for p in pids if p not in given))
        self._listed = procfs.start_times(tids)
        self.tids = [t for t in tids if t in self._listed]
        if not self.tids:  # an empty PID filter would trace every task
            raise TracerError("every traced process exited before tracing started: run it again"
                              " while the container has processes")
        self._known = set(self.targets.pids)
        self._rescanned = time.monotonic()
        tracefs = find_tracefs()
        try:
            self.instance = Instance.create(self.hook.name, tracefs)
            # Nothing is recorded until every filter is in place.
            self.instance.set_tracing_on(False)
            if self.opts.buffer_size:
                self.instance.set_total_buffer_size(self.opts.buffer_size)
            self._configure(self)
            self._take_out_ended()
            self._follow_forks_for_tags()
            self.pipe = self.instance.open_pipe()
            self._lost_seen = self.instance.lost_events()
            # tasks forked while the instance was set up: no fork line tags them
            if self._tags_per_task:
                containerwatch.remember_tasks(self.tags)  # type: ignore[arg-type]
            self.instance.set_tracing_on(not self._paused)
            if self._tags_per_task:  # and those forked since, before tracing was on
                containerwatch.remember_tasks(self.tags)  # type: ignore[arg-type]
        except BaseException:
            self._release()
            raise

    def poll(self, timeout: float, writer: TraceWriter) -> None:
        if self.pipe is None:
            return
        if self.pipe.wait(timeout):
            self._drain(writer, time.monotonic() + DRAIN_BUDGET)
        elif self._held:
            self._drain(writer, time.monotonic())  # nothing new: held lines past HOLD go out
        self._count_lost(writer)
        if self.watch:
            self.watch.check(writer)
        self._tend_pid_filter()

    def close(self, writer: TraceWriter) -> None:
        if self._closed:
            return
        self._closed = True
        if self.instance is not None and self.pipe is not None:
            try:
                self.instance.set_tracing_on(False)  # stop the flow, then take what is left
                self._drain(writer)
                self._count_lost(writer)
                if self.watch:
                    self.watch.check(writer, force=True)
            except TracerError as e:
                self._notes.append(f"final drain failed: {e}")
        self._release()

    def notes(self) -> list[str]:
        return list(self._notes)

    # -- internals ---------------------------------------------------------------

    def _tend_pid_filter(self) -> None:
        now = time.monotonic()
        if self.instance is None or now - self._rescanned < RESCAN_EVERY:
            return
        self._rescanned = now
        if self.watch:
            self._join_new_container_tasks()
        self._take_out_ended()

    def _join_new_container_tasks(self) -> None:
        """Add to the PID filter the tasks that joined a traced container without being
        forked by its processes (podman exec): tracefs cannot filter by cgroup."""
        assert self.instance is not None
        joined = containerwatch.current_pids(self.tags) - self._known
        self._known |= joined
        tids = [t for pid in joined for t in tasks.task_ids_if_alive(pid)]
        if tids and self.targets.follow_forks:  # those forked by traced tasks are there already
            tids = list(set(tids) - self.instance.filter_pids(self.pid_filter))
        started = procfs.start_times(tids)
        if started:  # _tend_pid_filter takes out those that end before they are written
            self.instance.add_filter_pids(self.pid_filter, list(started))
            self._listed.update(started)

    def _take_out_ended(self) -> None:
        """Remove from the PID filter the listed tasks that ended, before a new task is given
        the number. While forks are followed the kernel removes a task at its end, so only
        one that ended before it was written is left, and the list is then done with."""
        assert self.instance is not None
        ended = set(procfs.replaced(self._listed))
        if ended and not self.instance.remove_filter_pids(self.pid_filter, ended):
            # Every task the filter names has ended, and an empty filter traces every task:
            # tracing pauses, and they stay listed, until a task joins (a container's).
            if not self._paused:
                self.instance.set_tracing_on(False)
                self._paused = True
            self._listed = {tid: self._listed[tid] for tid in ended}
            return
        if self._paused:
            self.instance.set_tracing_on(True)
            self._paused = False
        if self.targets.follow_forks:
            self._listed = {}
        else:
            for tid in ended:
                del self._listed[tid]

    def _follow_forks_for_tags(self) -> None:
        """Tag the lines of a task by its parent's container, from the fork event.

        A task that exits before its lines are read has no /proc entry left to say its
        container; its fork event comes before its own lines in trace_pipe, so the
        session records sched_process_fork too (and hides it when the hook did not
        ask for it). A single-container session needs none of this (Constant)."""
        assert self.instance is not None
        if not self._tags_per_task:
            return
        enabled = self.instance.read(f"events/{FORK[0]}/{FORK[1]}/enable").strip()
        if enabled != "1":
            self.instance.enable(*FORK)
            self._fork_only = True

    def _tag_forks(self, got: list[str]) -> list[str]:
        """Note each fork for the tagger, in stream order; drop the ones only we wanted."""
        keep = []
        for ln in got:
            if FORK_MARK in ln:
                m = FORK_FIELDS.search(ln)
                if m:
                    self.tags.note_fork(int(m.group(1)), int(m.group(2)))  # type: ignore[union-attr]
                    if self._fork_only:
                        continue
            keep.append(ln)
        return keep

    def _drain(self, writer: TraceWriter, deadline: float | None = None) -> None:
        """Write what trace_pipe holds; with a deadline, return by then (the loop must
        check for a stop); without, until it is empty (tracing is off: it ends)."""
        assert self.pipe is not None
        while deadline is None or time.monotonic() < deadline:
            got = self.pipe.read_lines(4 << 20)
            if not got:
                break
            if self._tags_per_task:
                got = self._hold_unknown(self._held + self._tag_forks(got))
            self._write(writer, got)
        if self._held and (deadline is None or time.monotonic() - self._held_since > HOLD):
            held, self._held = self._held, []
            self._write(writer, held)  # their fork never came: written as they are

    def _hold_unknown(self, got: list[str]) -> list[str]:
        """The lines that can be tagged now; from the first line of a task neither cached nor
        alive on, the rest waits (in order) for the next batch and its fork lines."""
        for i, ln in enumerate(got):
            pid = lines.pid_of(ln)
            if pid is not None and not self.tags.knows(pid):  # type: ignore[union-attr]
                if not self._held or got[i] != self._held[0]:
                    self._held_since = time.monotonic()
                elif time.monotonic() - self._held_since > HOLD:
                    continue  # waited long enough for this one: it goes out untagged
                self._held = got[i:]
                return got[:i]
        self._held = []
        return got

    def _write(self, writer: TraceWriter, got: list[str]) -> None:
        out = [self._format(ln) + "\n" for ln in got if ln and not lines.LOST_MARK.match(ln)]
        if out:
            writer.write("".join(out), len(out))

    def _count_lost(self, writer: TraceWriter) -> None:
        assert self.instance is not None
        lost = self.instance.lost_events()
        if lost > self._lost_seen:
            writer.write_lost(lost - self._lost_seen)
            self._lost_seen = lost

    def _release(self) -> None:
        """Undo everything start() did, in reverse; keep going past failures and note them."""
        steps: list[tuple[str, Callable[[], None]]] = []
        if self.pipe is not None:
            steps.append(("close trace_pipe", self.pipe.close))
        if self.instance is not None:
            inst = self.instance
            if self._teardown_hook is not None:
                steps.append(("reset the instance", lambda: self._teardown_hook(self)))  # type: ignore[misc]
            steps.append(("remove the instance", inst.destroy))
        for ev in reversed(self.dynevents):
            # Enabled only in our instance, gone by now: no force, which would open the
            # files of every other instance (and make another session's rmdir fail).
            steps.append((f"remove {ev.kind} {ev.system}/{ev.event}",
                          lambda ev=ev: ev.destroy()))  # type: ignore[misc]
        failures = []
        for what, step in steps:
            try:
                step()
            except TracerError as e:
                failures.append(f"{what}: {e}")
        self.pipe = None
        self.dynevents = []
        if failures:
            self._notes += [f"cleanup failed: {f}; run 'manager --clear'" for f in failures]


def enable_all(session: FtraceSession, events: list[tuple[str, str | None]]) -> None:
    """PID filter (children followed unless --no-follow-forks), then the events."""
    inst = session.instance
    assert inst is not None
    inst.set_event_pids(session.tids, session.targets.follow_forks)
    for system, event in events:
        inst.enable(system, event)
