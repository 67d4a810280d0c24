"""IE_INSTRUCTIONS / InstructUIE JSON: one JSON array per split file, ``labels.json`` beside it.

Elements (the task follows from the key present):

* NER: ``{"sentence": str, "entities": [{"name", "type", "pos": [start, end)}]}``
* RE:  ``{"sentence": str, "relations": [{"head": {"name", "type", "pos"}, "type", "tail": {...}}]}``
* EE:  ``{"sentence": str, "events": [{"type", "trigger": str | {"name"|"text", "pos"}, "pos"?,
  "arguments": [{"name", "role", "pos"?}]}]}`` (a missing ``pos`` gives ``None`` offsets).

RE entities exist only inside relations, so a RE record's ``entities`` are the distinct relation
arguments (filled after validation, so that re-located spans are the ones listed).
``labels.json``: a list of names (entity types for NER, relation types for RE); for EE an object
``{type: [roles]}``, a list of ``{"event_type", "role_list"}`` objects, or InstructUIE's pair
``[event types, roles]`` (lists or comma-separated strings; every role is then allowed for every type).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prouie_lib.data.readers.base import RawRecord, ReadContext, read_json_array, require
from prouie_lib.schema import Labels

NAME = "ie_instructions"
DEFAULT_TASK = None
LABEL_FILE = "labels.json"


def sniff(path: Path, first: Any) -> bool:
    return isinstance(first, dict) and "sentence" in first and bool(
        {"entities", "relations", "events"} & set(first))


def _offsets(obj: dict, key: str, ctx: ReadContext, where, field_name: str) -> tuple[int | None, int | None]:
    pos = obj.get(key)
    if pos is None:
        return None, None
    if (not isinstance(pos, list) or len(pos) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in pos)):
        raise ctx.error(f"expected [start, end] integers, got {pos!r}", where, field_name)
    return pos[0], pos[1]


def _mention(obj: Any, ctx: ReadContext, where, field_name: str, *, typed: bool = True) -> dict:
    name = require(obj, "name", str, ctx, where, f"{field_name}.name")
    start, end = _offsets(obj, "pos", ctx, where, f"{field_name}.pos")
    mention = {"text": name, "start": start, "end": end}
    if typed:
        mention = {"text": name, "type": require(obj, "type", str, ctx, where, f"{field_name}.type"),
                   "start": start, "end": end}
    return mention


def _event(obj: Any, ctx: ReadContext, where, field_name: str) -> dict:
    etype = require(obj, "type", str, ctx, where, f"{field_name}.type")
    trig = require(obj, "trigger", (str, dict), ctx, where, f"{field_name}.trigger")
    if isinstance(trig, dict):
        text = trig.get("name", trig.get("text"))
        if not isinstance(text, str):
            raise ctx.error("missing trigger text ('name' or 'text')", where, f"{field_name}.trigger")
        start, end = _offsets(trig, "pos", ctx, where, f"{field_name}.trigger.pos")
    else:
        text = trig
        key = "trigger_pos" if "trigger_pos" in obj else "pos"
        start, end = _offsets(obj, key, ctx, where, f"{field_name}.{key}")
    arguments = []
    for j, arg in enumerate(require(obj, "arguments", list, ctx, where, f"{field_name}.arguments")):
        aname = f"{field_name}.arguments[{j}]"
        mention = _mention(arg, ctx, where, aname, typed=False)
        arguments.append({"role": require(arg, "role", str, ctx, where, f"{aname}.role"), **mention})
    return {"type": etype, "trigger": {"text": text, "start": start, "end": end}, "arguments": arguments}


def _parse(item: Any, index: int, ctx: ReadContext) -> RawRecord:
    sentence = require(item, "sentence", str, ctx, index, "sentence")
    raw = RawRecord(text=sentence, where=index)
    if "events" in item:
        raw.task = "EE"
        events = require(item, "events", list, ctx, index, "events")
        kept = [(i, e) for i, e in enumerate(events) if not (isinstance(e, dict) and e.get("type") in ("NA", ""))]
        if len(kept) < len(events):  # InstructUIE marks "no event" with type NA or ""
            ctx.report.omit("IE_INSTRUCTIONS events typed NA/empty (= no event)", len(events) - len(kept))
        raw.events = [_event(e, ctx, index, f"events[{i}]") for i, e in kept]
    elif "relations" in item:
        raw.task = "RE"
        for i, rel in enumerate(require(item, "relations", list, ctx, index, "relations")):
            name = f"relations[{i}]"
            raw.relations.append({"head": _mention(require(rel, "head", dict, ctx, index, f"{name}.head"), ctx,
                                                   index, f"{name}.head"),
                                  "type": require(rel, "type", str, ctx, index, f"{name}.type"),
                                  "tail": _mention(require(rel, "tail", dict, ctx, index, f"{name}.tail"), ctx,
                                                   index, f"{name}.tail")})
        if "entities" in item:
            raw.entities = [_mention(e, ctx, index, f"entities[{i}]")
                            for i, e in enumerate(require(item, "entities", list, ctx, index, "entities"))]
        else:
            raw.entities_from_relations = True
    else:
        raw.task = "NER"
        raw.entities = [_mention(e, ctx, index, f"entities[{i}]")
                        for i, e in enumerate(require(item, "entities", list, ctx, index, "entities"))]
    return raw


def read(path: Path, ctx: ReadContext) -> Iterator[RawRecord]:
    return read_json_array(path, ctx, _parse)


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def folder_labels(folder: Path, task: str) -> Labels:
    """The schema from ``labels.json`` next to the split files (empty when there is none)."""
    path = folder / LABEL_FILE
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    where = f"{path}: "
    if task == "NER":
        return {"entity_types": _names(data)}
    if task == "RE":
        return {"relation_types": _names(data)}
    if isinstance(data, dict):
        return {"event_types": {str(k): _names(v) for k, v in data.items()}}
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        return {"event_types": {str(x["event_type"]): _names(x.get("role_list", [])) for x in data}}
    if isinstance(data, list) and len(data) == 2:
        roles = _names(data[1])
        return {"event_types": {t: list(roles) for t in _names(data[0])}}
    raise ValueError(where + "unrecognised EE labels.json layout (expected {type: [roles]}, "
                     "[{event_type, role_list}] or [types, roles])")
