"""Split the collected tests into N shards by file, so that N machines (or qemu guests) run one
suite between them. Every shard computes the same split from the same collection, so the shards
need nothing but their number: `pytest --shard 2/3`.

Whole files, not single tests: a module's fixtures (a container image, a built program) are set
up once, in one shard. Files are weighed by the seconds they took in an emulated run
(shard_weights.txt, written by vagrant/shard-weights from test-matrix logs), the heaviest first,
each to the lightest shard so far (ties: the lower shard, then file names). Files not listed there
come after them, the same way, each weighing its number of tests times the listed mean per test.
So the split is deterministic, and a listed file stays in its shard while tests are added or new
files appear: `test-matrix --only K` can re-run one shard of an earlier split.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

WEIGHTS = Path(__file__).with_name("shard_weights.txt")


def parse(spec: str) -> tuple[int, int]:
    """`"K/N"` as (K, N) with 1 <= K <= N, or ValueError naming the expected form."""
    try:
        k, n = (int(x) for x in spec.split("/"))
    except ValueError:
        raise ValueError(f"--shard {spec!r}: expected K/N, e.g. 1/2") from None
    if not 1 <= k <= n:
        raise ValueError(f"--shard {spec!r}: K must be between 1 and N")
    return k, n


def load_weights(path: Path = WEIGHTS) -> dict[str, tuple[float, int]]:
    """file -> (seconds, tests) from lines "SECONDS TESTS FILE"; none if the file is missing."""
    out: dict[str, tuple[float, int]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and not line.startswith("#"):
                out[parts[2]] = (float(parts[0]), int(parts[1]))
    return out


def assign(files: Iterable[str], n: int,
           weights: Mapping[str, tuple[float, int]] | None = None) -> dict[str, int]:
    """Each file's shard (1..n), given one entry per test (its file)."""
    counts = Counter(files)
    weights = weights or {}
    known = sum(w[1] for w in weights.values())
    per_test = sum(w[0] for w in weights.values()) / known if known else 1.0

    def weight(f: str) -> float:
        return weights[f][0] if f in weights else counts[f] * per_test

    load = [0.0] * n
    shard: dict[str, int] = {}
    for f in sorted(counts, key=lambda f: (f not in weights, -weight(f), f)):
        i = min(range(n), key=lambda i: (load[i], i))
        shard[f] = i + 1
        load[i] += weight(f)
    return shard
