"""Bootstrap intervals and paired tests against cases whose answers can be worked out by hand."""

from __future__ import annotations

import pytest

from prouie_lib.data import data_root
from prouie_lib.evaluation.bootstrap import add_intervals, interval, paired_p_value
from prouie_lib.evaluation.metrics import Counts, prf

PERFECT, MISS = Counts(tp=1, gold=1, pred=1), Counts(tp=0, gold=1, pred=1)


def test_one_record_gives_a_point_interval():
    assert interval([Counts(tp=1, gold=2, pred=2)], prf) == (50.0, 50.0)


def test_two_records_span_both_extremes():
    # Resamples of {perfect, miss}: both perfect (F1 100, p=1/4), one each (50, p=1/2), both missed (0, p=1/4).
    # The 2.5th percentile falls in the "both missed" quarter and the 97.5th in the "both perfect" quarter.
    assert interval([PERFECT, MISS], prf) == (0.0, 100.0)
    # At an 80% level the tails hold 10% each, still inside the outer quarters.
    assert interval([PERFECT, MISS], prf, level=0.8) == (0.0, 100.0)


def test_interval_brackets_the_observed_f1_and_is_reproducible():
    units = [PERFECT] * 30 + [MISS] * 10 + [Counts(tp=1, gold=2, pred=1)] * 10
    low, high = interval(units, prf)
    observed = prf(sum(units, Counts()))["f1"]
    assert low < observed < high and high - low < 30
    assert interval(units, prf) == (low, high)  # fixed seed
    assert interval(units, prf, seed=1) != (low, high)


def test_paired_p_value_hand_computed_cases():
    assert paired_p_value([MISS] * 5, [PERFECT] * 5, prf) == 0.0  # B wins on every resample
    assert paired_p_value([PERFECT] * 5, [PERFECT] * 5, prf) == 1.0  # never differ
    # B loses one of five records: Δ* < 0 whenever that record is drawn, Δ* = 0 otherwise.
    # P(Δ* >= 0) = P(record not drawn in 5 draws) = (4/5)^5 = 0.32768, so p = 2 × 0.32768 = 0.655.
    p = paired_p_value([PERFECT] * 5, [PERFECT] * 4 + [MISS], prf, resamples=4000)
    assert p == pytest.approx(2 * 0.8**5, abs=0.04)
    with pytest.raises(ValueError, match="same records"):
        paired_p_value([PERFECT], [PERFECT, MISS], prf)


def test_add_intervals_labels_every_metric():
    scores = {"datasets": {"D": {"metrics": {"ner": {"p": 50.0, "r": 50.0, "f1": 50.0}}}}}
    add_intervals(scores, {"D": {"ner": [PERFECT, MISS]}}, lambda name: prf)
    assert scores["datasets"]["D"]["metrics"]["ner"]["ci"] == [0.0, 100.0]
    assert scores["bootstrap"]["resamples"] == 1000 and scores["bootstrap"]["level"] == 0.95


@pytest.mark.skipif(not (data_root() / "RE").is_dir(), reason="shared datasets not available")
def test_score_predictions_with_bootstrap_on_real_gold():
    from prouie_lib.data import load_examples
    from prouie_lib.evaluation.score import score_predictions, score_with_units

    gold = load_examples("CoNLL04", "test")[:40]
    # a system that gets every other record right and answers nothing on the rest
    lines = [{"id": r["id"], "entities": r["entities"] if i % 2 == 0 else [],
              "relations": r["relations"] if i % 2 == 0 else [], "events": []} for i, r in enumerate(gold)]
    scores, units = score_with_units(gold, lines)
    metric = scores["datasets"]["CoNLL04"]["metrics"]["re_strict"]
    assert len(units["CoNLL04"]["re_strict"]) == 40
    assert prf(sum(units["CoNLL04"]["re_strict"], Counts()))["f1"] == pytest.approx(metric["f1"])
    boot = score_predictions(gold, lines, bootstrap=300)["datasets"]["CoNLL04"]["metrics"]["re_strict"]
    low, high = boot["ci"]
    assert low < metric["f1"] < high and 0 < low and high < 100
