"""The one exception type a user can cause: its text is the one line we print."""

from __future__ import annotations

QUOTE_LIMIT = 80  # characters of a user's text echoed in an error
LINE_LIMIT = 1000  # characters of an error line, whatever it holds


def quote(text: object, limit: int = QUOTE_LIMIT) -> str:
    """User text as an error may echo it: quoted like repr(), every control or non-printable
    character escaped (no ESC, BEL or CR reaches a terminal), cut to `limit` characters
    with '...' and the full length."""
    s = str(text)
    if len(s) <= limit:
        return repr(s)
    return f"{s[:limit]!r}... ({len(s)} characters)"


def _printable(message: str) -> str:
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


class TracerError(Exception):
    """A mistake or a missing feature the user can act on.

    The message names what was wrong and what to do; callers print it as a single
    line on stderr and exit non-zero, after releasing everything they attached.
    Whatever a message holds, it stays one printable line of bounded length.
    """

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        line = _printable(" ".join(message.split()))
        if len(line) > LINE_LIMIT:
            line = line[:LINE_LIMIT] + "..."
        super().__init__(line)
        if exit_code is not None:
            self.exit_code = exit_code


def usage_message(message: str) -> str:
    """An argparse complaint with the user's text in it, quoted and cut like quote()."""
    head, sep, rest = message.partition(": ")
    if head == "unrecognized arguments" and sep:
        return f"unrecognized arguments: {quote(rest)}"
    return message if len(message) <= 2 * QUOTE_LIMIT else message[:2 * QUOTE_LIMIT] + "..."
