"""The views' pure parts on fixed inputs: strace line layout, the Perfetto wire encoding."""

from __future__ import annotations

from tracer.views import perfetto
from tracer.views.calls import Call
from tracer.views.strace import StraceLines

T0 = 1795341450_652253_123


def test_one_process_lines_are_strace_s():
    s = StraceLines()
    # lines written by strace 6.1 (-f -ttt -T, to stderr) for the same calls
    assert s.call(T0, 22_000, 6206, "kill", "kill(6206, SIGUSR1) = 0") == \
        "1795341450.652253 kill(6206, SIGUSR1)   = 0 <0.000022>\n"
    assert s.call(T0, None, 6206, "exit_group", "exit_group(0) = ?") == \
        "1795341450.652253 exit_group(0)         = ?\n"
    usr1 = "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=6206, si_uid=0} ---"
    assert s.task_line(T0 + 90_000, 6206, usr1, gone=False) == f"1795341450.652343 {usr1}\n"
    assert s.task_line(T0 + 181_000, 6206, "+++ exited with 0 +++", gone=True) == \
        "1795341450.652434 +++ exited with 0 +++\n"


def test_several_processes_get_the_pid_prefix():
    s = StraceLines()
    assert s.call(T0, 1000, 6198, "clone", "clone(child_stack=NULL, flags=SIGCHLD) = 6199") == \
        "1795341450.652253 clone(child_stack=NULL, flags=SIGCHLD) = 6199 <0.000001>\n"
    assert s.call(T0, 13_000, 6199, "getppid", "getppid() = 6198") == \
        "[pid  6199] 1795341450.652253 getppid() = 6198 <0.000013>\n"
    assert s.call(T0, 10_000, 6199, "wait4",
                  "wait4(-1, 0x7ffe36d51b1c, WNOHANG, NULL) = -1 ECHILD (No child processes)") == \
        "[pid  6199] 1795341450.652253 wait4(-1, 0x7ffe36d51b1c, WNOHANG, NULL) = -1 ECHILD" \
        " (No child processes) <0.000010>\n"
    assert s.task_line(T0, 6199, "+++ exited with 3 +++", gone=True) == \
        "[pid  6199] 1795341450.652253 +++ exited with 3 +++\n"
    # one task left: strace drops the prefix again
    assert s.call(T0, 1000, 6198, "getpid", "getpid() = 6198").startswith("1795341450.652253 getpid")


def _fields(data: bytes) -> list[tuple[int, int, object]]:
    """(field, wire type, value) of one message: a minimal protobuf reader for the check."""
    out, i = [], 0

    def varint() -> int:
        nonlocal i
        n = shift = 0
        while True:
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    while i < len(data):
        key = varint()
        if key & 7 == 0:
            out.append((key >> 3, 0, varint()))
        else:
            n = varint()
            out.append((key >> 3, 2, data[i:i + n]))
            i += n
    return out


def test_perfetto_wire_format():
    c = Call(1000, 3000, 7, 8, "sh", "read", {"fd": 3, "buf": "x", "buf_raw": 99}, -11)
    packets = [p for f, _, p in _fields(perfetto.encode([c]))]
    assert all(f == 1 for f, _, _ in _fields(perfetto.encode([c])))
    begin = dict((f, v) for f, _, v in _fields(packets[2]))
    assert begin[8] == 1000 and begin[10] == 1
    ev = _fields(begin[11])
    assert (9, 0, 1) in ev and (23, 2, b"read") in ev and (11, 0, (1 << 32) + 8) in ev
    ret = [_fields(v) for f, _, v in ev if f == 4][-1]
    assert (10, 2, b"ret") in ret and (4, 0, (-11) & (2**64 - 1)) in ret
    end = dict((f, v) for f, _, v in _fields(packets[3]))
    assert end[8] == 3000 and (9, 0, 2) in _fields(end[11])


def test_ctf_fields_are_the_kernels_raw_integers():
    from tracer.views import ctf

    c = Call(1000, 3000, 7, 7, "sh", "openat", {"dfd": "AT_FDCWD", "dfd_raw": 0xFFFFFF9C,
                                                  "filename": "/etc/x", "filename_raw": 0x5000,
                                                  "flags": "O_RDONLY|O_CLOEXEC", "flags_raw": 0o2000000}, -2)
    evs = ctf.events([c])
    assert [e.name for e in evs] == ["sched_switch", "syscall_entry_openat", "syscall_exit_openat"]
    assert evs[1].fields == {"dfd": -100, "filename": "/etc/x", "flags": 0o2000000}
    assert evs[2].fields == {"ret": -2} and evs[2].ts == 3000
