"""Skipped runs of our programs (tracer/ebpf/progstats.py), read from the real kernel."""

from __future__ import annotations

import pytest

from tracer.ebpf import progstats


def test_a_loaded_program_reports_its_skipped_runs():
    bcc = pytest.importorskip("bcc")
    b = bcc.BPF(text="RAW_TRACEPOINT_PROBE(sys_enter) { return 0; }")
    try:
        fn = b.load_func(b"raw_tracepoint__sys_enter", bcc.BPF.RAW_TRACEPOINT)
        assert progstats.recursion_misses(fn.fd) == 0  # loaded, never run
        assert progstats.skipped_runs(b) == 0
    finally:
        b.cleanup()
    assert progstats.recursion_misses(-1) == 0  # no such program: nothing to report


def test_the_note_names_the_count_only_when_there_is_one():
    assert progstats.note(0) == []
    (line,) = progstats.note(1234)
    assert "skipped tracer's programs 1234 times" in line and "up to 1234 calls" in line
