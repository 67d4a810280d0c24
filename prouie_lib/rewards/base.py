"""What every reward returns (:class:`RewardResult`) and how it is called (:class:`Reward`).

A reward scores one completion against one gold record, at two levels:

* ``reward(completion, gold, fmt)`` — parse the completion text with the target format ``fmt``
  (``"complete"`` or ``"streamlined"``), then score;
* ``reward.score_parsed(parsed, gold)`` — score an already-parsed prediction (a
  :class:`~prouie_lib.formats.base.ParseResult`); ``reward.score_structure(structure, gold)``
  does the same for a plain structure, taken as well-formed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prouie_lib.formats.base import ParseResult
from prouie_lib.schema import Record, RecordError, Structure


@dataclass(slots=True)
class RewardResult:
    """A reward's total and its named parts (format, per-step F1, penalties, ...)."""

    total: float
    components: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "components": dict(self.components)}


def as_result(value: Any, *, name: str) -> RewardResult:
    """Accept what a user-written reward returns: a RewardResult, a number, or ``(total, components)``."""
    if isinstance(value, RewardResult):
        result = value
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Mapping):
        result = RewardResult(float(value[0]), {str(k): float(v) for k, v in value[1].items()})
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = RewardResult(float(value))
    else:
        raise TypeError(f"reward {name!r} returned {type(value).__name__}; expected RewardResult, a number "
                        "or (total, components)")
    if not math.isfinite(result.total):
        raise ValueError(f"reward {name!r} returned a non-finite total {result.total!r}")
    return result


_FORMATS: dict[str, Any] = {}


def get_target_format(fmt: str) -> Any:
    """The target format object for a name (cached); imports :mod:`prouie_lib.formats` lazily."""
    found = _FORMATS.get(fmt)
    if found is None:
        from prouie_lib.formats import get_format

        found = _FORMATS[fmt] = get_format(fmt)
    return found


def parse_completion(completion: str, gold: Record, fmt: str) -> ParseResult:
    """Parse model text under the gold record's label schema and task; never raises on the text."""
    labels = gold.get("labels") or {}
    return get_target_format(fmt).parse(completion if isinstance(completion, str) else "", labels,
                                        gold["task"])


class Reward:
    """Base class: subclasses implement :meth:`score_parsed` (structure level)."""

    name: str = "reward"
    description: str = ""

    def score_parsed(self, parsed: ParseResult, gold: Record) -> RewardResult:
        raise NotImplementedError

    def score(self, completion: str, gold: Record, fmt: str) -> RewardResult:
        return self.score_parsed(parse_completion(completion, _record_of(gold), fmt), gold)

    def score_structure(self, structure: Structure, gold: Record, *, fmt: str | None = None) -> RewardResult:
        """Score a structure (e.g. a structured prediction line) as a well-formed output; ``fmt`` (when given)
        says whether the format writes RE entity types (else a structure is taken as typed)."""
        return self.score_parsed(_structure_result(structure, fmt), gold)

    def __call__(self, completion: str, gold: Record, fmt: str) -> RewardResult:
        return self.score(completion, gold, fmt)

    def configured(self, options: Mapping[str, Any]) -> Reward:
        """A copy with options changed; rewards without options reject any."""
        raise ValueError(f"reward {self.name!r} takes no options (got {sorted(options)})")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def _structure_result(structure: Structure, fmt: str | None) -> ParseResult:
    typed = True if fmt is None else bool(getattr(get_target_format(fmt), "needs_entity_types", True))
    return ParseResult(structure=structure, well_formed=True, typed_relations=typed)


def _record_of(gold: Any) -> Record:
    record = getattr(gold, "record", gold)  # a PreparedGold carries its record
    if not isinstance(record, dict):
        raise RecordError(f"gold must be a record object, got {type(record).__name__}")
    if "task" not in record:
        raise RecordError("missing", record=record.get("id"), field="task")
    return record


class FunctionReward(Reward):
    """A reward written as a plain function.

    ``level="structure"``: ``fn(parsed: ParseResult, gold: dict) -> RewardResult | float``
    (the completion is parsed for it). ``level="completion"``: ``fn(completion: str, gold: dict,
    fmt: str) -> RewardResult | float``; its structure-level call renders the structure with
    the format first (``fmt`` argument, default ``"streamlined"``).
    """

    def __init__(self, name: str, fn: Callable[..., Any], *, level: str = "structure",
                 description: str = "") -> None:
        if level not in ("structure", "completion"):
            raise ValueError(f"reward {name!r}: level must be 'structure' or 'completion', got {level!r}")
        self.name, self.fn, self.level = name, fn, level
        self.description = description or (fn.__doc__ or "").strip().split("\n")[0]

    def score_parsed(self, parsed: ParseResult, gold: Record) -> RewardResult:
        record = _record_of(gold)
        if self.level == "structure":
            return as_result(self.fn(parsed, record), name=self.name)
        raise TypeError(f"reward {self.name!r} is completion-level: call it with text, or use "
                        "score_structure(structure, gold, fmt=...)")

    def score(self, completion: str, gold: Record, fmt: str) -> RewardResult:
        record = _record_of(gold)
        if self.level == "completion":
            return as_result(self.fn(completion, record, fmt), name=self.name)
        return as_result(self.fn(parse_completion(completion, record, fmt), record), name=self.name)

    def score_structure(self, structure: Structure, gold: Record, *, fmt: str | None = None) -> RewardResult:
        if self.level == "structure":
            return self.score_parsed(_structure_result(structure, fmt), gold)
        record = _record_of(gold)
        fmt = fmt or "streamlined"
        text = get_target_format(fmt).render({**record, **structure})
        return self.score(text, record, fmt)
