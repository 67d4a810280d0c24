"""What the target formats share beyond :mod:`prouie_lib.schema`: canonical unit keys, structures rebuilt from
keys, merging, and the schema checks a record passes before it is rendered.

Formats render and parse only the task's part of a structure (``entities`` for NER, ``relations`` for RE,
``events`` for EE); the other lists stay empty. A format renders exact duplicate units once (so two mentions of
"Paris" as a location become one unit), and an event's duplicate arguments once. Units, their keys and the
label schema helpers live in :mod:`prouie_lib.schema`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from prouie_lib.schema import (
    TASK_FIELD,
    Labels,
    Record,
    RecordError,
    Structure,
    check_task,
    dedup_units,
    empty_structure,
    entity,
    entity_types,
    event,
    event_roles,
    relation,
    task_labels,
    unique,
    unit_key,
    units_of,
)


def canonical(structure: Structure | Record, task: str) -> list[tuple]:
    """The task part of a structure as a sorted, duplicate-free list of unit keys (offsets ignored)."""
    return sorted({unit_key(task, unit) for unit in units_of(structure, task)})


def structure_from_keys(task: str, keys: Iterable[tuple]) -> Structure:
    """Rebuild a structure (offsets ``None``) from unit keys."""
    out = empty_structure()
    for key in keys:
        if task == "NER":
            out["entities"].append(entity(key[1], key[0]))
        elif task == "RE":
            out["relations"].append(relation(key[1], key[2], key[0], key[3], key[4]))
        else:
            out["events"].append(event(key[0], key[1], list(key[2])))
    return out


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
    units = units_of(record, task)
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
    out[field] = [unit for unit in units_of(record, task) if unit.get("type") in keep]
    return out
