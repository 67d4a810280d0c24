"""Grounding: every extracted span gets character offsets in the text and an alignment status.

Model text has no offsets; this finds each span (an entity, a relation's head and tail, an event's trigger and
arguments) in the text and writes ``start``/``end`` (end exclusive) and ``alignment`` on it:

- ``exact``: the span's text occurs verbatim: ``text[start:end] == span["text"]``;
- ``fuzzy``: found only after normalization — case ignored and any run of whitespace matching any other, then,
  failing that, whitespace ignored altogether (``Cook's`` finds ``Cook 's``); the offsets are those of the
  text as found, so ``text[start:end]`` may differ from the span's text in case and spacing;
- ``not_found``: not in the text at all; ``start``/``end`` are ``None`` and the unit is kept (never dropped).

Which occurrence, when a span occurs more than once: spans are placed in the order of the units (and within a
unit: head then tail, trigger then arguments); each takes the first occurrence that no earlier span of the text
took, or the first occurrence when all are taken. In RE, entities are shared between relations: a head or tail
with the same text and type as one placed for an earlier relation reuses its offsets (one mention, several
relations).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from prouie_lib.schema import TASK_FIELD, Structure

EXACT, FUZZY, NOT_FOUND = "exact", "fuzzy", "not_found"
ALIGNMENTS: tuple[str, ...] = (EXACT, FUZZY, NOT_FOUND)

Interval = tuple[int, int]


def exact_occurrences(span: str, text: str) -> list[Interval]:
    """Every verbatim occurrence of ``span`` in ``text`` (overlapping ones too), in text order."""
    if not span:
        return []
    found, start = [], text.find(span)
    while start >= 0:
        found.append((start, start + len(span)))
        start = text.find(span, start + 1)
    return found


def loose_occurrences(span: str, text: str, *, ignore_spaces: bool = False) -> list[Interval]:
    """Case-insensitive occurrences of ``span`` where any run of whitespace matches any other (``ignore_spaces``:
    whitespace ignored on both sides, so ``Cook's`` finds ``Cook 's``)."""
    parts = [c for c in span if not c.isspace()] if ignore_spaces else span.split()
    if not parts:
        return []
    pattern = (r"\s*" if ignore_spaces else r"\s+").join(re.escape(part) for part in parts)
    return [(m.start(), m.end()) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]


def occurrences(span: str, text: str) -> tuple[str, list[Interval]]:
    """The alignment status of ``span`` in ``text`` and the occurrences that give it (none: ``not_found``)."""
    span = span if isinstance(span, str) else ""
    found = exact_occurrences(span, text)
    if found:
        return EXACT, found
    found = loose_occurrences(span, text) or loose_occurrences(span, text, ignore_spaces=True)
    return (FUZZY, found) if found else (NOT_FOUND, [])


def unit_spans(unit: dict[str, Any], task: str) -> Iterator[tuple[dict[str, Any], tuple[str, str] | None]]:
    """The span dicts of one unit in placement order, each with its sharing key (RE entities only)."""
    if task == "NER":
        yield unit, None
    elif task == "RE":
        for side in ("head", "tail"):
            entity = unit.get(side)
            if isinstance(entity, dict):
                yield entity, (entity.get("text") or "", entity.get("type") or "")
    else:
        if isinstance(unit.get("trigger"), dict):
            yield unit["trigger"], None
        for argument in unit.get("arguments") or []:
            if isinstance(argument, dict):
                yield argument, None


def place(span: dict[str, Any], text: str, taken: set[Interval]) -> None:
    """Write ``start``, ``end`` and ``alignment`` on ``span`` (the rule of the module docstring)."""
    status, found = occurrences(span.get("text"), text)
    if not found:
        span.update(start=None, end=None, alignment=NOT_FOUND)
        return
    start, end = next((pos for pos in found if pos not in taken), found[0])
    taken.add((start, end))
    span.update(start=start, end=end, alignment=status)


def ground_structure(text: str, structure: Structure, task: str, *, offset: int = 0) -> Structure:
    """A copy of ``structure`` whose task units have grounded spans; ``offset`` is added to every offset (a
    window of a longer text grounded on its own). Units of the other tasks are left as they are."""
    out = copy.deepcopy(structure)
    taken: set[Interval] = set()
    shared: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}  # RE entity → (its unit, its span)
    for n, unit in enumerate(out.get(TASK_FIELD[task]) or []):
        for span, key in unit_spans(unit, task):
            if key in shared and shared[key][0] != n:
                span.update({k: shared[key][1][k] for k in ("start", "end", "alignment")})
                continue
            place(span, text, taken)
            if span["start"] is not None:
                span["start"] += offset
                span["end"] += offset
            if key is not None:
                shared.setdefault(key, (n, span))
    return out


def grounded_spans(structure: Structure, task: str) -> list[dict[str, Any]]:
    """Every span dict of the task's units, in placement order (RE entities once per relation side)."""
    return [span for unit in structure.get(TASK_FIELD[task]) or [] for span, _ in unit_spans(unit, task)]


def alignment_counts(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """How many spans of the records are ``exact``, ``fuzzy`` and ``not_found``."""
    counts: Counter[str] = Counter({status: 0 for status in ALIGNMENTS})
    for record in records:
        counts.update(span.get("alignment", NOT_FOUND) for span in grounded_spans(record, record["task"]))
    return dict(counts)
