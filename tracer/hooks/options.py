"""Parse the one --args string the node agent passes into typed, validated options."""

from __future__ import annotations

import argparse
import os
import re
import shlex
from dataclasses import dataclass, field, fields
from typing import Any

from tracer import paths, procfs
from tracer.errors import TracerError, quote, usage_message
from tracer.hooks.spec import Hook, Option

FORMATS = ("text", "json", "strace")  # strace: the ebpf hooks only, as strace -f -ttt -T
MIN_BUFFER = 64 * 1024
MAX_BUFFER = 1 << 30


@dataclass
class HookOptions:
    pids: list[int] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)
    format: str = "text"
    follow_forks: bool = True
    buffer_size: int | None = None  # bytes; None: the subsystem's default
    # the hooks' own options (named by Option.dest): None when not given or not the hook's
    syscalls: list[str] | None = None
    filter: str | None = None  # ftrace-functions' set_ftrace_filter pattern
    proto: str | None = None
    port: int | None = None
    interval: int | None = None  # seconds
    policy_file: str | None = None  # ebpf-policy's TracingPolicy (tracer policy run)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage and exit(2)
        raise TracerError(f"--args for {self.prog}: {usage_message(message)}; see --describe {self.prog}")


def common_options(hook: Hook | None = None) -> tuple[Option, ...]:
    return (
        Option("--pid", "PIDs to trace (their children too unless --no-follow-forks)",
               kind="pids", metavar="PID..."),
        Option("--container", "containers to trace: full id, a unique id prefix of 4 or more"
               " characters, or a name",
               kind="names", metavar="ID|NAME..."),
        Option("--format", "line format of the trace file (strace: strace -f -ttt -T lines,"
               " ebpf hooks only)", kind="choice",
               choices=hook.formats if hook and hook.formats else FORMATS, default="text"),
        Option("--no-follow-forks", "trace only the given PIDs, not the children they start",
               kind="flag"),
        Option("--buffer-size", "kernel buffer size, all CPUs together, e.g. 8M or 512K"
               " (64K to 1G, at most half the available memory)", metavar="SIZE"),
    )


# Option values are ASCII: str.isdigit() and \d also take '²' or Arabic-Indic digits.
_SIZE = re.compile(r"([0-9]{1,13})([KkMmGg]?)[Bb]?", re.ASCII)
_PID = re.compile(r"[0-9]{1,10}", re.ASCII)
_INT = re.compile(r"-?[0-9]{1,18}", re.ASCII)
# Values of list options name kernel objects (syscalls, events): identifiers only, so
# no value can carry '/', '..' or a newline into a tracefs path or control file.
_NAME = re.compile(r"[A-Za-z0-9_]{1,64}", re.ASCII)


def parse_size(text: str) -> int:
    m = _SIZE.fullmatch(text.strip())
    if not m:
        raise TracerError(f"bad --buffer-size {quote(text)}: give a size such as 8M or 512K")
    n = int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[m.group(2).lower()]
    if not MIN_BUFFER <= n <= MAX_BUFFER:
        raise TracerError(f"--buffer-size {quote(text)} out of range: give 64K to 1G (the total,"
                          " across CPUs)")
    avail = mem_available()
    if avail and n > avail // 2:
        raise TracerError(f"--buffer-size {quote(text)} is more than half of the memory available"
                          f" ({avail >> 20} MiB): give a smaller size")
    return n


def mem_available() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (None if unknown)."""
    try:
        for line in (paths.procfs() / "meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def pid_max() -> int:
    try:
        return int((paths.procfs() / "sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        return 4194304


def pid_number(text: str) -> int:
    """The number an ASCII decimal PID stands for, or the one-line error (no lookup)."""
    if not _PID.fullmatch(text):
        raise TracerError(f"bad PID {quote(text)}: PIDs are positive decimal integers (0-9)")
    return int(text)


def live_pids() -> set[int]:
    """Every PID in procfs, from one directory listing."""
    return set(procfs.pids())


def check_pids(texts: list[str]) -> list[int]:
    """The PIDs of `texts` (each once, in order), all running now, none of them us.

    One procfs listing serves them all: a thousand PIDs are checked in milliseconds.
    """
    pids = list(dict.fromkeys(pid_number(t) for t in texts))
    if not pids:
        return []
    limit, alive = pid_max(), live_pids()
    for pid in pids:
        if not 1 <= pid <= limit:
            raise TracerError(f"PID {pid} out of range: pid_max is {limit}")
        if pid not in alive:
            raise TracerError(f"PID {pid} does not exist (no {paths.procfs() / str(pid)}):"
                              " pass the PID of a running process")
        if pid == os.getpid():
            raise TracerError(f"PID {pid} is this tracer itself: it never traces itself or its"
                              " own writes; pass the PIDs of the processes to trace")
    return pids


def check_pid(text: str) -> int:
    """A PID that exists now, or the one-line error saying what is wrong with it."""
    return check_pids([text])[0]


def check_names(flag: str, values: list[str], hook: str) -> list[str]:
    for v in values:
        if not _NAME.fullmatch(v):
            raise TracerError(f"{flag}: bad name {quote(v)}: names are letters, digits and '_';"
                              f" see --describe {hook}")
    return list(dict.fromkeys(values))


def _add(parser: argparse.ArgumentParser, opt: Option) -> None:
    if opt.kind == "flag":
        parser.add_argument(opt.flag, dest=opt.dest, action="store_true")
    elif opt.kind in ("pids", "names"):
        parser.add_argument(opt.flag, dest=opt.dest, nargs="+", action="extend", default=[])
    elif opt.kind == "choice":
        parser.add_argument(opt.flag, dest=opt.dest, choices=opt.choices, default=opt.default)
    else:
        parser.add_argument(opt.flag, dest=opt.dest, default=opt.default)


_FIELDS = {f.name for f in fields(HookOptions)}


def _field(opt: Option) -> str:
    """The HookOptions field an option's value goes to (each hook option has one)."""
    if opt.dest not in _FIELDS:
        raise TypeError(f"option {opt.flag} has no HookOptions field {opt.dest!r}")
    return opt.dest


