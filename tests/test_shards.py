"""The suite's split into shards (tests/shards.py): every test in exactly one shard, balanced."""

import subprocess
import sys
from pathlib import Path

import pytest
import shards

ROOT = Path(__file__).resolve().parents[1]


def test_every_file_lands_in_one_shard_and_the_loads_are_balanced():
    tests = ["a"] * 10 + ["b"] * 6 + ["c"] * 5 + ["d"] * 4 + ["e"]
    split = shards.assign(tests, 2)
    assert set(split) == {"a", "b", "c", "d", "e"}
    load = {1: 0, 2: 0}
    for f in tests:
        load[split[f]] += 1
    # heaviest first, each to the lightest shard: a | b, c | then d to the first (10 < 11), e to the second
    assert split == {"a": 1, "b": 2, "c": 2, "d": 1, "e": 2}
    assert load == {1: 14, 2: 12}


def test_the_split_does_not_depend_on_collection_order():
    tests = ["x"] * 3 + ["y"] * 3 + ["z"] * 2 + ["w"]
    assert shards.assign(tests, 3) == shards.assign(list(reversed(tests)), 3)


@pytest.mark.parametrize("spec", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_a_bad_shard_is_refused(spec):
    with pytest.raises(ValueError, match="--shard"):
        shards.parse(spec)


def test_the_shards_of_a_real_collection_cover_it_once():
    def collected(*extra: str) -> list[str]:
        out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only",
                              "-q", "tests/test_tracefs.py", "tests/test_btf.py", "tests/test_shards.py",
                              *extra], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return [ln for ln in out.splitlines() if "::" in ln]

    whole = collected()
    parts = [collected("--shard", f"{k}/2") for k in (1, 2)]
    assert all(parts) and sorted(parts[0] + parts[1]) == sorted(whole)
    assert not {ln.split("::")[0] for ln in parts[0]} & {ln.split("::")[0] for ln in parts[1]}


def test_recorded_seconds_outweigh_test_counts():
    tests = ["slow"] * 5 + ["unit"] * 50 + ["new"] * 2
    # 5 slow tests took 500 s, 50 unit tests 10 s: the slow file is a shard of its own; "new" has
    # no record and weighs 2 tests at the recorded mean (510 s / 55 tests)
    weights = {"slow": (500.0, 5), "unit": (10.0, 50)}
    assert shards.assign(tests, 2, weights) == {"slow": 1, "unit": 2, "new": 2}
    assert shards.assign(tests, 2) == {"unit": 1, "slow": 2, "new": 2}


def test_the_weights_file_is_read_as_seconds_tests_file(tmp_path):
    f = tmp_path / "w.txt"
    f.write_text("# seconds tests file\n120 4 tests/test_a.py\n3 30 tests/test_b.py\n")
    assert shards.load_weights(f) == {"tests/test_a.py": (120.0, 4), "tests/test_b.py": (3.0, 30)}
    assert shards.load_weights(tmp_path / "missing.txt") == {}


def test_a_recorded_file_keeps_its_shard_when_tests_are_added_anywhere():
    weights = {"a": (300.0, 10), "b": (200.0, 10), "c": (150.0, 10)}
    before = shards.assign(["a"] * 10 + ["b"] * 10 + ["c"] * 10, 2, weights)
    after = shards.assign(["a"] * 14 + ["b"] * 10 + ["c"] * 30 + ["d"] * 40 + ["e"], 2, weights)
    assert {f: after[f] for f in before} == before
    assert set(after) == {"a", "b", "c", "d", "e"}
