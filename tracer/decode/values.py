"""Building blocks of argument decoders: one `Arg` per argument, text and JSON forms.

Every decoder is a pair of closures over the argument's index, called per event as
`f(args, ret, blobs, trunc)`; the choice of decoder is made once per syscall.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from tracer.decode.strings import quote, quote_path, text

Text = Callable[[tuple, Any, dict, frozenset], str]
Value = Callable[[tuple, Any, dict, frozenset], Any]


@dataclass(frozen=True)
class Arg:
    name: str
    text: Text
    value: Value


def s32(v: int) -> int:
    """The low 32 bits as a C int: 0xffffff9c and 0xffffffffffffff9c both give -100."""
    return ((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


def s64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def ptr(v: int) -> str:
    """An address as strace shows it."""
    return hex(v) if v else "NULL"


# -- plain numbers -------------------------------------------------------------------------
def signed32(name: str, i: int) -> Arg:
    return Arg(name, lambda a, r, b, t: str(((a[i] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000),
               lambda a, r, b, t: ((a[i] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)


def signed64(name: str, i: int) -> Arg:
    return Arg(name, lambda a, r, b, t: str(s64(a[i])), lambda a, r, b, t: s64(a[i]))


def unsigned32(name: str, i: int) -> Arg:
    return Arg(name, lambda a, r, b, t: str(a[i] & 0xFFFFFFFF), lambda a, r, b, t: a[i] & 0xFFFFFFFF)


def unsigned64(name: str, i: int) -> Arg:
    return Arg(name, lambda a, r, b, t: str(a[i]), lambda a, r, b, t: a[i])


def hex_arg(name: str, i: int) -> Arg:
    """C's %#lx: 0x1f, but 0 for zero."""
    return Arg(name, lambda a, r, b, t: hex(a[i]) if a[i] else "0", lambda a, r, b, t: a[i])


def pointer(name: str, i: int) -> Arg:
    return Arg(name, lambda a, r, b, t: ptr(a[i]), lambda a, r, b, t: a[i])


def env_count(name: str, i: int) -> Arg:
    """execve's envp as strace shows it: the pointer and how many variables it holds."""
    def count(b: dict) -> int | None:
        data = b.get(i)
        return int.from_bytes(data[:4], "little") if data and len(data) >= 4 else None

    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        n = count(b)
        if n is None:
            return ptr(a[i])
        return f"{hex(a[i])} /* {n}{'+' if i in t else ''} var{'' if n == 1 else 's'} */"

    return Arg(name, txt, lambda a, r, b, t: a[i] if count(b) is None else {"ptr": a[i], "count": count(b)})


def dirfd(name: str, i: int) -> Arg:
    """A directory fd of the *at calls: AT_FDCWD for -100."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        v = s32(a[i])
        return "AT_FDCWD" if v == -100 else str(v)

    def val(a: tuple, r: Any, b: dict, t: frozenset) -> Any:
        v = s32(a[i])
        return "AT_FDCWD" if v == -100 else v

    return Arg(name, txt, val)


CACHE_MAX = 4096  # rendered values kept per decoder: flags recur, arbitrary values must not pile up


def cached(render: Callable[[Any], str]) -> Callable[[Any], str]:
    """`render` memoized in a bounded dict: a hit costs one lookup."""
    memo: dict[Any, str] = {}

    def get(v: Any) -> str:
        s = memo.get(v)
        if s is None:
            s = render(v)
            if len(memo) < CACHE_MAX:
                memo[v] = s
        return s

    return get


def mapped(name: str, i: int, render: Callable[[int], str], mask: int = 0xFFFFFFFF) -> Arg:
    """A flag set or enum: `render(value & mask)` in both forms."""
    get = cached(render)
    return Arg(name, lambda a, r, b, t: get(a[i] & mask), lambda a, r, b, t: get(a[i] & mask))


# -- user memory ---------------------------------------------------------------------------
def blob(name: str, i: int, show: Callable[[bytes], str], value: Callable[[bytes], Any],
         when: Callable[[Any], bool] | None = None) -> Arg:
    """Captured memory decoded by `show`/`value`; the pointer when nothing was captured
    (NULL, a failed call, a capture that did not fit) or when `when(ret)` is false."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        d = b.get(i)
        if d is None or (when is not None and not when(r)):
            return ptr(a[i])
        try:
            return show(d)
        except Exception:  # a short capture: show the address rather than fail the line
            return hex(a[i])

    def val(a: tuple, r: Any, b: dict, t: frozenset) -> Any:
        d = b.get(i)
        if d is None or (when is not None and not when(r)):
            return a[i]
        try:
            return value(d)
        except Exception:
            return a[i]

    return Arg(name, txt, val)


PATH_MAX = 4096
_quoted_path = cached(quote_path)  # the same paths recur (libraries, config files)


def path(name: str, i: int) -> Arg:
    """A path: printed whole."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        d = b.get(i)
        if d is None:
            return ptr(a[i])
        # PATH_MAX counts the NUL: strace shows at most PATH_MAX - 1 characters of a path,
        # marked cut when it has more
        if i in t or len(d) >= PATH_MAX:
            return quote_path(d[:PATH_MAX - 1], True)
        return _quoted_path(d)

    def val(a: tuple, r: Any, b: dict, t: frozenset) -> Any:
        d = b.get(i)
        return text(d) if d is not None else a[i]

    return Arg(name, txt, val)


def string(name: str, i: int) -> Arg:
    """A NUL-terminated string that is not a path: cut at strace's 32 bytes."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        d = b.get(i)
        if d is None:
            return ptr(a[i])
        return quote(d, i in t)

    def val(a: tuple, r: Any, b: dict, t: frozenset) -> Any:
        d = b.get(i)
        return text(d) if d is not None else a[i]

    return Arg(name, txt, val)


def buffer(name: str, i: int, filled_by_call: bool, length_at: int = -1) -> Arg:
    """read/write-style data: quoted, cut at 32 bytes. A read that returned 0, or a buffer
    of length 0 (the argument at `length_at`) at any address, shows ""."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        d = b.get(i)
        if d is None:
            if (filled_by_call and r == 0) or (length_at >= 0 and a[i] and a[length_at] == 0):
                return '""'
            return ptr(a[i])
        return quote(d, i in t)

    def val(a: tuple, r: Any, b: dict, t: frozenset) -> Any:
        d = b.get(i)
        if d is None:
            return "" if filled_by_call and r == 0 else a[i]
        return text(d)

    return Arg(name, txt, val)


def strv(name: str, i: int) -> Arg:
    """execve's argv: ["ls", "-l"]; `...` after the last entry when more were not captured."""
    def items(d: bytes) -> list[bytes]:
        return d.split(b"\0")[:-1] if d else []

    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        d = b.get(i)
        if d is None:
            return ptr(a[i])
        shown = [quote(s) for s in items(d)]
        if i in t:
            shown.append("...")
        return f"[{', '.join(shown)}]"

    def val(a: tuple, r: Any, b: dict, t: frozenset) -> Any:
        d = b.get(i)
        return [text(s) for s in items(d)] if d is not None else a[i]

    return Arg(name, txt, val)
