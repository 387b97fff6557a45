"""The ebpf-* hooks: each is a set of syscalls played by the same dispatch machinery."""

from __future__ import annotations

from tracer import capabilities as cap
from tracer.capabilities import Capabilities
from tracer.ebpf import frontend
from tracer.hooks.spec import EventSource, Hook, Option
from tracer.net.hookdef import HOOK as PACKETS
from tracer.syscalls import families

NEEDS = (cap.BCC, cap.HEADERS, cap.SYSCALL_TRACEPOINTS)


def mechanism(caps: Capabilities, count: int | None = None) -> str:
    """What catches the syscalls on this kernel: for `count` syscalls by default, and with --syscalls."""
    return f"{frontend.describe(caps, count)}; per-PID tail-call dispatch"


def run(hook: Hook, *args: object) -> EventSource:
    """The hook's event source. Imported here, when a hook runs: the engine pulls in the
    decoder and BCC, which --get-all and --describe do without."""
    from tracer.ebpf.source import create

    return create(hook, *args)


def run_summary(hook: Hook, opts: object, targets: object, caps: Capabilities) -> EventSource:
    """ebpf-summary's source."""
    from tracer.views.summary import create

    return create(hook, opts, targets, caps)


SYSCALLS_OPT = Option("--syscalls", "only these syscalls (comma separated names)", kind="list",
                      metavar="NAME,NAME,...")


def _family_hook(name: str, family: str, what: str) -> Hook:
    count = len(families.FAMILIES[family])
    return Hook(
        name=name, subsystem="ebpf", summary=f"{what}, decoded like strace",
        traces=f"the {family} syscalls ({', '.join(families.FAMILIES[family])}) of the traced"
               " PIDs and their children, one line per call with decoded arguments",
        runner=run, options=(SYSCALLS_OPT,), requires=NEEDS,
        mechanism=lambda caps: mechanism(caps, count),
        example=f'./manager --run {name} --args "--pid 1234"',
    )


HOOKS = (
    Hook(
        name="ebpf-syscalls", subsystem="ebpf",
        summary="every syscall of the traced processes, decoded like strace -f",
        traces="all syscalls (or those of --syscalls) of the traced PIDs and their children:"
               " TIMESTAMP COMM PID/TID NAME(ARGS) = RET [ERRNO (message)]; and, as strace shows"
               " them, the signals a task gets (--- SIGCHLD {si_signo=...} ---) and its end"
               " (+++ exited with N +++, +++ killed by SIGSEGV +++)",
        runner=run, options=(SYSCALLS_OPT,), requires=NEEDS, mechanism=mechanism,
        example='./manager --run ebpf-syscalls --args "--pid 1234 --syscalls openat,read"',
    ),
    _family_hook("ebpf-files", "files", "file syscalls with their paths"),
    _family_hook("ebpf-process", "process", "process lifecycle: fork, exec with argv, exit with status"),
    _family_hook("ebpf-network", "network", "socket syscalls with decoded addresses"),
    Hook(
        name="ebpf-summary", subsystem="ebpf",
        summary="strace -c tables counted in the kernel: calls, errors, time, latency histograms",
        traces="per traced process (and children) and per syscall: calls, errors, time in the call"
               " and a log2 latency histogram, aggregated in BPF maps (no event per call); written"
               " as strace -c tables 1 s after the start, then every --interval seconds (the tables of"
               " the processes that made calls since, and the total) and at the stop (every table)",
        runner=run_summary,
        options=(SYSCALLS_OPT, Option("--interval", "seconds between two tables (default 10)",
                                      kind="int", metavar="SECONDS")),
        requires=(cap.BCC, cap.HEADERS, cap.RAW_TRACEPOINTS),
        mechanism=lambda caps: "raw sys_enter/sys_exit tracepoints counting into a per-CPU"
                               " hash map; sched_process_fork follows children",
        example='./manager --run ebpf-summary --args "--pid 1234 --interval 5"',
    ),
    PACKETS,
)
