"""The per-syscall formatters: built once per syscall, called once per event.

`make_formatter(sc)(args, ret, blobs, trunc)` gives the text strace -f prints after its
`[pid N] ` prefix (without strace's column padding before ' = ');
`make_json(sc)(...)` the same call as typed fields, each decoded argument beside its raw
register value (`flags` and `flags_raw`), and `ret_raw` (the kernel's value, -errno).
"""

from __future__ import annotations

from typing import Any, Callable

from tracer.decode import calls
from tracer.decode import flags as F
from tracer.decode import returns as R
from tracer.decode.values import Arg
from tracer.syscalls.table import Syscall

Formatter = Callable[[tuple, Any, dict, frozenset], str]
JsonMaker = Callable[[tuple, Any, dict, frozenset], dict]


def _clone_parts(dec: list[Arg]) -> Callable[[tuple, Any, dict, frozenset], list[str]]:
    """clone's named arguments, shown only when its flags use them (strace's layout)."""
    by = {a.name: a for a in dec}
    parent = by.get("parent_tidptr")

    def parts(a: tuple, r: Any, b: dict, t: frozenset) -> list[str]:
        fl = a[0]
        out = [f"child_stack={hex(a[1]) if a[1] else 'NULL'}", f"flags={F.clone_flags(fl)}"]
        if fl & 0x00101000 and parent is not None:  # CLONE_PARENT_SETTID, CLONE_PIDFD
            d = b.get(2)
            shown = f"[{int.from_bytes(d[:4], 'little', signed=True)}]" if d and r and r > 0 \
                else parent.text(a, r, b, t)
            out.append(f"parent_tid={shown}")
        if fl & 0x00080000:  # CLONE_SETTLS
            out.append(f"tls={hex(a[4])}")
        if fl & 0x01200000:  # CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID
            out.append(f"child_tidptr={hex(a[3])}")
        return out

    return parts


def make_formatter(sc: Syscall) -> Formatter:
    """The strace line of one call of `sc`: `NAME(ARGS) = RET` (or `= -1 ENOENT (...)`)."""
    dec = calls.arg_decoders(sc)
    texts = [a.text for a in dec][:calls.shown_count(sc)]
    head = sc.name + "("
    ret_text = R.ret_text(sc.name)
    custom_ret = calls.CUSTOM_RET.get(sc.name)
    if custom_ret is not None:
        plain = ret_text
        texts_all = [x.text for x in dec][:calls.shown_count(sc)]

        def fmt_ret(a: tuple, r: Any, b: dict, t: frozenset) -> str:
            ret = custom_ret(a, r, b, t) or plain(r, a)
            return f"{head}{', '.join([f(a, r, b, t) for f in texts_all])}) = {ret}"

        return fmt_ret
    if sc.name == "clone":
        parts = _clone_parts(dec)

        def fmt_clone(a: tuple, r: Any, b: dict, t: frozenset) -> str:
            return f"{head}{', '.join(parts(a, r, b, t))}) = {ret_text(r, a)}"

        return fmt_clone
    custom = calls.CUSTOM.get(sc.name)
    if custom is not None:
        def fmt_custom(a: tuple, r: Any, b: dict, t: frozenset) -> str:
            return f"{head}{', '.join(custom(a, r, b, t))}) = {ret_text(r, a)}"

        return fmt_custom
    shown = calls.SHOWN.get(sc.name)
    if shown is not None:
        texts = [x.text for x in dec]

        def fmt_some(a: tuple, r: Any, b: dict, t: frozenset) -> str:
            return f"{head}{', '.join([texts[i](a, r, b, t) for i in shown(a)])}) = {ret_text(r, a)}"

        return fmt_some
    if not texts:
        empty = head + ") = "

        def fmt_none(a: tuple, r: Any, b: dict, t: frozenset) -> str:
            return empty + ret_text(r, a)

        return fmt_none
    if len(texts) == 1:
        only = texts[0]

        def fmt_one(a: tuple, r: Any, b: dict, t: frozenset) -> str:
            return f"{head}{only(a, r, b, t)}) = {ret_text(r, a)}"

        return fmt_one

    def fmt(a: tuple, r: Any, b: dict, t: frozenset) -> str:
        return f"{head}{', '.join([f(a, r, b, t) for f in texts])}) = {ret_text(r, a)}"

    return fmt


def make_json(sc: Syscall) -> JsonMaker:
    """The call as typed fields: {"syscall", "args": {name: value}, "ret", "errno", "error"}."""
    dec = calls.arg_decoders(sc)
    shown = calls.SHOWN.get(sc.name)
    values = [(i, a.name, a.value) for i, a in enumerate(dec)]
    if shown is None:
        values = values[:calls.shown_count(sc)]
    name = sc.name

    def make(a: tuple, r: Any, b: dict, t: frozenset) -> dict:
        pick = values if shown is None else [values[i] for i in shown(a)]
        err = R.error_of(r)
        args: dict[str, Any] = {}
        for i, n, v in pick:
            args[n] = val = v(a, r, b, t)
            if val != a[i] or type(val) is not int:
                args[n + "_raw"] = a[i]  # the register as the kernel passed it (exports need it)
        return {"syscall": name, "args": args,
                "ret": -1 if err else r, "errno": err[1] if err else None,
                "error": err[2] if err else None, "ret_raw": r}

    return make
