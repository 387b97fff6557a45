"""Kernel struct layouts read from the running kernel's BTF (/sys/kernel/btf/vmlinux).

BCC compiles against whatever kernel headers are installed (this machine's are Debian 6.1's for
a 6.18 kernel), so a struct from those headers may not be the running kernel's. The BTF the
kernel carries describes its own layout: programs get member offsets from here at run time
(through a config map or #defines). The format is the kernel's Documentation/bpf/btf.rst: a
header, then type records, then a string table.
"""

from __future__ import annotations

import functools
import os
import re
import struct
from pathlib import Path
from typing import Iterator

from tracer.errors import TracerError

VMLINUX = Path("/sys/kernel/btf/vmlinux")
_MAGIC = 0xEB9F
_STRUCT, _UNION, _TYPEDEF, _VOLATILE, _CONST, _RESTRICT, _TYPE_TAG = 4, 5, 8, 9, 10, 11, 18
_QUALIFIERS = (_TYPEDEF, _VOLATILE, _CONST, _RESTRICT, _TYPE_TAG)
# bytes that follow the 12-byte common part of a type record, by kind: fixed, or per member
_FIXED = {1: 4, 3: 12, 14: 4, 17: 4}  # INT, ARRAY, VAR, DECL_TAG
_PER_MEMBER = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}  # STRUCT, UNION, ENUM, FUNC_PROTO, DATASEC, ENUM64
_MEMBER = struct.Struct("<III")  # name, type, offset (in bits; with kind_flag, bits 0..23)


class _Blob:
    """The sections of one BTF blob and a walk over its type records."""

    def __init__(self, data: bytes) -> None:
        magic, _ver, _flags, hdr_len, type_off, type_len, str_off, str_len = \
            struct.unpack_from("<HBBIIIII", data)
        if magic != _MAGIC:
            raise ValueError("not BTF")
        self.data = data
        self.types = (hdr_len + type_off, hdr_len + type_off + type_len)
        self.strings = hdr_len + str_off

    def name(self, off: int) -> str:
        start = self.strings + off
        return self.data[start:self.data.index(b"\0", start)].decode()

    def records(self) -> Iterator[tuple[int, int, int, int, int, int]]:
        """(kind, name offset, size or type, kind_flag, vlen, where its members start), by type id."""
        data, unpack = self.data, struct.unpack_from
        pos, end = self.types
        while pos < end:
            name_off, info, size_type = unpack("<III", data, pos)
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            yield kind, name_off, size_type, info >> 31, vlen, pos + 12
            pos += 12 + _FIXED.get(kind, 0) + _PER_MEMBER.get(kind, 0) * vlen

    def members(self, pos: int, vlen: int, kflag: int) -> list[tuple[int, int, int]]:
        """(name offset, type id, offset in bits) of a struct's members."""
        out = []
        for k in range(vlen):
            name_off, mtype, moff = _MEMBER.unpack_from(self.data, pos + 12 * k)
            out.append((name_off, mtype, moff & 0xFFFFFF if kflag else moff))
        return out


class Btf:
    """Every struct and union of a BTF blob, for member paths such as "f_path.dentry"."""

    def __init__(self, data: bytes) -> None:
        try:
            self.blob = _Blob(data)
        except (ValueError, struct.error):
            raise TracerError("the kernel's BTF has an unknown format") from None
        self.types: list[tuple] = [(0, 0, 0, ())]  # (kind, name offset, size or type, members); id 0: void
        self.by_name: dict[str, int] = {}
        for kind, name_off, size_type, kflag, vlen, pos in self.blob.records():
            members = self.blob.members(pos, vlen, kflag) if kind in (_STRUCT, _UNION) else []
            self.types.append((kind, name_off, size_type, members))
            if kind in (_STRUCT, _UNION) and name_off:
                self.by_name.setdefault(self.blob.name(name_off), len(self.types) - 1)

    def _resolve(self, tid: int) -> int:
        while self.types[tid][0] in _QUALIFIERS:
            tid = self.types[tid][2]
        return tid

    def _find(self, tid: int, member: str) -> tuple[int, int] | None:
        """(byte offset, type id) of `member` in struct/union `tid`, looking into anonymous members."""
        for name_off, mtype, bits in self.types[tid][3]:
            if name_off and self.blob.name(name_off) == member:
                return bits // 8, mtype
            if not name_off:
                inner = self._resolve(mtype)
                if self.types[inner][0] in (_STRUCT, _UNION):
                    found = self._find(inner, member)
                    if found:
                        return bits // 8 + found[0], found[1]
        return None

    def offset(self, struct_name: str, path: str) -> int:
        """Byte offset of `path` (e.g. "f_path.dentry") in `struct struct_name`."""
        tid = self.by_name.get(struct_name)
        if tid is None:
            raise KeyError(f"struct {struct_name}")
        total = 0
        for part in path.split("."):
            found = self._find(self._resolve(tid), part)
            if found is None:
                raise KeyError(f"{struct_name}.{path}")
            total += found[0]
            tid = found[1]
        return total

    def has(self, struct_name: str) -> bool:
        return struct_name in self.by_name


@functools.lru_cache(maxsize=1)
def kernel() -> Btf | None:
    """The running kernel's BTF, whole (a few tenths of a second: for the policy compiler)."""
    try:
        return Btf(VMLINUX.read_bytes())
    except OSError:
        return None


@functools.lru_cache(maxsize=8)
def offsets(struct_name: str, members: tuple[str, ...], path: Path = VMLINUX) -> dict[str, int]:
    """{member: byte offset} for those of `members` that `struct_name` has directly; {} when
    the kernel has no BTF (the callers then do without what those fields would give). Walks the
    records only up to that struct (0.01 s: every ebpf start asks)."""
    try:
        blob = _Blob(path.read_bytes())
        want = struct_name
        for kind, name_off, _size, kflag, vlen, pos in blob.records():
            if kind == _STRUCT and name_off and blob.name(name_off) == want:
                return {name: bits // 8 for name_off, _t, bits in blob.members(pos, vlen, kflag)
                        if (name := blob.name(name_off)) in members and bits % 8 == 0}
    except (OSError, ValueError, struct.error):
        pass
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
