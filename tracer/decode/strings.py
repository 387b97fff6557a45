"""User memory as strace quotes it: C escapes, octal for other bytes, `...` when cut."""

from __future__ import annotations

MAX_STR = 32  # strace's default -s: bytes of a buffer or string argument shown

_SPECIAL = {ord("\""): '\\"', ord("\\"): "\\\\", ord("\t"): "\\t", ord("\n"): "\\n",
            ord("\v"): "\\v", ord("\f"): "\\f", ord("\r"): "\\r"}
# Escape of each byte when the next byte is not an octal digit (strace's short form)...
_SHORT = [_SPECIAL.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\{b:o}") for b in range(256)]
# ...and when it is one: the 3-digit form keeps "\1" + "2" from reading as "\12".
_LONG = [_SPECIAL.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\{b:03o}") for b in range(256)]
_PLAIN = frozenset(b for b in range(0x20, 0x7F) if b not in _SPECIAL)
_OCTAL_DIGITS = frozenset(b"01234567")


def escape(data: bytes) -> str:
    """The body of a strace string literal for `data` (without the quotes)."""
    try:
        s = data.decode("ascii")
        if s.isprintable() and '"' not in s and "\\" not in s:
            return s  # the common case: nothing to escape
    except UnicodeDecodeError:
        pass
    out = []
    n = len(data)
    for i, b in enumerate(data):
        if b in _PLAIN:
            out.append(chr(b))
        elif i + 1 < n and data[i + 1] in _OCTAL_DIGITS:
            out.append(_LONG[b])
        else:
            out.append(_SHORT[b])
    return "".join(out)


def quote(data: bytes, cut: bool = False, limit: int = MAX_STR) -> str:
    """`"text"` as strace shows a buffer: at most `limit` bytes, then `...` if there was more."""
    if len(data) > limit:
        return f'"{escape(data[:limit])}"...'
    return f'"{escape(data)}"...' if cut else f'"{escape(data)}"'


def quote_hex(data: bytes, cut: bool = False, limit: int = MAX_STR) -> str:
    """Every byte as \\xNN: how strace shows random data (getrandom)."""
    body = "".join(f"\\x{b:02x}" for b in data[:limit])
    return f'"{body}"...' if cut or len(data) > limit else f'"{body}"'


def quote_path(data: bytes, cut: bool = False) -> str:
    """A path: strace prints it whole (up to PATH_MAX); `...` only when our capture was cut."""
    return f'"{escape(data)}"...' if cut else f'"{escape(data)}"'


def text(data: bytes) -> str:
    """The bytes as a str for JSON: UTF-8 where valid, other bytes as U+FFFD."""
    return data.decode("utf-8", "replace")
