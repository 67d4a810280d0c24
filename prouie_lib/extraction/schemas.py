"""The label schema an extraction asks for: typed on the command line, given as a dict, or a registered dataset's.

Three ways to state one (all give an :class:`ExtractionSchema`: a task and its ``labels`` as in a unified record):

- names: ``schema_from_names("NER", entity_types="person, location")``; RE takes ``relation_types`` (and optional
  ``entity_types``), EE ``events="Attack: attacker, target, place; Injure: victim"``;
- a labels dict: ``schema_from_labels("RE", {"relation_types": [...], "entity_types": [...]})``;
- a dataset: ``dataset_schema("CoNLL04")`` — the schema its records are prompted with (verbalized labels).

An empty schema (no label for the task) is an error: a prompt listing no types asks for nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prouie_lib.schema import TASKS, Labels, RecordError, task_labels, unique

TASK_NAMES = {task.lower(): task for task in TASKS}


@dataclass(frozen=True)
class ExtractionSchema:
    """A task and the labels offered to the model (``labels`` as in a unified record)."""

    task: str
    labels: Labels

    def key(self) -> str:
        """One string per distinct schema: prompts with the same key share their instruction prefix."""
        return json.dumps([self.task, self.labels], sort_keys=True, ensure_ascii=False)


def canonical_task(task: str) -> str:
    """``ner``/``NER`` → ``NER``; anything else is a ValueError naming the known tasks."""
    found = TASK_NAMES.get(str(task).strip().lower())
    if found is None:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(t.lower() for t in TASKS)}")
    return found


def split_names(text: str | Sequence[str] | None) -> list[str]:
    """``"person, location"`` (or a list) → ``["person", "location"]``: stripped, empty items and repeats dropped."""
    if text is None:
        return []
    items = text.split(",") if isinstance(text, str) else list(text)
    return unique(" ".join(str(item).split()) for item in items if str(item).strip())


def parse_events(text: str | Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """``"Attack: attacker, target; Injure: victim"`` → ``{"Attack": ["attacker", "target"], "Injure": ["victim"]}``.

    Events are separated by ``;``, an event type from its roles by ``:`` (an event may have no roles)."""
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return {" ".join(str(k).split()): split_names(v) for k, v in text.items() if str(k).strip()}
    events: dict[str, list[str]] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        etype, _, roles = part.partition(":")
        name = " ".join(etype.split())
        if not name:
            raise ValueError(f"event schema {text!r}: {part.strip()!r} has roles but no event type before ':'")
        events.setdefault(name, [])
        events[name] += [r for r in split_names(roles) if r not in events[name]]
    return events


def schema_from_names(task: str, *, entity_types: str | Sequence[str] | None = None,
                      relation_types: str | Sequence[str] | None = None,
                      events: str | Mapping[str, Sequence[str]] | None = None,
                      where: str | None = None) -> ExtractionSchema:
    """The schema of ``task`` from label names (see the module docstring); an empty schema is an error naming
    ``where`` (its source) when given."""
    task = canonical_task(task)
    labels: Labels = {}
    if task == "NER":
        labels["entity_types"] = split_names(entity_types)
    elif task == "RE":
        labels["relation_types"] = split_names(relation_types)
        labels["entity_types"] = split_names(entity_types)
    else:
        labels["event_types"] = parse_events(events)
    return checked(ExtractionSchema(task, labels), where=where)


def schema_from_labels(task: str, labels: Any, *, where: str | None = None) -> ExtractionSchema:
    """The schema of ``task`` from a unified ``labels`` dict (a JSON object); ``where`` names its source in errors."""
    task = canonical_task(task)
    if not isinstance(labels, Mapping):
        raise RecordError("expected an object like {\"entity_types\": [...]}", file=where, field="labels")
    for key in ("entity_types", "relation_types"):
        value = labels.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise RecordError("expected a list of strings", file=where, field=f"labels.{key}")
    events = labels.get("event_types")
    if events is not None and not (isinstance(events, Mapping) and all(
            isinstance(roles, list) and all(isinstance(r, str) for r in roles) for roles in events.values())):
        raise RecordError("expected an object {event type: [roles]}", file=where, field="labels.event_types")
    return schema_from_names(task, entity_types=labels.get("entity_types"),
                             relation_types=labels.get("relation_types"), events=events, where=where)


def checked(schema: ExtractionSchema, *, where: str | None = None) -> ExtractionSchema:
    """``schema`` unless it offers no label for its task (a ValueError naming what to give)."""
    if not task_labels(schema.labels, schema.task):
        what = {"NER": "entity types (--labels)", "RE": "relation types (--relations)",
                "EE": "event types with their roles (--events)"}[schema.task]
        raise RecordError(f"empty schema: {schema.task} needs at least one of its {what}", file=where,
                          field="labels")
    return schema


def dataset_schema(name: str, task: str | None = None) -> ExtractionSchema:
    """The schema a registered dataset's records are prompted with (``task`` only for datasets of several tasks).

    Unknown names are a ValueError naming close matches; the dataset's files must be present where its schema
    is read from them (``prouie data list`` says where)."""
    from prouie_lib.data.loading import resolve_labels
    from prouie_lib.data.registry import get_spec

    spec = get_spec(name)
    if spec.task == "mixed":
        return _schema_from_records(spec.name, task)
    if task is not None and canonical_task(task) != spec.task:
        raise ValueError(f"dataset {spec.name} is a {spec.task} dataset, not {canonical_task(task)}")
    labels = resolve_labels(spec, spec.task)
    return checked(ExtractionSchema(spec.task, spec.verbalizer.labels(labels) if spec.verbalizer else labels))


def _schema_from_records(name: str, task: str | None) -> ExtractionSchema:
    """A dataset of several tasks (its records carry their own schema): the first record of ``task``'s."""
    from prouie_lib.data import load_examples
    from prouie_lib.data import split_names as dataset_splits

    if task is None:
        raise ValueError(f"dataset {name} holds several tasks: give --task too")
    task = canonical_task(task)
    for split in dataset_splits(name):
        for record in load_examples(name, split):
            if record["task"] == task:
                return checked(ExtractionSchema(task, dict(record["labels"])))
    raise ValueError(f"dataset {name} has no {task} records")


def make_schema(*, task: str | None = None, labels: str | Sequence[str] | None = None,
                relations: str | Sequence[str] | None = None, events: str | Mapping[str, Sequence[str]] | None = None,
                like: str | None = None) -> ExtractionSchema:
    """One schema from the command line's words: ``like`` a dataset, or ``task`` with its label names
    (``labels``: entity types; ``relations``: relation types; ``events``: ``"Type: role, role; Type: role"``)."""
    if like:
        if labels or relations or events:
            raise ValueError("--like takes the dataset's whole schema: leave out --labels, --relations and --events")
        return dataset_schema(like, task)
    if task is None:
        raise ValueError("give --task (ner, re or ee) with its labels, or --like DATASET")
    return schema_from_names(task, entity_types=labels, relation_types=relations, events=events)
