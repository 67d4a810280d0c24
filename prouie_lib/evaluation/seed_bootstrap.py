"""Hierarchical bootstrap over training seeds and evaluation records.

A stage's score over several seeds is the mean of its per-seed F1s. Two sources move that mean: which seed the
training drew and which records the test split holds. The hierarchical bootstrap resamples both: each resample
draws the seeds with replacement, then, within every drawn seed, that seed's records with replacement, re-sums
the unit counts, applies the protocol's own P/R/F1 rule per seed and averages over the drawn seeds.

- **interval**: 2.5th and 97.5th percentiles of the resampled mean (95%, percentile method);
- **paired test** of two stages on the same seeds and records: one draw of seeds and record indices per resample
  scores both stages; ``Δ* = mean F1_B − mean F1_A``; two-sided ``p = min(1, 2·min(P(Δ* ≤ 0), P(Δ* ≥ 0)))``, and the
  interval of ``Δ*``.

With one seed this is :mod:`prouie_lib.evaluation.bootstrap` (records only).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from prouie_lib.evaluation.bootstrap import LEVEL, RESAMPLES, SEED, ScoreRule
from prouie_lib.evaluation.metrics import Counts


def _arrays(units: Sequence[Counts]) -> np.ndarray:
    return np.array([[u.tp, u.gold, u.pred] for u in units], dtype=np.int64).reshape(-1, 3)


def _draws(sizes: Sequence[int], resamples: int, seed: int) -> list[list[tuple[int, np.ndarray]]]:
    """For each resample: the drawn seeds (indices, with replacement) and each one's drawn record indices."""
    rng = np.random.default_rng(seed)
    n_seeds = len(sizes)
    out = []
    for _ in range(resamples):
        picked = rng.integers(0, n_seeds, size=n_seeds)
        out.append([(int(s), rng.integers(0, sizes[s], size=sizes[s])) for s in picked])
    return out


def _means(per_seed: list[np.ndarray], draws, rule: ScoreRule) -> np.ndarray:
    values = []
    for draw in draws:
        f1s = []
        for s, idx in draw:
            tp, gold, pred = per_seed[s][idx].sum(axis=0) if len(idx) else (0, 0, 0)
            f1s.append(rule(Counts(int(tp), int(gold), int(pred)))["f1"])
        values.append(float(np.mean(f1s)))
    return np.array(values)


def _check(units_by_seed: Sequence[Sequence[Counts]]) -> list[np.ndarray]:
    if not units_by_seed:
        raise ValueError("hierarchical bootstrap needs at least one seed")
    return [_arrays(units) for units in units_by_seed]


def seed_mean(units_by_seed: Sequence[Sequence[Counts]], rule: ScoreRule) -> float:
    """The mean over seeds of each seed's F1 on all its records."""
    per_seed = _check(units_by_seed)
    return float(np.mean([rule(Counts(*(int(x) for x in a.sum(axis=0))))["f1"] for a in per_seed]))


def hierarchical_interval(units_by_seed: Sequence[Sequence[Counts]], rule: ScoreRule, *,
                          resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of the mean F1 over seeds, resampling seeds, then records within each seed."""
    per_seed = _check(units_by_seed)
    means = _means(per_seed, _draws([len(a) for a in per_seed], resamples, seed), rule)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return (round(float(low), 2), round(float(high), 2))


def hierarchical_paired(units_a: Sequence[Sequence[Counts]], units_b: Sequence[Sequence[Counts]], rule: ScoreRule,
                        *, resamples: int = RESAMPLES, seed: int = SEED,
                        level: float = LEVEL) -> dict[str, float | list[float]]:
    """Paired test of stages A and B scored on the same seeds and records: ``delta`` (mean B − mean A), its
    interval ``ci`` and the two-sided ``p``."""
    per_a, per_b = _check(units_a), _check(units_b)
    if [len(a) for a in per_a] != [len(b) for b in per_b]:
        raise ValueError(f"paired test needs the same seeds and records: {[len(a) for a in per_a]} vs "
                         f"{[len(b) for b in per_b]}")
    draws = _draws([len(a) for a in per_a], resamples, seed)
    delta = _means(per_b, draws, rule) - _means(per_a, draws, rule)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(delta, [tail, 100 - tail])
    p = float(min(1.0, 2 * min(np.mean(delta <= 0), np.mean(delta >= 0))))
    return {"delta": round(seed_mean(units_b, rule) - seed_mean(units_a, rule), 2),
            "ci": [round(float(low), 2), round(float(high), 2)], "p": p}


def verdict(test: dict[str, float | list[float]], alpha: float = 0.05) -> str:
    """``helps`` / ``hurts`` when the paired test rejects equality at ``alpha``, else ``cannot tell``."""
    if float(test["p"]) < alpha:  # type: ignore[arg-type]
        return "helps" if float(test["delta"]) > 0 else "hurts"  # type: ignore[arg-type]
    return "cannot tell"
