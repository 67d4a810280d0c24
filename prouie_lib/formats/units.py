"""What every target format shares: the task's part of a record, unit keys, de-duplication, schema checks.

A *unit* is one extracted item of a task: an entity (NER), a relation (RE) or an event (EE). Formats render
and parse only the task's part of a structure (``entities`` for NER, ``relations`` for RE, ``events`` for
EE); the other lists stay empty. Units are compared on text, type and role only: offsets never take part.
Two units with the same key are *exact duplicates*: a format renders only the first of them (so two mentions
of "Paris" as a location become one unit), and an event's duplicate arguments are rendered once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from prouie_lib.schema import TASKS, Labels, Record, RecordError, Structure, empty_structure

TASK_FIELD: dict[str, str] = {"NER": "entities", "RE": "relations", "EE": "events"}

EntityKey = tuple[str, str]
RelationKey = tuple[str, str, str, str, str]
EventKey = tuple[str, str, tuple[tuple[str, str], ...]]


def check_task(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {list(TASKS)}")
    return task


def unique(items: Iterable[Any]) -> list[Any]:
    """Items in first-seen order without repeats."""
    seen: set[Any] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def entity_types(labels: Labels) -> list[str]:
    return unique(labels.get("entity_types") or [])


def relation_types(labels: Labels) -> list[str]:
    return unique(labels.get("relation_types") or [])


def event_roles(labels: Labels) -> dict[str, list[str]]:
    """Event type → its roles, in schema order, without repeats."""
    return {etype: unique(roles or []) for etype, roles in (labels.get("event_types") or {}).items()}


def task_labels(labels: Labels, task: str) -> list[str]:
    """The task's own label names: entity types (NER), relation types (RE) or event types (EE)."""
    check_task(task)
    if task == "NER":
        return entity_types(labels)
    if task == "RE":
        return relation_types(labels)
    return list(event_roles(labels))


# ---- unit keys -------------------------------------------------------------------------------------------


def entity_key(entity: dict[str, Any]) -> EntityKey:
    return (entity["type"], entity["text"])


def relation_key(relation: dict[str, Any]) -> RelationKey:
    head, tail = relation["head"], relation["tail"]
    return (relation["type"], head["text"], head.get("type") or "", tail["text"], tail.get("type") or "")


def argument_pairs(event: dict[str, Any]) -> list[tuple[str, str]]:
    """An event's (role, text) pairs in record order, exact duplicates removed."""
    return unique((arg["role"], arg["text"]) for arg in event.get("arguments") or [])


def event_key(event: dict[str, Any]) -> EventKey:
    return (event["type"], event["trigger"]["text"], tuple(sorted(argument_pairs(event))))


def unit_key(task: str, unit: dict[str, Any]) -> tuple:
    if task == "NER":
        return entity_key(unit)
    if task == "RE":
        return relation_key(unit)
    return event_key(unit)


def task_units(structure: Structure | Record, task: str) -> list[dict[str, Any]]:
    return list(structure.get(TASK_FIELD[check_task(task)]) or [])


