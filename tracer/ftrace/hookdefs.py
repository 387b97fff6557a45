"""The ftrace-* hooks: plain tracefs, each session in its own instance."""

from __future__ import annotations

from tracer import capabilities as cap
from tracer.ftrace import files, functions, sched, syscalls
from tracer.hooks.spec import Hook, Option

_WHERE = " in a private tracefs instance (the top-level one is never touched)"

HOOKS: tuple[Hook, ...] = (
    Hook(
        name="ftrace-syscalls", subsystem="ftrace",
        summary="syscalls of the traced processes, as the kernel's syscall tracepoints print them",
        traces="every syscall entry and exit (or those of --syscalls) of the traced PIDs and their"
               " children: COMM-TID [CPU] FLAGS TIMESTAMP: sys_NAME(ARG: VALUE, ...) and"
               " sys_NAME -> RET",
        runner=syscalls.create,
        options=(Option("--syscalls", "only these syscalls (comma separated names)", kind="list",
                        metavar="NAME,NAME,..."),),
        requires=(cap.TRACEFS, cap.SYSCALL_TRACEPOINTS),
        mechanism=lambda caps: "syscalls:sys_enter_*/sys_exit_* tracepoints, filtered by"
                               " set_event_pid with the event-fork option" + _WHERE,
        example='./manager --run ftrace-syscalls --args "--pid 1234 --syscalls openat,read"',
    ),
    Hook(
        name="ftrace-sched", subsystem="ftrace",
        summary="process lifecycle: fork, exec and exit",
        traces="sched_process_fork (parent and child PIDs), sched_process_exec (the program run)"
               " and sched_process_exit of the traced PIDs and their children",
        runner=sched.create,
        requires=(cap.TRACEFS,),
        mechanism=lambda caps: "sched:sched_process_fork/exec/exit tracepoints, filtered by"
                               " set_event_pid with the event-fork option" + _WHERE,
        example='./manager --run ftrace-sched --args "--pid 1234"',
    ),
    Hook(
        name="ftrace-files", subsystem="ftrace",
        summary="files opened by the traced processes, with their paths",
        traces="one line per open with the path as text (and, with kprobes, the result)",
        runner=files.create,
        requires=(cap.TRACEFS,),
        mechanism=files.mechanism,
        unavailable=files.unavailable,
        example='./manager --run ftrace-files --args "--pid 1234"',
    ),
    Hook(
        name="ftrace-functions", subsystem="ftrace",
        summary="kernel functions called by the traced processes (the function tracer)",
        traces="COMM-TID [CPU] FLAGS TIMESTAMP: FUNCTION <-CALLER for every kernel function (or"
               " those matching --filter) run on behalf of the traced PIDs and their children",
        runner=functions.create,
        options=(Option("--filter", "only functions matching this set_ftrace_filter pattern"
                        " (e.g. 'vfs_*')", metavar="PATTERN", pattern=functions.FILTER_PATTERN,
                        pattern_help=functions.FILTER_HELP),),
        requires=(cap.TRACEFS,),
        mechanism=lambda caps: "the function tracer, filtered by set_ftrace_pid with the"
                               " function-fork option (and set_ftrace_filter)" + _WHERE,
        unavailable=functions.unavailable,
        example='./manager --run ftrace-functions --args "--pid 1234 --filter \'vfs_*\'"',
    ),
)
