"""Ablation baselines for the SFR, all in ``[0, 1]`` and 0 for a not-well-formed output.

* ``exact_match`` — 1 when the strictest units equal the gold's (as multisets: a repeated unit fails), else 0.
* ``strict_f1`` — micro-F1 at the strictest step only, on the units of the evaluation's ``prouie``
  protocol: NER (span, type); RE (head, relation, tail), with head/tail types when the SFR's
  ``relation_entity_types`` step is active (gold typed and a typed format); EE pools events (trigger,
  type) and arguments (event type, role, span) — arguments *not* tied to their trigger, as the
  evaluation's ``ee_arg_cls``. Multisets: gold units as rendered (an exact duplicate unit once), every
  predicted copy counts (a repeated unit is a false positive; the ``prouie`` evaluation collapses it).
* ``format`` — 1 when the parser read the whole completion (a form-only ablation: it does not look at the
  content, so it cannot tell a shortcut from the gold).

Off-schema units (kept by the parsers) count as predicted units in all three content rewards. Empty gold
with empty prediction scores 1 in ``exact_match`` and ``strict_f1``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from prouie_lib.formats.base import ParseResult
from prouie_lib.rewards.base import Reward, RewardResult
from prouie_lib.rewards.sfr import RE_ENTITY_TYPES_MODES, relation_types_active, switch_mode
from prouie_lib.rewards.steps import STRICT_STEPS, PreparedGold, TaskUnits, prepare_gold, task_units
from prouie_lib.schema import Record


def strict_steps(pred: TaskUnits, gold: PreparedGold, re_entity_types: str = "auto",
                 typed_format: bool = True) -> tuple[str, ...]:
    """The strictest steps of the gold's task (RE entity types by the same rule as the SFR: the mode, the
    gold and the format, never the prediction; ``pred`` is kept for the call signature)."""
    if gold.task == "RE":
        on = relation_types_active(re_entity_types, gold, typed_format)
        return ("relation_entity_types",) if on else ("relation",)
    return STRICT_STEPS[gold.task]


class _StrictReward(Reward):
    """Baselines over the strictest units; option ``re_entity_types`` as in the SFR."""

    def __init__(self, re_entity_types: str = "auto") -> None:
        re_entity_types = switch_mode(re_entity_types)
        if re_entity_types not in RE_ENTITY_TYPES_MODES:
            raise ValueError(f"{self.name}: re_entity_types must be one of {RE_ENTITY_TYPES_MODES}, "
                             f"got {re_entity_types!r}")
        self.re_entity_types = re_entity_types

    def configured(self, options: Mapping[str, Any]) -> Reward:
        unknown = sorted(set(options) - {"re_entity_types"})
        if unknown:
            raise ValueError(f"reward {self.name!r}: unknown option(s) {unknown}; known: ['re_entity_types']")
        copy = type(self)(**options)
        copy.name = self.name
        return copy

    def _units(self, parsed: ParseResult, gold: Record | PreparedGold) -> tuple[TaskUnits, PreparedGold]:
        prepared = prepare_gold(gold)
        return task_units(parsed.structure, prepared.task, where="prediction"), prepared


class ExactMatchReward(_StrictReward):
    name = "exact_match"
    description = "1 when the whole structure is right at the strictest step, else 0"

    def score_parsed(self, parsed: ParseResult, gold: Record | PreparedGold) -> RewardResult:
        pred, prepared = self._units(parsed, gold)
        fmt = 1.0 if parsed.well_formed else 0.0
        exact = all(Counter(pred.units[s]) == Counter(prepared.units.units[s])
                    for s in strict_steps(pred, prepared, self.re_entity_types, parsed.typed_relations))
        value = 1.0 if parsed.well_formed and exact else 0.0
        return RewardResult(value, {"format": fmt, "exact": 1.0 if exact else 0.0})


class StrictF1Reward(_StrictReward):
    name = "strict_f1"
    description = "micro-F1 at the strictest step only"

    def score_parsed(self, parsed: ParseResult, gold: Record | PreparedGold) -> RewardResult:
        pred, prepared = self._units(parsed, gold)
        tp = n_pred = n_gold = 0
        for step in strict_steps(pred, prepared, self.re_entity_types, parsed.typed_relations):
            pred_keys, gold_keys = list(pred.units[step]), list(prepared.units.units[step])
            if step == "argument_role":  # (trigger, type, span, role) → (type, role, span): untied
                pred_keys = [(u[1], u[3], u[2]) for u in pred_keys]
                gold_keys = [(u[1], u[3], u[2]) for u in gold_keys]
            tp += sum((Counter(pred_keys) & Counter(gold_keys)).values())
            n_pred += len(pred_keys)
            n_gold += len(gold_keys)
        f1 = 1.0 if n_pred + n_gold == 0 else 2.0 * tp / (n_pred + n_gold)
        fmt = 1.0 if parsed.well_formed else 0.0
        return RewardResult(f1 if parsed.well_formed else 0.0, {"format": fmt, "f1_strict": f1})


class FormatReward(Reward):
    name = "format"
    description = "1 when the completion is well-formed, else 0"

    def score_parsed(self, parsed: ParseResult, gold: Record | PreparedGold) -> RewardResult:
        fmt = 1.0 if parsed.well_formed else 0.0
        return RewardResult(fmt, {"format": fmt})
