"""UniversalNER conversation JSON: one JSON array of (sentence, entity type) queries.

Element: ``{"id", "conversations": [{"from": "human", "value": "Text: <sentence>"},
{"from": "gpt", "value": "I've read this text."}, {"from": "human", "value": "What describes
<type> in the text?"}, {"from": "gpt", "value": "[\\"mention\\", ...]"}, ...]}`` (one or more
question/answer pairs after the text).

Queries are grouped by sentence text (first-appearance order) into one NER record; each answer
string is an entity of the queried type with ``None`` offsets (the source has none; repeated
strings stay repeated mentions). Every queried type is offered in the schema even when no answer
has it. A sentence repeated in the source repeats its queries: a repeated (sentence, type) query
with the same answer adds nothing and is counted as omitted; one with a *different* answer is a
conflict — an error, or in lenient mode the first answer is kept and the second counted as dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prouie_lib.data.readers.base import RawRecord, ReadContext, load_json, require

NAME = "uniner"
DEFAULT_TASK = "NER"
_QUESTION = re.compile(r"^What describes (.+?) in the text\?$")
_TEXT_PREFIX = "Text: "


def sniff(path: Path, first: Any) -> bool:
    return isinstance(first, dict) and isinstance(first.get("conversations"), list)


def _queries(item: Any, index: int, ctx: ReadContext) -> tuple[str, list[tuple[str, list[str], str]]]:
    turns = require(item, "conversations", list, ctx, index, "conversations")
    values = []
    for t, turn in enumerate(turns):
        values.append(require(turn, "value", str, ctx, index, f"conversations[{t}].value"))
    if not values or not values[0].startswith(_TEXT_PREFIX):
        raise ctx.error(f"first turn must start with {_TEXT_PREFIX!r}", index, "conversations[0].value")
    text = values[0][len(_TEXT_PREFIX):]
    out = []
    for t in range(2, len(values), 2):
        match = _QUESTION.match(values[t].strip())
        if not match:
            raise ctx.error(f"expected 'What describes <type> in the text?', got {values[t][:60]!r}", index,
                            f"conversations[{t}].value")
        if t + 1 >= len(values):
            raise ctx.error("question without an answer", index, f"conversations[{t + 1}]")
        try:
            answer = json.loads(values[t + 1])
        except json.JSONDecodeError:
            answer = None
        if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
            raise ctx.error(f"answer is not a JSON list of strings: {values[t + 1][:60]!r}", index,
                            f"conversations[{t + 1}].value")
        out.append((match.group(1), answer, values[t + 1]))
    return text, out


def read(path: Path, ctx: ReadContext) -> Iterator[RawRecord]:
    data = load_json(path, ctx)
    if not isinstance(data, list):
        raise ctx.error(f"expected a JSON array of queries, got {type(data).__name__}", None, None)
    groups: dict[str, RawRecord] = {}
    answered: dict[tuple[str, str], str] = {}
    for index, item in enumerate(data):
        parsed = ctx.attempt(_queries, item, index, ctx)
        if parsed is None:
            continue
        text, queries = parsed
        raw = groups.get(text)
        if raw is None:
            raw = groups[text] = RawRecord(text=text, where=index, task="NER", offered={"entity_types": []})
        for etype, answer, answer_text in queries:
            key = (text, etype)
            if key in answered:
                if json.loads(answered[key]) == answer:
                    ctx.report.omit("UniNER repeated identical queries")
                    continue

                def conflict(index=index, etype=etype, answer_text=answer_text, key=key):
                    raise ctx.error(f"sentence repeated with a different answer for {etype!r}: "
                                    f"{answered[key]} vs {answer_text}", index, "conversations")

                ctx.attempt(conflict, unit="query")
                continue
            answered[key] = answer_text
            if etype not in raw.offered["entity_types"]:
                raw.offered["entity_types"].append(etype)
            raw.entities += [{"text": a, "type": etype, "start": None, "end": None} for a in answer]
    yield from groups.values()