def parse(hook: Hook, args: str, need_target: bool = True) -> HookOptions:
    """Parse `args` for `hook`; every unknown token or bad value is a TracerError."""
    try:
        tokens = shlex.split(args or "")
    except ValueError as e:
        raise TracerError(f"--args {quote(args)} cannot be split: {e}") from None
    parser = _Parser(prog=hook.name, add_help=False, allow_abbrev=False)
    for opt in common_options(hook) + hook.options:
        _add(parser, opt)
    ns = vars(parser.parse_args(tokens))
    opts = HookOptions(
        pids=check_pids(ns.pop("pid")),
        containers=ns.pop("container"),
        format=ns.pop("format"),
        follow_forks=not ns.pop("no_follow_forks"),
    )
    size = ns.pop("buffer_size")
    opts.buffer_size = parse_size(size) if size else None
    for opt in hook.options:
        value = ns.get(opt.dest)
        if opt.kind == "list" and isinstance(value, str):
            value = [v for v in value.split(",") if v]
            if not value:
                raise TracerError(f"{opt.flag} needs a comma-separated list; see --describe {hook.name}")
            value = check_names(opt.flag, value, hook.name)
        elif opt.pattern and value is not None and not re.fullmatch(opt.pattern, value, re.ASCII):
            raise TracerError(f"{opt.flag} {quote(value)}: {opt.pattern_help or 'bad value'};"
                              f" see --describe {hook.name}")
        elif opt.kind == "int" and value is not None:
            if not _INT.fullmatch(str(value)):
                raise TracerError(f"{opt.flag} needs an integer, not {quote(value)}")
            value = int(value)
        setattr(opts, _field(opt), value)
    if need_target and not opts.pids and not opts.containers:
        raise TracerError(f"--args for {hook.name}: give --pid PID... or --container ID...")
    return opts


def describe(hook: Hook, caps: Any) -> list[str]:
    """The plain lines of --describe."""
    lines = [f"{hook.name}: {hook.summary}", "", f"Traces: {hook.traces}"]
    if hook.mechanism:
        lines.append(f"Mechanism on this kernel: {hook.mechanism(caps)}")
    why = hook.why_unavailable(caps)
    lines.append(f"Available here: {'no, ' + why if why else 'yes'}")
    lines += ["", "Options (inside --args):"]
    for opt in common_options(hook) + hook.options:
        meta = opt.metavar or ("|".join(opt.choices) if opt.choices else
                               "" if opt.kind == "flag" else "A,B,..." if opt.kind == "list" else "VALUE")
        lines.append(f"  {opt.flag} {meta}".rstrip() + f"  {opt.help}"
                     + (f" (default {opt.default})" if opt.default not in (None, False) else ""))
    lines += ["", *OUTPUT_HELP]
    if hook.example:
        lines += ["", f"Example: {hook.example}"]
    return lines


OUTPUT_HELP = (
    "Output: the printed path is a named pipe that gives one whole line per read() to a reader"
    " that opens it (container-tracer's agent reads one line per 4 KiB read), live, until the"
    " session stops (then end of file; the pipe is removed). The complete trace is the regular"
    " file PATH.txt beside it, kept after the session. TRACER_OUTPUT_MODE=fifo: the pipe is fed"
    " in bulk (readers that split lines themselves); TRACER_OUTPUT_MODE=file: PATH.txt itself"
    " is printed (readers that follow a growing file).",
)
