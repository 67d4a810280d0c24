r"""Stepwise fine-grained reward (SFR): our reading of ProUIE's reward over structural units.

Formula (for one completion ``c`` against gold record ``g`` of task ``T``)::

    parsed = format(c)                             # ParseResult: structure + well_formed flag
    if not parsed.well_formed:
        total = floor                              # components: format = 0, step F1s still reported
    else:
        base  = w_format · 1 + Σ_{s ∈ steps(T)} w'_s · F1_s
        total = clip(base − p_hall · n_hallucinated − p_label · n_dropped_labels,  floor, max_T)

* ``steps(T)`` are the task's unit steps, coarse → strict (see :mod:`prouie_lib.rewards.units`):
  NER ``entity_span → entity_type``; RE ``pair → relation (→ relation_entity_types)``;
  EE ``trigger → event_type → argument → argument_role``.
* ``F1_s = 2·TP / (|pred_s| + |gold_s|)`` over the unit keys of step ``s`` (sets by default:
  duplicates collapse; ``duplicates="multiset"`` counts every predicted copy).
* A step is *skipped* when it is vacuous (gold and prediction both have no unit there, e.g. events
  without arguments) or inactive (``relation_entity_types`` unless gold and prediction carry entity
  types, see ``re_entity_types``). Its weight moves to the nearest coarser step that is not
  skipped, so a perfect output always scores ``max_T``; when every step is vacuous (empty gold,
  empty prediction) every F1 is 1 and the total is ``max_T``.
* ``w'`` are the configured weights; with ``normalize=True`` (default) each task's weights
  (format + its steps) are rescaled so that ``max_T = 1``.
* ``n_hallucinated``: predicted spans (entity texts, head/tail texts, triggers, argument texts)
  whose normalized text does not occur in the normalized input text. ``n_dropped_labels``:
  units the parser dropped because their label is outside the schema.

Range: ``[floor, max_T]`` (``[0, 1]`` with the defaults). A well-formed output scores at least
``w_format`` before penalties, so ``floor <= w_format`` is required (a malformed output must
never beat a well-formed one); penalties can bring a well-formed output down to ``floor``.

Unit keys compare normalized text (strip, collapse whitespace, casefold — the evaluation's
``prouie`` normalizer); relations typed ``"NA"``/``""`` are dropped on both sides, as in the
evaluation. Everything the reward reads comes from the gold record (``task``, ``text``, its
task's structure field) and the parsed prediction; offsets are ignored.

Defaults: ``w_format = 0.1``; NER span 0.3, span+type 0.6; RE pair 0.3, relation 0.4, entity
types 0.2 (inactive → its weight goes to ``relation``: 0.6); EE trigger 0.15, event type 0.3,
argument 0.15, role 0.3; floor 0; no penalties.

Components: ``format``, ``f1_<step>`` per step (1.0 when vacuous; ``f1_relation_entity_types``
only when active), ``hallucinated_spans``, ``dropped_labels``, ``penalty``.

Set semantics is the default because both target formats render exact duplicate units once (a
multiset would make the rendered gold itself imperfect). Configure with
``StepwiseReward(SFRConfig(...))`` or ``get_reward("sfr", format=0.2, entity_type=1.0, floor=-1)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prouie_lib.formats.base import ParseResult
from prouie_lib.rewards.base import Reward, RewardResult
from prouie_lib.rewards.units import (
    ALL_STEPS,
    TASK_STEPS,
    PreparedGold,
    TaskUnits,
    hallucinated_spans,
    prepare_gold,
    task_units,
)
from prouie_lib.schema import Record

DEFAULT_STEP_WEIGHTS: dict[str, float] = {
    "entity_span": 0.3, "entity_type": 0.6,
    "pair": 0.3, "relation": 0.4, "relation_entity_types": 0.2,
    "trigger": 0.15, "event_type": 0.3, "argument": 0.15, "argument_role": 0.3,
}
RE_ENTITY_TYPES_MODES = ("auto", "on", "off")
DUPLICATES_MODES = ("set", "multiset")


@dataclass(frozen=True)
class SFRConfig:
    """Every knob of the SFR (see the module docstring for the formula)."""

    format_weight: float = 0.1
    step_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STEP_WEIGHTS))
    normalize: bool = True  # rescale each task's weights so a perfect output scores 1.0
    floor: float = 0.0  # total of a not-well-formed output, and the lower clip
    hallucination_penalty: float = 0.0  # per predicted span not found in the text
    label_penalty: float = 0.0  # per unit dropped by the parser for a label outside the schema
    re_entity_types: str = "auto"  # "auto": only when gold and prediction carry types; "on"; "off"
    duplicates: str = "set"  # "set": duplicates collapse; "multiset": each predicted copy counts

    def __post_init__(self) -> None:
        unknown = sorted(set(self.step_weights) - set(ALL_STEPS))
        if unknown:
            raise ValueError(f"SFR step_weights: unknown step(s) {unknown}; known: {list(ALL_STEPS)}")
        merged = {**DEFAULT_STEP_WEIGHTS, **{k: float(v) for k, v in self.step_weights.items()}}
        object.__setattr__(self, "step_weights", merged)
        for name, value in [("format_weight", self.format_weight), ("hallucination_penalty",
                            self.hallucination_penalty), ("label_penalty", self.label_penalty),
                            *((f"step_weights[{k!r}]", v) for k, v in merged.items())]:
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"SFR {name} must be a finite number >= 0, got {value!r}")
        if not math.isfinite(self.floor):
            raise ValueError(f"SFR floor must be finite, got {self.floor!r}")
        if self.re_entity_types not in RE_ENTITY_TYPES_MODES:
            raise ValueError(f"SFR re_entity_types must be one of {RE_ENTITY_TYPES_MODES}, "
                             f"got {self.re_entity_types!r}")
        if self.duplicates not in DUPLICATES_MODES:
            raise ValueError(f"SFR duplicates must be one of {DUPLICATES_MODES}, got {self.duplicates!r}")
        for task in TASK_STEPS:
            fmt_w, _ = self.task_weights(task)
            if self.floor > fmt_w:
                raise ValueError(f"SFR floor {self.floor} exceeds the {task} format weight {fmt_w:g}: a "
                                 "malformed output would beat a well-formed one")

    def task_weights(self, task: str) -> tuple[float, dict[str, float]]:
        """(format weight, {step: weight}) for a task, after normalization."""
        steps = {s: float(self.step_weights[s]) for s in TASK_STEPS[task]}
        total = math.fsum([self.format_weight, *steps.values()])
        if self.normalize:
            if total <= 0:
                raise ValueError(f"SFR: all {task} weights are 0; nothing to normalize")
            return self.format_weight / total, {s: w / total for s, w in steps.items()}
        return float(self.format_weight), steps

    def max_reward(self, task: str) -> float:
        """The total of a perfect output (exactly 1.0 when normalized)."""
        if self.normalize:
            return 1.0
        fmt_w, steps = self.task_weights(task)
        return math.fsum([fmt_w, *steps.values()])

    def replace(self, options: Mapping[str, Any]) -> SFRConfig:
        """A copy with options changed: ``format`` or any step name sets a weight; field names set fields."""
        fields = {f.name for f in dataclasses.fields(self)}
        weights = dict(self.step_weights)
        changes: dict[str, Any] = {}
        for key, value in options.items():
            if key == "format":
                changes["format_weight"] = value
            elif key in ALL_STEPS:
                weights[key] = value
            elif key == "step_weights":
                weights.update(value)
            elif key in fields:
                changes[key] = value
            else:
                raise ValueError(f"SFR: unknown option {key!r}; use 'format', a step name "
                                 f"{list(ALL_STEPS)} or a field {sorted(fields)}")
        return dataclasses.replace(self, step_weights=weights, **changes)


def step_f1(pred: list, gold: frozenset, gold_list: list, duplicates: str) -> float | None:
    """F1 of predicted against gold unit keys at one step; ``None`` when both are empty (vacuous)."""
    if duplicates == "set":
        pred_set = set(pred)
        denominator = len(pred_set) + len(gold)
        if denominator == 0:
            return None
        return 2.0 * len(pred_set & gold) / denominator
    denominator = len(pred) + len(gold_list)
    if denominator == 0:
        return None
    tp = sum((Counter(pred) & Counter(gold_list)).values())
    return 2.0 * tp / denominator


class StepwiseReward(Reward):
    """The SFR as a reward object; ``StepwiseReward(SFRConfig(...))`` builds a variant."""

    description = "stepwise fine-grained reward: format gate + weighted per-step unit F1"

    def __init__(self, config: SFRConfig | None = None, *, name: str = "sfr") -> None:
        self.config = config or SFRConfig()
        self.name = name
        self._weights = {task: self.config.task_weights(task) for task in TASK_STEPS}
        self._max = {task: self.config.max_reward(task) for task in TASK_STEPS}

    def configured(self, options: Mapping[str, Any] | SFRConfig,  # type: ignore[override]
                   *, name: str | None = None) -> StepwiseReward:
        """A copy with other weights/options (see :meth:`SFRConfig.replace`)."""
        config = options if isinstance(options, SFRConfig) else self.config.replace(options)
        return StepwiseReward(config, name=name or self.name)

    def score_parsed(self, parsed: ParseResult, gold: Record | PreparedGold) -> RewardResult:
        prepared = prepare_gold(gold)
        pred = task_units(parsed.structure, prepared.task, where="prediction")
        return self._score(pred, prepared, parsed.well_formed, parsed.dropped_labels)

    def _score(self, pred: TaskUnits, gold: PreparedGold, well_formed: bool, dropped: int) -> RewardResult:
        cfg = self.config
        task = gold.task
        fmt_w, weights = self._weights[task]
        steps = TASK_STEPS[task]
        inactive = None
        if task == "RE":
            mode = cfg.re_entity_types
            if mode == "off" or (mode == "auto" and not (gold.units.entity_types and pred.entity_types)):
                inactive = steps[-1]
        components: dict[str, float] = {"format": 1.0 if well_formed else 0.0}
        total = fmt_w
        last_f1: float | None = None  # F1 of the nearest coarser step that was not skipped
        for step in steps:
            f1 = None
            if step != inactive:
                f1 = step_f1(pred.units[step], gold.sets[step], gold.units.units[step], cfg.duplicates)
                components["f1_" + step] = 1.0 if f1 is None else f1
            if f1 is not None:
                total += weights[step] * f1
                last_f1 = f1
            else:  # skipped: the weight follows the nearest coarser scored step (F1 = 1 when none)
                total += weights[step] * (1.0 if last_f1 is None else last_f1)
        n_hall = hallucinated_spans(pred.spans, gold.text)
        penalty = cfg.hallucination_penalty * n_hall + cfg.label_penalty * dropped
        components["hallucinated_spans"] = float(n_hall)
        components["dropped_labels"] = float(dropped)
        components["penalty"] = penalty
        if not well_formed:
            return RewardResult(cfg.floor, components)
        top = self._max[task]
        total -= penalty
        if total > top - 1e-12:  # float sums of the weights land a hair off the exact maximum
            total = top
        return RewardResult(max(total, cfg.floor), components)
