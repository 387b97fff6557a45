"""Arrays captured in the kernel, as strace prints them: iovecs with their data, fd_sets,
pollfds (events in, revents out), epoll_events, int arrays, and value-result lengths
(`[110 => 9]`). Entry-time captures of an argument arrive under key index+8."""

from __future__ import annotations

import struct
from typing import Any

from tracer.decode import flags as F
from tracer.decode import procfmt as P
from tracer.decode.strings import quote
from tracer.decode.values import Arg, ptr
from tracer.syscalls.desc.types import MSG_IOV_KEY, MSGHDR_SIZE  # where the BPF side puts a msghdr

ENTRY_KEY = 8  # blobs captured at entry sit at argument index + 8
IOV_ENTRY = 48
IOV_STR = 32


def iovec(name: str, i: int, filled_by_call: bool) -> Arg:
    """[{iov_base="ab", iov_len=2}, ...]: the data of a read is what the call returned."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        d = b.get(i)
        if d is None or (filled_by_call and (r is None or r < 0)):
            return ptr(a[i])
        items = _iov_items(d, r if filled_by_call else None)
        if i in t:
            items.append("...")
        return "[" + ", ".join(items) + "]"

    return Arg(name, txt, lambda a, r, b, t: txt(a, r, b, t))


def _iov_items(d: bytes, left: int | None) -> list[str]:
    """{iov_base="ab", iov_len=2} of each entry; `left`: the bytes the call filled, for reads."""
    items = []
    for k in range(len(d) // IOV_ENTRY):
        base, n = struct.unpack_from("<QQ", d, k * IOV_ENTRY)
        data = d[k * IOV_ENTRY + 16:k * IOV_ENTRY + 16 + min(n, IOV_STR)]
        shown_n = n if left is None else min(n, left)
        if left is not None:
            left -= shown_n
        body = data[:shown_n]
        text = quote(body, cut=shown_n > len(body)) if base else "NULL"
        items.append(f"{{iov_base={text}, iov_len={n}}}")
    return items


def msghdr(name: str, i: int, filled_by_call: bool) -> Arg:
    """{msg_name=NULL, msg_namelen=0, msg_iov=[...], msg_iovlen=1, msg_controllen=0, msg_flags=0}."""
    def fields(a: tuple, r: Any, b: dict, t: frozenset) -> tuple | None:
        d = b.get(i)
        if d is None or len(d) < MSGHDR_SIZE or (filled_by_call and (r is None or r < 0)):
            return None
        name_p, namelen, iov_p, iovlen, control, controllen, flags = struct.unpack_from("<QI4xQQQQi", d)
        iov = b.get(i + MSG_IOV_KEY)
        items = _iov_items(iov, r if filled_by_call else None) if iov is not None and iov_p else None
        if items is not None and i + MSG_IOV_KEY in t:
            items.append("...")
        return name_p, namelen, iov_p, items, iovlen, control, controllen, flags

    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        f = fields(a, r, b, t)
        if f is None:
            return ptr(a[i])
        name_p, namelen, iov_p, items, iovlen, control, controllen, flags = f
        iov = "[" + ", ".join(items) + "]" if items is not None else ptr(iov_p)
        ctl = f"msg_control={ptr(control)}, " if controllen else ""
        return (f"{{msg_name={ptr(name_p)}, msg_namelen={namelen}, msg_iov={iov}, msg_iovlen={iovlen}, "
                f"{ctl}msg_controllen={controllen}, msg_flags={F.MSG.render(flags & 0xFFFFFFFF)}}}")

    def val(a: tuple, r: Any, b: dict, t: frozenset) -> Any:
        f = fields(a, r, b, t)
        if f is None:
            return a[i]
        name_p, namelen, iov_p, items, iovlen, control, controllen, flags = f
        return {"msg_name": name_p, "msg_namelen": namelen, "msg_iov": items if items is not None else iov_p,
                "msg_iovlen": iovlen, "msg_control": control, "msg_controllen": controllen,
                "msg_flags": F.MSG.render(flags & 0xFFFFFFFF)}

    return Arg(name, txt, val)


def socklen(name: str, i: int) -> Arg:
    """A socklen_t the call reads and writes: [110 => 9], or [16] when unchanged."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        before, after = b.get(i + ENTRY_KEY), b.get(i)
        if before is None:  # the entry side was not seen: the value after the call
            return f"[{struct.unpack_from('<i', after)[0]}]" if after is not None and r is not None \
                and r >= 0 else ptr(a[i])
        v0 = struct.unpack_from("<i", before)[0]
        if after is None or r is None or r < 0:
            return f"[{v0}]"
        v1 = struct.unpack_from("<i", after)[0]
        return f"[{v0}]" if v0 == v1 else f"[{v0} => {v1}]"

    return Arg(name, txt, lambda a, r, b, t: txt(a, r, b, t))


