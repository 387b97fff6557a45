"""The grammar of `strace -f -ttt -T` text (as strace 6.1 writes it to stderr), used to check
our --format strace against real strace output line by line."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = r"(?:\[pid +(?P<pid>\d+)\] )?"
TS = r"(?P<ts>\d+\.\d{6}) "
CALL = re.compile(
    "^" + PREFIX + TS + r"(?P<name>[a-z_0-9]+)\((?P<args>.*)\)(?P<pad> +)= (?P<ret>.+?)"
    r"(?: <(?P<dur>\d+\.\d{6})>)?$")
UNFINISHED = re.compile("^" + PREFIX + TS + r"(?P<name>[a-z_0-9]+)\((?P<args>.*) <unfinished \.\.\.>$")
RESUMED = re.compile(
    "^" + PREFIX + TS + r"<\.\.\. (?P<name>[a-z_0-9]+) resumed>(?P<args>.*?)\)(?P<pad> +)= (?P<ret>.+?)"
    r"(?: <(?P<dur>\d+\.\d{6})>)?$")
EXIT = re.compile("^" + PREFIX + TS + r"\+\+\+ (?:exited with (?P<status>\d+)|killed by (?P<sig>SIG\w+)"
                  r"(?: \(core dumped\))?) \+\+\+$")
SIGNAL = re.compile("^" + PREFIX + TS + r"--- (?P<sig>SIG\w+) \{.*\} ---$")
OWN = re.compile(r"^strace: .*$")  # strace's own messages (attach, detach)
COLUMN = 40


@dataclass
class Line:
    kind: str  # call | exit | signal
    pid: int | None  # from the [pid N] prefix
    ts: float
    name: str = ""
    ret: str = ""
    dur: float | None = None
    status: str = ""


def check_pad(raw: str, m: re.Match) -> None:
    """strace pads the call with spaces so that '= ' starts at column 40."""
    pad = m.group("pad")
    if len(pad) > 1:
        assert m.start("pad") + len(pad) == COLUMN, f"'=' not at column {COLUMN}: {raw!r}"
    else:
        assert m.start("pad") >= COLUMN - 1, f"call shorter than column {COLUMN} not padded: {raw!r}"


SKIPPED_NOTE = re.compile(r"^# the kernel skipped tracer's programs (\d+) times")


def closing_notes(text: str) -> list[str]:
    """The `#` lines our trace ends with: its closing notes, then `# tracer stopped` (the
    trace-hooks contract). Nothing else of ours starts with `#`."""
    lines = text.splitlines()
    k = len(lines)
    while k and lines[k - 1].startswith("# "):
        k -= 1
    return lines[k:]


def skipped_runs(text: str) -> int:
    """How many runs of our programs the kernel skipped, as the trace's closing note says."""
    return sum(int(m[1]) for n in closing_notes(text) if (m := SKIPPED_NOTE.match(n)))


def parse(text: str, strace_side: bool) -> list[Line]:
    """Every line must be one of the grammar's shapes; unfinished/resumed halves are joined
    (ours never splits a call). Fails on the first line of no known shape. Our trace's
    closing `#` lines are allowed last."""
    out: list[Line] = []
    lines = text.splitlines()
    if not strace_side:
        del lines[len(lines) - len(closing_notes(text)):]
    for raw in lines:
        if strace_side and (OWN.match(raw) or UNFINISHED.match(raw)):
            continue
        m = CALL.match(raw) or (RESUMED.match(raw) if strace_side else None)
        if m:
            check_pad(raw, m)
            out.append(Line("call", int(m["pid"]) if m["pid"] else None, float(m["ts"]), m["name"],
                            m["ret"], float(m["dur"]) if m["dur"] else None))
            continue
        m = EXIT.match(raw)
        if m:
            out.append(Line("exit", int(m["pid"]) if m["pid"] else None, float(m["ts"]),
                            status=m["status"] or m["sig"]))
            continue
        m = SIGNAL.match(raw)
        if m:
            out.append(Line("signal", int(m["pid"]) if m["pid"] else None, float(m["ts"]), m["sig"]))
            continue
        raise AssertionError(f"not a strace -f -ttt -T line: {raw!r}")
    return out
