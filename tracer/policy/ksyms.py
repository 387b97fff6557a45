"""Kernel function names of addresses (a generated_ftrace list hook names the function hit)."""

from __future__ import annotations

import functools


def name_of(addr: int) -> str | None:
    try:
        from bcc import BPF

        name = BPF.ksym(addr)
    except Exception:
        return None
    name = name.decode() if isinstance(name, bytes) else str(name)
    return None if name == "[unknown]" else name


@functools.lru_cache(maxsize=4096)
def address_of(name: str) -> int:
    """The address of kernel symbol `name`, or -1."""
    try:
        from bcc import BPF

        return int(BPF.ksymname(name))
    except Exception:
        return -1


def attached_name(addr: int, attached: frozenset[str]) -> str | None:
    """The name of the function at `addr`, preferring the one among `attached` that was hit:
    aliases share an address (__x64_sys_getppid, __ia32_sys_getppid and __do_sys_getppid on
    6.1) and the symbol table answers any of them."""
    name = name_of(addr)
    if name is None or name in attached:
        return name
    at = address_of(name)
    same = sorted(t for t in attached if at != -1 and address_of(t) == at)
    return same[0] if same else name
