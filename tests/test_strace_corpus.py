"""A representative part of bench/corpus/ against real strace: each program run once under
`strace -f` and once under the ebpf-syscalls hook, compared line by line after the start
marker (bench/strace_match.py --corpus does all of them). The floors are what decoding
reaches today: a regression fails here."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("strace_match", ROOT / "bench/strace_match.py")
sm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sm)

# program -> (least share of strace's lines we print identically, least distinct syscalls);
# files was at 79.5% (124/156, 92 syscalls) before the struct and constant decoders
FLOORS = {"files": (0.85, 85)}


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("strace") or not shutil.which("gcc"), reason="needs strace and gcc")
@pytest.mark.parametrize("program", sorted(FLOORS))
def test_corpus_program_matches_strace(program, tmp_path):
    res = sm.run_corpus([program], tmp_path)[program]
    rate, distinct = FLOORS[program]
    assert len(res["names"]) >= distinct, sorted(res["names"])
    differing = [f"{a}  <>  {b}" for pairs in res["mismatches"].values() for a, b in pairs]
    assert res["matched"] >= rate * res["total"], \
        f"{res['matched']}/{res['total']} identical; differing: {differing[:20]}; " \
        f"missing: {res['missing'][:10]}; extra: {res['extra'][:10]}"
