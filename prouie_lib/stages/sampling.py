"""Samplers that choose SA's training subset: ``uniform``, ``balanced`` (by task and label) and ``hard``."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence

from prouie_lib.schema import Record

SampleK = int | dict[str, int] | None


def quota(n: int, k: SampleK, ratio: float | None, dataset: str) -> int:
    """How many of a dataset's ``n`` records to take: ``k`` (per dataset when a mapping), else ``ratio``·n."""
    if isinstance(k, dict):
        k = k.get(dataset)
    if k is not None:
        return min(n, k)
    if ratio is None:
        raise ValueError("sampling needs sample_k or sample_ratio")
    return min(n, max(1, round(ratio * n)))


def _per_dataset(records: Sequence[Record]) -> dict[str, list[Record]]:
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(r["dataset"], []).append(r)
    return groups


def record_labels(record: Record) -> list[str]:
    """The labels a record exercises (``<none>`` for an empty one), used by the balanced sampler."""
    labels = [e["type"] for e in record["entities"]] if record["task"] == "NER" else []
    labels += [r["type"] for r in record["relations"]]
    labels += [e["type"] for e in record["events"]]
    return labels or ["<none>"]


def uniform(records: Sequence[Record], *, k: SampleK = None, ratio: float | None = None,
            seed: int = 0) -> list[Record]:
    """``k`` (or ``ratio`` of the) records of each dataset, uniformly at random (``k`` may map dataset → k)."""
    rng = random.Random(seed)
    chosen: list[Record] = []
    for name, group in _per_dataset(records).items():
        chosen.extend(rng.sample(group, quota(len(group), k, ratio, name)))
    return chosen


def balanced(records: Sequence[Record], *, k: SampleK = None, ratio: float | None = None,
             seed: int = 0) -> list[Record]:
    """Per dataset, greedily pick records whose labels are least covered so far (rare labels first)."""
    rng = random.Random(seed)
    chosen: list[Record] = []
    for name, group in _per_dataset(records).items():
        pool = list(group)
        rng.shuffle(pool)
        counts: Counter[str] = Counter()
        frequency = Counter(label for r in pool for label in set(record_labels(r)))
        picked: list[Record] = []
        for _ in range(quota(len(pool), k, ratio, name)):
            best = min(range(len(pool)), key=lambda i: min(
                (counts[lab], frequency[lab]) for lab in set(record_labels(pool[i]))))
            record = pool.pop(best)
            counts.update(set(record_labels(record)))
            picked.append(record)
        chosen.extend(picked)
    return chosen


def hard(records: Sequence[Record], score: Callable[[Sequence[Record]], list[float]], *, k: SampleK = None,
         ratio: float | None = None, pool: int = 256, seed: int = 0) -> list[Record]:
    """Per dataset, score a random pool of candidates with the current model and keep the lowest-scoring ones.

    ``score`` maps records to per-record quality in [0, 1] (e.g. strict F1 of the CM model's prediction).
    """
    rng = random.Random(seed)
    chosen: list[Record] = []
    for name, group in _per_dataset(records).items():
        wanted = quota(len(group), k, ratio, name)
        candidates = rng.sample(group, min(len(group), max(pool, wanted)))
        scores = score(candidates)
        order = sorted(range(len(candidates)), key=lambda i: (scores[i], rng.random()))
        chosen.extend(candidates[i] for i in order[:wanted])
    return chosen
