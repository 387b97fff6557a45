"""bench/strace_match.py's comparison on a recorded pair of real traces of bench/workload.c:
strace -f -qq (workload.strace.txt) and ebpf-syscalls (workload.ours.txt)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures/strace"
_spec = importlib.util.spec_from_file_location("strace_match", ROOT / "bench/strace_match.py")
sm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sm)


def load(name: str, parse) -> list:
    return sm.normalize(sm.from_marker(parse((FIX / name).read_text())))


def test_strace_lines_are_joined_and_cut_at_the_marker():
    ref = load("workload.strace.txt", sm.parse_strace)
    assert ref[0] == (0, sm.MARKER)
    texts = [t for _, t in ref]
    # the child's getpid was split by strace into <unfinished ...> and resumed halves
    assert (1, "getpid() = P1") in ref
    assert "wait4(P1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = P1" in texts
    assert texts[-1] == "exit_group(0) = ?"
    assert not any(t.startswith(("---", "+++")) for t in texts)


def test_recorded_run_matches_strace_but_for_execve():
    res = sm.compare(load("workload.strace.txt", sm.parse_strace), load("workload.ours.txt", sm.parse_ours))
    assert res["distinct"] >= 40
    assert res["total"] >= 150
    # execve: strace counts the environment (/* 2 vars */), and the BPF side could not read
    # the first execve's strings (pages not yet faulted in)
    assert set(res["mismatches"]) == {"execve"}
    assert res["matched"] == res["total"] - 2
    assert not res["missing"] and not res["extra"]
