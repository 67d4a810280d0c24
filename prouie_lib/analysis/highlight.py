"""Text with gold and predicted spans highlighted by status, as HTML ``<mark>`` elements.

A *span* is an entity, a relation head or tail, an event trigger or an argument, with a label (entity type,
``trigger:<event type>``, argument role). Gold spans sit at their offsets (or their first occurrence);
a predicted span (model text has no offsets) sits at the occurrence that overlaps a gold span with the
same text if any, else its first occurrence. A span's status compares (normalized text, label):

- ``both``: gold and prediction agree;
- ``gold``: only in gold (a miss);
- ``pred``: only in the prediction (spurious, or a wrong type/boundary);
- ``conflict``: characters covered by a gold-only and a predicted-only span at once (a disagreement on the
  type or on the boundary), shown as one mark.

Predicted spans that do not occur in the text cannot be placed; :func:`span_marks` returns them apart.
Spans that carry their own offsets (extractions from new text, :mod:`prouie_lib.extraction`) are marked where
they are with status ``extracted`` (:func:`placed_marks`, :func:`marked_text_html`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from prouie_lib.analysis.errors import find_spans, span_positions
from prouie_lib.schema import Record, Structure, normalize_text

STATUS_STYLE: dict[str, str] = {
    "both": "background:#b7e4b0",  # green: found
    "gold": "background:#ffd59e",  # orange: missed
    "pred": "background:#f4a6a6",  # red: spurious
    "conflict": "background:#d7b5f0",  # purple: type or boundary disagreement
    "extracted": "background:#bcd8f5",  # blue: extracted from new text (no gold to compare with)
}
STATUS_TEXT: dict[str, str] = {"both": "gold and predicted", "gold": "gold only (missed)",
                               "pred": "predicted only", "conflict": "gold and predicted disagree"}


@dataclass
class Mark:
    start: int
    end: int
    status: str
    labels: list[str] = field(default_factory=list)  # "gold person", "pred location", ...


def labeled_spans(structure: Structure, task: str) -> list[tuple[dict[str, Any], str]]:
    """``(span dict, label)`` for every span of the task's part of a structure."""
    out: list[tuple[dict[str, Any], str]] = []
    if task == "NER":
        out += [(e, e.get("type", "")) for e in structure.get("entities") or []]
    elif task == "RE":
        for r in structure.get("relations") or []:
            out += [(r["head"], r["head"].get("type") or "head"), (r["tail"], r["tail"].get("type") or "tail")]
    elif task == "EE":
        for ev in structure.get("events") or []:
            out.append((ev["trigger"], f"trigger:{ev.get('type', '')}"))
            out += [(a, a.get("role", "")) for a in ev.get("arguments") or []]
    return out


def span_marks(record: Record, predicted: Structure) -> tuple[list[Mark], list[str]]:
    """Non-overlapping marks covering the text, sorted; plus predicted span texts not found in the text."""
    text, task = record["text"], record["task"]
    gold: dict[tuple[str, str], tuple[int, int]] = {}
    for span, label in labeled_spans(record, task):
        positions = span_positions(span, text)
        if positions:
            gold.setdefault((normalize_text(span.get("text")), normalize_text(label)), positions[0])
    gold_by_text = {key[0]: pos for key, pos in gold.items()}
    pred: dict[tuple[str, str], tuple[int, int]] = {}
    unplaced: list[str] = []
    for span, label in labeled_spans(predicted, task):
        key = (normalize_text(span.get("text")), normalize_text(label))
        if key in pred:
            continue
        found = find_spans(span.get("text", ""), text)
        if not found:
            if span.get("text") and span["text"] not in unplaced:
                unplaced.append(span["text"])
            continue
        preferred = gold.get(key) or gold_by_text.get(key[0])
        pred[key] = preferred if preferred in found else found[0]
    spans: list[tuple[int, int, str, str]] = []  # start, end, status, label text
    for key, (start, end) in gold.items():
        status = "both" if pred.get(key) == (start, end) else "gold"
        spans.append((start, end, status, f"{'gold+pred' if status == 'both' else 'gold'} {key[1]}"))
    for key, (start, end) in pred.items():
        if gold.get(key) != (start, end):
            spans.append((start, end, "pred", f"pred {key[1]}"))
    return _segments(spans, len(text)), unplaced


def _segments(spans: list[tuple[int, int, str, str]], length: int) -> list[Mark]:
    cuts = sorted({0, length, *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    marks: list[Mark] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        covering = [(status, label) for s, e, status, label in spans if s <= start and end <= e]
        if not covering or start >= end:
            continue
        statuses = {status for status, _ in covering}
        status = next(iter(statuses)) if len(statuses) == 1 else "conflict" if {"gold", "pred"} <= statuses else \
            "gold" if "gold" in statuses else "pred" if "pred" in statuses else "both"
        labels = sorted({label for _, label in covering})
        if marks and marks[-1].end == start and marks[-1].status == status and marks[-1].labels == labels:
            marks[-1].end = end
        else:
            marks.append(Mark(start, end, status, labels))
    return marks


def highlight_html(record: Record, predicted: Structure) -> str:
    """The record text as HTML with one ``<mark data-status=...>`` per highlighted stretch, plus a legend."""
    marks, unplaced = span_marks(record, predicted)
    body = marked_text_html(record["text"], marks)
    if unplaced:
        items = ", ".join(f"<code>{html.escape(t)}</code>" for t in unplaced)
        body += f'<div class="prouie-unplaced">Predicted spans not in the text: {items}</div>'
    return body + legend_html()


def placed_marks(spans: list[tuple[int, int, str, str]], length: int) -> list[Mark]:
    """Non-overlapping marks for spans placed by their own offsets: ``(start, end, status, label)`` each, over a
    text of ``length`` characters (overlapping spans share a mark that carries both labels)."""
    return _segments(spans, length)


def marked_text_html(text: str, marks: list[Mark]) -> str:
    """The text as HTML with one ``<mark data-status=...>`` per mark (its labels as the tooltip)."""
    parts, pos = [], 0
    for mark in marks:
        parts.append(html.escape(text[pos:mark.start]))
        title = html.escape("; ".join(mark.labels), quote=True)
        parts.append(f'<mark data-status="{mark.status}" title="{title}" style="{STATUS_STYLE[mark.status]}">'
                     f"{html.escape(text[mark.start:mark.end])}</mark>")
        pos = mark.end
    parts.append(html.escape(text[pos:]))
    return f'<div class="prouie-text" style="line-height:1.8">{"".join(parts)}</div>'


def legend_html() -> str:
    items = " ".join(f'<mark style="{STATUS_STYLE[s]}">{html.escape(t)}</mark>' for s, t in STATUS_TEXT.items())
    return f'<div class="prouie-legend" style="font-size:smaller">{items}</div>'
