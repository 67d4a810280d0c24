"""PHEE JSON lines (pharmacovigilance events): one sentence per line.

``{"id", "context", "annotations": [{"events": [{"event_id", "event_type", "Trigger": M,
"Subject"?: M + sub-arguments, "Treatment"?: M + sub-arguments, "Effect"?: M, "Severity"?: M +
value, ...}]}]}`` where a mention group ``M`` is ``{"text": [[fragment, ...], ...], "start":
[[offset, ...], ...], "entity_id": [...]}`` (outer list: mentions, inner list: fragments).

Representation (documented choices):

* trigger: the single fragment of ``Trigger`` (several fragments is an error);
* roles kept: the main arguments ``Subject``, ``Treatment``, ``Effect`` (any key whose value is a
  mention group) and their sub-arguments (``Age``, ``Gender``, ``Population``, ``Race``,
  ``Disorder`` of the subject; ``Drug``, ``Dosage``, ``Freq``, ``Route``, ``Time_elapsed``,
  ``Duration``, ``Disorder``, ``Combination`` of the treatment) as roles named
  ``<Main>.<Sub>`` (``Subject.Age``, ``Treatment.Drug``), since ``Disorder`` occurs under both;
* every fragment is one argument (fragments are mostly separate mentions such as two drugs), its
  end is ``start + len(fragment)``;
* event attributes (mention groups carrying a ``value``: ``Severity``, ``Speculated``,
  ``Negated``) are not arguments; they are counted as omitted;
* only the first annotation layer is read (the release has one); extra layers count as omitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prouie_lib.data.readers.base import RawRecord, ReadContext, iter_json_lines, require

NAME = "phee"
DEFAULT_TASK = "EE"
_GROUP_KEYS = ("text", "start")


def sniff(path: Path, first: Any) -> bool:
    return isinstance(first, dict) and "context" in first and "annotations" in first


def _is_group(value: Any) -> bool:
    return isinstance(value, dict) and all(key in value for key in _GROUP_KEYS)


def _fragments(group: dict, ctx: ReadContext, where, field_name: str) -> list[tuple[str, int]]:
    texts, starts = group["text"], group["start"]
    if not (isinstance(texts, list) and isinstance(starts, list) and len(texts) == len(starts)):
        raise ctx.error("'text' and 'start' must be parallel lists", where, field_name)
    out = []
    for m, (ftexts, fstarts) in enumerate(zip(texts, starts, strict=True)):
        if not (isinstance(ftexts, list) and isinstance(fstarts, list) and len(ftexts) == len(fstarts)):
            raise ctx.error(f"mention {m}: fragment texts and starts must be parallel lists", where, field_name)
        for text, start in zip(ftexts, fstarts, strict=True):
            if not isinstance(text, str) or not isinstance(start, int):
                raise ctx.error(f"mention {m}: bad fragment {text!r} at {start!r}", where, field_name)
            out.append((text, start))
    return out


def _arguments(role: str, group: dict, ctx: ReadContext, where, field_name: str) -> list[dict]:
    return [{"role": role, "text": text, "start": start, "end": start + len(text)}
            for text, start in _fragments(group, ctx, where, field_name)]


def _event(event: Any, ctx: ReadContext, where, field_name: str) -> dict:
    etype = require(event, "event_type", str, ctx, where, f"{field_name}.event_type")
    trigger = require(event, "Trigger", dict, ctx, where, f"{field_name}.Trigger")
    if not _is_group(trigger):
        raise ctx.error("expected a mention group {text, start}", where, f"{field_name}.Trigger")
    pieces = _fragments(trigger, ctx, where, f"{field_name}.Trigger")
    if len(pieces) != 1:
        raise ctx.error(f"expected one trigger fragment, got {len(pieces)}", where, f"{field_name}.Trigger")
    text, start = pieces[0]
    arguments = []
    for key, value in event.items():
        if key == "Trigger" or not _is_group(value):
            continue
        if "value" in value:
            ctx.report.omit(f"PHEE attribute {key}")
            continue
        arguments += _arguments(key, value, ctx, where, f"{field_name}.{key}")
        for sub, sub_value in value.items():
            if _is_group(sub_value):
                arguments += _arguments(f"{key}.{sub}", sub_value, ctx, where, f"{field_name}.{key}.{sub}")
    return {"type": etype, "trigger": {"text": text, "start": start, "end": start + len(text)},
            "arguments": arguments}


def _parse(item: Any, where, ctx: ReadContext) -> RawRecord:
    context = require(item, "context", str, ctx, where, "context")
    layers = require(item, "annotations", list, ctx, where, "annotations")
    if len(layers) > 1:
        ctx.report.omit("PHEE extra annotation layers", len(layers) - 1)
    events = require(layers[0], "events", list, ctx, where, "annotations[0].events") if layers else []
    return RawRecord(text=context, where=where, task="EE",
                     events=[_event(e, ctx, where, f"annotations[0].events[{i}]") for i, e in enumerate(events)])


def read(path: Path, ctx: ReadContext) -> Iterator[RawRecord]:
    for index, lineno, item in iter_json_lines(path, ctx):
        where = f"{index} (line {lineno})"
        raw = ctx.attempt(_parse, item, where, ctx)
        if raw is not None:
            yield raw
