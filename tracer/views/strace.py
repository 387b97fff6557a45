"""Lines shaped exactly as `strace -f -ttt -T` writes them to stderr.

strace prefixes `[pid %5u] ` only while it traces more than one task, pads the call to
column 40 before `= `, prints the entry time as seconds.microseconds and the time spent
in the call as ` <s.uuuuuu>` (none for calls that do not return). Process ends are
`+++ exited with N +++` lines. Tools that import strace text (Perfetto, strace-parser)
read this grammar.
"""

from __future__ import annotations

COLUMN = 40  # strace's default -a: the column of '= '
FORKS = frozenset({"clone", "clone3", "fork", "vfork"})


def stamp(ns: int) -> str:
    """Epoch nanoseconds as strace -ttt prints them (microseconds, truncated)."""
    s, rest = divmod(ns, 1_000_000_000)
    return f"{s}.{rest // 1000:06d}"


def duration(ns: int) -> str:
    s, rest = divmod(max(ns, 0), 1_000_000_000)
    return f" <{s}.{rest // 1000:06d}>"


def pad(head: str, ret: str) -> str:
    """`head` (prefix, time and call up to its ')') joined to `ret` as strace does."""
    if len(head) < COLUMN:
        return f"{head}{' ' * (COLUMN - len(head))}= {ret}"
    return f"{head} = {ret}"


class StraceLines:
    """Formats calls of many tasks, keeping the set of live tasks strace's prefix depends on."""

    def __init__(self) -> None:
        self.live: set[int] = set()

    def prefix(self, tid: int) -> str:
        return f"[pid {tid:5d}] " if len(self.live) > 1 else ""

    def call(self, start_ns: int, dur_ns: int | None, tid: int, name: str, text: str) -> str:
        """One line for a call: `text` is the decoder's `NAME(ARGS) = RET`; `dur_ns` is None
        for a call that did not return (exit_group), whose line ends `= ?`."""
        self.live.add(tid)
        cut = text.rfind(" = ")
        head, ret = (text[:cut], text[cut + 3:]) if cut >= 0 else (text, "?")
        line = pad(f"{self.prefix(tid)}{stamp(start_ns)} {head}", ret)
        if dur_ns is not None and ret != "?":
            line += duration(dur_ns)
        if name in FORKS and ret.isdigit() and int(ret) > 0:
            self.live.add(int(ret))  # strace counts the child from its creation
        return line + "\n"

    def task_line(self, at_ns: int, tid: int, text: str, gone: bool) -> str:
        """`--- SIGCHLD {...} ---`, or `+++ exited with N +++` for a task that ended (`gone`):
        strace stops counting it then."""
        self.live.add(tid)
        line = f"{self.prefix(tid)}{stamp(at_ns)} {text}\n"
        if gone:  # each task's end is a line of its own: threads too
            self.live.discard(tid)
        return line
