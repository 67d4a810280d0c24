"""The unified record: one JSON-native shape for NER, RE and EE examples.

Every reader produces, every format renders/parses, every metric and reward consumes these
plain dicts (JSON Lines on disk, ``datasets.Dataset`` rows in training)::

    {"id": "CoNLL04/test/17", "dataset": "CoNLL04", "task": "RE", "split": "test",
     "text": "...",
     "labels": {"entity_types": [...], "relation_types": [...], "event_types": {"Type": ["Role"]}},
     "entities":  [{"text": "John Smith", "type": "person", "start": 0, "end": 10}],
     "relations": [{"head": <entity>, "type": "work for", "tail": <entity>}],
     "events":    [{"type": "Attack", "trigger": {"text": "bombed", "start": 12, "end": 18},
                    "arguments": [{"role": "Attacker", "text": "rebels", "start": 0, "end": 6}]}]}

``start``/``end`` are character offsets into ``text`` (end exclusive), ``None`` only where the
source (or a model output) has no offsets. A *structure* is the extraction part alone:
``{"entities": [...], "relations": [...], "events": [...]}``.

This module is the one home of the vocabulary every layer shares: the record and its builders, tasks and
their label schemas, *units* and their keys, text normalization, and records indexed by id.

A *unit* is one extracted item of a task: an entity (NER), a relation (RE) or an event (EE), read from the
task's field of a structure (:data:`TASK_FIELD`). Unit keys compare text, type and role only: offsets never
take part. Two units with the same key are *exact duplicates*.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypedDict

TASKS: tuple[str, ...] = ("NER", "RE", "EE")
# Difficulty order used by the CM curriculum (NER < RE < EE).
TASK_DIFFICULTY: dict[str, int] = {"NER": 0, "RE": 1, "EE": 2}
# The metric that stands for a task in headline tables (F1).
HEADLINE_METRIC: dict[str, str] = {"NER": "ner", "RE": "re_strict", "EE": "ee_arg_cls"}
RECORD_FIELDS: tuple[str, ...] = (
    "id", "dataset", "task", "split", "text", "labels", "entities", "relations", "events",
)
STRUCTURE_FIELDS: tuple[str, ...] = ("entities", "relations", "events")
# The structure field that holds a task's units (the other fields are ignored for that task).
TASK_FIELD: dict[str, str] = {"NER": "entities", "RE": "relations", "EE": "events"}
# Relation types that mean "no relation" (InstructUIE's loader: ``type == 'NA' or type == ''``); scorers and
# rewards drop such relations on both sides.
NA_RELATION_TYPES = frozenset({"NA", ""})
LABEL_KEYS: tuple[str, ...] = ("entity_types", "relation_types", "event_types")


class Span(TypedDict):
    text: str
    start: int | None
    end: int | None


class Entity(TypedDict):
    text: str
    type: str
    start: int | None
    end: int | None


class Relation(TypedDict):
    head: Entity
    type: str
    tail: Entity


class Argument(TypedDict):
    role: str
    text: str
    start: int | None
    end: int | None


class Event(TypedDict):
    type: str
    trigger: Span
    arguments: list[Argument]


class Labels(TypedDict, total=False):
    entity_types: list[str]
    relation_types: list[str]
    event_types: dict[str, list[str]]


Record = dict[str, Any]
Structure = dict[str, list[dict[str, Any]]]


class RecordError(ValueError):
    """A malformed input record; the message names the file, the record and the field."""

    def __init__(self, message: str, *, file: str | None = None, record: str | int | None = None,
                 field: str | None = None) -> None:
        self.file, self.record, self.field, self.reason = file, record, field, message
        where = []
        if file is not None:
            where.append(str(file))
        if record is not None:
            where.append(f"record {record}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


def entity(text: str, type_: str, start: int | None = None, end: int | None = None) -> Entity:
    return {"text": text, "type": type_, "start": start, "end": end}


def span(text: str, start: int | None = None, end: int | None = None) -> Span:
    return {"text": text, "start": start, "end": end}


def argument(role: str, text: str, start: int | None = None, end: int | None = None) -> Argument:
    return {"role": role, "text": text, "start": start, "end": end}


def relation(head: str, head_type: str, type_: str, tail: str, tail_type: str) -> Relation:
    """A relation between two entities given by text and type (offsets ``None``)."""
    return {"head": entity(head, head_type), "type": type_, "tail": entity(tail, tail_type)}


def event(type_: str, trigger: str, arguments: Iterable[tuple[str, str]] = ()) -> Event:
    """An event from its type, trigger text and (role, text) argument pairs (offsets ``None``)."""
    return {"type": type_, "trigger": span(trigger), "arguments": [argument(role, text) for role, text in arguments]}


def empty_structure() -> Structure:
    return {"entities": [], "relations": [], "events": []}


def structure_of(record: Record) -> Structure:
    """The extraction part of a record (or of a prediction line)."""
    return {key: list(record.get(key) or []) for key in STRUCTURE_FIELDS}


def make_record(*, id: str, dataset: str, task: str, split: str, text: str, labels: Labels,
                entities: list[Entity] | None = None, relations: list[Relation] | None = None,
                events: list[Event] | None = None) -> Record:
    """Build a record with every field present, in the canonical field order."""
    return {"id": id, "dataset": dataset, "task": task, "split": split, "text": text,
            "labels": dict(labels), "entities": list(entities or []),
            "relations": list(relations or []), "events": list(events or [])}


def index_by_id(records: Iterable[Record], *, file: str | None = None, kind: str = "",
                check: Callable[[Record, Any], None] | None = None) -> dict[str, Record]:
    """Records by ``str(id)`` in input order. A record without an id, or with an id seen before, raises a
    :class:`RecordError` naming ``file`` and the record (``kind`` names them in the message: ``"gold"``);
    ``check(record, id)`` runs on each record before the duplicate test."""
    out: dict[str, Record] = {}
    for i, record in enumerate(records):
        rid = record.get("id") if isinstance(record, Mapping) else None
        if rid is None:
            raise RecordError(" ".join(filter(None, (kind, "record has no id"))), file=file, record=i + 1,
                              field="id")
        if check is not None:
            check(record, rid)
        if str(rid) in out:
            raise RecordError(" ".join(filter(None, ("duplicate", kind, "id"))), file=file, record=rid,
                              field="id")
        out[str(rid)] = record
    return out


# ---- tasks and label schemas --------------------------------------------------------------------------------


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


# ---- units and their keys -----------------------------------------------------------------------------------

EntityKey = tuple[str, str]
RelationKey = tuple[str, str, str, str, str]
EventKey = tuple[str, str, tuple[tuple[str, str], ...]]


def units_of(structure: Structure | Record, task: str) -> list[dict[str, Any]]:
    """The task's units of a structure (or record): a copy of its :data:`TASK_FIELD` list."""
    return list(structure.get(TASK_FIELD[check_task(task)]) or [])


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


# ---- text normalization -------------------------------------------------------------------------------------

_NORMALIZED: dict[str, str] = {}  # memo: labels and spans repeat across a GRPO group and a dataset
_NORMALIZED_MAX = 200_000


def normalize_text(text: Any) -> str:
    """The kit's text comparison (the ``prouie`` protocol, the SFR steps, error analysis): strip, collapse every
    whitespace run to one space, casefold; non-strings become ``""``."""
    if text.__class__ is not str:
        return " ".join(text.split()).casefold() if isinstance(text, str) else ""
    found = _NORMALIZED.get(text)
    if found is None:
        if len(_NORMALIZED) >= _NORMALIZED_MAX:
            _NORMALIZED.clear()
        found = _NORMALIZED[text] = " ".join(text.split()).casefold()
    return found
