"""TracingPolicy kprobes on a kernel that has them (vagrant/run-qemu: `make test-kernels`).

Syscall kprobes here run on real kprobes (__x64_sys_NAME), not on the syscall tracepoints;
kernel-function kprobes read kernel structures (file, sock, cred) with offsets from BTF.
"""

from __future__ import annotations

import re
import signal
import subprocess
import textwrap
from pathlib import Path

import pytest
from bounds import bound

from tracer import capabilities
from tracer.policy import source

pytestmark = [
    pytest.mark.kprobes,
    pytest.mark.skipif(not capabilities.probe().has(capabilities.KPROBES),
                       reason="this kernel has no kprobes (CONFIG_KPROBES off); runs under vagrant/run-qemu"),
]

from test_policy import HEAD, Run  # noqa: E402


def policy(tmp: Path, spec: str) -> Path:
    p = tmp / "k.yaml"
    p.write_text(HEAD + textwrap.indent(textwrap.dedent(spec), "  "))
    return p


class Child:
    """A shell that runs COMMAND when told to (so its PID can be traced before it acts)."""

    def __init__(self, command: str) -> None:
        self.proc = subprocess.Popen(["/bin/sh", "-c", f"read go; {command}"], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        self.pid = self.proc.pid

    def go(self) -> int:
        self.proc.stdin.write("go\n")
        self.proc.stdin.close()
        return self.proc.wait(timeout=bound(30))


def test_syscall_kprobe_runs_on_a_real_kprobe(tmp_path, workload):
    w = workload()
    p = policy(tmp_path, """\
        kprobes:
        - call: sys_openat
          syscall: true
          return: true
          args:
          - {index: 1, type: string, label: path}
          selectors:
          - matchArgs:
            - {index: 1, operator: Prefix, values: ["/etc/hostname"]}
        """)
    (hp,) = source.compile_file(p, capabilities.probe()).hooks
    assert hp.attach[0] == ("kprobe", "__x64_sys_openat", "pol_front_0")
    run = Run(tmp_path, p, "--pid", str(w.pid))
    w.do("open /etc/passwd")
    w.do("open /etc/hostname")
    run.wait_for("hostname")
    lines = run.stop()
    assert len(lines) == 1 and 'kprobe sys_openat(path="/etc/hostname") = ' in lines[0], lines


def test_kernel_function_with_file_argument_and_prefix(tmp_path):
    child = Child("cat /etc/hostname /etc/passwd")
    p = policy(tmp_path, """\
        kprobes:
        - call: security_file_open
          syscall: false
          args:
          - {index: 0, type: file, label: file}
          selectors:
          - matchArgs:
            - {index: 0, operator: Equal, values: ["/etc/hostname"]}
        """)
    run = Run(tmp_path, p, "--pid", str(child.pid))
    assert child.go() == 0
    run.wait_for("hostname")
    lines = run.stop()
    # one open, one line per security_file_open call: two on an overlay filesystem (qemu's root),
    # which opens the file beneath too
    assert 1 <= len(lines) <= 2, lines
    assert all(ln.endswith('kprobe security_file_open(file="/etc/hostname")') for ln in lines), lines


def test_kretprobe_return_value_and_user_string(tmp_path, workload):
    w = workload()
    p = policy(tmp_path, """\
        kprobes:
        - call: do_sys_openat2
          syscall: false
          return: true
          args:
          - {index: 1, type: string, label: filename}
          returnArg:
            type: int
          selectors:
          - matchArgs:
            - {index: 1, operator: Postfix, values: ["/no-such-file-here"]}
            matchReturnArgs:
            - {index: 0, operator: Equal, values: [-2]}
        """)
    run = Run(tmp_path, p, "--pid", str(w.pid))
    w.do("open /tmp/no-such-file-here")
    w.do("open /etc/hostname")
    run.wait_for("no-such-file-here")
    lines = run.stop()
    assert len(lines) == 1 and lines[0].endswith(
        'kprobe do_sys_openat2(filename="/tmp/no-such-file-here") = -2'), lines


def test_tcp_connect_sock_with_dport_filter(tmp_path, workload):
    w = workload()
    p = policy(tmp_path, """\
        kprobes:
        - call: tcp_connect
          syscall: false
          args:
          - {index: 0, type: sock}
          selectors:
          - matchArgs:
            - {index: 0, operator: DPort, values: [9]}
        """)
    run = Run(tmp_path, p, "--pid", str(w.pid))
    w.do("net")
    run.wait_for("tcp_connect")
    lines = run.stop()
    assert len(lines) == 1, lines
    assert " -> 127.0.0.1:9})" in lines[0] and "{IPPROTO_TCP 127.0.0.1:" in lines[0], lines


def test_commit_creds_cred_argument(tmp_path):
    child = Child("/usr/bin/python3 -c 'import os; os.setresgid(0, 0, 0)'")
    p = policy(tmp_path, """\
        kprobes:
        - call: commit_creds
          syscall: false
          args:
          - {index: 0, type: cred, label: new}
        """)
    run = Run(tmp_path, p, "--pid", str(child.pid))
    assert child.go() == 0
    run.wait_for("commit_creds")
    lines = run.stop()
    assert lines and "kprobe commit_creds(new={uid=0 euid=0 gid=0 egid=0 caps=" in lines[0], lines


def test_generated_ftrace_list_names_the_function_hit(tmp_path, workload):
    w = workload()
    p = policy(tmp_path, """\
        lists:
        - {name: getppids, type: generated_ftrace, pattern: "^(__x64|__do)_sys_getppid$"}
        kprobes:
        - call: "list:getppids"
        """)
    run = Run(tmp_path, p, "--pid", str(w.pid))
    w.do("getppid")
    run.wait_for("getppid")
    lines = run.stop()
    # ftrace lists the function under one of its names: __do_sys_getppid on 6.1, where
    # __x64_sys_getppid is an alias of it
    assert lines and all(re.search(r" kprobe __(x64|do)_sys_getppid\(\)", ln) for ln in lines), lines


def test_sigkill_from_a_kprobe(tmp_path, workload):
    w = workload()
    p = policy(tmp_path, """\
        kprobes:
        - call: security_file_open
          args:
          - {index: 0, type: file}
          selectors:
          - matchArgs:
            - {index: 0, operator: Postfix, values: ["/kill-me"]}
            matchActions:
            - {action: Sigkill}
        """)
    (tmp_path / "kill-me").write_text("")
    run = Run(tmp_path, p, "--pid", str(w.pid))
    w.proc.stdin.write(f"open {tmp_path}/kill-me\n")
    w.proc.stdin.flush()
    assert w.proc.wait(timeout=bound(10)) == -signal.SIGKILL
    run.wait_for("kill-me")
    lines = run.stop()
    assert len(lines) == 1 and lines[0].endswith("/kill-me\") [Sigkill]"), lines


def test_override_changes_the_return_value_or_is_refused_with_the_reason(tmp_path):
    """Where the kernel allows error injection into openat, the call fails with the given error;
    where it offers none (Debian's kernels), the policy is refused before anything is attached,
    with the reason."""
    from test_policy import error_of

    from tracer.policy.plan import ERROR_INJECTION_LIST

    p = policy(tmp_path, """\
        kprobes:
        - call: __x64_sys_openat
          syscall: false
          selectors:
          - matchActions:
            - {action: Override, argError: -13}
        """)
    try:
        allowed = ERROR_INJECTION_LIST.read_text()
    except OSError:
        msg = error_of(p)
        assert "Override: this kernel offers no error injection" in msg, msg
        return
    if "__x64_sys_openat" not in allowed.split():
        assert "does not allow error injection into '__x64_sys_openat'" in error_of(p)
        return
    child = Child("cat /etc/hostname")
    run = Run(tmp_path, p, "--pid", str(child.pid))
    assert child.go() != 0  # cat could not open the file: EACCES from the override
    run.wait_for("[Override]")
    assert all(ln.endswith("[Override]") for ln in run.stop())
