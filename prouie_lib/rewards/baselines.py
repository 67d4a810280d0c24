"""Ablation baselines for the SFR, all in ``[0, 1]`` and 0 for a not-well-formed output.

* ``exact_match`` — 1 when the strictest units equal the gold's (as sets), else 0.
* ``strict_f1`` — micro-F1 at the strictest step only (EE pools events ``event_type`` and
  arguments ``argument_role``; RE uses ``relation_entity_types`` when the SFR would).
* ``format`` — 1 when the parser read the whole completion.

Empty gold with empty prediction scores 1 in ``exact_match`` and ``strict_f1``.
"""

from __future__ import annotations

from prouie_lib.formats.base import ParseResult
from prouie_lib.rewards.base import Reward, RewardResult
from prouie_lib.rewards.units import STRICT_STEPS, PreparedGold, TaskUnits, prepare_gold, task_units
from prouie_lib.schema import Record


def strict_steps(pred: TaskUnits, gold: PreparedGold, re_entity_types: str = "auto") -> tuple[str, ...]:
    """The strictest steps of the gold's task (RE entity types by the same rule as the SFR)."""
    if gold.task == "RE":
        on = re_entity_types == "on" or (re_entity_types == "auto" and gold.units.entity_types
                                         and pred.entity_types)
        return ("relation_entity_types",) if on else ("relation",)
    return STRICT_STEPS[gold.task]


class _StrictReward(Reward):
    def __init__(self, re_entity_types: str = "auto") -> None:
        self.re_entity_types = re_entity_types

    def _units(self, parsed: ParseResult, gold: Record | PreparedGold) -> tuple[TaskUnits, PreparedGold]:
        prepared = prepare_gold(gold)
        return task_units(parsed.structure, prepared.task, where="prediction"), prepared


class ExactMatchReward(_StrictReward):
    name = "exact_match"
    description = "1 when the whole structure is right at the strictest step, else 0"

    def score_parsed(self, parsed: ParseResult, gold: Record | PreparedGold) -> RewardResult:
        pred, prepared = self._units(parsed, gold)
        fmt = 1.0 if parsed.well_formed else 0.0
        exact = all(set(pred.units[s]) == prepared.sets[s]
                    for s in strict_steps(pred, prepared, self.re_entity_types))
        value = 1.0 if parsed.well_formed and exact else 0.0
        return RewardResult(value, {"format": fmt, "exact": 1.0 if exact else 0.0})


class StrictF1Reward(_StrictReward):
    name = "strict_f1"
    description = "micro-F1 at the strictest step only"

    def score_parsed(self, parsed: ParseResult, gold: Record | PreparedGold) -> RewardResult:
        pred, prepared = self._units(parsed, gold)
        tp = n_pred = n_gold = 0
        for step in strict_steps(pred, prepared, self.re_entity_types):
            pred_set = set(pred.units[step])
            tp += len(pred_set & prepared.sets[step])
            n_pred += len(pred_set)
            n_gold += len(prepared.sets[step])
        f1 = 1.0 if n_pred + n_gold == 0 else 2.0 * tp / (n_pred + n_gold)
        fmt = 1.0 if parsed.well_formed else 0.0
        return RewardResult(f1 if parsed.well_formed else 0.0, {"format": fmt, "f1_strict": f1})


class FormatReward(Reward):
    name = "format"
    description = "1 when the completion is well-formed, else 0"

    def score_parsed(self, parsed: ParseResult, gold: Record | PreparedGold) -> RewardResult:
        fmt = 1.0 if parsed.well_formed else 0.0
        return RewardResult(fmt, {"format": fmt})
