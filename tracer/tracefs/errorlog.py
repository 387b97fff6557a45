"""The kernel's own explanation of a rejected command, from tracefs `error_log`.

The log is shared by everyone and holds the last few errors; instead of
clearing it (which would erase other tools' entries) we snapshot it before a
write and report what appeared after.
"""

from __future__ import annotations

from pathlib import Path


def snapshot(tracefs: Path) -> str:
    try:
        return (tracefs / "error_log").read_text()
    except OSError:  # kernels before 5.4 have no error_log
        return ""


def entries(text: str) -> list[str]:
    """Split the log into entries; each starts with a '[timestamp]' line."""
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith("[") or not out:
            out.append(line)
        else:
            out[-1] += "\n" + line
    return out


def new_message(tracefs: Path, before: str) -> str:
    """The error line(s) logged since `before`, as one line ('' if none).

    An entry looks like:
        [ 1285.69] trace_uprobe: error: Invalid register name
          Command: p:grp/ev /lib/libc.so.6:0xf7fc0 path=+0(%zz):ustring
                                                         ^
    We keep the "error: ..." text and the command; the caret only makes sense
    in a fixed-width terminal.
    """
    after = snapshot(tracefs)
    if after == before:
        return ""
    # The log keeps a few entries only: when it rotated, the newest one is ours.
    found = entries(after[len(before):]) if after.startswith(before) else entries(after)[-1:]
    if not found:
        return ""
    lines = found[-1].splitlines()
    head = lines[0].split("]", 1)[-1].strip()
    command = next((ln.strip() for ln in lines[1:] if ln.strip().startswith("Command:")), "")
    return f"{head} ({command})" if command else head
