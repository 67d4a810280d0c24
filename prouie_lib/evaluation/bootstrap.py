"""Bootstrap intervals and paired bootstrap tests over evaluation records.

Every F1 is a micro score over a dataset's records, so its uncertainty comes from which records were drawn.
The bootstrap resamples the records (with replacement, ``resamples`` times, fixed ``seed``), re-sums each
record's unit counts (true positives, gold and predicted units) and re-applies the protocol's own P/R/F1 rule:

- **interval**: the 2.5th and 97.5th percentiles of the resampled F1 (a 95% percentile interval);
- **paired test** of two systems scored on the *same* records: each resample draws one set of record indices
  and scores both systems on it; the two-sided p-value is ``min(1, 2·min(P(Δ* ≤ 0), P(Δ* ≥ 0)))`` where
  ``Δ* = F1_B − F1_A`` on the resample (the percentile-bootstrap test: small when almost every resample
  agrees on the sign of the difference).

A protocol that pools records (IEPile pools records with the same text) resamples its pooled instances.
Percentiles use numpy's default (linear interpolation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from prouie_lib.evaluation.metrics import Counts

RESAMPLES = 1000
SEED = 0
LEVEL = 0.95

ScoreRule = Callable[[Counts], dict[str, float]]


def _indices(n: int, resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def _resampled_f1(units: Sequence[Counts], indices: np.ndarray, rule: ScoreRule) -> np.ndarray:
    tp = np.array([u.tp for u in units])
    gold = np.array([u.gold for u in units])
    pred = np.array([u.pred for u in units])
    sums = zip(tp[indices].sum(axis=1), gold[indices].sum(axis=1), pred[indices].sum(axis=1), strict=True)
    return np.array([rule(Counts(int(t), int(g), int(p)))["f1"] for t, g, p in sums])


def interval(units: Sequence[Counts], rule: ScoreRule, *, resamples: int = RESAMPLES, seed: int = SEED,
             level: float = LEVEL) -> tuple[float, float]:
    """Percentile bootstrap interval of F1 over the records whose unit counts are ``units``."""
    if not units:
        return (0.0, 0.0)
    f1 = _resampled_f1(units, _indices(len(units), resamples, seed), rule)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(f1, [tail, 100 - tail])
    return (round(float(low), 2), round(float(high), 2))


def paired_p_value(units_a: Sequence[Counts], units_b: Sequence[Counts], rule: ScoreRule, *,
                   resamples: int = RESAMPLES, seed: int = SEED) -> float:
    """Two-sided paired bootstrap p-value that systems A and B (same records, same order) differ in F1."""
    if len(units_a) != len(units_b):
        raise ValueError(f"paired test needs the same records: {len(units_a)} vs {len(units_b)}")
    if not units_a:
        return 1.0
    indices = _indices(len(units_a), resamples, seed)
    delta = _resampled_f1(units_b, indices, rule) - _resampled_f1(units_a, indices, rule)
    return float(min(1.0, 2 * min(np.mean(delta <= 0), np.mean(delta >= 0))))


def add_intervals(scores: dict[str, Any], units: dict[str, dict[str, list[Counts]]], rule_of: Callable[[str], ScoreRule],
                  *, resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, Any]:
    """Add ``"ci": [low, high]`` to every metric of ``scores`` (a :func:`score_predictions` result).

    ``units[dataset][metric]`` holds one :class:`Counts` per record (or pooled instance); ``rule_of(dataset)``
    gives the protocol's P/R/F1 rule for that dataset.
    """
    for name, entry in scores["datasets"].items():
        for metric, values in entry["metrics"].items():
            values["ci"] = list(interval(units[name][metric], rule_of(name), resamples=resamples, seed=seed))
    scores["bootstrap"] = {"resamples": resamples, "seed": seed, "level": LEVEL, "unit": "record",
                           "method": "percentile"}
    return scores
