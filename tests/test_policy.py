"""TracingPolicy files: checked before anything is attached, then run for real on this kernel
(tracepoints, syscall kprobes on the syscall tracepoints, uprobes); kprobes on kernel functions
are refused here with one line and run under vagrant/run-qemu (test_policy_kprobes.py)."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from bounds import bound, started, wait_until

from tracer import capabilities
from tracer.errors import TracerError
from tracer.policy import plan as planner
from tracer.policy import schema, source

ROOT = Path(__file__).resolve().parents[1]
TRACER = [sys.executable, "-m", "tracer"]
CAPS = capabilities.probe()
HAS_KPROBES = CAPS.has(capabilities.KPROBES)


def write(tmp: Path, text: str, name: str = "p.yaml") -> Path:
    p = tmp / name
    p.write_text(textwrap.dedent(text))
    return p


HEAD = """\
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: t
spec:
"""


def policy(tmp: Path, spec: str) -> Path:
    return write(tmp, HEAD + textwrap.indent(textwrap.dedent(spec), "  "))


def error_of(path: Path) -> str:
    with pytest.raises(TracerError) as e:
        source.compile_file(path, CAPS)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


# -- checked before anything is attached ---------------------------------------------------------

@pytest.mark.parametrize("spec, where, why", [
    ("kprobes:\n- call: sys_openat\n  syscal: true\n", "spec.kprobes[0].syscal", "did you mean 'syscall'"),
    ("kprobes:\n- call: sys_openat\n  syscall: yes please\n", "spec.kprobes[0].syscall", "must be a boolean"),
    ("kprobes:\n- call: sys_openat\n  syscall: true\n  args:\n  - {index: 1, type: strin}\n",
     "spec.kprobes[0].args[0].type", "'strin' is not one of"),
    ("kprobes:\n- call: sys_openat\n  syscall: true\n  args:\n  - {index: 1, type: string}\n"
     "  selectors:\n  - matchArgs:\n    - {index: 1, operator: Prefx, values: [/etc]}\n",
     "spec.kprobes[0].selectors[0].matchArgs[0].operator", "'Prefx' is not one of"),
    ("kprobes:\n- call: sys_openat\n  syscall: true\n  args:\n  - {index: 1, type: string}\n"
     "  selectors:\n  - matchArgs:\n    - {index: 1, operator: Equal, values: [" +
     ",".join(f"/f{i}" for i in range(65)) + "]}\n",
     "spec.kprobes[0].selectors[0].matchArgs[0].values", "too many entries (65; at most 64)"),
    ("kprobes:\n- call: sys_openat\n  syscall: true\n  selectors:\n  - matchActions:\n"
     "    - {action: GetUrl}\n", "spec.kprobes[0].selectors[0].matchActions[0].action", "not supported"),
    ("tracepoints:\n- subsystem: sched\n  event: sched_process_exec\n  args:\n  - {index: 9, type: int}\n",
     "spec.tracepoints[0].args[0].index", "past the last field of sched/sched_process_exec"),
    ("tracepoints:\n- subsystem: sched\n  event: no_such_event\n", "spec.tracepoints[0].event",
     "no tracepoint sched/no_such_event"),
    ("kprobes:\n- call: sys_no_such_call\n  syscall: true\n", "spec.kprobes[0].call",
     "is not a syscall of this kernel"),
    ("uprobes:\n- path: /bin/bash\n  symbols: [no_such_function_here]\n", "spec.uprobes[0].symbols",
     "is not a function /bin/bash exports"),
    ("kprobes:\n- call: sys_openat\n  syscall: true\n  args:\n  - {index: 1, type: string}\n"
     "  selectors:\n  - matchArgs:\n    - {index: 2, operator: Equal, values: [1]}\n",
     "spec.kprobes[0].selectors[0].matchArgs[0].index", "argument 2 is not in the hook's args"),
    ("kprobes:\n- call: sys_openat\n  syscall: true\n  args:\n  - {index: 1, type: string}\n"
     "  selectors:\n  - matchArgs:\n    - {index: 1, operator: GT, values: [1]}\n",
     "spec.kprobes[0].selectors[0].matchArgs[0].operator", "GT does not apply to a string argument"),
    ("kprobes:\n- call: sys_openat\n  syscall: true\n  selectors:\n  - matchActions:\n"
     "    - {action: Override, argError: -1}\n", "spec.kprobes[0].selectors[0].matchActions",
     "Override"),
    ("kprobes:\n- call: sys_openat\n  syscall: true\n  args:\n  - {index: 1, type: string}\n"
     "  selectors:\n  - matchArgs:\n    - {index: 1, operator: Postfix, values: [" +
     ",".join("/" + "x" * i for i in range(1, 10)) + "]}\n",
     "spec.kprobes[0].selectors[0].matchArgs[0].values", "Postfix values of 9 different lengths; at most 8"),
    ("kprobes:\n- call: sys_openat\n  syscall: true\n  selectors:\n  - matchPIDs:\n"
     "    - {operator: In, values: [1], isNamespacePID: true, followForks: true}\n",
     "spec.kprobes[0].selectors[0].matchPIDs[0].followForks", "cannot follow forks of PIDs given inside"),
])
def test_invalid_policies_get_one_line_naming_the_field(tmp_path, spec, where, why):
    msg = error_of(policy(tmp_path, spec))
    assert f": {where}: " in msg, msg
    assert why in msg, msg


def test_wrong_api_version_and_kind(tmp_path):
    p = write(tmp_path, HEAD.replace("cilium.io/v1alpha1", "v1") + "  tracepoints: []\n")
    assert "apiVersion: 'v1' is not cilium.io/v1alpha1" in error_of(p)
    p = write(tmp_path, HEAD.replace("TracingPolicy", "Pod") + "  tracepoints: []\n")
    assert "kind: 'Pod' is not one of" in error_of(p)


@pytest.mark.skipif(HAS_KPROBES, reason="this kernel has kprobes: the refusal is for kernels without")
def test_kprobe_on_a_kernel_function_is_refused_here(tmp_path):
    msg = error_of(policy(tmp_path, "kprobes:\n- call: security_file_open\n  syscall: false\n"))
    assert "spec.kprobes[0].call: kprobe on kernel function 'security_file_open' needs kprobes" in msg


def test_plan_reads_tracepoint_fields_counting_the_common_ones(tmp_path):
    p = policy(tmp_path, """\
        tracepoints:
        - subsystem: sched
          event: sched_process_exec
          args:
          - {index: 4, type: string}
          - {index: 5, type: int}
        """)
    pl = source.compile_file(p, CAPS)
    (hp,) = pl.hooks
    assert [(a.type, a.loc, a.label) for a in hp.args] == [("string", True, "filename"),
                                                           ("int", False, "pid")]


def test_a_syscall_list_runs_on_its_tracepoints_here(tmp_path):
    p = policy(tmp_path, """\
        lists:
        - {name: dups, type: syscalls, values: [sys_dup, sys_dup2, sys_dup3]}
        kprobes:
        - call: "list:dups"
          syscall: true
        """)
    (hp,) = source.compile_file(p, CAPS).hooks
    if HAS_KPROBES:
        assert {t for _, t, _ in hp.attach} == {"__x64_sys_dup", "__x64_sys_dup2", "__x64_sys_dup3"}
    else:
        assert {t for _, t, _ in hp.attach} == {"syscalls:sys_enter_dup", "syscalls:sys_enter_dup2",
                                               "syscalls:sys_enter_dup3"}


def test_shipped_policies_are_valid():
    files = sorted((ROOT / "policies").glob("*.yaml"))
    assert len(files) >= 6
    for f in files:
        schema.load(f)


# -- real BPF on this kernel ---------------------------------------------------------------------

class Run:
    """`tracer policy FILE ...` writing to a file; ready once it says the policy is attached."""

    def __init__(self, tmp: Path, path: Path, *args: str) -> None:
        self.out = tmp / f"policy-{time.monotonic_ns()}.out"
        self.proc = subprocess.Popen([*TRACER, "policy", str(path), "-o", str(self.out), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started(self.proc, lambda: "attached" in self.text(), 60, "tracer policy")

    def text(self) -> str:
        return self.out.read_text() if self.out.exists() else ""

    def wait_for(self, needle: str, timeout: float = 10) -> None:
        wait_until(lambda: needle in self.text(), timeout)

    def stop(self) -> list[str]:
        self.proc.send_signal(signal.SIGINT)
        assert self.proc.wait(timeout=bound(20)) == 0, self.proc.stderr.read()
        assert self.proc.stderr.read() == ""
        return [ln for ln in self.text().splitlines() if not ln.startswith("#")]


def test_syscall_kprobe_with_prefix_filter_in_the_kernel(tmp_path, workload):
    w = workload()
    p = policy(tmp_path, """\
        kprobes:
        - call: sys_openat
          syscall: true
          return: true
          args:
          - {index: 0, type: int, label: dfd}
          - {index: 1, type: string, label: path}
          selectors:
          - matchArgs:
            - {index: 1, operator: Prefix, values: ["/etc/host", "/proc/self/stat"]}
        """)
    run = Run(tmp_path, p, "--pid", str(w.pid))
    w.do("open /etc/hostname")
    w.do("open /etc/passwd")
    w.do("open /proc/self/status")
    w.do("open /etc/hosts-nonexistent")
    run.wait_for("hosts-nonexistent")
    lines = run.stop()
    pid = w.pid
    assert len(lines) == 3, lines
    assert f" {pid}/{pid} t kprobe sys_openat(dfd=-100, path=\"/etc/hostname\") = " in lines[0]
    assert lines[0].rsplit("= ", 1)[1].isdigit()
    assert 'path="/proc/self/status")' in lines[1]
    assert lines[2].endswith('path="/etc/hosts-nonexistent") = -2 ENOENT (No such file or directory)')


def test_tracepoint_policy_with_equal_and_json(tmp_path, workload):
    w = workload()
    p = policy(tmp_path, """\
        tracepoints:
        - subsystem: syscalls
          event: sys_enter_openat
          args:
          - {index: 6, type: string, label: filename}
          - {index: 7, type: int}
          selectors:
          - matchArgs:
            - {index: 0, operator: Equal, values: ["/etc/hostname"]}
        """)
    run = Run(tmp_path, p, "--pid", str(w.pid), "--format", "json")
    w.do("open /etc/hostname.not")
    w.do("open /etc/hostname")
    run.wait_for("process_tracepoint")
    time.sleep(0.3)
    lines = run.stop()
    assert len(lines) == 1, lines
    ev = json.loads(lines[0])
    body = ev["process_tracepoint"]
    assert body["subsys"] == "syscalls" and body["event"] == "sys_enter_openat"
    assert body["policy_name"] == "t" and body["action"] == "KPROBE_ACTION_POST"
    assert body["process"]["pid"] == w.pid and body["process"]["binary"].endswith("python3.11")
    assert "workload.py" in body["process"]["arguments"]
    assert body["args"][0] == {"string_arg": "/etc/hostname", "label": "filename"}
    assert body["args"][1] == {"int_arg": os.O_RDONLY | os.O_CLOEXEC, "label": "flags"}  # Python's open


def test_only_the_given_pid_and_its_children(tmp_path, workload):
    traced, other = workload(), workload()
    p = policy(tmp_path, """\
        kprobes:
        - call: sys_openat
          syscall: true
          args:
          - {index: 1, type: string}
          selectors:
          - matchArgs:
            - {index: 1, operator: Postfix, values: ["/marker-file"]}
        """)
    run = Run(tmp_path, p, "--pid", str(traced.pid))
    other.do("open /tmp/a/marker-file")
    child = int(traced.do("forkopen /tmp/b/marker-file"))
    traced.do("open /tmp/c/marker-file")
    run.wait_for("/tmp/c/")
    lines = run.stop()
    assert [ln.split()[2] for ln in lines] == [f"{child}/{child}", f"{traced.pid}/{traced.pid}"], lines
    assert '"/tmp/b/marker-file"' in lines[0] and '"/tmp/c/marker-file"' in lines[1]


def test_postfix_and_notpostfix_with_values_of_several_lengths(tmp_path, workload):
    """Each value is an end of its own length: a longer or a shorter end that merely contains
    one, or a string shorter than every value, does not match."""
    w = workload()
    ends = [".conf", "/secret.key", "_x"]
    p = policy(tmp_path, f"""\
        kprobes:
        - call: sys_openat
          syscall: true
          args:
          - {{index: 1, type: string}}
          selectors:
          - matchArgs:
            - {{index: 1, operator: Postfix, values: {json.dumps(ends)}}}
            - {{index: 1, operator: NotPostfix, values: ["/skip.conf"]}}
        """)
    run = Run(tmp_path, p, "--pid", str(w.pid))
    for name in ("a.conf", "a.conf.bak", "secret.key", "notsecret.key", "y_x", "x", "skip.conf", "end"):
        w.do(f"open /tmp/pf/{name}")
    run.wait_for("/tmp/pf/y_x")
    time.sleep(0.3)
    lines = run.stop()
    got = [re.search(r'"/tmp/pf/([^"]+)"', ln).group(1) for ln in lines]
    assert got == ["a.conf", "secret.key", "y_x"], lines


@pytest.mark.parametrize("op, seen", [("Postfix", True), ("NotPostfix", False)])
def test_match_binaries_by_the_end_of_the_path(op, seen, tmp_path, workload):
    """The workload's executable (running before the start: read from procfs) by its end."""
    w = workload()
    exe = os.path.realpath(f"/proc/{w.pid}/exe")
    p = policy(tmp_path, f"""\
        kprobes:
        - call: sys_openat
          syscall: true
          args:
          - {{index: 1, type: string}}
          selectors:
          - matchBinaries:
            - {{operator: {op}, values: ["/{os.path.basename(exe)}", "/no-such-binary-name"]}}
        """)
    run = Run(tmp_path, p, "--pid", str(w.pid))
    w.do("open /tmp/by-binary")
    if seen:
        run.wait_for("/tmp/by-binary")
    else:
        time.sleep(1)
    lines = run.stop()
    assert any('"/tmp/by-binary"' in ln for ln in lines) == seen, lines


