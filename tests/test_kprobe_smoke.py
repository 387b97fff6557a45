"""Smoke test of the kprobe paths themselves, on a kernel that has kprobes.

This machine's kernel has none, so these run under `vagrant/run-qemu` (Debian's 6.1 kernel in qemu).
They use tracefs and BCC directly, not the tracer's own code: when they fail, the kernel or the test
runner is at fault, not the tracer.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _tracefs() -> Path | None:
    for p in (Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing")):
        if (p / "trace").exists():
            return p
    return None


TRACEFS = _tracefs()
HAS_KPROBES = TRACEFS is not None and (TRACEFS / "kprobe_events").exists()

pytestmark = [
    pytest.mark.kprobes,
    pytest.mark.skipif(
        not HAS_KPROBES,
        reason="this kernel has no kprobe_events (CONFIG_KPROBES off); runs under vagrant/run-qemu",
    ),
]

GROUP = "tracer_smoke"  # "tracer_" prefix: the conftest's leftover check looks for it
INSTANCE = "tracer_smoke"


def _kprobe_events(line: str) -> None:
    # O_APPEND: opening kprobe_events for writing without it deletes every kprobe event, other
    # tools' included. os.open, not open(..., "a"): Python seeks to the end, which tracefs refuses.
    assert TRACEFS is not None
    fd = os.open(TRACEFS / "kprobe_events", os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, (line + "\n").encode())
    except OSError as e:
        log = TRACEFS / "error_log"
        detail = log.read_text()[-1000:] if log.exists() else ""
        raise AssertionError(f"kprobe_events refused {line!r}: {e}\n{detail}") from e
    finally:
        os.close(fd)


@pytest.fixture
def open_events() -> Iterator[Path]:
    """A kprobe and a kretprobe on do_sys_openat2, enabled in a private tracefs instance for this
    process only; yields the instance directory, removes it all afterwards."""
    assert TRACEFS is not None
    made: list[str] = []
    inst = TRACEFS / "instances" / INSTANCE
    try:
        # $arg2 is do_sys_openat2's `const char __user *filename`.
        _kprobe_events(f"p:{GROUP}/open do_sys_openat2 file=+0($arg2):ustring")
        made.append("open")
        _kprobe_events(f"r:{GROUP}/open_ret do_sys_openat2 ret=$retval")
        made.append("open_ret")
        inst.mkdir()
        (inst / "set_event_pid").write_text(f"{os.getpid()}\n")
        (inst / "events" / GROUP / "enable").write_text("1\n")
        yield inst
    finally:
        if inst.exists():
            (inst / "events" / GROUP / "enable").write_text("0\n")
            inst.rmdir()
        for name in reversed(made):
            _kprobe_events(f"-:{GROUP}/{name}")
    defined = (TRACEFS / "kprobe_events").read_text()
    assert f"{GROUP}/" not in defined, f"kprobe events left behind: {defined!r}"


def test_tracefs_kprobe_and_kretprobe_see_an_open(open_events: Path, tmp_path: Path) -> None:
    path = tmp_path / f"tracer-smoke-{uuid.uuid4().hex}"
    with open(path, "w"):
        pass
    trace = (open_events / "trace").read_text()
    lines = [ln for ln in trace.splitlines() if not ln.startswith("#")]
    opens = [ln for ln in lines if " open: " in ln and f'file="{path}"' in ln]
    assert opens, f"no kprobe event with file={path} in the trace:\n{trace[-4000:]}"
    # The kretprobe fired too, in this process (set_event_pid), with a file descriptor as result.
    rets = [ln for ln in lines if " open_ret: " in ln and "ret=" in ln]
    assert rets, f"no kretprobe event in the trace:\n{trace[-4000:]}"
    assert f"-{os.getpid()} " in opens[0], opens[0]


BCC_PROG = r"""
BPF_ARRAY(hits, u64, 1);

int on_getpid(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET_PID)
        return 0;
    int key = 0;
    u64 *n = hits.lookup(&key);
    if (n)
        __sync_fetch_and_add(n, 1);
    return 0;
}
"""


def test_bcc_attach_kprobe_on_getpid() -> None:
    bcc = pytest.importorskip("bcc")
    import ctypes

    # BCC compiles this against /lib/modules/$(uname -r)/build: the guest kernel's headers.
    b = bcc.BPF(text=BCC_PROG, cflags=[f"-DTARGET_PID={os.getpid()}"])
    try:
        fn = b.get_syscall_fnname("getpid").decode()
        b.attach_kprobe(event=fn, fn_name="on_getpid")
        calls = 100
        for _ in range(calls):
            os.getpid()  # glibc >= 2.25 does not cache getpid: one syscall each
        hits = b["hits"][ctypes.c_int(0)].value
    finally:
        b.cleanup()
    assert hits >= calls, f"kprobe on {fn} counted {hits} hits for {calls} getpid() calls"
