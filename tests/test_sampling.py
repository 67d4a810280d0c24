"""SA samplers: quotas per dataset, rare labels first (balanced), lowest scores first (hard)."""

from __future__ import annotations

from collections import Counter

from prouie_lib.schema import entity, make_record
from prouie_lib.stages import sampling


def _rec(i: int, dataset: str, types: list[str]) -> dict:
    ents = [entity("x", t, 0, 1) for t in types]
    return make_record(id=f"{dataset}/{i}", dataset=dataset, task="NER", split="train", text="x",
                       labels={"entity_types": ["common", "rare"]}, entities=ents)


def _pool():
    records = [_rec(i, "A", ["common"]) for i in range(18)] + [_rec(18, "A", ["rare"]), _rec(19, "A", ["rare"])]
    return records + [_rec(i, "B", ["common"]) for i in range(5)]


def test_uniform_quota_per_dataset_and_ratio():
    chosen = sampling.uniform(_pool(), k=4, seed=1)
    assert Counter(r["dataset"] for r in chosen) == {"A": 4, "B": 4}
    assert sampling.uniform(_pool(), k=4, seed=1) == chosen  # seeded
    by_ratio = sampling.uniform(_pool(), ratio=0.5, seed=1)
    assert Counter(r["dataset"] for r in by_ratio) == {"A": 10, "B": 2}


def test_balanced_takes_rare_labels_first():
    chosen = sampling.balanced(_pool(), k=4, seed=3)
    a_labels = Counter(label for r in chosen if r["dataset"] == "A" for label in sampling.record_labels(r))
    assert a_labels["rare"] == 2 and a_labels["common"] == 2
    uniform_rare = sum("rare" in sampling.record_labels(r) for seed in range(20)
                       for r in sampling.uniform(_pool(), k=4, seed=seed) if r["dataset"] == "A")
    assert uniform_rare < 2 * 20  # uniform sampling does not guarantee it


def test_hard_keeps_the_lowest_scores():
    pool = _pool()

    def score(records):
        return [int(r["id"].split("/")[1]) / 100 for r in records]

    chosen = sampling.hard(pool, score, k=3, pool=100, seed=0)
    assert sorted(r["id"] for r in chosen if r["dataset"] == "A") == ["A/0", "A/1", "A/2"]
    assert sorted(r["id"] for r in chosen if r["dataset"] == "B") == ["B/0", "B/1", "B/2"]


def test_record_labels_marks_empty_records():
    assert sampling.record_labels(_rec(0, "A", [])) == ["<none>"]
