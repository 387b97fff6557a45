"""`tracer export FILE --to ctf DIR`: a CTF trace with LTTng's kernel conventions, written by
babeltrace2's own CTF writer (Debian's python3-bt2, `sink.ctf.fs`), so babeltrace2, Trace
Compass and lttng-analyses read it as an lttng-modules trace.

What LTTng readers rely on, and where it comes from here:
- metadata environment: domain "kernel", tracer_name "lttng-modules", tracer 2.12;
- events `syscall_entry_NAME` (the arguments, raw integers named as the kernel names them;
  paths as strings) and `syscall_exit_NAME` (`ret`, the kernel's value: -errno on failure);
- `sched_process_fork` / `sched_process_exec` / `sched_process_exit` from clone/fork (at the
  call's start), execve and exit_group; `sched_switch` whenever the next event belongs to another thread (the
  analyses know which thread a syscall event belongs to only through it);
- packet context `cpu_id`; event context `procname`, `pid`, `tid` (LTTng's add-context).
The trace has one stream, CPU 0: our trace file does not say which CPU ran a call.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tracer.errors import TracerError
from tracer.views.calls import EXECS, FORKS, NORETURN, Call

STRING_ARGS = frozenset({"filename", "pathname", "path", "oldname", "newname", "specialfile",
                         "dev_name", "dir_name", "library"})
TRACER = {"tracer_name": "lttng-modules", "tracer_major": 2, "tracer_minor": 12,
          "tracer_patchlevel": 0}


@dataclass
class Ev:
    ts: int
    name: str
    fields: dict[str, Any]
    comm: str
    pid: int
    tid: int


def _s32_name(name: str) -> bool:
    """Arguments the kernel declares as int that hold negative values (AT_FDCWD, pid -1): their
    register is zero-extended, so the raw value is read back as a 32-bit signed int."""
    return name.endswith("fd") or name in ("fildes", "pid", "upid", "who", "sig")


def _s64(v: Any) -> int:
    v = int(v)
    return v - (1 << 64) if v >= 1 << 63 else v


def events(calls: list[Call]) -> list[Ev]:
    """Every call as LTTng kernel events, in time order, with the scheduler events implied."""
    out: list[Ev] = []
    for c in calls:
        entry = {}
        for n in c.arg_names():
            v = c.args[n]
            if n in STRING_ARGS and isinstance(v, str):
                entry[n] = v
            else:
                raw = c.raw(n)
                if not isinstance(raw, int):
                    entry[n] = 0
                elif _s32_name(n):
                    entry[n] = ((raw & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
                else:
                    entry[n] = _s64(raw)
        out.append(Ev(c.start, f"syscall_entry_{c.name}", entry, c.comm, c.pid, c.tid))
        if c.ret is None:  # exit_group: the process ends in it
            if c.name in NORETURN:
                out.append(Ev(c.start, "sched_process_exit", {"comm": c.comm, "tid": c.tid, "prio": 120},
                              c.comm, c.pid, c.tid))
            continue
        out.append(Ev(c.end, f"syscall_exit_{c.name}", {"ret": int(c.ret)}, c.comm, c.pid, c.tid))
        if c.name in FORKS and c.ret > 0:
            thread = isinstance(c.args.get("flags_raw"), int) and c.args["flags_raw"] & 0x10000
            # at the call's start, as the kernel's event comes before the child runs: the child's
            # first calls often precede the parent's return, and an analysis that met the child
            # before its fork would not know its process
            out.append(Ev(c.start, "sched_process_fork", {
                "parent_comm": c.comm, "parent_tid": c.tid, "parent_pid": c.pid,
                "child_comm": c.comm, "child_tid": int(c.ret), "child_pid": c.pid if thread else int(c.ret),
            }, c.comm, c.pid, c.tid))
        elif c.name in EXECS and c.ret == 0:
            path = c.args.get("filename") or c.args.get("pathname") or ""
            out.append(Ev(c.end, "sched_process_exec", {"filename": str(path), "tid": c.tid,
                                                        "old_tid": c.tid}, c.comm, c.pid, c.tid))
    out.sort(key=lambda e: e.ts)  # stable: an entry stays before its exit at equal times
    switched: list[Ev] = []
    cur: Ev | None = None
    for e in out:
        if cur is None or cur.tid != e.tid:
            switched.append(Ev(e.ts, "sched_switch", {
                "prev_comm": cur.comm if cur else "swapper/0", "prev_tid": cur.tid if cur else 0,
                "prev_prio": 20, "prev_state": 1,
                "next_comm": e.comm, "next_tid": e.tid, "next_prio": 20}, e.comm, e.pid, e.tid))
        switched.append(e)
        cur = e
    return switched


def _field_class(tc: Any, value: Any) -> Any:
    if isinstance(value, str):
        return tc.create_string_field_class()
    return tc.create_signed_integer_field_class(64)


def _value(v: Any, text: bool) -> Any:
    """`v` as its field's class wants it: a string field shows a pointer not read as strace does."""
    if not text:
        return v if isinstance(v, int) else 0
    if isinstance(v, str):
        return v
    return hex(v) if isinstance(v, int) and v else ("NULL" if v == 0 else "")


def _fits(v: Any, text: bool, bits: int = 64) -> bool:
    if text:
        return isinstance(v, str)
    return isinstance(v, int) and -(1 << (bits - 1)) <= v < 1 << (bits - 1)


