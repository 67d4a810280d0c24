"""SemEval-2010 Task 8 style relation classification text (also KBP37): RE over the marked pair.

Blocks: ``<id>\\t"sentence with <e1>..</e1> and <e2>..</e2>"``, then the label line
(``Cause-Effect(e2,e1)``, ``per:employee_of(e1,e2)``, ``Other``, ``no_relation``), then optional
``Comment:`` lines and blank lines. Each block becomes one RE record:

* text: the sentence without the outer quotes and the ``<e1>``/``<e2>`` tags, whitespace runs
  collapsed to one space and trimmed (KBP37 pads tags with spaces), offsets into that text;
* entities: the two marked nominals, typed with the placeholder :data:`PLACEHOLDER_TYPE` since
  the source gives no entity types;
* relations: one, ``(e1, type, e2)`` for ``(e1,e2)`` and ``(e2, type, e1)`` for ``(e2,e1)``;
  none for :data:`NO_RELATION` labels (the pair is still listed as entities).

An empty marked mention (``<e1> </e1>``, KBP37 lost some non-ASCII names) yields an empty span,
which validation rejects (strict) or drops together with its relation (lenient, counted).
A block without a label line (e.g. the unlabeled ``TEST_FILE.txt``) or a label without a
direction (``TEST_FILE_KEY.TXT`` style) is an error: the direction cannot be recovered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from prouie_lib.data.readers.base import RawRecord, ReadContext, read_text

NAME = "semeval"
DEFAULT_TASK = "RE"
PLACEHOLDER_TYPE = "entity"
NO_RELATION = frozenset({"Other", "no_relation"})
_HEADER = re.compile(r'^(\d+)\t"(.*)"\s*$')
_LABEL = re.compile(r"^(?P<type>.+?)\((?P<first>e[12]),(?P<second>e[12])\)$")
_TAG = re.compile(r"</?e[12]>")


def sniff(path: Path, head: str) -> bool:
    lines = [line for line in head.split("\n") if line.strip()]
    return bool(lines) and bool(_HEADER.match(lines[0].rstrip("\r")))


def strip_tags(marked: str, ctx: ReadContext, where) -> tuple[str, dict[str, tuple[int, int]]]:
    """Text without tags (whitespace collapsed) and the ``[start, end)`` of e1 and e2 in it."""
    out: list[str] = []
    opened: dict[str, int] = {}
    spans: dict[str, tuple[int, int]] = {}
    pos = 0
    for match in _TAG.finditer(marked):
        _append(out, marked[pos:match.start()])
        tag = match.group()
        name = tag.strip("</>")
        if tag.startswith("</"):
            if name not in opened:
                raise ctx.error(f"closing {tag} without an opening tag", where, "text")
            spans[name] = (opened.pop(name), len(out))
        else:
            if name in opened or name in spans:
                raise ctx.error(f"duplicate <{name}> tag", where, "text")
            opened[name] = len(out)
        pos = match.end()
    _append(out, marked[pos:])
    text = "".join(out)
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    for name in ("e1", "e2"):
        if name in opened or name not in spans:
            raise ctx.error(f"missing or unclosed <{name}>...</{name}> marker", where, "text")
        start, end = (max(0, x - lead) for x in spans[name])
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        spans[name] = (start, end)  # may be empty (KBP37 lost some non-ASCII names): validation decides
    return text, spans


def _append(out: list[str], chunk: str) -> None:
    for char in chunk:
        if char.isspace():
            if out and not out[-1].isspace():
                out.append(" ")
        else:
            out.append(char)


def _record(block_index: int, lineno: int, marked: str, label: str | None, ctx: ReadContext) -> RawRecord:
    where = f"{block_index} (line {lineno})"
    text, spans = strip_tags(marked, ctx, where)
    ents = {name: {"text": text[s:e], "type": PLACEHOLDER_TYPE, "start": s, "end": e}
            for name, (s, e) in spans.items()}
    raw = RawRecord(text=text, where=where, entities=[ents["e1"], ents["e2"]], task="RE")
    if label is None:
        raise ctx.error("missing relation label line after the sentence", where, "relation")
    if label in NO_RELATION:
        return raw
    match = _LABEL.match(label)
    if not match or match["first"] == match["second"]:
        raise ctx.error(f"relation label {label!r} has no (e1,e2)/(e2,e1) direction", where, "relation")
    head, tail = ents[match["first"]], ents[match["second"]]
    raw.relations = [{"head": dict(head), "type": match["type"], "tail": dict(tail)}]
    return raw


def read(path: Path, ctx: ReadContext) -> Iterator[RawRecord]:
    pending: tuple[int, str] | None = None
    label: str | None = None
    index = 0

    def finish() -> RawRecord | None:
        nonlocal index
        lineno, marked = pending
        raw = ctx.attempt(_record, index, lineno, marked, label, ctx)
        index += 1
        return raw

    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        line = line.strip("\r")
        header = _HEADER.match(line)
        if header:
            if pending is not None and (raw := finish()) is not None:
                yield raw
            pending, label = (lineno, header.group(2)), None
        elif not line.strip() or line.startswith("Comment"):
            continue
        elif pending is None:
            def orphan(lineno=lineno, line=line):
                raise ctx.error(f"line {lineno}: text outside a block: {line[:60]!r}", f"line {lineno}", None)
            ctx.attempt(orphan)
        elif label is None:
            label = line.strip()
        else:
            def extra(lineno=lineno, line=line):
                raise ctx.error(f"line {lineno}: unexpected second label line {line[:60]!r}", index, "relation")
            ctx.attempt(extra)
    if pending is not None and (raw := finish()) is not None:
        yield raw
