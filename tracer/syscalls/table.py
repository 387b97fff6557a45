"""The syscalls of the running kernel: number, name and argument list.

Numbers are the stable x86_64 ABI (from the syscall descriptions, tracer/syscalls/desc);
which syscalls exist and their arguments come from the running kernel's tracefs format files.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path

from tracer.errors import TracerError, quote
from tracer.syscalls.formats import EventFormat, Field, read_format

NR_MAX = 512  # size of the per-slot dispatch tables; above every x86_64 syscall number
# Tracepoints named after the kernel function, not the syscall.
TRACEPOINT_ALIASES = {"newfstat": "fstat", "newlstat": "lstat", "newstat": "stat", "newuname": "uname",
                      "sendfile64": "sendfile", "umount": "umount2"}


@dataclass(frozen=True)
class Syscall:
    nr: int
    name: str  # the syscall's name as strace prints it
    event: str  # tracefs event suffix: syscalls/sys_enter_<event>
    args: tuple[Field, ...]  # from the format file, without __syscall_nr


@functools.lru_cache(maxsize=1)
def numbers() -> dict[str, int]:
    """name -> x86_64 number of every described syscall."""
    from tracer.syscalls import desc  # desc's modules import nothing from here

    return {c.name: c.nr for c in desc.all_calls()}


class SyscallTable:
    def __init__(self, syscalls: list[Syscall]) -> None:
        self.by_name = {s.name: s for s in syscalls}
        self.by_nr = {s.nr: s for s in syscalls}

    def __iter__(self):
        return iter(sorted(self.by_nr.values(), key=lambda s: s.nr))

    def __len__(self) -> int:
        return len(self.by_nr)

    def get(self, name: str) -> Syscall:
        """The syscall called `name`, or an error suggesting the closest names."""
        s = self.by_name.get(name)
        if s is None:
            close = difflib.get_close_matches(name, list(self.by_name), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else "; see 'tracer syscalls'"
            raise TracerError(f"unknown syscall {quote(name)} on this kernel{hint}")
        return s


def syscall_args(fmt: EventFormat) -> tuple[Field, ...]:
    """The syscall's own arguments among a sys_enter format's fields. Newer kernels (7.x) append
    dynamic fields (`__data_loc char[] __filename`: the user string, copied by the kernel) after
    the arguments; they are not arguments, and counting them would make the entry programs read
    past the event's fixed part, which the kernel refuses at attach."""
    return tuple(f for f in fmt.fields
                 if f.name != "__syscall_nr" and not f.type.startswith(("__data_loc", "__rel_loc")))


def load(tracefs: Path) -> SyscallTable:
    """Every syscall this kernel has a tracepoint for, with its number and arguments."""
    nums = numbers()
    found = []
    for d in sorted((tracefs / "events/syscalls").glob("sys_enter_*")):
        event = d.name[len("sys_enter_"):]
        name = TRACEPOINT_ALIASES.get(event, event)
        if name not in nums:
            continue  # a syscall newer than our table: still reachable by its tracepoint name
        fmt = read_format(tracefs, "syscalls", d.name)
        args = syscall_args(fmt)
        found.append(Syscall(nums[name], name, event, args))
    return SyscallTable(found)
