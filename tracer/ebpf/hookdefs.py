"""The ebpf-* hooks: each is a set of syscalls played by the same dispatch machinery."""

from __future__ import annotations

from tracer import capabilities as cap
from tracer.capabilities import Capabilities
from tracer.hooks.spec import Hook, Option
from tracer.syscalls import families

RUNNER = "tracer.ebpf.source:create"
NEEDS = (cap.BCC, cap.HEADERS, cap.SYSCALL_TRACEPOINTS)


def mechanism(caps: Capabilities) -> str:
    mode = caps.attach_mode()
    buf = "BPF ring buffer" if caps.has(cap.RINGBUF) else "perf buffer"
    if mode == "kprobe":
        how = "kprobes/kretprobes on the __x64_sys_* functions"
    else:
        how = ("raw tracepoints raw_syscalls:sys_enter/sys_exit when many syscalls are traced,"
               " syscalls:sys_enter_NAME/sys_exit_NAME tracepoints when a few are (--syscalls)")
        if not caps.has(cap.KPROBES):
            how += f"; kprobes are unavailable ({caps.reason(cap.KPROBES)})"
    return f"{how}; events through the {buf}; per-PID tail-call dispatch"


SYSCALLS_OPT = Option("--syscalls", "only these syscalls (comma separated names)", kind="list",
                      metavar="NAME,NAME,...")


def _family_hook(name: str, family: str, what: str) -> Hook:
    return Hook(
        name=name, subsystem="ebpf", summary=f"{what}, decoded like strace",
        traces=f"the {family} syscalls ({', '.join(families.FAMILIES[family])}) of the traced"
               " PIDs and their children, one line per call with decoded arguments",
        runner=RUNNER, options=(SYSCALLS_OPT,), requires=NEEDS, mechanism=mechanism,
        example=f'./manager --run {name} --args "--pid 1234"',
    )


HOOKS = (
    Hook(
        name="ebpf-syscalls", subsystem="ebpf",
        summary="every syscall of the traced processes, decoded like strace -f",
        traces="all syscalls (or those of --syscalls) of the traced PIDs and their children:"
               " TIMESTAMP COMM PID/TID NAME(ARGS) = RET [ERRNO (message)]",
        runner=RUNNER, options=(SYSCALLS_OPT,), requires=NEEDS, mechanism=mechanism,
        example='./manager --run ebpf-syscalls --args "--pid 1234 --syscalls openat,read"',
    ),
    _family_hook("ebpf-files", "files", "file syscalls with their paths"),
    _family_hook("ebpf-process", "process", "process lifecycle: fork, exec with argv, exit with status"),
    _family_hook("ebpf-network", "network", "socket syscalls with decoded addresses"),
)
