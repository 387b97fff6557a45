"""The shape of a syscall description, as strace's syscallent tables hold them: number, name,
classes, flags, and per argument a *type word* that says both how the BPF side captures it
(tracer/syscalls/desc/types.py) and how it is printed (tracer/decode/printers.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Flags of a call.
AT_ENTRY = "at_entry"  # captured and emitted at entry (its memory is gone, or it never returns)
NO_RETURN = "no_return"  # never returns: printed `= ?` from its entry record
EXEC = "exec"  # replaces the program: argv/envp captured by the exec handler
FORK = "fork"  # creates a task: the child's return of 0 is not a call of its own
SIGRETURN = "sigreturn"  # at exit the registers no longer name it: recorded at entry too
FLAGS = frozenset({AT_ENTRY, NO_RETURN, EXEC, FORK, SIGRETURN})

# strace's classes (its TD, TF, ... flags), by the names its -e trace=%CLASS uses.
CLASSES = {"TD": "desc", "TF": "file", "TI": "ipc", "TN": "network", "TP": "process", "TS": "signal",
           "TM": "memory", "TST": "stat", "TLST": "lstat", "TFST": "fstat", "TSTA": "%stat",
           "TSF": "statfs", "TFSF": "fstatfs", "TSFA": "%statfs", "PU": "pure", "TC": "creds",
           "TCL": "clock", "NF": "never_fails", "SI": "stack_trace_ignore", "SE": "seccomp_default",
           "CC": "compat", "TSD": "tamper"}

_ARG = re.compile(r"^(?P<name>\w+):(?P<type>\w+)(?:\((?P<param>[\w,]*)\))?$")


@dataclass(frozen=True)
class Arg:
    name: str  # the kernel's name for it (its tracefs format field)
    type: str  # the type word: capture and printer
    param: str = ""  # the type's parameter: another argument's name (a length), or a constant


@dataclass(frozen=True)
class Call:
    nr: int  # x86_64 number
    name: str  # as strace prints it
    args: tuple[Arg, ...]
    classes: frozenset[str]
    flags: frozenset[str]
    nargs: int  # how many arguments strace prints by default
    ret: str  # return printer word ("" for the decimal/errno default)
    family: str  # the module it is described in

    def index(self, arg_name: str) -> int:
        """Position of argument `arg_name` (ValueError if it has none)."""
        for i, a in enumerate(self.args):
            if a.name == arg_name:
                return i
        raise ValueError(f"{self.name} has no argument {arg_name}")

    def has(self, flag: str) -> bool:
        return flag in self.flags


def parse_args(sig: str) -> tuple[Arg, ...]:
    """'fd:fd buf:buf_in(count) count:ulong' -> (Arg('fd', 'fd'), Arg('buf', 'buf_in', 'count'), ...)"""
    out = []
    for part in sig.split():
        m = _ARG.match(part)
        if not m:
            raise ValueError(f"bad argument description {part!r}")
        out.append(Arg(m["name"], m["type"], m["param"] or ""))
    return tuple(out)


def call(nr: int, name: str, sig: str, classes: str = "", flags: str = "", nargs: int | None = None,
         ret: str = "", family: str = "") -> Call:
    """One description: `sig` lists the arguments as NAME:TYPE or NAME:TYPE(PARAM)."""
    args = parse_args(sig)
    cls = frozenset(CLASSES[c] for c in classes.split("|") if c)
    fl = frozenset(flags.split())
    if fl - FLAGS:
        raise ValueError(f"{name}: unknown flags {sorted(fl - FLAGS)}")
    return Call(nr, name, args, cls, fl, len(args) if nargs is None else nargs, ret, family)
