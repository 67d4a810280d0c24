"""The SFR steps: each task's structural units, seen at ordered steps from coarse to strict.

A *unit* is one thing a model extracts, seen at a given *step* (granularity). Every step of a
task maps a structure to a list of hashable keys; comparing gold and predicted keys step by step
shows where a model fails (finds the span but not the type, the event but not the role, ...).

======  =========================  =============================================================
task    step                       unit key (all text normalized with :func:`normalize_text`)
======  =========================  =============================================================
NER     ``entity_span``            entity text
NER     ``entity_type``            (entity text, entity type)
RE      ``pair``                   (head text, tail text) — ordered
RE      ``relation``               (head text, relation type, tail text)
RE      ``relation_entity_types``  (head text, head type, relation type, tail text, tail type);
                                   only *active* when the gold is typed (its schema lists entity
                                   types) and the format writes types (not ``streamlined-notypes``)
EE      ``trigger``                trigger text
EE      ``event_type``             (trigger text, event type)
EE      ``argument``               (trigger text, event type, argument text)
EE      ``argument_role``          (trigger text, event type, argument text, role)
======  =========================  =============================================================

EE argument keys include their event's (trigger, type): an argument only matches when it sits in a
correctly found and correctly typed event (GoLLIE-style "arguments inside matched events").

Text comparison: ``strip`` + collapse whitespace + ``casefold`` (:func:`prouie_lib.schema.normalize_text`, the
evaluation's ``prouie`` protocol normalizer). As in that protocol, relations typed ``"NA"`` or ``""``
(:data:`prouie_lib.schema.NA_RELATION_TYPES`) mean "no relation" and are dropped on both sides.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from prouie_lib.schema import (
    NA_RELATION_TYPES,
    TASK_FIELD,
    TASKS,
    Record,
    RecordError,
    Structure,
    argument_pairs,
    dedup_units,
    normalize_text,
)

Unit = Hashable

TASK_STEPS: dict[str, tuple[str, ...]] = {
    "NER": ("entity_span", "entity_type"),
    "RE": ("pair", "relation", "relation_entity_types"),
    "EE": ("trigger", "event_type", "argument", "argument_role"),
}
ALL_STEPS: tuple[str, ...] = tuple(step for steps in TASK_STEPS.values() for step in steps)
# Steps that are the strictest view of a task's structure (EE has two: events and arguments).
STRICT_STEPS: dict[str, tuple[str, ...]] = {
    "NER": ("entity_type",),
    "RE": ("relation",),  # "relation_entity_types" replaces it when active
    "EE": ("event_type", "argument_role"),
}


def _has_type(entity: Mapping[str, Any]) -> bool:
    value = entity.get("type")
    return isinstance(value, str) and bool(value.strip())


def _ner_units(entities: list[dict[str, Any]]) -> tuple[dict[str, list[Unit]], list[str]]:
    spans = [normalize_text(e["text"]) for e in entities]
    typed = [(s, normalize_text(e["type"])) for s, e in zip(spans, entities, strict=True)]
    return {"entity_span": spans, "entity_type": typed}, spans


def _re_units(relations: list[dict[str, Any]]) -> tuple[dict[str, list[Unit]], list[str]]:
    pair, rel, typed, spans = [], [], [], []
    for r in relations:
        head, tail = r["head"], r["tail"]
        h, t, rt = normalize_text(head["text"]), normalize_text(tail["text"]), normalize_text(r["type"])
        pair.append((h, t))
        rel.append((h, rt, t))
        typed.append((h, normalize_text(head.get("type")), rt, t, normalize_text(tail.get("type"))))
        spans += (h, t)
    return {"pair": pair, "relation": rel, "relation_entity_types": typed}, spans


def _ee_units(events: list[dict[str, Any]]) -> tuple[dict[str, list[Unit]], list[str]]:
    trig, typed, arg, role, spans = [], [], [], [], []
    for ev in events:
        t, et = normalize_text(ev["trigger"]["text"]), normalize_text(ev["type"])
        trig.append(t)
        typed.append((t, et))
        spans.append(t)
        for a in ev["arguments"]:
            text = normalize_text(a["text"])
            arg.append((t, et, text))
            role.append((t, et, text, normalize_text(a["role"])))
            spans.append(text)
    return {"trigger": trig, "event_type": typed, "argument": arg, "argument_role": role}, spans


_EXTRACTORS = {"NER": _ner_units, "RE": _re_units, "EE": _ee_units}


def _relations_typed(relations: list[dict[str, Any]]) -> bool:
    return bool(relations) and all(_has_type(r["head"]) and _has_type(r["tail"]) for r in relations)


@dataclass(slots=True)
class TaskUnits:
    """One structure's units for one task: ``units[step]`` lists keys; ``spans`` lists every span text."""

    task: str
    units: dict[str, list[Unit]]
    spans: list[str]
    # RE only: every relation argument carries a non-empty entity type.
    entity_types: bool = False


