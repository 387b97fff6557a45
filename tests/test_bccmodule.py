"""BCC modules created without BCC's scan of every kernel symbol (tracer/ebpf/bccmodule.py),
for real: the module works, only its creation saw the short symbol list, and nothing of it stays."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from tracer.ebpf import bccmodule


def kallsyms_lines() -> list[str]:
    return Path(bccmodule.KALLSYMS).read_text().splitlines()


def test_the_prefix_lines_are_the_kernels_own():
    lines = bccmodule.prefix_lines().decode().splitlines()
    whole = set(kallsyms_lines())
    assert lines and all(ln in whole for ln in lines)
    assert any(ln.split()[2] in ("__x64_sys_bpf", "sys_bpf", "__arm64_sys_bpf") for ln in lines), lines


def test_only_the_creation_sees_the_short_list_and_nothing_stays():
    before = (os.readlink("/proc/self/ns/mnt"), len(kallsyms_lines()),
              set(Path(tempfile.gettempdir()).iterdir()))
    seen = {}

    def make() -> str:
        seen["lines"] = kallsyms_lines()
        seen["thread"] = threading.current_thread() is not threading.main_thread()
        return "made"

    assert bccmodule.create(make) == "made"
    assert seen["thread"]
    assert 0 < len(seen["lines"]) < 50 and all("sys_bpf" in ln for ln in seen["lines"])
    assert (os.readlink("/proc/self/ns/mnt"), len(kallsyms_lines()),
            set(Path(tempfile.gettempdir()).iterdir())) == before
    assert before[1] > 1000


def test_an_error_in_the_creation_reaches_the_caller():
    def make() -> None:
        raise ValueError("does not compile")

    try:
        bccmodule.create(make)
    except ValueError as e:
        assert str(e) == "does not compile"
    else:
        raise AssertionError("the error was lost")


def test_a_module_made_there_loads_and_runs():
    from bcc import BPF

    b = bccmodule.create(lambda: BPF(text="BPF_ARRAY(hits, u64, 1);\n"
                                          "int f(void *ctx) { int k = 0; hits.increment(k); return 0; }"))
    try:
        b.attach_raw_tracepoint(tp="sys_enter", fn_name="f")
        os.getppid()
        assert b["hits"][b["hits"].Key(0)].value > 0
    finally:
        b.cleanup()
