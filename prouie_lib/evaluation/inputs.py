"""Reading and checking scoring's inputs: gold records, prediction lines, and one record's prediction.

A prediction line carries ``id`` and either a raw ``completion`` with its ``format`` (parsed against the gold
record's labels and task) or the parsed ``entities``/``relations``/``events`` (with an optional
``well_formed``, default true); when it has both, the structure fields win. Every problem is a
:class:`~prouie_lib.schema.RecordError` naming the file, record and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prouie_lib.evaluation.protocols import Prediction, task_part
from prouie_lib.formats import get_format
from prouie_lib.schema import (
    STRUCTURE_FIELDS,
    TASKS,
    Record,
    RecordError,
    Structure,
    empty_structure,
    index_by_id,
)


def index_gold(records: Iterable[Record], source: str | None) -> dict[str, Record]:
    """Gold records by id, each checked for a string ``dataset``, ``task`` (a known one) and ``text``."""

    def check(record: Record, rid: Any) -> None:
        for key in ("dataset", "task", "text"):
            if not isinstance(record.get(key), str):
                raise RecordError(f"missing or non-string {key!r}", file=source, record=rid, field=key)
        if record["task"] not in TASKS:
            raise RecordError(f"unknown task {record['task']!r}", file=source, record=rid, field="task")

    return index_by_id(records, file=source, kind="gold", check=check)


def index_predictions(lines: Iterable[Mapping[str, Any]], gold: Mapping[str, Record],
                      source: str | None) -> dict[str, Mapping[str, Any]]:
    """Prediction lines by id: every line has an id, found in ``gold``, at most once."""
    preds: dict[str, Mapping[str, Any]] = {}
    for i, line in enumerate(lines):
        if not isinstance(line, Mapping) or line.get("id") is None:
            raise RecordError("prediction line has no id", file=source, record=f"line {i + 1}", field="id")
        rid = str(line["id"])
        if rid not in gold:
            raise RecordError(f"prediction id {rid!r} is not in the gold data", file=source, record=rid,
                              field="id")
        if rid in preds:
            raise RecordError("duplicate prediction id", file=source, record=rid, field="id")
        preds[rid] = line
    return preds


def read_prediction(line: Mapping[str, Any] | None, record: Record, task: str, source: str | None) -> Prediction:
    """``record``'s prediction as scoring sees it: the task part of its structure, whether it was well-formed,
    and the line; a missing line (``None``) is an empty, well-formed prediction."""
    if line is None:
        return Prediction(empty_structure(), True, None)
    structure, well_formed = _structure_of(line, record, source)
    return Prediction(task_part(structure, task), well_formed, line)


def _structure_of(line: Mapping[str, Any], record: Record, source: str | None) -> tuple[Structure, bool]:
    rid = record["id"]
    if any(key in line for key in STRUCTURE_FIELDS):
        well_formed = line.get("well_formed", True)
        if not isinstance(well_formed, bool):
            raise RecordError("well_formed must be true or false", file=source, record=rid, field="well_formed")
        return _checked_structure(line, rid, source), well_formed
    if "completion" not in line:
        raise RecordError("needs a completion (with format) or entities/relations/events", file=source,
                          record=rid)
    completion = line["completion"]
    fmt = line.get("format")
    if not isinstance(completion, str):
        raise RecordError("completion must be a string", file=source, record=rid, field="completion")
    if not isinstance(fmt, str):
        raise RecordError("a completion needs its format", file=source, record=rid, field="format")
    try:
        target = get_format(fmt)
    except ValueError as err:
        raise RecordError(str(err), file=source, record=rid, field="format") from None
    parsed = target.parse(completion, record.get("labels") or {}, record["task"])
    return parsed.structure, parsed.well_formed


def _checked_structure(line: Mapping[str, Any], rid: str, source: str | None) -> Structure:
    """The structure fields of a prediction line, checked for the keys scoring needs."""

    def fail(field: str, message: str) -> RecordError:
        return RecordError(message, file=source, record=rid, field=field)

    def text_of(obj: Any, field: str) -> None:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("text"), str):
            raise fail(field, "expected an object with a string 'text'")

    def typed(obj: Any, field: str) -> None:
        text_of(obj, field)
        if not isinstance(obj.get("type"), str):
            raise fail(f"{field}.type", "expected a string 'type'")

    structure = empty_structure()
    for key in STRUCTURE_FIELDS:
        value = line.get(key) or []
        if not isinstance(value, list):
            raise fail(key, "expected a list")
        structure[key] = value
    for i, ent in enumerate(structure["entities"]):
        typed(ent, f"entities[{i}]")
    for i, rel in enumerate(structure["relations"]):
        if not isinstance(rel, Mapping) or not isinstance(rel.get("type"), str):
            raise fail(f"relations[{i}].type", "expected an object with a string 'type'")
        for side in ("head", "tail"):
            text_of(rel.get(side), f"relations[{i}].{side}")
    for i, ev in enumerate(structure["events"]):
        if not isinstance(ev, Mapping) or not isinstance(ev.get("type"), str):
            raise fail(f"events[{i}].type", "expected an object with a string 'type'")
        text_of(ev.get("trigger"), f"events[{i}].trigger")
        args = ev.get("arguments") or []
        if not isinstance(args, list):
            raise fail(f"events[{i}].arguments", "expected a list")
        for j, arg in enumerate(args):
            text_of(arg, f"events[{i}].arguments[{j}]")
            if not isinstance(arg.get("role"), str):
                raise fail(f"events[{i}].arguments[{j}].role", "expected a string 'role'")
    return structure
