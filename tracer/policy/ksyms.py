"""Kernel function names of addresses (a generated_ftrace list hook names the function hit)."""

from __future__ import annotations


def name_of(addr: int) -> str | None:
    try:
        from bcc import BPF

        name = BPF.ksym(addr)
    except Exception:
        return None
    name = name.decode() if isinstance(name, bytes) else str(name)
    return None if name == "[unknown]" else name
