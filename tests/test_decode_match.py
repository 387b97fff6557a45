"""bench/strace_match.py's comparison on a recorded pair of real traces of bench/workload.c:
strace -f -q (workload.strace.txt) and ebpf-syscalls (workload.ours.txt)."""

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
    # what happens to the processes is kept: a child's end, the parent's SIGCHLD, its own end
    assert (1, "+++ exited with 3 +++") in ref
    assert (0, "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=P1, si_uid=0, si_status=3, "
               "si_utime=N, si_stime=N} ---") in ref
    assert texts[-2:] == ["exit_group(0) = ?", "+++ exited with 0 +++"]


def test_recorded_run_matches_strace():
    res = sm.compare(load("workload.strace.txt", sm.parse_strace), load("workload.ours.txt", sm.parse_ours))
    assert res["distinct"] >= 70
    assert res["total"] >= 160
    assert res["matched"] == res["total"], res["mismatches"]
    assert not res["missing"] and not res["extra"]
    # our signal and exit lines are parsed as such, and not counted as syscalls
    ours = [t for _, t in load("workload.ours.txt", sm.parse_ours)]
    assert ours[-1] == "+++ exited with 0 +++" and sum(t.startswith("--- SIGCHLD") for t in ours) == 1
