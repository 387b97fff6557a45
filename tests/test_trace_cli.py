"""`tracer trace` and `tracer ctl`, run as commands against real processes and the real kernel."""

from __future__ import annotations

import json
import operator
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bounds import bound, started, wait_until

from tracer.trace import control

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "bpf/examples"
TRACER = [sys.executable, "-m", "tracer"]


def user_progs(settle: float = 1.0) -> list[str]:
    """User handler programs (tracer_h_*) the kernel still holds, after its deferred frees."""

    def held() -> list[str]:
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
        return [p["name"] for p in json.loads(out.stdout or "[]")
                if p.get("name", "").startswith("tracer_h_")]

    return wait_until(held, settle, until=operator.not_)


@pytest.fixture(autouse=True)
def no_user_programs_left():
    before = set(user_progs(0))
    yield
    assert not set(user_progs()) - before, "user handler programs left in the kernel"


class Trace:
    """A `tracer trace` process writing to a file; ready once its control socket exists."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.out = tmp / f"trace-{time.monotonic_ns()}.out"
        self.proc = subprocess.Popen([*TRACER, "trace", "-o", str(self.out), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.sock = control.socket_path(self.proc.pid)
        started(self.proc, self.sock.exists, 30, "tracer trace", 0.02)

    def ctl(self, req: dict) -> dict:
        return control.request(self.sock, req)

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, list[str]]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=bound(30))
        self.stderr = self.proc.stderr.read()
        return rc, self.out.read_text().splitlines()


@pytest.fixture
def trace(tmp_path):
    made: list[Trace] = []

    def start(*args: str) -> Trace:
        t = Trace(tmp_path, *args)
        made.append(t)
        return t

    yield start
    for t in made:
        t.stop()
        assert not t.sock.exists(), "control socket left behind"


def of_pid(lines: list[str], pid: int) -> list[str]:
    return [ln for ln in lines if not ln.startswith(("#", "LOST"))
            and ln.split()[2].split("/")[0] == str(pid)]


def settle() -> None:
    time.sleep(bound(0.3))  # the tracer's loop drains every 0.1 s


def test_two_pids_different_handlers(trace, workload, tmp_path):
    a, b, c = workload(), workload(), workload()
    t = trace(f"{a.pid}:openat", f"{b.pid}:getppid,network")
    for w in (a, b, c):
        w.do(f"open {tmp_path}/{w.pid}")
        w.do("getppid")
        w.do("net")
    settle()
    rc, lines = t.stop()
    assert rc == 0 and t.stderr == ""
    la, lb = of_pid(lines, a.pid), of_pid(lines, b.pid)
    assert any(f'"{tmp_path}/{a.pid}"' in ln and "openat(" in ln for ln in la), la
    assert not [ln for ln in la if "getppid(" in ln or "connect(" in ln]
    assert any("getppid() = " in ln for ln in lb), lb
    assert any("connect(" in ln and "htons(9)" in ln for ln in lb), lb
    assert not [ln for ln in lb if "openat(" in ln]
    assert of_pid(lines, c.pid) == []
    assert lines[-1].startswith("# tracer stopped:") and "0 events lost" in lines[-1]


def test_default_set_and_a_pid_of_its_own(trace, workload, tmp_path):
    a, c = workload(), workload()
    t = trace(f"{a.pid}:getppid", "openat")  # no PID: every other process
    a.do(f"open {tmp_path}/a")
    a.do("getppid")
    c.do(f"open {tmp_path}/c")
    c.do("getppid")
    assert t.ctl({"op": "add", "specs": ["getppid"]})["lines"] == ["default: getppid,openat"]
    c.do("getppid")
    assert t.ctl({"op": "remove", "targets": ["openat,getppid"]})["lines"] == ["default: none"]
    c.do(f"open {tmp_path}/c-after")
    settle()
    _, lines = t.stop()
    assert not [ln for ln in of_pid(lines, a.pid) if "openat(" in ln]  # its own set wins
    assert [ln for ln in of_pid(lines, a.pid) if "getppid(" in ln]
    lc = of_pid(lines, c.pid)
    assert [ln for ln in lc if f"{tmp_path}/c" in ln] and not [ln for ln in lc if "c-after" in ln], lc
    assert len([ln for ln in lc if "getppid(" in ln]) == 1, lc
    assert of_pid(lines, t.proc.pid) == []  # never itself


def test_user_handler_files(trace, workload, tmp_path):
    check_user_handler_files(trace, workload, tmp_path)


@pytest.mark.kprobes
@pytest.mark.skipif(not Path("/sys/kernel/tracing/kprobe_events").exists(),
                    reason="this kernel has no kprobe_events (CONFIG_KPROBES off);"
                           " runs under vagrant/run-qemu")
def test_user_handler_files_on_kprobes(trace, workload, tmp_path, monkeypatch):
    """The same handler files, tail-called from kprobes on the syscall functions."""
    monkeypatch.setenv("TRACER_ATTACH", "kprobe")
    check_user_handler_files(trace, workload, tmp_path)


def check_user_handler_files(trace, workload, tmp_path) -> None:
    a, b = workload(), workload()
    t = trace(f"{a.pid}:{EXAMPLES}/etc_opens.c", f"{b.pid}:{EXAMPLES}/connect_dest.c")
    a.do("open /etc/hostname")
    a.do(f"open {tmp_path}/not-etc")
    b.do("net")
    b.do(f"open {tmp_path}/b")
    settle()
    _, lines = t.stop()
    la, lb = of_pid(lines, a.pid), of_pid(lines, b.pid)
    assert [ln for ln in la if 'openat(AT_FDCWD, "/etc/hostname"' in ln and ln.endswith(" = 3")], la
    assert not [ln for ln in la if "not-etc" in ln]
    assert any('connect(3, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}'
               in ln and "ECONNREFUSED" in ln for ln in lb), lb
    assert not [ln for ln in lb if "openat(" in ln]


def test_runtime_add_and_remove(trace, workload, tmp_path):
    a, b = workload(), workload()
    t = trace(f"{a.pid}:getppid", f"{b.pid}:openat")
    b.do(f"open {tmp_path}/b-0")
    a.do(f"open {tmp_path}/a-before")

    t0 = time.monotonic()
    reply = t.ctl({"op": "add", "specs": [f"{a.pid}:openat"]})
    round_trip = time.monotonic() - t0
    assert reply["ok"], reply
    # the maps are changed when the reply comes: the very next call is traced
    a.do(f"open {tmp_path}/a-after-add")
    b.do(f"open {tmp_path}/b-1")
    assert round_trip < bound(0.1) and reply["ms"] < bound(100), (round_trip, reply)

    reply = t.ctl({"op": "add", "specs": [f"{b.pid}:{EXAMPLES}/connect_dest.c"]})
    assert reply["ok"], reply
    assert reply["ms"] < bound(100), reply  # compiling is apart: reply["compile_ms"]
    b.do("net")
    b.do(f"open {tmp_path}/b-2")

    listing = subprocess.run([*TRACER, "ctl", "--to", str(t.proc.pid), "list"],
                             capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    assert f"{a.pid}: getppid,openat" in listing.stdout
    assert f"{b.pid}: openat {EXAMPLES}/connect_dest.c(connect)" in listing.stdout

    t0 = time.monotonic()
    reply = t.ctl({"op": "remove", "targets": [f"{a.pid}:getppid"]})
    assert reply["ok"] and time.monotonic() - t0 < bound(0.1), reply
    a.do("getppid")
    a.do(f"open {tmp_path}/a-after-remove")
    removed = subprocess.run([*TRACER, "ctl", "remove", str(a.pid)], capture_output=True, text=True)
    assert removed.returncode == 0, removed.stderr
    a.do(f"open {tmp_path}/a-untraced")
    b.do(f"open {tmp_path}/b-3")
    settle()
    _, lines = t.stop()
    la, lb = of_pid(lines, a.pid), of_pid(lines, b.pid)
    assert not [ln for ln in la if "a-before" in ln]
    assert [ln for ln in la if "a-after-add" in ln], la
    assert len([ln for ln in la if "getppid(" in ln]) == 0
    assert [ln for ln in la if "a-after-remove" in ln], la
    assert not [ln for ln in la if "a-untraced" in ln]
    # B was changed once (connect added), never lost an openat meanwhile
    assert [n for n in range(4) if not [ln for ln in lb if f"{tmp_path}/b-{n}" in ln]] == [], lb
    assert [ln for ln in lb if "connect(" in ln and "htons(9)" in ln], lb
    assert "0 events lost" in lines[-1]


def test_ctl_errors_change_nothing(trace, workload):
    a = workload()
    t = trace(f"{a.pid}:openat")
    for spec, msg in ((f"{a.pid}:opnat", "did you mean openat"), ("999999999:openat", "no process"),
                      (f"{a.pid}:", "bad spec")):
        r = subprocess.run([*TRACER, "ctl", "add", spec], capture_output=True, text=True)
        assert r.returncode == 2 and msg in r.stderr and r.stderr.count("\n") == 1, r.stderr
    r = subprocess.run([*TRACER, "ctl", "add", f"{a.pid}:/nonexistent/h.c"], capture_output=True, text=True)
    assert r.returncode == 2 and "No such file" in r.stderr
    assert t.ctl({"op": "list"})["lines"] == ["default: none", f"{a.pid}: openat"]


def test_ctl_without_a_tracer():
    r = subprocess.run([*TRACER, "ctl", "--to", "999999999", "list"], capture_output=True, text=True)
    assert r.returncode == 2 and "no running 'tracer trace'" in r.stderr


BAD_HANDLERS = {
    "syntax.c": ("TRACER_HANDLER(openat)\n{\n    int x = ;\n    return tracer_submit();\n}\n",
                 "syntax.c:3:13: error: expected expression"),
    "undeclared.c": ("TRACER_HANDLER(openat)\n{\n    tracer_emit_str(1);\n    return nope;\n}\n",
                     "undeclared.c:4:12: error: use of undeclared identifier 'nope'"),
    "nohandler.c": ("int handle_openat(void *ctx)\n{\n    return 0;\n}\n", "defines no handler"),
    "badname.c": ("TRACER_HANDLER(opnat)\n{\n    return 0;\n}\n", "did you mean openat"),
    "exec.c": ("TRACER_HANDLER(execve)\n{\n    return 0;\n}\n", "execve cannot have a user handler"),
    "verifier.c": ("TRACER_HANDLER(openat)\n{\n    return *(char *)tracer_arg(1);\n}\n",
                   "handler openat: the kernel refused it"),
}


@pytest.mark.parametrize("name", sorted(BAD_HANDLERS))
def test_bad_handler_files(name, workload, tmp_path):
    text, msg = BAD_HANDLERS[name]
    (tmp_path / name).write_text(text)
    a = workload()
    r = subprocess.run([*TRACER, "trace", f"{a.pid}:getppid", f"{a.pid}:{tmp_path}/{name}"],
                       capture_output=True, text=True, timeout=bound(60))
    assert r.returncode == 2 and r.stdout == ""
    assert msg in r.stderr, r.stderr
    assert all(ln.startswith("tracer: ") for ln in r.stderr.splitlines())
    if name in ("syntax.c", "undeclared.c"):
        assert f"tracer: {tmp_path}/{name}:" in r.stderr
    assert control.running() == [], "a control socket was left behind"


@pytest.mark.parametrize("args, msg", [
    (["999999999:openat"], "no process with PID 999999999"),
    (["12x:openat"], "'12x' is not a PID"),
    ([":openat"], "bad spec"),
    (["1:"], "bad spec"),
    (["1:openat,,read"], "bad spec"),
    (["1:opnat"], "unknown syscall 'opnat' on this kernel; did you mean openat"),
    (["1:/nonexistent/h.c"], "No such file"),
])
def test_bad_specs(args, msg):
    r = subprocess.run([*TRACER, "trace", *args], capture_output=True, text=True, timeout=bound(60))
    assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1, r.stderr
    assert msg in r.stderr


def test_compile_errors_one_line_each(workload, tmp_path):
    (tmp_path / "two.c").write_text("TRACER_HANDLER(openat)\n{\n    int x = ;\n    return y;\n}\n")
    a = workload()
    r = subprocess.run([*TRACER, "trace", f"{a.pid}:{tmp_path}/two.c"], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        f"tracer: {tmp_path}/two.c:3:13: error: expected expression",
        f"tracer: {tmp_path}/two.c:4:12: error: use of undeclared identifier 'y'"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_clean_stop(sig, trace, workload):
    a = workload()
    t = trace(f"{a.pid}:openat,{EXAMPLES}/connect_dest.c", "getppid")
    mode = stat.S_IMODE(os.stat(t.sock).st_mode)
    assert mode == 0o600 and os.stat(t.sock).st_uid == 0
    rc, lines = t.stop(sig)
    assert rc == 0 and t.stderr == ""
    assert not t.sock.exists()
    assert lines[-1].startswith("# tracer stopped:")


def test_only_root_may_control(trace, workload):
    a = workload()
    t = trace(f"{a.pid}:openat")
    probe = ("import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
             "try:\n    s.connect(sys.argv[1])\nexcept PermissionError:\n    print('denied')\n")
    r = subprocess.run(["/usr/bin/python3", "-c", probe, str(t.sock)], capture_output=True, text=True,
                       user=65534, group=65534)
    assert r.stdout.strip() == "denied", r.stderr


def test_json_and_no_follow(trace, workload, tmp_path):
    a = workload()
    t = trace("--format", "json", "--no-follow-forks", f"{a.pid}:openat")
    a.do(f"open {tmp_path}/j")
    child = int(a.do(f"forkopen {tmp_path}/child"))
    settle()
    _, lines = t.stop()
    objs = [json.loads(ln) for ln in lines]
    assert [o for o in objs if o["pid"] == a.pid and o.get("syscall") == "openat"
            and f"{tmp_path}/j" in json.dumps(o)], objs
    assert not [o for o in objs if o["pid"] == child]


def test_fork_following_moves_with_the_parent(trace, workload, tmp_path):
    a = workload()
    t = trace(f"{a.pid}:getppid")
    assert t.ctl({"op": "add", "specs": [f"{a.pid}:openat"]})["ok"]
    child = int(a.do(f"forkopen {tmp_path}/child"))
    settle()
    _, lines = t.stop()
    assert [ln for ln in of_pid(lines, child) if f"{tmp_path}/child" in ln], lines
