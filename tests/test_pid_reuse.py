"""A traced PID that ends before its mark is written, and a number reused since the
targets were resolved: no later process inherits the trace (real sessions, real kernel)."""

from __future__ import annotations

import ctypes as ct
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from bounds import bound, wait_until

from tracer import capabilities, procfs, targets
from tracer.errors import TracerError
from tracer.ftrace.source import RESCAN_EVERY, FtraceSession, enable_all
from tracer.hooks import options, registry
from tracer.pipeline.writer import TraceWriter

CAPS = capabilities.probe()
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="loads BPF programs: needs root")
NS_LAST_PID = Path("/proc/sys/kernel/ns_last_pid")


def sleeper() -> subprocess.Popen:
    return subprocess.Popen(["sleep", "600"])


def ended(p: subprocess.Popen) -> int:
    p.kill()
    p.wait()
    return p.pid


def reuse(pid: int, start=sleeper) -> subprocess.Popen:
    """A new process (`start()`) given the number `pid` (free now), through ns_last_pid. A
    process is named by PID and start time, counted in clock ticks: the new one starts a few
    ticks later, as any process does that gets a number only after pid_max wrapped around."""
    time.sleep(0.05)
    for _ in range(20):
        NS_LAST_PID.write_text(str(pid - 1))
        p = start()
        if p.pid == pid:
            return p
        ended(p)  # another process took the number first: try again
    pytest.fail(f"could not start a process as PID {pid}")


def test_start_times_name_one_process():
    a = sleeper()
    try:
        started = procfs.start_times([a.pid, os.getpid()])
        assert set(started) == {a.pid, os.getpid()}
        assert procfs.replaced(started) == []
    finally:
        ended(a)
    assert procfs.replaced(started) == [a.pid]
    assert procfs.start_times([a.pid]) == {}


@pytest.fixture
def session():
    """prepare(hook, who) -> start(): the hook's options are parsed while every PID of `who`
    lives (as the manager does before building anything); start() builds and starts the
    source. Every source started is closed after the test."""
    opened = []

    def prepare(hook_name: str, who: targets.Targets):
        hook = registry.get(hook_name)
        opts = options.parse(hook, " ".join(f"--pid {p}" for p in who.pids))

        def start():
            source = hook.runner(hook, opts, who, CAPS)
            opened.append(source)
            source.start()
            return source
        return start

    yield prepare
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        for s in opened:
            s.close(TraceWriter(fd))
    finally:
        os.close(fd)


def _marked(source, pid: int) -> int:
    """The pid_slot (summary, packets: `traced`) value the source's programs see for `pid`."""
    if hasattr(source, "summary"):
        return source.summary.bpf["traced"][ct.c_int(pid)].value
    if hasattr(source, "pcap"):  # ebpf-packets: a hash
        mark = source.bpf["traced"].get(ct.c_uint32(pid))
        return mark.value if mark else 0
    engine = source.engine
    bpf = engine.disp.bpf if hasattr(engine, "disp") else engine.bpf
    return bpf["pid_slot"][ct.c_int(pid)].value


MARKING = ["ebpf-syscalls", "ebpf-summary", "ebpf-policy-sensitive-files", "ebpf-packets"]


@needs_root
@pytest.mark.parametrize("hook", MARKING)
def test_a_pid_that_ended_before_start_is_not_left_marked(session, hook):
    live, dying = sleeper(), sleeper()
    try:
        who = targets.resolve([live.pid, dying.pid], [], follow_forks=True)
        start = session(hook, who)
        ended(dying)  # after resolving, before the programs are built and the PIDs marked
        source = start()
        assert _marked(source, live.pid) != 0
        assert _marked(source, dying.pid) == 0
    finally:
        ended(live)


@needs_root
@pytest.mark.parametrize("hook", MARKING)
def test_a_reused_pid_does_not_make_its_new_process_traced(session, hook):
    live, dying = sleeper(), sleeper()
    newcomer = None
    try:
        who = targets.resolve([live.pid, dying.pid], [], follow_forks=True)
        start = session(hook, who)
        newcomer = reuse(ended(dying))
        source = start()
        assert _marked(source, live.pid) != 0
        assert _marked(source, newcomer.pid) == 0
    finally:
        ended(live)
        if newcomer:
            ended(newcomer)