def write(calls: list[Call], out_dir: str | Path) -> Path:
    """Write `calls` as a CTF trace under `out_dir`/kernel (LTTng's layout); return that path."""
    try:
        import bt2
    except ImportError:
        raise TracerError("babeltrace2's Python bindings are missing: run scripts/setup.sh"
                          " (Debian's python3-bt2)") from None
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise TracerError(f"{out} is not empty: give a new or empty directory for the CTF trace")
    evs = events(calls)
    failed: list[str] = []  # what stopped the source, if anything did

    # the fields of each event class: the union over its events (some calls show fewer). A field
    # is a string if any event has a string there: a path the kernel could not read at the call's
    # entry is the pointer's value in our trace, the path itself in the other calls.
    shapes: dict[str, dict[str, Any]] = {}
    for e in evs:
        shape = shapes.setdefault(e.name, {})
        for k, v in e.fields.items():
            if k not in shape or isinstance(v, str):
                shape[k] = v

    class Iter(bt2._UserMessageIterator):
        def __init__(self, config: Any, port: Any) -> None:
            self._gen = port.user_data(self)

        def __next__(self) -> Any:
            return next(self._gen)

    class Source(bt2._UserSourceComponent, message_iterator_class=Iter):
        def __init__(self, config: Any, params: Any, obj: Any) -> None:
            tc = self._create_trace_class(assigns_automatic_stream_class_id=True)
            cc = self._create_clock_class(frequency=1_000_000_000, name="monotonic",
                                          origin_is_unix_epoch=True)
            pctx = tc.create_structure_field_class()
            pctx.append_member("cpu_id", tc.create_unsigned_integer_field_class(32))
            ectx = tc.create_structure_field_class()
            ectx.append_member("procname", tc.create_string_field_class())
            ectx.append_member("pid", tc.create_signed_integer_field_class(32))
            ectx.append_member("tid", tc.create_signed_integer_field_class(32))
            sc = tc.create_stream_class(default_clock_class=cc, supports_packets=True,
                                        packets_have_beginning_default_clock_snapshot=True,
                                        packets_have_end_default_clock_snapshot=True,
                                        packet_context_field_class=pctx,
                                        event_common_context_field_class=ectx,
                                        assigns_automatic_event_class_id=True)
            classes = {}
            for name, shape in shapes.items():
                payload = tc.create_structure_field_class()
                for k, v in shape.items():
                    payload.append_member(k, _field_class(tc, v))
                classes[name] = sc.create_event_class(name=name, payload_field_class=payload)
            env = {"domain": "kernel", "hostname": socket.gethostname(), "sysname": "Linux",
                   "kernel_release": platform.release(), "kernel_version": platform.version(),
                   "trace_name": "tracer", **TRACER}
            trace = tc(environment=env)
            stream = trace.create_stream(sc)

            def messages(it: Any) -> Iterator[Any]:
                first = evs[0].ts if evs else 0
                last = evs[-1].ts if evs else 0
                yield it._create_stream_beginning_message(stream)
                packet = stream.create_packet()
                packet.context_field["cpu_id"] = 0
                yield it._create_packet_beginning_message(packet, first)
                # an exception raised into babeltrace2 fails its graph, and destroying a graph
                # that failed in a Python source crashes the process: a value that does not fit
                # ends the stream cleanly instead, and the error is raised once the graph is done
                for e in evs:
                    vals = {k: _value(e.fields.get(k), isinstance(v, str))
                            for k, v in shapes[e.name].items()}
                    bad = [k for k, v in shapes[e.name].items() if not _fits(vals[k], isinstance(v, str))]
                    bad += [k for k in ("pid", "tid") if not _fits(getattr(e, k), False, 32)]
                    if bad:  # checked before the message is made: nothing half-filled is left to bt2
                        failed.append(f"event {e.name} at {e.ts} has {', '.join(bad)} out of"
                                      " its field's type")
                        break
                    m = it._create_event_message(classes[e.name], packet, e.ts)
                    ctx = m.event.common_context_field
                    ctx["procname"] = e.comm
                    ctx["pid"] = e.pid
                    ctx["tid"] = e.tid
                    payload = m.event.payload_field
                    for k, v in vals.items():
                        payload[k] = v
                    yield m
                yield it._create_packet_end_message(packet, last)
                yield it._create_stream_end_message(stream)

            self._add_output_port("out", messages)

    kernel = out / "kernel"
    kernel.parent.mkdir(parents=True, exist_ok=True)
    _run(bt2, Source, kernel, out)
    if failed:
        shutil.rmtree(kernel, ignore_errors=True)
        raise TracerError(f"the CTF trace was not written, {failed[0]}: please report it with the"
                          " trace file")
    os.chmod(kernel, 0o755)
    return kernel


def _run(bt2: Any, source: Any, kernel: Path, out: Path) -> None:
    """Run `source` into babeltrace2's CTF writer. The writer finishes the trace when its graph
    is destroyed, which is on this function's return."""
    graph = bt2.Graph()
    src = graph.add_component(source, "tracer")
    sink_cls = bt2.find_plugin("ctf").sink_component_classes["fs"]
    sink = graph.add_component(sink_cls, "ctf", params={"path": str(kernel),
                                                        "assume-single-trace": True})
    graph.connect_ports(src.output_ports["out"], sink.input_ports["in"])
    try:
        graph.run()
    except bt2._Error as e:
        # the first cause is where it went wrong; the others only say which component stopped
        why = next((c.message.strip().splitlines()[-1] for c in e if c.message.strip()), "")
        raise TracerError(f"babeltrace2 could not write the CTF trace under {out}:"
                          f" {why.split(', status=')[0]} (is there room there?)") from None
