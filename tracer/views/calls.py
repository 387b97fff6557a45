"""Read a JSON-lines trace (`--format json`) back as calls: the common input of the exports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tracer.errors import TracerError

FORKS = frozenset({"clone", "clone3", "fork", "vfork"})
EXECS = frozenset({"execve", "execveat"})
NORETURN = frozenset({"exit", "exit_group"})


@dataclass
class Call:
    start: int  # epoch ns: entry time
    end: int  # epoch ns: exit time (= start when the trace did not record it)
    pid: int
    tid: int
    comm: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)  # decoded, beside NAME_raw
    ret: int | None = None  # the kernel's value (-errno on failure); None: did not return

    def raw(self, name: str) -> Any:
        """The raw value of argument `name`: its register, or the value when it was not decoded."""
        return self.args.get(name + "_raw", self.args.get(name))

    def arg_names(self) -> list[str]:
        return [k for k in self.args if not k.endswith("_raw")]


def _ns(stamp: str) -> int:
    s, _, frac = stamp.partition(".")
    return int(s) * 1_000_000_000 + int((frac + "000000000")[:9])


def read(path: str | Path) -> list[Call]:
    """The calls of a JSON-lines trace file, in file order. Other lines (# notes, LOST) are
    skipped; a file with no JSON line at all is an error naming the format needed."""
    calls = []
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        raise TracerError(f"cannot read {path}: {e.strerror}") from None
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if "syscall" not in obj or "timestamp" not in obj:
            continue
        start = _ns(obj["timestamp"])
        ret = obj.get("ret_raw", obj.get("ret"))
        calls.append(Call(start, start + int(obj.get("duration_ns") or 0), obj["pid"], obj["tid"],
                          obj.get("comm", ""), obj["syscall"], obj.get("args") or {}, ret))
    if not calls:
        raise TracerError(f"{path} holds no JSON trace lines: export reads traces written with"
                          " --format json")
    return calls


def by_time(calls: list[Call]) -> Iterator[Call]:
    return iter(sorted(calls, key=lambda c: (c.start, c.tid)))