@needs_root
def test_ftrace_refuses_a_given_pid_whose_number_was_reused():
    live, dying = sleeper(), sleeper()
    newcomer = None
    try:
        who = targets.resolve([live.pid, dying.pid], [], follow_forks=True)
        hook = registry.get("ftrace-syscalls")
        opts = options.parse(hook, f"--pid {live.pid} --pid {dying.pid}")
        newcomer = reuse(ended(dying))
        source = hook.runner(hook, opts, who, CAPS)
        fd = os.open(os.devnull, os.O_WRONLY)
        try:
            with pytest.raises(TracerError, match=f"PID {dying.pid} exited before tracing started"):
                source.start()
        finally:
            source.close(TraceWriter(fd))  # what a start that did not refuse made goes too
            os.close(fd)
    finally:
        ended(live)
        if newcomer:
            ended(newcomer)


def _ftrace_session(who: targets.Targets, opts_text: str, before_filter=lambda: None):
    """A real ftrace session on `who` whose configure step runs `before_filter` first,
    between the listing of the tasks and the writing of the PID filter."""
    hook = registry.get("ftrace-sched")
    opts = options.parse(hook, opts_text)

    def configure(session: FtraceSession) -> None:
        before_filter()
        enable_all(session, [("sched", "sched_process_exec")])
    return FtraceSession(hook, opts, who, configure)


@needs_root
def test_ftrace_takes_a_task_that_ended_before_its_filter_was_written_out_of_it():
    live, dying = sleeper(), sleeper()
    who = targets.resolve([live.pid, dying.pid], [], follow_forks=True)
    session = _ftrace_session(who, f"--pid {live.pid} --pid {dying.pid}", lambda: ended(dying))
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        session.start()
        assert dying.pid in session.tids  # listed while it lived
        assert session.instance.filter_pids("set_event_pid") == {live.pid}
    finally:
        session.close(TraceWriter(fd))
        os.close(fd)
        ended(live)


@needs_root
def test_ftrace_without_fork_following_takes_ended_tasks_out_of_its_filter():
    """The kernel removes an ending task from the filter only while it follows forks."""
    live, leaving = sleeper(), sleeper()
    who = targets.resolve([live.pid, leaving.pid], [], follow_forks=False)
    session = _ftrace_session(who, f"--pid {live.pid} --pid {leaving.pid} --no-follow-forks")
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        session.start()
        assert session.instance.filter_pids("set_event_pid") == {live.pid, leaving.pid}
        ended(leaving)
        time.sleep(RESCAN_EVERY)
        session.poll(0.1, TraceWriter(fd))
        assert session.instance.filter_pids("set_event_pid") == {live.pid}
    finally:
        session.close(TraceWriter(fd))
        os.close(fd)
        ended(live)


# ebpf-packets on a target sharing the host's network namespace keeps the packets of the
# target's own sockets: those a process opens are kept by its PID while it is traced.
UDP_SENDER = ["/usr/bin/python3", "-c", """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in iter(sys.stdin.readline, ""):
    s.sendto(b"x", ("127.0.0.1", int(port)))
"""]


def udp_sender() -> subprocess.Popen:
    """A process that sends one datagram to 127.0.0.1:PORT for each PORT line it reads."""
    return subprocess.Popen(UDP_SENDER, stdin=subprocess.PIPE, text=True)


def _lines_until(source, out: Path, fd: int, pred) -> list[str]:
    writer = TraceWriter(fd)

    def drained() -> list[str]:
        source.poll(0.2, writer)
        writer.flush()
        return out.read_text().splitlines()

    return wait_until(drained, 10, 0, until=pred)


@needs_root
def test_packets_of_a_process_given_a_traced_number_after_it_ended_are_not_kept(session, tmp_path):
    out = tmp_path / "packets.txt"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT, 0o644)
    newcomer = None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(bound(5))
        port = rx.getsockname()[1]
        target = udp_sender()
        try:
            source = session("ebpf-packets", targets.resolve([target.pid], [], False))()
            print(port, file=target.stdin, flush=True)
            sport = rx.recvfrom(16)[1][1]
            target.stdin.close()
            target.wait(timeout=bound(10))
            newcomer = reuse(target.pid, udp_sender)
            print(port, file=newcomer.stdin, flush=True)
            newport = rx.recvfrom(16)[1][1]
            # both datagrams have reached the socket, so both went through the programs: an
            # event of the second, had there been one, is in the buffer behind the first's
            lines = _lines_until(source, out, fd, lambda ls: any(f":{sport} >" in ln for ln in ls))
        finally:
            os.close(fd)
            if newcomer:
                newcomer.stdin.close()
                newcomer.wait(timeout=bound(10))
    assert any(f"127.0.0.1:{sport} > 127.0.0.1:{port}" in ln for ln in lines), lines
    assert not any(f":{newport} >" in ln for ln in lines), lines


