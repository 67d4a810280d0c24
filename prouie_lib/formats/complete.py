"""The *complete* target format (stage CM): explicit, exhaustive JSON.

Every label of the schema appears once, in schema order, with its (possibly empty) list::

    NER  {"person": ["Barack Obama"], "location": ["Paris"], "organization": []}
    RE   {"work for": [{"head": "John", "head_type": "person", "tail": "IBM", "tail_type": "organization"}],
          "kill": []}
    EE   {"Attack": [{"trigger": "bombed", "attacker": ["rebels"], "place": []}], "Election": []}

``complete-present`` (``CompleteFormat(exhaustive=False)``) is the same JSON without the boilerplate: only the
labels that have units, and in EE only the roles that have arguments; ``{}`` when there is nothing::

    NER  {"person": ["Barack Obama"], "location": ["Paris"]}
    EE   {"Attack": [{"trigger": "bombed", "attacker": ["rebels"]}]}

It exists because a 135M backbone trained on the exhaustive JSON learned to print empty lists (73 tokens per
CoNLL04 target, 4 of 5 lists empty; dev NER F1 0 after CM's NER phase in
``benchmarks/results/cpu-conll04-exhaustive-cm/``); a missing label or role is then not an error when parsing.

RE items carry the head and tail entity types (so strict RE can be scored); each EE event lists every role
of its type, with an empty list for a role without arguments. Within a label, units keep record order; exact
duplicate units are rendered once (see :mod:`prouie_lib.schema`). Output is one line of JSON with
``", "``/``": "`` separators and non-ASCII kept. An event type with a role named ``trigger`` cannot be
rendered (the key would clash) and raises :class:`~prouie_lib.schema.RecordError`.

Parsing is lenient (never raises, never evals): surrounding whitespace, end-of-sequence markers and a
```` ```json ```` fence are removed silently; text before or after the JSON object, broken or truncated JSON
(what was read is kept), a missing schema label or role, a repeated key (lists merged), a value of the wrong
kind, an empty span, an empty label or role, or an empty ``head_type``/``tail_type`` when the schema lists
entity types make the result not well-formed.

Units whose label is outside the schema are *kept*, flagged ``"off_schema": True``, and counted in
``dropped_labels``: a key that is not a schema label (its items read as that label's units; an event of an
unknown type takes every non-trigger key as a role), an RE item whose entity type is outside a non-empty
``entity_types``, an event key that is not a role of its type (that argument is flagged). Scorers decide what
such units cost (see :mod:`prouie_lib.evaluation.protocols`).

A text cut off inside the JSON object (``cut_off``) keeps the units completed before the cut; a half-read RE
or EE item is left out without an error of its own, so the cut is the result's only error when nothing else
is wrong.
"""

from __future__ import annotations

import json
from typing import Any

from prouie_lib import schema
from prouie_lib.formats.base import OFF_SCHEMA, BaseFormat, ParseResult
from prouie_lib.formats.cleanup import strip_eos, strip_fence
from prouie_lib.formats.lenient_json import JsonObject, read_json
from prouie_lib.formats.units import renderable_units
from prouie_lib.schema import Labels, Record, RecordError, check_task, entity_types, event_roles, task_labels

TRIGGER_KEY = "trigger"
RELATION_KEYS = ("head", "head_type", "tail", "tail_type")

_PRESENT_DESCRIPTIONS = {
    "NER": "Answer with a JSON object mapping each entity type found to the list of its spans ({} if none).",
    "RE": 'Answer with a JSON object mapping each relation type found to a list of {"head", "head_type", "tail", '
          '"tail_type"} ({} if none).',
    "EE": 'Answer with a JSON object mapping each event type found to a list of {"trigger", and each role found '
          'with its list of arguments} ({} if none).',
}
_DESCRIPTIONS = {
    "NER": "Answer with a JSON object mapping every entity type to the list of its spans ([] if none).",
    "RE": 'Answer with a JSON object mapping every relation type to a list of {"head", "head_type", "tail", '
          '"tail_type"} ([] if none).',
    "EE": 'Answer with a JSON object mapping every event type to a list of {"trigger", and every role with '
          'its list of arguments} ([] if none).',
}


