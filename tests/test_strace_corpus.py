"""bench/corpus/ against real strace: each program run once under `strace -f -q` and once under
the ebpf-syscalls hook, compared line by line after the start marker (what
`bench/strace_match.py --corpus` prints). Signal and exit lines are compared like calls. The
floors are what decoding reaches today: a regression fails here."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("strace_match", ROOT / "bench/strace_match.py")
sm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sm)

OVERALL, DISTINCT = 0.95, 250  # share of strace's lines printed identically; distinct syscalls
FAMILY = 0.90  # the least share in any one family
# What strace prints that must be among the identical lines: the signal and end lines.
TASK_LINES = {
    "signals": ["--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=P0, si_uid=0} ---",
                "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=P0, si_uid=0} ---",
                "+++ exited with 0 +++"],
    "process": ["+++ exited with 3 +++", "+++ killed by SIGKILL +++", "+++ killed by SIGTERM +++",
                "+++ killed by SIGSEGV +++",
                "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x1} ---",
                "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=P5, si_uid=0, si_status=SIGKILL,"
                " si_utime=N, si_stime=N} ---"],
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return sm.run_corpus(None, tmp_path_factory.mktemp("corpus"))


def _differing(res: dict) -> list[str]:
    return [f"{a}  <>  {b}" for pairs in res["mismatches"].values() for a, b in pairs] + \
        [f"missing: {t}" for t in res["missing"]] + [f"extra: {t}" for t in res["extra"]]


pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not shutil.which("strace") or not shutil.which("gcc"),
                                 reason="needs strace and gcc")]


def test_the_whole_corpus_matches_strace(corpus):
    matched = sum(r["matched"] for r in corpus.values())
    total = sum(r["total"] for r in corpus.values())
    names = set().union(*(r["names"] for r in corpus.values()))
    differing = [d for r in corpus.values() for d in _differing(r)]
    assert len(names) >= DISTINCT
    assert matched >= OVERALL * total, f"{matched}/{total} identical; differing: {differing}"


@pytest.mark.parametrize("family", sorted(p.stem for p in sm.corpus_programs()))
def test_each_family_matches_strace(corpus, family):
    res = corpus[family]
    assert res["matched"] >= FAMILY * res["total"], \
        f"{res['matched']}/{res['total']} identical; differing: {_differing(res)}"


@pytest.mark.parametrize("family", sorted(TASK_LINES))
def test_signal_and_exit_lines_are_strace_s(corpus, family):
    res = corpus[family]
    wrong = {t for pairs in res["mismatches"].values() for t, _ in pairs} | set(res["missing"])
    for line in TASK_LINES[family]:
        # a string, which pytest prints whole (a tuple is cut short): a guest's log is all there is
        assert line in res["ref_texts"] and line not in wrong, \
            f"{line!r} not printed as strace does; differing: {' | '.join(_differing(res))}"
