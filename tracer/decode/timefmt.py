"""Time structs as strace prints them: timespec/timeval (alone, in pairs, in itimers) and the
date comments strace adds to absolute times (utime, utimes, utimensat, time())."""

from __future__ import annotations

import struct
import time
from typing import Any

_QQ = struct.Struct("<qQ")
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2


def date(sec: int, frac: str = "") -> str:
    """strace's ISO 8601 date of `sec` in the local zone: 2026-11-22T11:02:41+0000."""
    try:
        t = time.localtime(sec)
    except (OverflowError, OSError, ValueError):
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + frac + time.strftime("%z", t)


def timespec(b: bytes, off: int = 0) -> str:
    sec, nsec = _QQ.unpack_from(b, off)
    return f"{{tv_sec={sec}, tv_nsec={nsec}}}"


def timeval(b: bytes, off: int = 0) -> str:
    sec, usec = _QQ.unpack_from(b, off)
    return f"{{tv_sec={sec}, tv_usec={usec}}}"


def timespec_value(b: bytes, off: int = 0) -> dict[str, int]:
    sec, nsec = _QQ.unpack_from(b, off)
    return {"tv_sec": sec, "tv_nsec": nsec}


def timeval_value(b: bytes, off: int = 0) -> dict[str, int]:
    sec, usec = _QQ.unpack_from(b, off)
    return {"tv_sec": sec, "tv_usec": usec}


def _dated_timespec(b: bytes, off: int) -> str:
    sec, nsec = _QQ.unpack_from(b, off)
    if nsec == UTIME_NOW:
        return "UTIME_NOW"
    if nsec == UTIME_OMIT:
        return "UTIME_OMIT"
    d = date(sec, f".{nsec:09d}") if nsec < 1_000_000_000 else ""
    return f"{{tv_sec={sec}, tv_nsec={nsec}}}" + (f" /* {d} */" if d else "")


def _dated_timeval(b: bytes, off: int) -> str:
    sec, usec = _QQ.unpack_from(b, off)
    d = date(sec, f".{usec:06d}") if usec < 1_000_000 else ""
    return f"{{tv_sec={sec}, tv_usec={usec}}}" + (f" /* {d} */" if d else "")


def timespec_pair(b: bytes) -> str:
    """utimensat's times: [{tv_sec=1, tv_nsec=2} /* date */, UTIME_NOW]"""
    return f"[{_dated_timespec(b, 0)}, {_dated_timespec(b, 16)}]"


def timeval_pair(b: bytes) -> str:
    return f"[{_dated_timeval(b, 0)}, {_dated_timeval(b, 16)}]"


def utimbuf(b: bytes) -> str:
    a, m = struct.unpack_from("<qq", b)
    da, dm = date(a), date(m)
    return (f"{{actime={a}" + (f" /* {da} */" if da else "") + f", modtime={m}"
            + (f" /* {dm} */" if dm else "") + "}")


def itimerval(b: bytes) -> str:
    return f"{{it_interval={timeval(b, 0)}, it_value={timeval(b, 16)}}}"


def itimerspec(b: bytes) -> str:
    return f"{{it_interval={timespec(b, 0)}, it_value={timespec(b, 16)}}}"


def itimerval_value(b: bytes) -> dict[str, Any]:
    return {"it_interval": timeval_value(b, 0), "it_value": timeval_value(b, 16)}


def itimerspec_value(b: bytes) -> dict[str, Any]:
    return {"it_interval": timespec_value(b, 0), "it_value": timespec_value(b, 16)}


def pair_value(b: bytes) -> list[int]:
    return list(struct.unpack_from("<qqqq", b))


def time_ret(ret: Any, args: tuple) -> str | None:
    """time()'s return with strace's date comment."""
    if ret is None or ret < 0:
        return None
    d = date(ret)
    return f"{ret} ({d})" if d else str(ret)