class CompleteFormat(BaseFormat):
    """Explicit JSON: every schema label, in order, with its possibly empty list (``exhaustive=False``: only the
    labels and roles that have units)."""

    needs_entity_types = True

    def __init__(self, exhaustive: bool = True) -> None:
        self.exhaustive = exhaustive
        self.name = "complete" if exhaustive else "complete-present"

    def describe(self, task: str) -> str:
        """One line telling the model what to output."""
        return (_DESCRIPTIONS if self.exhaustive else _PRESENT_DESCRIPTIONS)[check_task(task)]

    # ---- render ------------------------------------------------------------------------------------------

    def render(self, record: Record) -> str:
        task = record["task"]
        labels = record.get("labels") or {}
        units = renderable_units(record)
        obj: dict[str, Any] = {label: [] for label in task_labels(labels, task)}
        if task == "NER":
            for ent in units:
                obj[ent["type"]].append(ent["text"])
        elif task == "RE":
            for rel in units:
                obj[rel["type"]].append({"head": rel["head"]["text"], "head_type": rel["head"].get("type") or "",
                                         "tail": rel["tail"]["text"], "tail_type": rel["tail"].get("type") or ""})
        else:
            roles = event_roles(labels)
            for etype, role_list in roles.items():
                if TRIGGER_KEY in role_list:
                    raise RecordError(f"event type {etype!r} has a role named {TRIGGER_KEY!r}, which the complete "
                                      "format uses for the trigger", record=record.get("id"), field="labels")
            for event in units:
                item: dict[str, Any] = {TRIGGER_KEY: event["trigger"]["text"]}
                item.update({role: [] for role in roles[event["type"]]})
                for arg in event.get("arguments") or []:
                    if arg["text"] not in item[arg["role"]]:
                        item[arg["role"]].append(arg["text"])
                obj[event["type"]].append(item)
        if not self.exhaustive:
            obj = {label: [_without_empty_roles(item) for item in items] for label, items in obj.items() if items}
        return json.dumps(obj, ensure_ascii=False)

    # ---- parse -------------------------------------------------------------------------------------------

    def _parse(self, text: str, labels: Labels, task: str, result: ParseResult) -> None:
        check_task(task)
        body = strip_fence(strip_eos(text))
        start = body.find("{")
        if start < 0:
            result.errors.append("no JSON object found")
            return
        if body[:start].strip():
            result.errors.append(f"text before the JSON object: {body[:start].strip()[:40]!r}")
        read = read_json(body, start)
        result.errors.extend(read.errors)
        result.cut_off = read.cut_off
        rest = strip_eos(body[read.end:])
        if read.complete and rest:
            result.errors.append(f"text after the JSON object: {rest[:40]!r}")
        if not isinstance(read.value, JsonObject):
            return
        allowed = task_labels(labels, task)
        roles_of = event_roles(labels)
        seen: list[str] = []
        for key, value in read.value:
            known = key in allowed
            if not key.strip():
                result.errors.append("empty label")
            if key in seen:
                result.errors.append(f"label {key!r} appears more than once")
            seen.append(key)
            for item in _as_list(value, f"label {key!r}", result):
                if id(item) in read.partial:  # a unit cut off by the end of the text
                    continue
                if task == "NER":
                    span = _span(item, f"{key!r} item", result)
                    if span is not None:
                        entity = schema.entity(span, key)
                        if not known:
                            entity[OFF_SCHEMA] = True
                            result.dropped_labels += 1
                        result.structure["entities"].append(entity)
                elif task == "RE":
                    rel = _relation(item, key, labels, result)
                    if rel is not None:
                        if not known and not rel.get(OFF_SCHEMA):
                            rel[OFF_SCHEMA] = True
                            result.dropped_labels += 1
                        result.structure["relations"].append(rel)
                else:
                    event = _event(item, key, roles_of.get(key), result, every_role=self.exhaustive)
                    if event is not None:
                        if not known:
                            event[OFF_SCHEMA] = True
                            result.dropped_labels += 1
                        result.structure["events"].append(event)
        if read.complete and self.exhaustive:  # a cut-off object is already reported; don't add one error per unseen label
            missing = [label for label in allowed if label not in seen]
            if missing:
                result.errors.append(f"missing labels {missing}")


