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
"""

from __future__ import annotations

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
