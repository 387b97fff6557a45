"""Find function symbols' file offsets in an ELF shared object, for uprobes.

uprobe_events wants PATH:OFFSET with OFFSET a file offset. We read the dynamic
symbol table (.dynsym: exported functions, present even in stripped libraries)
and map each symbol's virtual address to a file offset through the PT_LOAD
segment containing it. Only 64-bit little-endian ELF is handled (x86_64,
aarch64), which is all uprobes here need; anything else is a clear error.
"""

from __future__ import annotations

import struct
from pathlib import Path

from tracer.errors import TracerError

_SHT_DYNSYM = 11
_PT_LOAD = 1
_STT_FUNC = 2


def _bad(path: Path, why: str) -> TracerError:
    return TracerError(f"cannot read symbols of {path}: {why}")


def function_offsets(path: Path, names: set[str]) -> dict[str, int]:
    """{name: file offset} for the defined functions among `names` in `path`'s .dynsym."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _bad(path, e.strerror or str(e)) from None
    if data[:4] != b"\x7fELF":
        raise _bad(path, "not an ELF file")
    if data[4] != 2 or data[5] != 1:
        raise _bad(path, "only 64-bit little-endian ELF is supported")
    (e_phoff, e_shoff, _flags, _ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum,
     _shstrndx) = struct.unpack_from("<QQIHHHHHH", data, 0x20)
    loads = []
    for i in range(e_phnum):
        p_type, _pflags, p_offset, p_vaddr, _paddr, p_filesz, _memsz, _align = struct.unpack_from(
            "<IIQQQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == _PT_LOAD:
            loads.append((p_vaddr, p_filesz, p_offset))
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    dynsym = next((s for s in sections if s[1] == _SHT_DYNSYM), None)
    if dynsym is None:
        raise _bad(path, "no .dynsym section")
    _name, _type, _flags, _addr, sym_off, sym_size, link, _info, _align, entsize = dynsym
    str_off = sections[link][4]
    found: dict[str, int] = {}
    for i in range(sym_size // (entsize or 24)):
        st_name, st_info, _other, st_shndx, st_value, _size = struct.unpack_from(
            "<IBBHQQ", data, sym_off + i * (entsize or 24))
        if st_shndx == 0 or st_info & 0xF != _STT_FUNC:
            continue  # undefined (imported), data, or an IFUNC resolver (probing it is useless)
        end = data.index(b"\0", str_off + st_name)
        name = data[str_off + st_name:end].decode("ascii", "replace")
        if name not in names or name in found:
            continue
        for vaddr, filesz, offset in loads:
            if vaddr <= st_value < vaddr + filesz:
                found[name] = st_value - vaddr + offset
                break
    return found
