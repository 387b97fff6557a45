"""Struct member offsets from BTF (tracer/ebpf/btf.py): on small BTF blobs built here by the
format's rules, and on the running kernel's (the one the BPF programs read task_struct with).

The kernel headers BCC compiles against can be another kernel's (this machine's are Debian 6.1's
for a 6.18 kernel), so they are no reference: BTF describes the running kernel itself."""

from __future__ import annotations

import struct
from pathlib import Path

from tracer.ebpf import btf
from tracer.ebpf.cheader import CFG_TASK_FIELDS
from tracer.ebpf.dispatch import task_offsets


def blob(types: list[bytes], names: list[str]) -> bytes:
    strings = b"\0" + b"".join(n.encode() + b"\0" for n in names)
    body = b"".join(types)
    hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(body), len(body), len(strings))
    return hdr + body + strings


def name_off(names: list[str], name: str) -> int:
    return 1 + sum(len(n) + 1 for n in names[:names.index(name)])


def test_members_found_past_other_kinds_of_types(tmp_path: Path):
    names = ["int", "mode", "A", "B", "task_struct", "exit_code", "pid", "flags", "other"]
    n = lambda s: name_off(names, s)  # noqa: E731
    types = [
        struct.pack("<III", n("int"), 1 << 24, 4) + struct.pack("<I", 32),  # INT: 4 bytes more
        struct.pack("<III", n("mode"), 6 << 24 | 2, 4) + struct.pack("<iI", n("A"), 0) * 2,  # ENUM
        struct.pack("<III", 0, 13 << 24 | 1, 1) + struct.pack("<II", 0, 1),  # FUNC_PROTO
        struct.pack("<III", n("other"), 4 << 24 | 1, 8) + struct.pack("<III", n("pid"), 1, 0),
        # task_struct with bitfield offsets (kind_flag): bits 24..31 the size, below the offset
        struct.pack("<III", n("task_struct"), 1 << 31 | 4 << 24 | 3, 64)
        + struct.pack("<III", n("flags"), 1, 3 << 24 | 5)  # a bitfield: not byte aligned
        + struct.pack("<III", n("exit_code"), 1, 1164 * 8)
        + struct.pack("<III", n("pid"), 1, 1264 * 8),
    ]
    path = tmp_path / "vmlinux"
    path.write_bytes(blob(types, names))
    assert btf.offsets("task_struct", ("exit_code", "pid", "flags", "tgid"), path) == \
        {"exit_code": 1164, "pid": 1264}
    assert btf.offsets("other", ("pid",), path) == {"pid": 0}


def test_no_btf_gives_nothing(tmp_path: Path):
    assert btf.offsets("task_struct", ("pid",), tmp_path / "none") == {}
    bad = tmp_path / "vmlinux"
    bad.write_bytes(b"\0" * 64)
    assert btf.offsets("task_struct", ("pid",), bad) == {}


def test_the_running_kernel_has_the_members_the_programs_read():
    got = task_offsets()  # __state is found as state on kernels before 5.14
    assert set(got) == set(CFG_TASK_FIELDS.values()), got
    assert got["tgid"] == got["pid"] + 4  # pid_t pid; pid_t tgid; side by side since 2.6
    assert [got["__state"]] == list(btf.offsets("task_struct", ("__state", "state")).values())


def test_the_task_state_of_kernels_before_5_14_is_read_from_state(tmp_path: Path):
    """A 5.10 kernel's task_struct names the member state; the programs read it as __state."""
    names = ["long", "task_struct", "state", "pid", "tgid"]
    n = lambda s: name_off(names, s)  # noqa: E731
    types = [struct.pack("<III", n("long"), 1 << 24, 8) + struct.pack("<I", 64),
             struct.pack("<III", n("task_struct"), 4 << 24 | 3, 64)
             + struct.pack("<III", n("state"), 1, 16 * 8)
             + struct.pack("<III", n("pid"), 1, 40 * 8) + struct.pack("<III", n("tgid"), 1, 44 * 8)]
    path = tmp_path / "vmlinux"
    path.write_bytes(blob(types, names))
    assert task_offsets(path) == {"__state": 16, "pid": 40, "tgid": 44}
