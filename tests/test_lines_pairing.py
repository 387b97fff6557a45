"""LineMaker on recorded records: a call captured at entry and at exit makes one line, its
entry-time memory handed to the decoders (getsockname's `[110 => 9]`)."""

from __future__ import annotations

import struct

from tracer.ebpf.lines import PAIRED, LineMaker
from tracer.ebpf.record import BLOB, EV_ENTER, HEADER
from tracer.syscalls import desc
from tracer.syscalls.formats import Field
from tracer.syscalls.table import Syscall, SyscallTable


def record(nr: int, ret: int, args: tuple, flags: int, blobs: dict[int, bytes]) -> bytes:
    body = b""
    for arg, data in blobs.items():
        chunk = BLOB.pack(arg, 4, 0, len(data)) + data
        body += chunk + bytes(-len(chunk) % 8)
    head = HEADER.pack(1_000_000_000, 42, 42, 0, ret, *args, nr, flags, HEADER.size + len(body),
                       len(blobs), b"prog".ljust(16, b"\0"), 1_000_000_500)
    return head + body


def test_entry_and_exit_records_make_one_line():
    call = desc.get("getsockname")
    assert call.nr in PAIRED
    sc = Syscall(call.nr, call.name, call.name, tuple(Field("long", a.name, 0, 8, False) for a in call.args))
    lm = LineMaker(SyscallTable([sc]))
    args = (3, 0x7000, 0x8000, 0, 0, 0)
    entry = record(call.nr, 0, args, EV_ENTER, {2: struct.pack("<i", 110)})
    exit_ = record(call.nr, 0, args, 0, {1: struct.pack("<H", 1) + b"sock.1\0", 2: struct.pack("<i", 9)})
    buf = entry + exit_
    lm.handle(buf, [0, len(entry)])
    text, n = lm.take()
    assert n == 1
    assert text.endswith('getsockname(3, {sa_family=AF_UNIX, sun_path="sock.1"}, [110 => 9]) = 0\n'), text


def test_an_exit_without_its_entry_still_prints():
    call = desc.get("getsockname")
    sc = Syscall(call.nr, call.name, call.name, tuple(Field("long", a.name, 0, 8, False) for a in call.args))
    lm = LineMaker(SyscallTable([sc]))
    exit_ = record(call.nr, 0, (3, 0x7000, 0x8000, 0, 0, 0), 0,
                   {1: struct.pack("<H", 1) + b"s\0", 2: struct.pack("<i", 4)})
    lm.handle(exit_, [0])
    assert lm.take()[0].endswith('getsockname(3, {sa_family=AF_UNIX, sun_path="s"}, [4]) = 0\n')
