"""Validate unified records; in lenient mode repair what is safely repairable and count the rest.

Checks (each failure names the file, the record and the field, e.g. ``entities[2].start``):

* every field of :data:`prouie_lib.schema.RECORD_FIELDS` is present, nothing else, with the right type;
* ``text`` is a non-empty string, ``task`` is one of NER/RE/EE and the record holds no structure
  that the task cannot have (relations in an NER record, events in an NER/RE record);
* ``labels`` holds the task's primary key (NER ``entity_types``, RE ``relation_types``, EE
  ``event_types``); every label used (entity type, relation type, event type, role) is in it
  (a key that is absent is not checked);
* every span (entity, relation head/tail, trigger, argument) has a non-empty ``text`` and either
  both offsets ``None`` — then ``text`` must occur in the record text — or
  ``0 <= start < end <= len(text)`` with ``record.text[start:end] == span.text``.

Lenient mode (for sources known to be noisy) never raises on a bad record; it returns a repaired
copy, or ``None`` when the whole record must go, and counts every action in a
:class:`ValidationReport`:

* **Repair — re-locating a shifted span.** A span whose offsets do not match its text is searched
  in the record text as a whole word (case-sensitive, no letter/digit directly before or after).
  Exactly one occurrence: the span moves there. Several occurrences: the span moves only when the
  unit holding it (e.g. a relation) is repeated exactly as many times in the record as there are
  occurrences; then the k-th copy gets the k-th occurrence (this is how IE_INSTRUCTIONS CoNLL04
  encodes two relations to two mentions of one name). Anything else is ambiguous and the unit is
  dropped. One repair is counted per span moved.
* **Drop.** An unrepairable span, a label outside the schema or a malformed unit drops the smallest
  unit that holds it (an argument, else the entity/relation/event); an empty text or a malformed
  record drops the record. One drop is counted per unit dropped.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from prouie_lib.schema import LABEL_KEYS, RECORD_FIELDS, TASKS, Record, RecordError

_PRIMARY_LABEL_KEY = {"NER": "entity_types", "RE": "relation_types", "EE": "event_types"}
_FORBIDDEN_BY_TASK = {"NER": ("relations", "events"), "RE": ("events",), "EE": ("relations",)}
_UNIT_NAME = {"entities": "entity", "relations": "relation", "events": "event"}
MAX_KEPT_ISSUES = 500


@dataclass
class Issue:
    """One repaired or dropped thing, for the validation report."""

    action: str  # "repaired" | "dropped"
    unit: str  # "span", "argument", "entity", "relation", "event", "record"
    file: str | None
    record: str | int | None
    field: str | None
    message: str

    def as_row(self) -> dict[str, Any]:
        return {"action": self.action, "unit": self.unit, "file": self.file, "record": self.record,
                "field": self.field, "message": self.message}


@dataclass
class ValidationReport:
    """Counts of lenient-mode repairs and drops (every one), plus the first issues in detail.

    ``omitted`` counts source information that the unified schema does not represent by design
    (e.g. PHEE event attributes, BioNLP negation/speculation); readers document each kind.
    """

    repairs: int = 0
    drops: int = 0
    by_kind: Counter = field(default_factory=Counter)
    omitted: Counter = field(default_factory=Counter)
    issues: list[Issue] = field(default_factory=list)

    def add(self, action: str, unit: str, err: RecordError) -> None:
        if action == "repaired":
            self.repairs += 1
        else:
            self.drops += 1
        self.by_kind[f"{action} {unit}"] += 1
        if len(self.issues) < MAX_KEPT_ISSUES:
            self.issues.append(Issue(action, unit, err.file, err.record, err.field, err.reason))

    def omit(self, what: str, n: int = 1) -> None:
        self.omitted[what] += n

    def merge(self, other: ValidationReport) -> None:
        self.repairs += other.repairs
        self.drops += other.drops
        self.by_kind.update(other.by_kind)
        self.omitted.update(other.omitted)
        room = MAX_KEPT_ISSUES - len(self.issues)
        self.issues.extend(other.issues[:max(room, 0)])

    def rows(self) -> list[dict[str, Any]]:
        return [issue.as_row() for issue in self.issues]

    def summary(self) -> str:
        parts = [f"{self.repairs} repairs", f"{self.drops} drops"]
        if self.by_kind:
            parts.append(", ".join(f"{k}: {v}" for k, v in sorted(self.by_kind.items())))
        if self.omitted:
            parts.append("omitted by design: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.omitted.items())))
        return "; ".join(parts)


@dataclass
class _Problem:
    unit: tuple[str, int]  # ("entities", 3)
    arg_index: int | None  # argument index inside an event, when the problem is local to it
    field: str
    message: str
    span: dict | None = None  # the broken span when the offsets (only) are wrong
    path: tuple = ()  # where the span lives inside the unit


# ----------------------------------------------------------------------------------------------
# structure


def _check_structure(record: Any, err) -> None:
    if not isinstance(record, dict):
        raise err(f"expected a JSON object, got {type(record).__name__}", None)
    missing = [key for key in RECORD_FIELDS if key not in record]
    if missing:
        raise err("missing field", missing[0])
    extra = [key for key in record if key not in RECORD_FIELDS]
    if extra:
        raise err(f"unknown field (allowed: {', '.join(RECORD_FIELDS)})", extra[0])
    for key in ("id", "dataset", "task", "split", "text"):
        if not isinstance(record[key], str):
            raise err(f"expected a string, got {type(record[key]).__name__}", key)
    for key in ("id", "dataset", "split"):
        if not record[key].strip():
            raise err("empty string", key)
    if record["task"] not in TASKS:
        raise err(f"unknown task {record['task']!r} (expected one of {', '.join(TASKS)})", "task")
    for key in ("entities", "relations", "events"):
        if not isinstance(record[key], list):
            raise err(f"expected a list, got {type(record[key]).__name__}", key)
    for key in _FORBIDDEN_BY_TASK[record["task"]]:
        if record[key]:
            raise err(f"a {record['task']} record cannot hold {key}", key)
    _check_labels(record["labels"], record["task"], err)


def _check_labels(labels: Any, task: str, err) -> None:
    if not isinstance(labels, dict):
        raise err("expected an object", "labels")
    for key in labels:
        if key not in LABEL_KEYS:
            raise err(f"unknown label key (allowed: {', '.join(LABEL_KEYS)})", f"labels.{key}")
    for key in ("entity_types", "relation_types"):
        if key in labels and not (isinstance(labels[key], list) and all(isinstance(x, str) for x in labels[key])):
            raise err("expected a list of strings", f"labels.{key}")
    if "event_types" in labels:
        ev = labels["event_types"]
        if not isinstance(ev, dict) or not all(
                isinstance(roles, list) and all(isinstance(r, str) for r in roles) for roles in ev.values()):
            raise err("expected an object mapping event type -> list of roles", "labels.event_types")
    primary = _PRIMARY_LABEL_KEY[task]
    if primary not in labels:
        raise err(f"a {task} record needs the label schema key {primary!r}", f"labels.{primary}")


# ----------------------------------------------------------------------------------------------
# spans and labels


def _span_problem(span: Any, text: str, field_name: str, unit, arg_index, path) -> _Problem | None:
    """A problem with one span (offsets and text), or None."""
    if not isinstance(span, dict):
        return _Problem(unit, arg_index, field_name, "expected an object")
    value = span.get("text")
    if not isinstance(value, str) or not value:
        return _Problem(unit, arg_index, f"{field_name}.text", "missing or empty span text")
    start, end = span.get("start"), span.get("end")
    for key, off in (("start", start), ("end", end)):
        if off is not None and (not isinstance(off, int) or isinstance(off, bool)):
            return _Problem(unit, arg_index, f"{field_name}.{key}", f"offset must be an integer or null, got {off!r}")
    if (start is None) != (end is None):
        return _Problem(unit, arg_index, f"{field_name}.{'end' if end is None else 'start'}",
                        "start and end must both be set or both be null")
    if start is None:
        if value not in text:
            return _Problem(unit, arg_index, f"{field_name}.text", f"span {value!r} (no offsets) does not occur in the text")
        return None
    if not 0 <= start < end <= len(text):
        return _Problem(unit, arg_index, f"{field_name}.start",
                        f"offsets [{start}, {end}) outside the text (length {len(text)})", span, path)
    if text[start:end] != value:
        return _Problem(unit, arg_index, f"{field_name}.start",
                        f"offsets [{start}, {end}) select {text[start:end]!r}, not {value!r}", span, path)
    return None


def _label_problem(value: Any, allowed, kind: str, field_name: str, unit, arg_index) -> _Problem | None:
    if not isinstance(value, str) or not value:
        return _Problem(unit, arg_index, field_name, f"missing or empty {kind}")
    if allowed is not None and value not in allowed:
        return _Problem(unit, arg_index, field_name, f"{kind} {value!r} is not in the label schema")
    return None


def _record_problems(record: Record) -> list[_Problem]:
    text, labels = record["text"], record["labels"]
    entity_types = labels.get("entity_types")
    relation_types = labels.get("relation_types")
    event_types = labels.get("event_types")
    problems: list[_Problem | None] = []
    for i, ent in enumerate(record["entities"]):
        unit, name = ("entities", i), f"entities[{i}]"
        problems.append(_span_problem(ent, text, name, unit, None, ()))
        if isinstance(ent, dict):
            problems.append(_label_problem(ent.get("type"), entity_types, "entity type", f"{name}.type", unit, None))
    for i, rel in enumerate(record["relations"]):
        unit, name = ("relations", i), f"relations[{i}]"
        if not isinstance(rel, dict):
            problems.append(_Problem(unit, None, name, "expected an object"))
            continue
        problems.append(_label_problem(rel.get("type"), relation_types, "relation type", f"{name}.type", unit, None))
        for side in ("head", "tail"):
            arg = rel.get(side)
            problems.append(_span_problem(arg, text, f"{name}.{side}", unit, None, (side,)))
            if isinstance(arg, dict):
                problems.append(_label_problem(arg.get("type"), entity_types, "entity type",
                                               f"{name}.{side}.type", unit, None))
    for i, event in enumerate(record["events"]):
        unit, name = ("events", i), f"events[{i}]"
        if not isinstance(event, dict) or not isinstance(event.get("arguments"), list):
            problems.append(_Problem(unit, None, name, "expected an object with an 'arguments' list"))
            continue
        etype = event.get("type")
        problems.append(_label_problem(etype, event_types, "event type", f"{name}.type", unit, None))
        problems.append(_span_problem(event.get("trigger"), text, f"{name}.trigger", unit, None, ("trigger",)))
        roles = event_types.get(etype) if isinstance(event_types, dict) else None
        for j, arg in enumerate(event["arguments"]):
            aname = f"{name}.arguments[{j}]"
            problems.append(_span_problem(arg, text, aname, unit, j, ("arguments", j)))
            if isinstance(arg, dict):
                allowed = roles if event_types is not None and etype in event_types else None
                problems.append(_label_problem(arg.get("role"), allowed, "role", f"{aname}.role", unit, j))
    return [p for p in problems if p is not None]


# ----------------------------------------------------------------------------------------------
# lenient repair


def _word_occurrences(text: str, value: str) -> list[int]:
    before = r"(?<![0-9A-Za-z])" if value[:1].isalnum() else ""
    after = r"(?![0-9A-Za-z])" if value[-1:].isalnum() else ""
    return [m.start() for m in re.finditer(before + re.escape(value) + after, text)]


def _relocations(record: Record, broken: list[_Problem]) -> dict[int, int]:
    """Map id(problem) -> new start for every broken span that can be re-located safely."""
    text = record["text"]
    copies: dict[tuple[str, int], tuple[int, int]] = {}  # unit -> (ordinal, total copies)
    for kind in ("entities", "relations", "events"):
        keys = [json.dumps(u, sort_keys=True) for u in record[kind]]
        totals, seen = Counter(keys), Counter()
        for i, key in enumerate(keys):
            copies[(kind, i)] = (seen[key], totals[key])
            seen[key] += 1
    groups: dict[tuple, list[_Problem]] = {}
    for problem in broken:
        span = problem.span
        groups.setdefault((span["text"], span["start"], span["end"]), []).append(problem)
    moves: dict[int, int] = {}
    for (value, _start, _end), members in groups.items():
        found = _word_occurrences(text, value)
        multiplicity = max(copies[p.unit][1] for p in members)
        if len(found) == 1:
            moves.update({id(p): found[0] for p in members})
        elif len(found) > 1 and len(found) == multiplicity:
            moves.update({id(p): found[copies[p.unit][0]] for p in members if copies[p.unit][1] == multiplicity})
    return moves


def _repair(record: Record, problems: list[_Problem], *, file, record_index, report: ValidationReport) -> Record:
    repaired = copy.deepcopy(record)
    broken = [p for p in problems if p.span is not None]
    moves = _relocations(record, broken)
    drop_units: set[tuple[str, int]] = set()
    drop_args: dict[int, set[int]] = {}
    for problem in problems:
        err = RecordError(problem.message, file=file, record=record_index, field=problem.field)
        if id(problem) in moves:
            kind, i = problem.unit
            target = repaired[kind][i]
            for step in problem.path:
                target = target[step]
            start = moves[id(problem)]
            target["start"], target["end"] = start, start + len(target["text"])
            err = RecordError(f"{problem.message}; re-located to [{start}, {target['end']})",
                              file=file, record=record_index, field=problem.field)
            report.add("repaired", "span", err)
        elif problem.arg_index is not None:
            if problem.arg_index not in drop_args.setdefault(problem.unit[1], set()):
                drop_args[problem.unit[1]].add(problem.arg_index)
                report.add("dropped", "argument", err)
        elif problem.unit not in drop_units:
            drop_units.add(problem.unit)
            report.add("dropped", _UNIT_NAME[problem.unit[0]], err)
    for i, bad in drop_args.items():
        if ("events", i) not in drop_units:
            event = repaired["events"][i]
            event["arguments"] = [a for j, a in enumerate(event["arguments"]) if j not in bad]
    for kind in ("entities", "relations", "events"):
        repaired[kind] = [u for i, u in enumerate(repaired[kind]) if (kind, i) not in drop_units]
    return repaired


# ----------------------------------------------------------------------------------------------


def validate_record(record: Any, *, file: str | None = None, record_index: str | int | None = None,
                    lenient: bool = False, report: ValidationReport | None = None) -> Record | None:
    """Check one unified record against its own ``labels`` schema.

    Strict (default): return the record unchanged, or raise :class:`RecordError` naming ``file``,
    ``record_index`` and the field. Lenient: return the record, a repaired copy, or ``None`` when
    the record must be dropped; every repair/drop is counted in ``report``.
    """
    report = report if report is not None else ValidationReport()

    def err(message: str, field_name: str | None) -> RecordError:
        return RecordError(message, file=file, record=record_index, field=field_name)

    try:
        _check_structure(record, err)
        if not record["text"].strip():
            raise err("empty text", "text")
    except RecordError as error:
        if not lenient:
            raise
        report.add("dropped", "record", error)
        return None
    problems = _record_problems(record)
    if not problems:
        return record
    if not lenient:
        first = problems[0]
        raise err(first.message, first.field)
    return _repair(record, problems, file=file, record_index=record_index, report=report)
