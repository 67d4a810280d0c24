"""DyGIE / DyGIE++ document JSON lines (SciERC ``processed_data/json``, ACE-style dygiepp files).

One document per line: ``{"doc_key", "sentences": [[tokens]], "ner": [[[start, end, type]]],
"relations": [[[s1, e1, s2, e2, type]]], "events"?: [[[[trigger, type], [s, e, role], ...]]],
"clusters"?}`` with document-level token indices, end *inclusive*, one list per sentence.

Each sentence becomes one record (text = its tokens joined by spaces, offsets relative to it;
ids carry the ``doc_key``). A relation argument takes its type from the sentence's NER mention
with the same span (an argument with no such mention is an error). Events (dygiepp): the trigger
is one token, each argument a span with a role. Coreference ``clusters`` are not part of the
unified schema; they are counted as omitted. Task: EE when the file has events (entities and
relations of such files are then counted as omitted: one task per record), else RE when it has
relations, else NER.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prouie_lib.data.readers.base import RawRecord, ReadContext, iter_json_lines, join_tokens, require

NAME = "dygie"
DEFAULT_TASK = "RE"


def sniff(path: Path, first: Any) -> bool:
    return isinstance(first, dict) and "sentences" in first and ("ner" in first or "doc_key" in first)


def _span(values: Any, n: int, offset: int, ctx: ReadContext, where, field_name: str) -> tuple[int, int]:
    if not (isinstance(values, list) and len(values) >= 2 and all(isinstance(v, int) for v in values[:2])):
        raise ctx.error(f"expected [start, end, ...] token indices, got {values!r}", where, field_name)
    first, last = values[0] - offset, values[1] - offset
    if not 0 <= first <= last < n:
        raise ctx.error(f"token span [{values[0]}, {values[1]}] is outside this sentence "
                        f"(document tokens {offset}..{offset + n - 1})", where, field_name)
    return first, last


def _sentence(doc: dict, k: int, offset: int, doc_key: str, index: int, ctx: ReadContext) -> RawRecord:
    where = f"{index} (document {doc_key}, sentence {k})"
    tokens = doc["sentences"][k]
    if not tokens or not all(isinstance(t, str) and t for t in tokens):
        raise ctx.error("expected a non-empty list of non-empty strings", where, f"sentences[{k}]")
    text, starts = join_tokens(tokens)

    def chars(first: int, last: int) -> tuple[int, int]:
        return starts[first], starts[last] + len(tokens[last])

    def per_sentence(key: str) -> list:
        lists = doc.get(key) or []
        return lists[k] if k < len(lists) and isinstance(lists[k], list) else []

    entities, by_span = [], {}
    for i, ner in enumerate(per_sentence("ner")):
        first, last = _span(ner, len(tokens), offset, ctx, where, f"ner[{k}][{i}]")
        if len(ner) < 3 or not isinstance(ner[2], str):
            raise ctx.error("missing entity type", where, f"ner[{k}][{i}]")
        start, end = chars(first, last)
        ent = {"text": text[start:end], "type": ner[2], "start": start, "end": end}
        entities.append(ent)
        by_span.setdefault((first, last), ent)
    relations = []
    for i, rel in enumerate(per_sentence("relations")):
        name = f"relations[{k}][{i}]"
        if not (isinstance(rel, list) and len(rel) == 5 and isinstance(rel[4], str)):
            raise ctx.error(f"expected [s1, e1, s2, e2, type], got {rel!r}", where, name)
        ends = []
        for side, values in (("head", rel[0:2]), ("tail", rel[2:4])):
            span = _span(values, len(tokens), offset, ctx, where, f"{name}.{side}")
            if span not in by_span:
                raise ctx.error(f"relation {side} span {values} is not an entity of the sentence", where,
                                f"{name}.{side}")
            ends.append(dict(by_span[span]))
        relations.append({"head": ends[0], "type": rel[4], "tail": ends[1]})
    events = []
    for i, ev in enumerate(per_sentence("events")):
        name = f"events[{k}][{i}]"
        if not (isinstance(ev, list) and ev and isinstance(ev[0], list) and len(ev[0]) == 2):
            raise ctx.error(f"expected [[trigger, type], [start, end, role], ...], got {ev!r}", where, name)
        trig = ev[0][0] - offset if isinstance(ev[0][0], int) else -1
        if not 0 <= trig < len(tokens):
            raise ctx.error(f"trigger token {ev[0][0]} outside this sentence", where, f"{name}.trigger")
        start, end = chars(trig, trig)
        arguments = []
        for j, arg in enumerate(ev[1:]):
            first, last = _span(arg, len(tokens), offset, ctx, where, f"{name}.arguments[{j}]")
            if len(arg) < 3 or not isinstance(arg[2], str):
                raise ctx.error("missing role", where, f"{name}.arguments[{j}].role")
            a_start, a_end = chars(first, last)
            arguments.append({"role": arg[2], "text": text[a_start:a_end], "start": a_start, "end": a_end})
        events.append({"type": str(ev[0][1]), "trigger": {"text": text[start:end], "start": start, "end": end},
                       "arguments": arguments})
    task = "EE" if "events" in doc else "RE" if "relations" in doc else "NER"
    if task == "EE":  # one task per record: an EE record keeps only the events
        if entities or relations:
            ctx.report.omit("DyGIE entities/relations in EE documents", len(entities) + len(relations))
        entities, relations = [], []
    return RawRecord(text=text, where=where, entities=entities, relations=relations, events=events,
                     doc=doc_key, task=task)


def _document(doc: Any, doc_index: int, lineno: int, ctx: ReadContext) -> tuple[list, str]:
    where = f"document {doc_index} (line {lineno})"
    sentences = require(doc, "sentences", list, ctx, where, "sentences")
    return sentences, str(doc.get("doc_key", doc_index))


def read(path: Path, ctx: ReadContext) -> Iterator[RawRecord]:
    index = 0
    for doc_index, lineno, doc in iter_json_lines(path, ctx):
        checked = ctx.attempt(_document, doc, doc_index, lineno, ctx, unit="document")
        if checked is None:
            continue
        sentences, doc_key = checked
        if doc.get("clusters"):
            ctx.report.omit("DyGIE coreference clusters", len(doc["clusters"]))
        offset = 0
        for k, tokens in enumerate(sentences):
            raw = ctx.attempt(_sentence, doc, k, offset, doc_key, index, ctx)
            index += 1
            offset += len(tokens) if isinstance(tokens, list) else 0
            if raw is not None:
                yield raw
