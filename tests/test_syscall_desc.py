"""The syscall descriptions (tracer/syscalls/desc): complete for x86_64, agreeing with this
kernel's own formats, every type word captured and printed, and the C side built from them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tracer.decode import calls, returns
from tracer.ebpf import cheader, record
from tracer.syscalls import desc, specs
from tracer.syscalls.desc import types
from tracer.syscalls.table import TRACEPOINT_ALIASES, load

ROOT = Path(__file__).resolve().parents[1]
TRACEFS = Path("/sys/kernel/tracing")


@pytest.fixture(scope="module")
def table():
    if not (TRACEFS / "events/syscalls").is_dir():
        pytest.skip("no syscall tracepoints in tracefs")
    return load(TRACEFS)


def test_every_x86_64_syscall_is_described_once():
    calls_ = desc.all_calls()
    nrs = [c.nr for c in calls_]
    assert len(nrs) == len(set(nrs)) == len({c.name for c in calls_})
    # 0..334 and 424.. are the whole x86_64 table (335/336 are the uprobe calls)
    assert set(range(0, 337)) <= set(nrs)
    assert set(range(424, 470)) <= set(nrs)
    for name, nr in (("read", 0), ("execve", 59), ("exit_group", 231), ("openat", 257), ("clone3", 435)):
        assert desc.by_name()[name].nr == nr
    assert {c.family for c in calls_} == set(desc.FAMILIES)


def test_every_tracepoint_of_this_kernel_has_a_description_with_its_arguments(table):
    events = {d.name[len("sys_enter_"):] for d in (TRACEFS / "events/syscalls").glob("sys_enter_*")}
    names = {TRACEPOINT_ALIASES.get(e, e) for e in events}
    described = desc.by_name()
    missing = sorted(n for n in names if n not in described)
    assert not missing, f"syscalls of this kernel without a description: {missing}"
    # A description may go on with arguments a newer kernel appended (bpf's attr_common and
    # size_common in 7.x), past those strace prints by default (`nargs`); the kernel's own
    # arguments must be its first ones, name for name.
    wrong = {}
    for sc in table:
        call = described[sc.name]
        ours, kernel = [a.name for a in call.args], [f.name for f in sc.args[:6]]
        if ours[:len(kernel)] != kernel or len(kernel) < call.nargs:
            wrong[sc.name] = f"ours {ours}, the kernel's {kernel}"
    assert not wrong, wrong


def test_every_type_word_has_a_printer_and_every_return_word_a_printer():
    for c in desc.all_calls():
        for a in c.args:
            assert a.type in calls.PRINTERS, f"{c.name}.{a.name}: no printer for {a.type}"
        assert c.ret in returns.RETURNS, f"{c.name}: no return printer {c.ret}"
    assert set(types.CAPTURES) <= set(calls.PRINTERS)


def test_captures_compile_for_every_call():
    def caps(name):
        return [(c.kind, c.size) for c in specs.compile_call(desc.get(name)).captures]

    for c in desc.all_calls():
        specs.compile_call(c)  # every length argument resolves
    assert caps("read") == [(0, 0), (specs.BUF_RET, 0), (0, 0)]
    assert caps("write") == [(0, 0), (specs.BUF_IN, 2), (0, 0)]
    assert caps("newfstatat") == [(0, 0), (specs.STR, 0), (specs.FIXED, 144), (0, 0)]
    assert caps("accept4")[1:3] == [(specs.LENPTR, 2), (specs.FIXED, 4)]
    assert caps("connect")[1] == (specs.BUF_IN, 2)
    assert caps("pipe2")[0] == (specs.FIXED, 8)
    assert caps("execve")[:2] == [(specs.STR, 0), (specs.STRV, 0)]
    for n in ("execve", "execveat", "exit", "exit_group"):
        assert specs.compile_call(desc.get(n)).at_enter, n
    assert not specs.compile_call(desc.get("read")).at_enter
    assert all(c.kind == specs.NONE for c in specs.compile_call(desc.get("getppid")).captures)


def test_flags_name_the_special_calls():
    assert desc.with_flag(desc.FORK) == {"clone", "fork", "vfork", "clone3"}
    assert desc.with_flag(desc.EXEC) == {"execve", "execveat"}
    assert desc.with_flag(desc.NO_RETURN) == {"exit", "exit_group"}
    assert desc.with_flag(desc.SIGRETURN) == {"rt_sigreturn"}


def test_generated_header_carries_the_python_values():
    text = cheader.generated()
    for name, v in types.KINDS.items():
        assert f"#define CAP_{name} {v}\n" in text
    assert f"#define EV_ENTER {record.EV_ENTER}\n" in text
    assert "#define IS_FORK(nr) ((nr) == 56 || (nr) == 57 || (nr) == 58 || (nr) == 435)" in text
    assert f"#define CFG_FOLLOW {cheader.CFG_FOLLOW}\n" in text
    assert f"#define CFG_OWNERS {cheader.CFG_OWNERS}\n" in text
    # nothing the header defines is written again by hand on the C side
    names = re.findall(r"^#define (\w+)", text, re.M)
    assert len(names) > 40
    for f in sorted((ROOT / "bpf").glob("*.[ch]")):
        src = f.read_text()
        assert "== 56" not in src, f
        for name in names:
            assert not re.search(rf"^\s*#define {name}\b", src, re.M), f"{f.name} defines {name}"


@pytest.mark.skipif(not shutil.which("gcc"), reason="no C compiler")
def test_record_layout_of_c_matches_python(tmp_path):
    """bpf/tracer.h compiled by the host compiler with the generated layout asserts: a field
    moved on either side fails here (and in every BCC build)."""
    (tmp_path / "uapi/linux").mkdir(parents=True)
    (tmp_path / "uapi/linux/ptrace.h").write_text("")
    for name, make in cheader.HEADERS.items():
        (tmp_path / name).write_text(make())
    main = tmp_path / "layout.c"
    main.write_text('#include <stdint.h>\ntypedef uint8_t u8; typedef uint16_t u16; typedef uint32_t u32;\n'
                    'typedef uint64_t u64; typedef int32_t s32; typedef int64_t s64;\n'
                    '#define __always_inline inline\n#include "tracer.h"\n')
    r = subprocess.run(["gcc", "-fsyntax-only", f"-I{tmp_path}", f"-I{ROOT / 'bpf'}", str(main)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # and the check bites: a wrong offset in Python is a compile error
    (tmp_path / cheader.LAYOUT).write_text(cheader.layout().replace("== 80,", "== 81,"))
    r = subprocess.run(["gcc", "-fsyntax-only", f"-I{tmp_path}", f"-I{ROOT / 'bpf'}", str(main)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "struct event.nr" in r.stderr


def test_entry_captures_are_fixed_structs_and_bitmaps():
    """bpf/handlers.c's handle_entry copies only these at entry (execve's has its own handler)."""
    found = set()
    for c in desc.all_calls():
        spec = specs.compile_call(c)
        if c.has(desc.EXEC):
            continue
        for cap in spec.captures:
            if cap.kind != specs.NONE and (spec.at_enter or cap.when & specs.ENTRY):
                assert cap.kind in (specs.FIXED, specs.BITS), c.name
                found.add(c.name)
    assert {"select", "accept4", "pselect6"} <= found