def task_units(structure: Structure | Record, task: str, *, where: str | None = None) -> TaskUnits:
    """Decompose the task's field of ``structure`` into units per step.

    Raises :class:`RecordError` (naming ``where``, the unit index and field) on a malformed structure.
    """
    if task not in _EXTRACTORS:
        raise RecordError(f"unknown task {task!r} (expected one of {', '.join(TASKS)})", record=where,
                          field="task")
    key = TASK_FIELD[task]
    items = structure.get(key) or []
    try:
        if task == "RE":
            items = [r for r in items if r["type"] not in NA_RELATION_TYPES]
        units, spans = _EXTRACTORS[task](items)
        typed = _relations_typed(items) if task == "RE" else False
    except (KeyError, TypeError, AttributeError) as err:
        _raise_malformed(items, task, key, where, err)
    return TaskUnits(task, units, spans, typed)


def _raise_malformed(items: Any, task: str, key: str, where: str | None, err: Exception) -> NoReturn:
    """Find the first malformed unit and raise a RecordError naming it (slow path)."""
    if not isinstance(items, list):
        raise RecordError(f"expected a list, got {type(items).__name__}", record=where, field=key) from err
    required = {"NER": ("text", "type"), "RE": ("head", "type", "tail"),
                "EE": ("type", "trigger", "arguments")}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise RecordError(f"expected an object, got {type(item).__name__}", record=where,
                              field=f"{key}[{i}]") from err
        for name in required[task]:
            if name not in item:
                raise RecordError("missing", record=where, field=f"{key}[{i}].{name}") from err
        nested: list[tuple[str, Any, tuple[str, ...]]] = []
        if task == "RE":
            nested = [("head", item["head"], ("text",)), ("tail", item["tail"], ("text",))]
        elif task == "EE":
            nested = [("trigger", item["trigger"], ("text",))]
            args = item["arguments"]
            if not isinstance(args, list):
                raise RecordError("expected a list", record=where, field=f"{key}[{i}].arguments") from err
            nested += [(f"arguments[{j}]", a, ("role", "text")) for j, a in enumerate(args)]
        for name, obj, fields in nested:
            if not isinstance(obj, dict):
                raise RecordError(f"expected an object, got {type(obj).__name__}", record=where,
                                  field=f"{key}[{i}].{name}") from err
            for f in fields:
                if f not in obj:
                    raise RecordError("missing", record=where, field=f"{key}[{i}].{name}.{f}") from err
    raise RecordError(f"malformed structure ({err})", record=where, field=key) from err


@dataclass(slots=True)
class PreparedGold:
    """A gold record decomposed once (reused by every completion of a GRPO group). ``units`` are those of the
    gold units as the formats render them: exact duplicate units once."""

    record: Record
    task: str
    text: str  # normalized text, for the hallucination check
    units: TaskUnits
    sets: dict[str, frozenset[Unit]] = field(default_factory=dict)
    # RE: the gold carries entity types (its schema lists them, or every gold relation is typed)
    typed: bool = False


def prepare_gold(gold: Record | PreparedGold) -> PreparedGold:
    """Validate and decompose a gold record; repeated calls with the same dict object hit a small cache.

    The cache is keyed by object identity (and holds a reference, so ids are not reused while
    cached): do not mutate a gold record after scoring against it.
    """
    if isinstance(gold, PreparedGold):
        return gold
    hit = _GOLD_CACHE.get(id(gold))
    if hit is not None and hit.record is gold:
        return hit
    prepared = _prepare(gold)
    _GOLD_CACHE[id(gold)] = prepared
    if len(_GOLD_CACHE) > _GOLD_CACHE_SIZE:
        _GOLD_CACHE.popitem(last=False)
    return prepared


_GOLD_CACHE: OrderedDict[int, PreparedGold] = OrderedDict()
_GOLD_CACHE_SIZE = 4096


def _prepare(gold: Record) -> PreparedGold:
    if not isinstance(gold, dict):
        raise RecordError(f"gold must be a record object, got {type(gold).__name__}")
    where = gold.get("id")
    task = gold.get("task")
    if task not in TASK_STEPS:
        raise RecordError(f"unknown task {task!r} (expected one of {', '.join(TASKS)})", record=where,
                          field="task")
    text = gold.get("text")
    if not isinstance(text, str):
        raise RecordError("missing or not a string", record=where, field="text")
    units = task_units(gold, task, where=where)  # validates the gold (errors name its fields)
    field_name = TASK_FIELD[task]
    rendered = _as_rendered(task, gold.get(field_name) or [])
    if rendered is not None:
        units = task_units({field_name: rendered}, task, where=where)
    sets = {step: frozenset(keys) for step, keys in units.units.items()}
    labels = gold.get("labels") or {}
    typed = task == "RE" and (bool(labels.get("entity_types")) or units.entity_types)
    return PreparedGold(gold, task, normalize_text(text), units, sets, typed)


def _as_rendered(task: str, items: list) -> list | None:
    """The units as a format renders them (exact duplicate units, and an event's duplicate arguments, once);
    None when nothing repeats."""
    out = dedup_units(task, items)
    if task == "EE":
        events = []
        for ev in out:
            pairs = argument_pairs(ev)
            if len(pairs) != len(ev.get("arguments") or []):
                ev = {**ev, "arguments": [{"role": role, "text": text} for role, text in pairs]}
            events.append(ev)
        changed = len(out) != len(items) or any(a is not b for a, b in zip(events, out, strict=True))
        return events if changed else None
    return out if len(out) != len(items) else None


def hallucinated_spans(spans: list[str], normalized_text: str) -> int:
    """How many non-empty (normalized) spans do not occur in the (normalized) text."""
    return sum(1 for s in spans if s and s not in normalized_text)
