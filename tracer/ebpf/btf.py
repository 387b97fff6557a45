"""Byte offsets of kernel struct members, read from the running kernel's BTF.

BPF programs that read a field of a kernel struct (task_struct's exit_code) get its offset
from here at run time, through the config map, instead of compiling the kernel's headers
(which costs every ebpf start more than half a second). The BTF format is the kernel's
Documentation/bpf/btf.rst: a header, then type records, then a string table.
"""

from __future__ import annotations

import functools
import os
import re
import struct
from pathlib import Path

VMLINUX = Path("/sys/kernel/btf/vmlinux")
_MAGIC = 0xEB9F
_STRUCT = 4
# bytes that follow the 12-byte common part of a type record, by kind: fixed, or per member
_FIXED = {1: 4, 3: 12, 14: 4, 17: 4}  # INT, ARRAY, VAR, DECL_TAG
_PER_MEMBER = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}  # STRUCT, UNION, ENUM, FUNC_PROTO, DATASEC, ENUM64


def _parse(data: bytes, struct_name: str, members: tuple[str, ...]) -> dict[str, int]:
    magic, _ver, _flags, hdr_len, type_off, type_len, str_off, _str_len = \
        struct.unpack_from("<HBBIIIII", data)
    if magic != _MAGIC:
        return {}
    strings = hdr_len + str_off

    def name_at(off: int) -> bytes:
        start = strings + off
        return data[start:data.index(b"\0", start)]

    want = struct_name.encode()
    pos, end = hdr_len + type_off, hdr_len + type_off + type_len
    unpack = struct.unpack_from
    while pos < end:
        name_off, info, _size = unpack("<III", data, pos)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        pos += 12
        if kind == _STRUCT and name_at(name_off) == want:
            kflag = info >> 31
            found: dict[str, int] = {}
            for k in range(vlen):
                m_name, _m_type, m_off = unpack("<III", data, pos + 12 * k)
                bits = m_off & 0xFFFFFF if kflag else m_off
                name = name_at(m_name).decode()
                if name in members and bits % 8 == 0:
                    found[name] = bits // 8
            return found
        pos += _FIXED.get(kind, 0) + _PER_MEMBER.get(kind, 0) * vlen
    return {}


@functools.lru_cache(maxsize=8)
def offsets(struct_name: str, members: tuple[str, ...], path: Path = VMLINUX) -> dict[str, int]:
    """{member: byte offset} for those of `members` that `struct_name` has directly; {} when
    the kernel has no BTF (the callers then do without what those fields would give)."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    try:
        return _parse(data, struct_name, members)
    except (struct.error, ValueError):
        return {}


def _kernel_at_least(version: tuple[int, int]) -> bool:
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return bool(m) and (int(m[1]), int(m[2])) >= version


def task_pt_regs() -> bool:
    """Whether programs may call bpf_task_pt_regs (Linux 5.15; it takes a BTF pointer)."""
    return _kernel_at_least((5, 15)) and VMLINUX.exists()


def task_storage() -> bool:
    """Whether tracepoint programs may keep task storage (Linux 6.2; on the current task's
    BTF pointer)."""
    return _kernel_at_least((6, 2)) and VMLINUX.exists()
