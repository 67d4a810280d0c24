r"""Stepwise fine-grained reward (SFR): our reading of ProUIE's reward over structural units.

Formula (for one completion ``c`` against gold record ``g`` of task ``T``)::

    parsed = format(c)                             # ParseResult: structure + well_formed flag
    if parsed.well_formed:
        total = clip(w_format + Σ_s w'_s · F1_s − penalties,  floor, max_T)
    elif parsed.only_cut_off and truncated == "partial":     # cut at the generation limit, nothing else wrong
        total = clip(Σ_s w'_s · F1_s − penalties − truncation_penalty,  floor, max_T − w_format)
    else:
        total = floor                              # components: format = 0, step F1s still reported
    penalties = p_hall · n_hallucinated + p_label · n_off_schema

* ``steps(T)`` are the task's unit steps, coarse → strict (see :mod:`prouie_lib.rewards.steps`):
  NER ``entity_span → entity_type``; RE ``pair → relation (→ relation_entity_types)``;
  EE ``trigger → event_type → argument → argument_role``. EE argument units are *tied* to their event's
  trigger and type (the evaluation reports this rule as ``ee_arg_id_tied``/``ee_arg_cls_tied``, next to
  the untied ``ee_arg_id``/``ee_arg_cls`` of the peers).
* ``F1_s = 2·TP / (|pred_s| + |gold_s|)`` over the unit keys of step ``s``. Gold units are taken as the
  formats render them (an exact duplicate unit once). ``duplicates="multiset"`` (default) compares
  multisets: each gold key matches one predicted copy, so repeating a unit costs precision;
  ``duplicates="set"`` collapses copies on both sides.
* Predicted units include the ones whose label is outside the schema (the parsers keep them, flagged):
  after normalization a case-changed label is the schema label, an invented one is a false positive.
* A step is *skipped* when it is vacuous (gold and prediction both have no unit there, e.g. events
  without arguments) or inactive (``relation_entity_types`` unless the gold is typed — its schema lists
  entity types — and the format writes types, see ``re_entity_types``; never decided by what the
  prediction contains: a blank type in a typed format is a malformed unit). Its weight moves to the nearest
  coarser step that is not skipped, so a perfect output always scores ``max_T``; when every step is vacuous
  (empty gold, empty prediction) every F1 is 1 and the total is ``max_T``.
* ``w'`` are the configured weights; with ``normalize=True`` (default) each task's weights
  (format + its steps) are rescaled so that ``max_T = 1``.
* ``n_hallucinated``: predicted spans (entity texts, head/tail texts, triggers, argument texts)
  whose normalized text does not occur in the normalized input text. ``n_off_schema``
  (component ``dropped_labels``): units whose label is outside the schema.
* Truncation (``truncated``): a completion cut inside a unit (``parsed.only_cut_off``: the text ends in an
  unfinished unit and nothing else is wrong) is not well-formed. ``"partial"`` (default) scores the units
  completed before the cut (when there is at least one; else the floor) without the format weight and minus
  ``truncation_penalty`` (default 0.1), so a
  cut completion stays below the same units written out in full, but above the floor that would teach GRPO
  to answer short or empty; ``"floor"`` gives it the floor like any malformed output. The DE stage may also
  mask truncated completions out of the loss (trl ``mask_truncated_completions``); the reward still ranks
  them within their group.

Range: ``[floor, max_T]`` (``[0, 1]`` with the defaults). A well-formed output scores at least
``w_format`` before penalties, so ``floor <= w_format`` is required (a malformed output must
never beat a well-formed one); penalties can bring a well-formed output down to ``floor``.

Unit keys compare normalized text (strip, collapse whitespace, casefold — the evaluation's
``prouie`` normalizer); relations typed ``"NA"``/``""`` are dropped on both sides, as in the
``prouie`` evaluation. Everything the reward reads comes from the gold record (``task``, ``text``, its
schema, its task's structure field) and the parsed prediction; offsets are ignored.

Defaults: ``w_format = 0.1``; NER span 0.3, span+type 0.6; RE pair 0.3, relation 0.4, entity
types 0.2 (inactive → its weight goes to ``relation``: 0.6); EE trigger 0.15, event type 0.3,
argument 0.15, role 0.3; floor 0; no hallucination/label penalties; duplicates counted;
truncated ``"partial"`` with penalty 0.1.

Components: ``format``, ``f1_<step>`` per step (1.0 when vacuous; ``f1_relation_entity_types``
only when active), ``hallucinated_spans``, ``dropped_labels``, ``penalty``, ``truncated`` (1.0 when the
partial-credit rule applied).

Shortcuts (``tests/test_rewards_shortcuts.py`` computes this table on the in-repo ``sample`` test split and
checks that it is the one below; regenerate with ``python -m prouie_lib.rewards.shortcuts``): mean reward
of each kind of completion, streamlined format. No shortcut reaches the gold's score under ``sfr``,
``strict_f1`` or ``exact_match``; ``format`` scores form only, by design.

.. shortcut-table-start

=================  ======  =========  ===========  ======
completion         sfr     strict_f1  exact_match  format
=================  ======  =========  ===========  ======
gold               1.000   1.000      1.000        1.000
spam_labels        0.383   0.284      0.000        1.000
repeat_units       0.550   0.500      0.000        1.000
whole_sentence     0.100   0.000      0.000        1.000
blank_types        0.000   0.000      0.000        0.000
hallucinated       0.704   0.685      0.000        1.000
truncated          0.307   0.000      0.000        0.000
none               0.100   0.000      0.000        1.000
=================  ======  =========  ===========  ======

.. shortcut-table-end

Configure with ``StepwiseReward(SFRConfig(...))`` or ``get_reward("sfr", format=0.2, entity_type=1.0,
floor=-1)``.
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
from prouie_lib.rewards.steps import (
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


def switch_mode(value: Any) -> Any:
    """YAML reads a bare ``on``/``off`` as a boolean (a config file, ``--set re_entity_types=on``): the mode.

    >>> switch_mode(True), switch_mode(False), switch_mode("auto")
    ('on', 'off', 'auto')
    """
    return ("on" if value else "off") if isinstance(value, bool) else value
DUPLICATES_MODES = ("set", "multiset")
TRUNCATED_MODES = ("partial", "floor")


@dataclass(frozen=True)
class SFRConfig:
    """Every knob of the SFR (see the module docstring for the formula)."""

    format_weight: float = 0.1
    step_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STEP_WEIGHTS))
    normalize: bool = True  # rescale each task's weights so a perfect output scores 1.0
    floor: float = 0.0  # total of a not-well-formed output, and the lower clip
    hallucination_penalty: float = 0.0  # per predicted span not found in the text
    label_penalty: float = 0.0  # per unit dropped by the parser for a label outside the schema
    re_entity_types: str = "auto"  # "auto": when the gold is typed and the format writes types; "on"; "off"
    duplicates: str = "multiset"  # "multiset": each predicted copy counts; "set": predicted copies collapse
    truncated: str = "partial"  # a completion cut inside a unit: "partial" credit, or the "floor"
    truncation_penalty: float = 0.1  # subtracted from a cut completion's partial credit

    def __post_init__(self) -> None:
        unknown = sorted(set(self.step_weights) - set(ALL_STEPS))
        if unknown:
            raise ValueError(f"SFR step_weights: unknown step(s) {unknown}; known: {list(ALL_STEPS)}")
        merged = {**DEFAULT_STEP_WEIGHTS, **{k: float(v) for k, v in self.step_weights.items()}}
        object.__setattr__(self, "step_weights", merged)
        for name, value in [("format_weight", self.format_weight), ("hallucination_penalty",
                            self.hallucination_penalty), ("label_penalty", self.label_penalty),
                            ("truncation_penalty", self.truncation_penalty),
                            *((f"step_weights[{k!r}]", v) for k, v in merged.items())]:
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"SFR {name} must be a finite number >= 0, got {value!r}")
        if not math.isfinite(self.floor):
            raise ValueError(f"SFR floor must be finite, got {self.floor!r}")
        object.__setattr__(self, "re_entity_types", switch_mode(self.re_entity_types))
        if self.re_entity_types not in RE_ENTITY_TYPES_MODES:
            raise ValueError(f"SFR re_entity_types must be one of {RE_ENTITY_TYPES_MODES}, "
                             f"got {self.re_entity_types!r}")
        if self.duplicates not in DUPLICATES_MODES:
            raise ValueError(f"SFR duplicates must be one of {DUPLICATES_MODES}, got {self.duplicates!r}")
        if self.truncated not in TRUNCATED_MODES:
            raise ValueError(f"SFR truncated must be one of {TRUNCATED_MODES}, got {self.truncated!r}")
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
    """F1 of predicted against gold unit keys at one step; ``None`` when both are empty (vacuous).

    ``gold_list`` holds the step keys of the gold units as the formats render them (exact duplicate units
    once); ``duplicates="multiset"`` compares multisets (each gold key matches one predicted copy, every
    other copy is a false positive); ``"set"`` collapses both sides."""
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


def relation_types_active(mode: str, gold: PreparedGold, typed_format: bool) -> bool:
    """Whether the RE entity-type step applies: from the configured mode, the gold and the format only."""
    return mode == "on" or (mode == "auto" and gold.typed and typed_format)


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
        partial = (not parsed.well_formed and parsed.only_cut_off and self.config.truncated == "partial"
                   and any(pred.units[TASK_STEPS[prepared.task][0]]))  # at least one unit before the cut
        return self._score(pred, prepared, parsed.well_formed, parsed.dropped_labels, parsed.typed_relations,
                           partial)

    def _score(self, pred: TaskUnits, gold: PreparedGold, well_formed: bool, dropped: int,
               typed_format: bool = True, partial: bool = False) -> RewardResult:
        cfg = self.config
        task = gold.task
        fmt_w, weights = self._weights[task]
        steps = TASK_STEPS[task]
        inactive = None
        if task == "RE" and not relation_types_active(cfg.re_entity_types, gold, typed_format):
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
        top = self._max[task]
        if partial:  # cut at the generation limit: the units before the cut, without the format weight
            components["truncated"] = 1.0
            value = total - fmt_w - penalty - cfg.truncation_penalty
            return RewardResult(max(min(value, top - fmt_w), cfg.floor), components)
        if not well_formed:
            return RewardResult(cfg.floor, components)
        total -= penalty
        if total > top - 1e-12:  # float sums of the weights land a hair off the exact maximum
            total = top
        return RewardResult(max(total, cfg.floor), components)