def _without_empty_roles(item: Any) -> Any:
    return {k: v for k, v in item.items() if v != []} if isinstance(item, dict) else item


def _as_list(value: Any, what: str, result: ParseResult) -> list:
    if isinstance(value, list) and not isinstance(value, JsonObject):
        return value
    result.errors.append(f"{what}: expected a list, got {type(value).__name__}")
    return [value] if isinstance(value, (str, JsonObject)) else []


def _span(value: Any, what: str, result: ParseResult) -> str | None:
    if not isinstance(value, str):
        result.errors.append(f"{what}: expected a string, got {type(value).__name__}")
        return None
    if not value.strip():
        result.errors.append(f"{what}: empty span")
        return None
    return value


def _relation(item: Any, rtype: str, labels: Labels, result: ParseResult) -> dict | None:
    if not isinstance(item, JsonObject):
        result.errors.append(f"{rtype!r} item: expected an object, got {type(item).__name__}")
        return None
    fields = dict(item)
    extra = [k for k in fields if k not in RELATION_KEYS]
    if extra:
        result.errors.append(f"{rtype!r} item: unexpected keys {extra}")
    head = _span(fields.get("head"), f"{rtype!r} head", result)
    tail = _span(fields.get("tail"), f"{rtype!r} tail", result)
    if head is None or tail is None:
        return None
    types = []
    known = entity_types(labels)
    for key in ("head_type", "tail_type"):
        value = fields.get(key)
        if not isinstance(value, str):
            result.errors.append(f"{rtype!r} item: {key} missing or not a string")
            value = ""
        elif known and not value.strip():
            result.errors.append(f"{rtype!r} item: empty {key} (the schema lists entity types)")
        types.append(value)
    rel = schema.relation(head, types[0], rtype, tail, types[1])
    if known and any(t and t not in known for t in types):
        rel[OFF_SCHEMA] = True
        result.dropped_labels += 1
    return rel


def _event(item: Any, etype: str, roles: list[str] | None, result: ParseResult, *,
           every_role: bool = True) -> dict | None:
    """An event item; ``roles`` is None for an event type outside the schema (every key is then a role).

    ``every_role``: the item must list every role of its type (the exhaustive format)."""
    if not isinstance(item, JsonObject):
        result.errors.append(f"{etype!r} item: expected an object, got {type(item).__name__}")
        return None
    trigger = None
    arguments: list[tuple[str, str]] = []
    off_roles: set[str] = set()
    seen: set[str] = set()
    for key, value in item:
        if key == TRIGGER_KEY:
            trigger = _span(value, f"{etype!r} trigger", result)
            continue
        if not key.strip():
            result.errors.append(f"{etype!r} item: empty role")
        if roles is not None and key not in roles:
            off_roles.add(key)
        seen.add(key)
        for arg in _as_list(value, f"{etype!r} role {key!r}", result):
            span = _span(arg, f"{etype!r} role {key!r} item", result)
            if span is not None:
                arguments.append((key, span))
    if trigger is None:
        if not any(k == TRIGGER_KEY for k, _ in item):
            result.errors.append(f"{etype!r} item: no trigger")
        return None
    missing = [role for role in roles or [] if role not in seen] if every_role else []
    if missing:
        result.errors.append(f"{etype!r} event {trigger!r}: missing roles {missing}")
    event = schema.event(etype, trigger, arguments)
    for arg in event["arguments"]:
        if arg["role"] in off_roles:
            arg[OFF_SCHEMA] = True
            result.dropped_labels += 1
    return event