@pytest.mark.parametrize("op, seen", [("In", "in-ns"), ("NotIn", "on-host")])
def test_match_pids_inside_their_pid_namespace(op, seen, tmp_path):
    """isNamespacePID: PID 1 is a namespace's first process, not the host's init."""
    # one file opened by a process of the host's PID namespace, another by PID 1 of a new one
    sh = subprocess.Popen(["sh", "-c", f"read go; cat {tmp_path}/on-host;"
                           f" unshare --pid --fork sh -c 'exec cat {tmp_path}/in-ns'"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          text=True)
    p = policy(tmp_path, f"""\
        kprobes:
        - call: sys_openat
          syscall: true
          args:
          - {{index: 1, type: string}}
          selectors:
          - matchPIDs:
            - {{operator: {op}, values: [1], isNamespacePID: true}}
            matchArgs:
            - {{index: 1, operator: Prefix, values: ["{tmp_path}/"]}}
        """)
    run = Run(tmp_path, p, "--pid", str(sh.pid))
    sh.communicate("go\n", timeout=bound(20))
    run.wait_for("in-ns" if op == "In" else "on-host")
    time.sleep(0.5)
    lines = run.stop()
    assert len(lines) == 1 and f'"{tmp_path}/{seen}"' in lines[0] and " cat " in lines[0], lines


def test_sigkill_action_kills_in_the_kernel(tmp_path, workload):
    w = workload()
    p = policy(tmp_path, """\
        kprobes:
        - call: sys_openat
          syscall: true
          args:
          - {index: 1, type: string}
          selectors:
          - matchArgs:
            - {index: 1, operator: Equal, values: ["/tmp/forbidden"]}
            matchActions:
            - action: Sigkill
        """)
    run = Run(tmp_path, p, "--pid", str(w.pid))
    w.do("open /tmp/allowed")
    w.proc.stdin.write("open /tmp/forbidden\n")
    w.proc.stdin.flush()
    assert w.proc.wait(timeout=bound(10)) == -signal.SIGKILL
    run.wait_for("forbidden")
    lines = run.stop()
    assert len(lines) == 1 and lines[0].endswith('sys_openat("/tmp/forbidden") [Sigkill]'), lines


def test_fd_and_numbers_with_gt_and_notequal(tmp_path, workload):
    w = workload()
    p = policy(tmp_path, """\
        kprobes:
        - call: sys_close
          syscall: true
          args:
          - {index: 0, type: fd, label: fd}
          selectors:
          - matchArgs:
            - {index: 0, operator: GT, values: [2]}
        """)
    # a file on another mount (/dev/shm), and one deeper than the 16 names a path shows
    shm = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="tracer-test-"))
    try:
        (shm / "f").write_text("")
        deep = shm.joinpath(*["d"] * 20, "leaf")
        deep.parent.mkdir(parents=True)
        deep.write_text("")
        run = Run(tmp_path, p, "--pid", str(w.pid))
        w.do("open /etc/hostname")
        w.do(f"open {shm}/f")
        w.do(f"open {deep}")
        run.wait_for("leaf")
        lines = run.stop()
    finally:
        shutil.rmtree(shm)
    # close() sees the fd still open: its file's path is read through the task's fd table (BTF)
    assert any(ln.endswith(">)") and "sys_close(fd=" in ln and "</etc/hostname>" in ln for ln in lines), lines
    assert any(f"<{shm}/f>" in ln for ln in lines), lines
    assert any("<.../" + "d/" * 15 + "leaf>" in ln for ln in lines), lines


