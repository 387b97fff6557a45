"""Capture specs against this kernel's own syscall formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.syscalls import specs
from tracer.syscalls.table import load

TRACEFS = Path("/sys/kernel/tracing")


@pytest.fixture(scope="module")
def table():
    if not (TRACEFS / "events/syscalls").is_dir():
        pytest.skip("no syscall tracepoints in tracefs")
    return load(TRACEFS)


def test_every_hand_written_spec_resolves_on_this_kernel(table):
    for name, wanted in specs._HAND.items():
        sc = table.by_name.get(name)
        if sc is None:
            continue
        spec = specs.spec_for(sc)
        names = [f.name for f in sc.args]
        for argname, (kind, _size) in wanted.items():
            assert argname in names, f"{name} has no argument {argname}: {names}"
            cap = spec.captures[names.index(argname)]
            assert cap.kind == kind, (name, argname)
            if kind in (specs.BUF_IN, specs.LENPTR):
                assert 0 <= cap.size < len(sc.args) and cap.size != names.index(argname)


def test_common_calls(table):
    def caps(name):
        return [(c.kind, c.size) for c in specs.spec_for(table.get(name)).captures]

    assert caps("read") == [(0, 0), (specs.BUF_RET, 0), (0, 0)]
    assert caps("write") == [(0, 0), (specs.BUF_IN, 2), (0, 0)]
    assert caps("newfstatat") == [(0, 0), (specs.STR, 0), (specs.FIXED, 144), (0, 0)]
    assert caps("accept4")[1:3] == [(specs.LENPTR, 2), (specs.FIXED, 4)]
    assert caps("connect")[1] == (specs.BUF_IN, 2)
    assert caps("pipe2")[0] == (specs.FIXED, 8)
    assert caps("execve")[:2] == [(specs.STR, 0), (specs.STRV, 0)]
    for n in ("execve", "execveat", "exit", "exit_group"):
        assert specs.spec_for(table.get(n)).at_enter, n
    assert not specs.spec_for(table.get("read")).at_enter


def test_generic_fallback_captures_paths_only(table):
    sc = table.get("renameat")  # not hand-written
    assert [c.kind for c in specs.spec_for(sc).captures] == [0, specs.STR, 0, specs.STR]
    assert all(c.kind == specs.NONE for c in specs.spec_for(table.get("getppid")).captures)


def test_kind_values_are_the_bpf_ones():
    text = (Path(__file__).resolve().parents[1] / "bpf/tracer.h").read_text()
    for name in ("NONE", "STR", "BUF_IN", "BUF_RET", "FIXED", "LENPTR", "STRV"):
        assert f"#define CAP_{name} {getattr(specs, name)}" in text
