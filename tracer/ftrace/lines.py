"""The text trace_pipe prints, and the same as JSON (--format json).

A line looks like
    cat-7578    [001] DBZff  1284.626869: open: (0x7f507d816fc0) path="/etc/hostname"
    bash-1234   [000] .....    12.345678: vfs_read <-ksys_read          (function tracer)
COMM may hold spaces and dashes, so PID is the last "-digits" before the CPU field.
"""

from __future__ import annotations

import json
import re
from typing import Any

_LINE = re.compile(r"^\s*(?P<comm>.*?)-(?P<pid>\d+)\s+(?:\(\s*(?P<tgid>[\d-]+)\)\s+)?"
                   r"\[(?P<cpu>\d+)\]\s+(?:(?P<flags>\S+)\s+)?(?P<ts>\d+\.\d+):\s+(?P<rest>.*)$")
# "name: details" for most events; syscall events print "sys_openat(args)" and
# "sys_openat -> 0x3"; the function tracer prints "func <-caller".
_EVENT = re.compile(r"^(?P<event>[\w.-]+)(?P<sep>: ?|\(| -> | <-)")
_FIELD = re.compile(r"(\w+)=(\"(?:[^\"\\]|\\.)*\"|\S+)")
# trace_pipe announces overwritten events inline; the per-CPU counters are what we report.
LOST_MARK = re.compile(r"^CPU:\d+ \[LOST \d+ EVENTS\]$")


def parse(line: str) -> dict[str, Any] | None:
    """The fields of one trace_pipe line, or None for a line of another shape."""
    m = _LINE.match(line)
    if not m:
        return None
    rest = m.group("rest")
    e = _EVENT.match(rest)
    if e is None or e.group("sep") == " <-":
        event, details = "function", rest
    elif e.group("sep").startswith(":"):
        event, details = e.group("event"), rest[e.end():]
    else:  # a syscall: name it as tracefs does, and keep its own text whole as the detail
        phase = "enter" if e.group("sep") == "(" else "exit"
        event, details = re.sub(r"^sys_", f"sys_{phase}_", e.group("event")), rest
    out: dict[str, Any] = {
        "timestamp": float(m.group("ts")), "comm": m.group("comm"), "pid": int(m.group("pid")),
        "cpu": int(m.group("cpu")), "event": event, "details": details,
    }
    if m.group("tgid") and m.group("tgid").isdigit():
        out["tgid"] = int(m.group("tgid"))
    if m.group("flags"):
        out["flags"] = m.group("flags")
    fields = {k: (v[1:-1] if v.startswith('"') else v) for k, v in _FIELD.findall(details)}
    if fields:
        out["fields"] = fields
    return out


def pid_of(line: str) -> int | None:
    """The task id of a trace_pipe line, None for a line of another shape."""
    m = _LINE.match(line)
    return int(m.group("pid")) if m else None


def to_json(line: str, tags: Any = None) -> str:
    """One JSON object; a line we cannot split is kept whole under "raw".

    With `tags` (pid -> container id), a "container" field for a container's task."""
    parsed = parse(line)
    if parsed is not None and tags is not None:
        cid = tags(parsed["pid"])
        if cid:
            parsed["container"] = cid
    return json.dumps(parsed if parsed is not None else {"raw": line}, ensure_ascii=False)


def tag(line: str, tags: Any) -> str:
    """The line with its task's container id (12 characters) after COMM-PID."""
    m = _LINE.match(line)
    line = line.lstrip()
    if not m:
        return line
    cid = tags(int(m.group("pid")))
    if not cid:
        return line
    head = f"{m.group('comm')}-{m.group('pid')}"
    return line.replace(head, f"{head} {cid}", 1)