def loff(name: str, i: int) -> Arg:
    """sendfile/splice offsets: [0] => [4]."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        before, after = b.get(i + ENTRY_KEY), b.get(i)
        if before is None:
            return ptr(a[i])
        v0 = struct.unpack_from("<q", before)[0]
        if after is None or r is None or r < 0:
            return f"[{v0}]"
        return f"[{v0}] => [{struct.unpack_from('<q', after)[0]}]"

    return Arg(name, txt, lambda a, r, b, t: txt(a, r, b, t))


def fdset_text(d: bytes, n: int) -> str:
    bits = int.from_bytes(d, "little")
    return "[" + " ".join(str(k) for k in range(min(n, len(d) * 8)) if bits >> k & 1) + "]"


def fdset(name: str, i: int) -> Arg:
    """select's sets as given: [3 4]."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        d = b.get(i + ENTRY_KEY)
        if d is None:
            return ptr(a[i])
        return fdset_text(d, a[0] & 0x7FFFFFFF)

    return Arg(name, txt, lambda a, r, b, t: txt(a, r, b, t))


def select_ret(a: tuple, r: Any, b: dict, t: frozenset, nsec: bool) -> str | None:
    """= 2 (in [3], out [4], left {tv_sec=0, tv_usec=0}) or = 0 (Timeout)."""
    if r is None or r < 0:
        return None
    if r == 0:
        return "0 (Timeout)"
    n = a[0] & 0x7FFFFFFF
    parts = []
    for k, label in ((1, "in"), (2, "out"), (3, "except")):
        d = b.get(k)
        if d is not None and int.from_bytes(d, "little"):
            parts.append(f"{label} {fdset_text(d, n)}")
    tv = b.get(4)
    if tv is not None:
        sec, frac = struct.unpack_from("<qq", tv)
        parts.append(f"left {{tv_sec={sec}, {'tv_nsec' if nsec else 'tv_usec'}={frac}}}")
    return f"{r} ({', '.join(parts)})" if parts else str(r)


def _pollfds(d: bytes, field: str) -> list[str]:
    out = []
    for k in range(len(d) // 8):
        fd, ev, rev = struct.unpack_from("<ihh", d, k * 8)
        v = ev if field == "events" else rev
        if field == "revents" and not v:
            continue
        out.append(f"{{fd={fd}, {field}={F.POLL_EVENTS.render(v & 0xFFFF)}}}")
    return out


def pollfds(name: str, i: int) -> Arg:
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        d = b.get(i)
        if d is None:
            return ptr(a[i])
        return "[" + ", ".join(_pollfds(d, "events")) + "]"

    return Arg(name, txt, lambda a, r, b, t: txt(a, r, b, t))


def poll_ret(a: tuple, r: Any, b: dict, t: frozenset, left_at: int = -1) -> str | None:
    if r is None or r < 0:
        return None
    if r == 0:
        return "0 (Timeout)"
    d = b.get(0)
    if d is None:
        return None
    inner = "[" + ", ".join(_pollfds(d, "revents")) + "]"
    ts = b.get(left_at) if left_at >= 0 else None
    if ts is not None:
        sec, nsec = struct.unpack_from("<qQ", ts)
        inner += f", left {{tv_sec={sec}, tv_nsec={nsec}}}"
    return f"{r} ({inner})"


def epoll_events(name: str, i: int) -> Arg:
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        if r == 0:
            return "[]"
        d = b.get(i)
        if d is None or r is None or r < 0:
            return ptr(a[i])
        return "[" + ", ".join(P.epoll_event(d[k:k + 12]) for k in range(0, len(d) - 11, 12)) + "]"

    return Arg(name, txt, lambda a, r, b, t: txt(a, r, b, t))


def int_array(name: str, i: int, filled_by_call: bool) -> Arg:
    """getgroups/setgroups: [0, 1]; [] when empty."""
    def txt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        d = b.get(i)
        if filled_by_call and r == 0 and a[i]:
            return "[]"
        if d is None or (filled_by_call and (r is None or r < 0)):
            return ptr(a[i])
        vals = struct.unpack_from(f"<{len(d) // 4}I", d)
        return "[" + ", ".join(map(str, vals)) + "]"

    return Arg(name, txt, lambda a, r, b, t: txt(a, r, b, t))
