"""Return values as strace shows them: errors by name and message, addresses in hex,
and the annotations some calls get (fcntl's flags, umask's octal ...)."""

from __future__ import annotations

import os
from typing import Any, Callable

from tracer.decode import flags as F
from tracer.decode import procfmt as P
from tracer.decode import timefmt as T
from tracer.decode.structs import octal
from tracer.syscalls import desc

RetText = Callable[[Any, tuple], str]


def _error_table() -> dict[int, tuple[str, str, str]]:
    """-ret -> (text after '= ', name, message) for every errno."""
    out = {}
    for n, name in F.ERRNO_NAMES.items():
        msg = os.strerror(n)
        out[n] = (f"-1 {name} ({msg})", name, msg)
    for n, (name, msg) in F.KERNEL_ERRNO.items():
        out[n] = (f"? {name} ({msg})", name, msg)  # strace: the call will be restarted
    return out


ERRORS = _error_table()


def error_of(ret: Any) -> tuple[str, str, str] | None:
    """(text, name, message) when `ret` is a failure, else None."""
    if ret is not None and -4096 < ret < 0:
        e = ERRORS.get(-ret)
        return e or (f"-1 E{-ret} (Unknown error {-ret})", f"E{-ret}", f"Unknown error {-ret}")
    return None


def decimal(ret: Any, args: tuple) -> str:
    if ret is None:
        return "?"
    if -4096 < ret < 0:
        e = ERRORS.get(-ret)
        return e[0] if e else f"-1 E{-ret} (Unknown error {-ret})"
    return str(ret)


def _hex(ret: Any, args: tuple) -> str:
    if ret is None or -4096 < ret < 0:
        return decimal(ret, args)
    return hex(ret & 0xFFFFFFFFFFFFFFFF)


def _octal(ret: Any, args: tuple) -> str:
    if ret is None or -4096 < ret < 0:
        return decimal(ret, args)
    return octal(ret)


def _fcntl(ret: Any, args: tuple) -> str:
    if ret is None or -4096 < ret < 0:
        return decimal(ret, args)
    cmd = args[1] & 0xFFFFFFFF
    if cmd == 1 and ret:  # F_GETFD
        return f"{ret:#x} (flags {F.FD_FLAGS.render(ret)})"
    if cmd == 3:  # F_GETFL
        return f"{ret:#x} (flags {F.open_flags(ret)})" if ret else f"0 (flags {F.open_flags(0)})"
    return str(ret)


def _personality(ret: Any, args: tuple) -> str:
    if ret is None or -4096 < ret < 0:
        return decimal(ret, args)
    return f"{ret:#x} ({F.personality(ret)})" if ret else f"0 ({F.personality(0)})"


def _or_decimal(annotate: Callable[[Any, tuple], str | None]) -> RetText:
    """`annotate`'s text, or the plain value when it has nothing to add (errors included)."""
    def text(ret: Any, args: tuple) -> str:
        return annotate(ret, args) or decimal(ret, args)

    return text


def _timeout(ret: Any, args: tuple) -> str | None:
    return "0 (Timeout)" if ret == 0 else None


# return type word (a description's `ret`) -> printer
RETURNS: dict[str, RetText] = {
    "": decimal, "hex": _hex, "octal": _octal, "fcntl": _fcntl, "personality": _personality,
    "time": _or_decimal(T.time_ret), "sched": _or_decimal(P.sched_ret),
    "ioprio": _or_decimal(P.ioprio_ret), "membarrier": _or_decimal(P.membarrier_ret),
    "prctl": _or_decimal(P.prctl_ret), "timeout": _or_decimal(_timeout),
}


def ret_text(name: str) -> RetText:
    """The return printer of syscall `name`, from its description."""
    call = desc.get(name)
    return RETURNS[call.ret] if call is not None else decimal
