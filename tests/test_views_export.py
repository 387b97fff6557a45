"""tracer export: a real --format json trace written to CTF and to Perfetto, read back by the
real tools (babeltrace2, lttng-analyses' lttng-syscallstats and lttng-iolog, Perfetto's own
protobuf schema) and compared with the trace's own lines."""

from __future__ import annotations

import collections
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bounds import bound

from tracer.views import calls as vcalls
from tracer.views import ctf

ROOT = Path(__file__).resolve().parents[1]
MANAGER = ROOT / "trace-hooks/ebpf/manager"
SCRIPT = ("read x; cat /etc/hostname >/dev/null; (exit 3); cat /nonexistent-file 2>/dev/null;"
          " exit 2")
TRACER = [sys.executable, "-m", "tracer"]


def waiting_on_stdin(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return cmd.startswith(b"sh\0") and state == "S"


@pytest.fixture(scope="module")
def json_trace(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("export")
    w = subprocess.Popen(["sh", "-c", SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    while not waiting_on_stdin(w.pid):
        time.sleep(0.02)
    m = subprocess.Popen([str(MANAGER), "--run", "ebpf-syscalls", "--args", f"--pid {w.pid} --format json"],
                         cwd=MANAGER.parent, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={"TRACER_OUTPUT_DIR": str(tmp), "TRACER_OUTPUT_MODE": "file",
                              "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    path = m.stdout.readline().strip()
    assert path, m.stderr.read()
    w.communicate(b"g\n", timeout=bound(60))
    time.sleep(0.5)
    m.send_signal(signal.SIGINT)
    assert m.wait(timeout=bound(30)) == 0
    return Path(path)


def lines_of(path: Path) -> list[dict]:
    """The calls of a JSON trace (its signal and exit objects are not calls: not exported)."""
    objs = [json.loads(ln) for ln in path.read_text().splitlines() if ln.startswith("{")]
    return [o for o in objs if "syscall" in o]


def test_json_keeps_raw_values(json_trace):
    opens = [o for o in lines_of(json_trace) if o["syscall"] == "openat"]
    assert opens
    for o in opens:
        assert isinstance(o["args"]["flags"], str) and isinstance(o["args"]["flags_raw"], int)
        assert o["args"]["dfd"] == "AT_FDCWD" and o["args"]["dfd_raw"] & 0xFFFFFFFF == 0xFFFFFF9C
        assert o["ret_raw"] == o["ret"] if o["errno"] is None else (o["ret"] == -1 and o["ret_raw"] < 0)
        assert o["duration_ns"] >= 0


def test_ctf_read_back_by_babeltrace2_and_lttng_analyses(json_trace, tmp_path):
    out = tmp_path / "ctf"
    r = subprocess.run([*TRACER, "export", str(json_trace), "--to", "ctf", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ours = lines_of(json_trace)
    # babeltrace2 prints every event: one entry per call, one exit per call that returned
    text = subprocess.run(["babeltrace2", str(out)], capture_output=True, text=True, check=True).stdout
    ev = re.compile(r"^\[[\d:.]+\] \(\+[?\d.]+\) \S+ (\w+): \{ cpu_id = 0 \}, \{ procname = \"([^\"]*)\","
                    r" pid = (\d+), tid = (\d+) \}, \{ ?(.*?) ?\}$")
    got = [ev.match(ln) for ln in text.splitlines()]
    assert all(got), [ln for ln, m in zip(text.splitlines(), got) if not m][:3]
    entries = [(m[1][len("syscall_entry_"):], int(m[4])) for m in got if m[1].startswith("syscall_entry_")]
    exits = [(m[1][len("syscall_exit_"):], int(m[4]), int(re.search(r"ret = (-?\d+)", m[5])[1]))
             for m in got if m[1].startswith("syscall_exit_")]
    assert collections.Counter(entries) == collections.Counter((o["syscall"], o["tid"]) for o in ours)
    assert collections.Counter(exits) == collections.Counter(
        (o["syscall"], o["tid"], o["ret_raw"]) for o in ours if o["ret_raw"] is not None)
    names = collections.Counter(m[1] for m in got)
    assert names["sched_process_fork"] == sum(1 for o in ours if o["syscall"] in ("clone", "vfork", "fork"))
    assert names["sched_process_exec"] == sum(1 for o in ours if o["syscall"] == "execve" and o["ret"] == 0)
    assert names["sched_process_exit"] == sum(1 for o in ours if o["syscall"] == "exit_group")
    meta = (out / "kernel/metadata").read_text()
    for want in ('domain = "kernel"', 'tracer_name = "lttng-modules"', "tracer_major = 2",
                 "tracer_minor = 12", "cpu_id"):
        assert want in meta

    # lttng-iolog: the files the trace opened, with the same fds
    io = subprocess.run(["lttng-iolog", "--no-progress", str(out)], capture_output=True, text=True,
                        timeout=bound(120))
    assert io.returncode == 0, io.stderr
    for o in ours:
        if o["syscall"] == "openat" and o["ret"] >= 0:
            assert f"{o['args']['filename']} (fd={o['ret']})" in io.stdout

    # lttng-syscallstats: per thread, the same number of calls as the trace has
    st = subprocess.run(["lttng-syscallstats", "--no-progress", str(out)], capture_output=True,
                        text=True, timeout=bound(120))
    assert st.returncode == 0, st.stderr
    per_tid = {int(m[1]): 0 for m in re.finditer(r"\(\d+, TID: (\d+)\)", st.stdout)}
    cur = None
    for ln in st.stdout.splitlines():
        m = re.search(r"\(\d+, TID: (\d+)\)", ln)
        if m:
            cur = int(m[1])
        m = re.match(r"^ - (\w+)\s+(\d+)", ln)
        if m and cur is not None:
            per_tid[cur] += int(m[2])
    returned = collections.Counter(o["tid"] for o in ours if o["ret_raw"] is not None)
    # every thread with its process id (known from its fork event), exec'd children too
    assert per_tid == dict(returned), st.stdout
    assert f"Total syscalls: {sum(returned.values())}" in st.stdout


def test_perfetto_read_back_with_perfettos_schema(json_trace, tmp_path):
    from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as P

    out = tmp_path / "trace.pftrace"
    r = subprocess.run([*TRACER, "export", str(json_trace), "--to", "perfetto", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    t = P.Trace()
    t.ParseFromString(out.read_bytes())
    ours = lines_of(json_trace)
    threads = {p.track_descriptor.uuid: p.track_descriptor.thread for p in t.packet
               if p.HasField("track_descriptor") and p.track_descriptor.HasField("thread")}
    procs = {p.track_descriptor.process.pid for p in t.packet
             if p.HasField("track_descriptor") and p.track_descriptor.HasField("process")}
    assert procs == {o["pid"] for o in ours}
    assert {th.tid for th in threads.values()} == {o["tid"] for o in ours}
    open_at: dict[int, list] = collections.defaultdict(list)
    slices = []
    for p in t.packet:
        if not p.HasField("track_event"):
            continue
        assert p.trusted_packet_sequence_id == 1
        e = p.track_event
        tid = threads[e.track_uuid].tid
        if e.type == P.TrackEvent.TYPE_SLICE_BEGIN:
            ann = {a.name: (a.int_value if a.HasField("int_value") else a.string_value)
                   for a in e.debug_annotations}
            open_at[tid].append((e.name, p.timestamp, ann))
        elif e.type == P.TrackEvent.TYPE_SLICE_END:
            name, start, ann = open_at[tid].pop()
            assert p.timestamp >= start
            slices.append((name, tid, ann["ret"], p.timestamp - start))
        else:
            assert e.type == P.TrackEvent.TYPE_INSTANT and e.name == "exit_group"
    assert not any(open_at.values()), "a slice was never closed"
    want = [(o["syscall"], o["tid"], o["ret_raw"], o["duration_ns"]) for o in ours
            if o["ret_raw"] is not None]
    assert sorted(slices) == sorted(want)


def test_export_errors_are_one_line(tmp_path):
    (tmp_path / "text.trace").write_text("1.0 sh 1/1 getppid() = 1\n")
    r = subprocess.run([*TRACER, "export", str(tmp_path / "text.trace"), "--to", "ctf", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode != 0 and len(r.stderr.splitlines()) == 1 and "--format json" in r.stderr
    calls = vcalls.read(Path(__file__).parent / "fixtures/views/two.json")
    (tmp_path / "full").mkdir()
    (tmp_path / "full/x").write_text("")
    with pytest.raises(Exception, match="not empty"):
        ctf.write(calls, tmp_path / "full")



def test_a_path_the_kernel_could_not_read_is_exported_as_its_pointer(json_trace, tmp_path):
    # When the path's page is not yet in memory at the call's entry, the trace holds the pointer
    # instead of the path, as it does under emulation; the other calls of the same syscall still
    # have strings.
    lines = json_trace.read_text().splitlines()
    opens = [i for i, ln in enumerate(lines)
             if ln.startswith("{") and json.loads(ln).get("syscall") == "openat"]
    assert len(opens) >= 2
    o = json.loads(lines[opens[-1]])
    o["args"]["filename"] = o["args"]["filename_raw"]
    lines[opens[-1]] = json.dumps(o)
    trace = tmp_path / "unread.json"
    trace.write_text("\n".join(lines) + "\n")
    out = tmp_path / "ctf"
    r = subprocess.run([*TRACER, "export", str(trace), "--to", "ctf", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = subprocess.run(["babeltrace2", str(out)], capture_output=True, text=True, check=True).stdout
    paths = re.findall(r"syscall_entry_openat: .*filename = \"([^\"]*)\"", text)
    assert len(paths) == len(opens)
    assert hex(o["args"]["filename_raw"]) in paths
    assert json.loads(lines[opens[0]])["args"]["filename"] in paths


def test_a_value_that_does_not_fit_its_field_is_one_line_and_leaves_no_trace(tmp_path):
    # a pid beyond 32 bits: babeltrace2 refuses it; the process must not crash on the way out
    # (babeltrace2 destroying a graph that failed in a Python source does)
    two = (Path(__file__).parent / "fixtures/views/two.json").read_text().splitlines()
    o = json.loads(two[1])
    o["pid"] = o["tid"] = 1 << 40
    trace = tmp_path / "big.json"
    trace.write_text(two[0] + "\n" + json.dumps(o) + "\n")
    r = subprocess.run([*TRACER, "export", str(trace), "--to", "ctf", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode > 0, (r.returncode, r.stderr)
    assert r.stderr.count("\n") == 1 and "pid, tid out of its field's type" in r.stderr
    assert not (tmp_path / "o/kernel").exists()
