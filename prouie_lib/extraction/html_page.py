"""One self-contained HTML page (inline styles, no scripts, no external files) showing extracted records: each
text with its grounded spans highlighted (:mod:`prouie_lib.analysis.highlight`), a table of the units with
their offsets and alignment, the spans not found in the text, and the raw model answer."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from prouie_lib.analysis.highlight import marked_text_html, placed_marks
from prouie_lib.extraction.grounding import unit_spans
from prouie_lib.schema import Record, units_of

PAGE_STYLE = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em}"
              ".prouie-record{border-top:1px solid #ccc;padding:.6em 0}"
              ".prouie-meta{color:#555;font-size:smaller}pre{white-space:pre-wrap;background:#f6f6f6;padding:4px}")


def unit_rows(record: Record) -> list[dict[str, Any]]:
    """One row per grounded span: which unit, the span's part in it, its text, offsets and alignment status."""
    task, rows = record["task"], []
    for n, unit in enumerate(units_of(record, task), start=1):
        name = {"NER": "entity", "RE": f"relation ({unit.get('type', '')})",
                "EE": f"event ({unit.get('type', '')})"}[task]
        for k, (span, _) in enumerate(unit_spans(unit, task)):
            if task == "NER":
                label = span.get("type", "")
            elif task == "RE":
                label = f"{('head', 'tail')[k]} {span.get('type') or ''}".strip()
            else:
                label = span.get("role") or "trigger"
            rows.append({"unit": f"{n} {name}", "label": label, "text": span.get("text", ""),
                         "start": span.get("start"), "end": span.get("end"),
                         "alignment": span.get("alignment", "not_found")})
    return rows


def units_table(rows: Sequence[dict[str, Any]]) -> str:
    """The unit rows as a small HTML table (empty offsets for spans not found)."""
    columns = list(rows[0]) if rows else []
    cell = 'style="border:1px solid #ddd;padding:2px 6px;text-align:left"'
    head = "".join(f"<th {cell}>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td {cell}>{html.escape('' if row[c] is None else str(row[c]))}</td>"
                                    for c in columns) + "</tr>" for row in rows)
    return (f'<table class="prouie-units" style="border-collapse:collapse;font-size:12px;margin:4px 0">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def record_html(record: Record) -> str:
    """One record: the text with its spans marked, the units table, unplaced spans and the model answer."""
    text, rows = record["text"], unit_rows(record)
    spans = [(r["start"], r["end"], "extracted", f"{r['label']}" + (" (fuzzy)" if r["alignment"] == "fuzzy" else ""))
             for r in rows if r["start"] is not None]
    body = marked_text_html(text, placed_marks(spans, len(text)))
    missing = sorted({r["text"] for r in rows if r["start"] is None})
    windows = record.get("windows") or []
    meta = (f"id {html.escape(str(record.get('id')))} · {record['task']} · {len(units_of(record, record['task']))} "
            f"unit(s) · {'well-formed' if record.get('well_formed', True) else 'NOT well-formed'}"
            + (f" · split into {len(windows)} sentence windows" if len(windows) > 1 else ""))
    parts = [f'<div class="prouie-record"><div class="prouie-meta">{meta}</div>', body]
    if missing:
        items = ", ".join(f"<code>{html.escape(t)}</code>" for t in missing)
        parts.append(f'<div class="prouie-unplaced">Not found in the text: {items}</div>')
    if rows:
        parts.append(units_table(rows))
    completion = record.get("completion")
    answers = completion if isinstance(completion, list) else [completion or ""]
    parts.append("<details><summary>model answer</summary>"
                 + "".join(f"<pre>{html.escape(a)}</pre>" for a in answers) + "</details></div>")
    return "".join(parts)


def extraction_page(records: Sequence[Record], *, title: str = "Extractions", note: str = "") -> str:
    """The whole page: a heading, an optional note (model, schema), then every record."""
    head = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{PAGE_STYLE}</style></head><body><h1>{html.escape(title)}</h1>")
    intro = f'<p class="prouie-meta">{html.escape(note)}</p>' if note else ""
    return head + intro + "".join(record_html(r) for r in records) + "</body></html>\n"