def test_uprobe_bash_readline_with_return_string(tmp_path):
    run = Run(tmp_path, ROOT / "policies/bash-readline.yaml")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"], {"PS1": "pol$ ", "TERM": "dumb"})
    try:
        os.write(fd, b"echo policy-uprobe-works\n")
        run.wait_for("policy-uprobe-works")
        os.write(fd, b"exit\n")
        os.waitpid(pid, 0)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(fd)
    lines = run.stop()
    mine = [ln for ln in lines if f" {pid}/{pid} " in ln]
    assert mine and mine[0].endswith(' bash-readline uprobe /bin/bash:readline(prompt="pol$ ")'
                                     ' = "echo policy-uprobe-works"'), lines


def test_manager_runs_a_shipped_policy_hook(tmp_path, outdir, workload):
    manager = ROOT / "trace-hooks/ebpf/manager"
    listed = subprocess.run([str(manager), "--get-all"], capture_output=True, text=True, check=True).stdout
    assert "ebpf-policy-sensitive-files" in listed.split()
    desc = subprocess.run([str(manager), "--describe", "ebpf-policy-sensitive-files"], capture_output=True,
                          text=True, check=True).stdout
    assert "opens of sensitive files" in desc and "Mechanism on this kernel:" in desc
    # a remote --args can never name a file
    bad = subprocess.run([str(manager), "--run", "ebpf-policy-sensitive-files", "--args", "/tmp/x.yaml"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1
    w = workload()
    proc = subprocess.Popen([str(manager), "--run", "ebpf-policy-sensitive-files", "--args",
                             f"--pid {w.pid}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TRACER_OUTPUT_MODE": "file"})
    path = Path(proc.stdout.readline().strip())
    w.do("open /etc/shadow")
    w.do("open /etc/passwd")
    wait_until(lambda: "shadow" in path.read_text(), 10)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=bound(20)) == 0, proc.stderr.read()
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
    assert len(lines) == 1 and 'sensitive-files kprobe sys_openat(dfd=-100, path="/etc/shadow", flags=' \
        in lines[0], lines


def test_planner_kernel_fake_for_kprobes(tmp_path):
    """The kprobe plan (what runs under qemu) is made the same way on a fake kernel with kprobes."""
    p = policy(tmp_path, """\
        kprobes:
        - call: sys_openat
          syscall: true
          return: true
          args:
          - {index: 1, type: string}
        """)
    k = planner.Kernel(CAPS.tracefs, True)
    k.kprobes = True
    (hp,) = planner.make(schema.load(p), k).hooks
    assert hp.attach == [("kprobe", "__x64_sys_openat", "pol_front_0"),
                         ("kretprobe", "__x64_sys_openat", "pol_rfront_0")]


def test_a_list_hook_names_the_alias_it_attached():
    """Aliases share an address; the symbol table answers any of them, the line names the one
    the list attached (the real /proc/kallsyms of this kernel)."""
    from tracer.policy import ksyms

    addr = ksyms.address_of("__x64_sys_getppid")
    aliases = [n for n in ("__x64_sys_getppid", "__ia32_sys_getppid", "__do_sys_getppid")
               if addr != -1 and ksyms.address_of(n) == addr]
    if len(aliases) < 2:
        pytest.skip("getppid has no alias in this kernel's symbol table")
    for name in aliases:
        assert ksyms.attached_name(addr, frozenset({name})) == name
    assert ksyms.attached_name(addr, frozenset()) in aliases