TCP_HOLDER = ["/usr/bin/python3", "-c", """
import os, socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(c.getsockname()[1], flush=True)
sys.stdin.readline()
os._exit(0)  # the kernel closes the connection as the process ends
"""]


@needs_root
def test_the_fin_a_traced_process_sends_as_it_ends_is_kept(session, tmp_path):
    """Its mark goes as it ends, before the kernel closes its files: the socket keeps it."""
    out = tmp_path / "packets.txt"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT, 0o644)
    with socket.create_server(("127.0.0.1", 0)) as srv:
        srv.settimeout(bound(5))
        port = srv.getsockname()[1]
        target = subprocess.Popen(TCP_HOLDER + [str(port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            lport = int(target.stdout.readline())
            source = session("ebpf-packets", targets.resolve([target.pid], [], False))()
            conn, _ = srv.accept()
            with conn:
                target.stdin.write("end\n")
                target.stdin.flush()
                target.wait(timeout=bound(10))
                conn.settimeout(bound(5))
                assert conn.recv(16) == b""  # its FIN has arrived
            lines = _lines_until(source, out, fd, lambda ls: any(
                f"127.0.0.1:{lport} > 127.0.0.1:{port}" in ln and "F" in ln.rsplit("[", 1)[-1]
                for ln in ls))
        finally:
            os.close(fd)
            if target.poll() is None:
                target.kill()
                target.wait()
    fins = [ln for ln in lines if f"127.0.0.1:{lport} > 127.0.0.1:{port}" in ln and "[F" in ln]
    assert fins and all(f" {target.pid}/{target.pid} " in ln for ln in fins), lines


# the exec'd program is UDP_SENDER's, saying "ready" first
THREAD_EXEC = ["/usr/bin/python3", "-c", f"""
import os, sys, threading, time
SENDER = {'print("ready", flush=True)' + UDP_SENDER[2]!r}
def other():
    sys.stdin.readline()
    os.execv(sys.executable, [sys.executable, "-c", SENDER])
threading.Thread(target=other).start()
time.sleep(600)
"""]


@needs_root
def test_a_process_whose_other_thread_execs_stays_traced(session, tmp_path):
    """The exec ends the main thread (and its mark goes); the process keeps its number."""
    out = tmp_path / "packets.txt"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT, 0o644)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(bound(5))
        port = rx.getsockname()[1]
        target = subprocess.Popen(THREAD_EXEC, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            source = session("ebpf-packets", targets.resolve([target.pid], [], False))()
            print("exec", file=target.stdin, flush=True)
            assert target.stdout.readline() == "ready\n"
            print(port, file=target.stdin, flush=True)
            sport = rx.recvfrom(16)[1][1]
            lines = _lines_until(source, out, fd, lambda ls: any(f":{sport} >" in ln for ln in ls))
            assert _marked(source, target.pid) == 1
        finally:
            os.close(fd)
            target.stdin.close()
            target.wait(timeout=bound(10))
    assert any(f" {target.pid}/{target.pid} out lo UDP 127.0.0.1:{sport} > 127.0.0.1:{port}" in ln
               for ln in lines), lines


@needs_root
def test_ftrace_pauses_when_every_task_of_its_filter_has_ended():
    """An empty filter would trace every task, and one left with ended numbers traces the
    next process given one: tracing pauses instead."""
    leaving = sleeper()
    who = targets.resolve([leaving.pid], [], follow_forks=False)
    session = _ftrace_session(who, f"--pid {leaving.pid} --no-follow-forks")
    fd = os.open(os.devnull, os.O_WRONLY)
    newcomer = None
    try:
        session.start()
        assert session.instance.read("tracing_on").strip() == "1"
        newcomer = reuse(ended(leaving), lambda: subprocess.Popen(
            ["/bin/sh", "-c", "read x; exec sleep 600"], stdin=subprocess.PIPE, text=True))
        time.sleep(RESCAN_EVERY)
        session.poll(0.1, TraceWriter(fd))
        assert session.instance.read("tracing_on").strip() == "0"
        newcomer.stdin.write("exec\n")  # an event of the number's new process
        newcomer.stdin.flush()
        time.sleep(0.5)
        assert session.instance.read("trace").count("sched_process_exec") == 0
    finally:
        session.close(TraceWriter(fd))
        os.close(fd)
        if newcomer:
            ended(newcomer)