def dedup_units(task: str, units: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Units without exact duplicates (first occurrence kept, record order)."""
    seen: set[tuple] = set()
    out = []
    for unit in units:
        key = unit_key(task, unit)
        if key not in seen:
            seen.add(key)
            out.append(unit)
    return out


def canonical(structure: Structure | Record, task: str) -> list[tuple]:
    """The task part of a structure as a sorted, duplicate-free list of unit keys (offsets ignored)."""
    return sorted({unit_key(task, unit) for unit in task_units(structure, task)})


def structure_from_keys(task: str, keys: Iterable[tuple]) -> Structure:
    """Rebuild a structure (offsets ``None``) from unit keys."""
    out = empty_structure()
    for key in keys:
        if task == "NER":
            out["entities"].append(make_entity(key[1], key[0]))
        elif task == "RE":
            out["relations"].append(make_relation(key[1], key[2], key[0], key[3], key[4]))
        else:
            out["events"].append(make_event(key[0], key[1], list(key[2])))
    return out


def make_entity(text: str, type_: str) -> dict[str, Any]:
    return {"text": text, "type": type_, "start": None, "end": None}


def make_relation(head: str, head_type: str, type_: str, tail: str, tail_type: str) -> dict[str, Any]:
    return {"head": make_entity(head, head_type), "type": type_, "tail": make_entity(tail, tail_type)}


def make_event(type_: str, trigger: str, arguments: Iterable[tuple[str, str]]) -> dict[str, Any]:
    return {"type": type_, "trigger": {"text": trigger, "start": None, "end": None},
            "arguments": [{"role": role, "text": text, "start": None, "end": None} for role, text in arguments]}


def merge_structures(structures: Iterable[Structure]) -> Structure:
    """Concatenate structures (e.g. predictions for the chunks of a split schema), dropping exact duplicates."""
    merged = empty_structure()
    for structure in structures:
        for field in merged:
            merged[field].extend(structure.get(field) or [])
    return {
        "entities": dedup_units("NER", merged["entities"]),
        "relations": dedup_units("RE", merged["relations"]),
        "events": dedup_units("EE", merged["events"]),
    }


# ---- checks before rendering -----------------------------------------------------------------------------


def renderable_units(record: Record) -> list[dict[str, Any]]:
    """The record's task units, checked against its schema and de-duplicated.

    Raises :class:`RecordError` (naming the record and field) for a label outside the schema or an empty span:
    a target must never silently lose gold units.
    """
    task = check_task(record.get("task", ""))
    labels = record.get("labels") or {}
    rid = record.get("id")
    field = TASK_FIELD[task]
    units = task_units(record, task)
    allowed = set(task_labels(labels, task))
    etypes = set(entity_types(labels))
    roles = event_roles(labels)
    for i, unit in enumerate(units):
        where = f"{field}[{i}]"
        if unit.get("type") not in allowed:
            raise RecordError(f"label {unit.get('type')!r} is not in the record's schema", record=rid,
                              field=f"{where}.type")
        if task == "NER":
            _check_span(unit.get("text"), rid, f"{where}.text")
        elif task == "RE":
            for side in ("head", "tail"):
                part = unit.get(side) or {}
                _check_span(part.get("text"), rid, f"{where}.{side}.text")
                if etypes and part.get("type") not in etypes:
                    raise RecordError(f"entity type {part.get('type')!r} is not in the record's schema",
                                      record=rid, field=f"{where}.{side}.type")
        else:
            _check_span((unit.get("trigger") or {}).get("text"), rid, f"{where}.trigger.text")
            for j, arg in enumerate(unit.get("arguments") or []):
                if arg.get("role") not in roles[unit["type"]]:
                    raise RecordError(f"role {arg.get('role')!r} is not a role of event type {unit['type']!r}",
                                      record=rid, field=f"{where}.arguments[{j}].role")
                _check_span(arg.get("text"), rid, f"{where}.arguments[{j}].text")
    return dedup_units(task, units)


def _check_span(text: Any, rid: Any, field: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise RecordError(f"empty or missing span text {text!r}", record=rid, field=field)


def restrict_record(record: Record, label_subset: Sequence[str]) -> Record:
    """A copy of ``record`` whose schema offers only ``label_subset`` of its task labels (in that order) and
    whose gold keeps only the units with those labels. Entity types of an RE schema are kept whole."""
    task = check_task(record["task"])
    labels: Labels = dict(record.get("labels") or {})  # type: ignore[assignment]
    known = task_labels(labels, task)
    subset = unique(label_subset)
    unknown = [label for label in subset if label not in known]
    if unknown:
        raise RecordError(f"labels {unknown} are not in the schema {known}", record=record.get("id"),
                          field="labels")
    if task == "NER":
        labels["entity_types"] = subset
    elif task == "RE":
        labels["relation_types"] = subset
    else:
        roles = event_roles(labels)
        labels["event_types"] = {etype: roles[etype] for etype in subset}
    keep = set(subset)
    out = dict(record)
    out["labels"] = labels
    field = TASK_FIELD[task]
    out[field] = [unit for unit in task_units(record, task) if unit.get("type") in keep]
    return out
