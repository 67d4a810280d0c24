"""Error analysis: every gold and predicted unit of a record gets one category.

Units: NER entities; RE relations; EE event triggers (one per event) and arguments (inside an event).
Spans are compared as the ``prouie`` protocol does: strip, collapse whitespace, casefold; exact duplicate
predicted units count once. Categories, decided in this order (each gold unit is paired at most once):

``correct``
    a predicted unit equals an unpaired gold unit: same span text(s) and label (entity type, relation type,
    event type, argument role; for RE also the head/tail entity types when both sides carry them).
``hallucinated``
    a predicted unit with a span (entity, head, tail, trigger or argument text) that does not occur in the
    record text.
``wrong_type``
    same span text(s) as an unpaired gold unit, other label.
``wrong_boundary``
    same label as an unpaired gold unit, and each span overlaps the gold span at the same position (head
    with head, tail with tail) without all of them being equal. Overlap is judged on character positions:
    a predicted span's positions are all its case-insensitive occurrences in the text, a gold span's are its
    offsets (or its occurrences when it has none); a span containing the other also counts as overlapping.
``spurious``
    any other predicted unit.
``missed``
    a gold unit no predicted unit was paired with (``wrong_type`` / ``wrong_boundary`` rows carry their gold
    unit, so it is not reported twice).
``not_well_formed``
    one row per record whose output was not well-formed (or has no prediction line); the units the parser
    could still read are classified as usual.

EE arguments are compared only inside paired events (an event pair is ``correct``, ``wrong_type`` or
``wrong_boundary`` on its trigger); the arguments of an unpaired predicted event are ``hallucinated`` or
``spurious``, those of an unpaired gold event ``missed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from prouie_lib.rundir import stage_sort_key
from prouie_lib.schema import Record, RecordError, Structure, normalize_text

CATEGORIES: tuple[str, ...] = ("correct", "missed", "spurious", "wrong_type", "wrong_boundary", "hallucinated",
                               "not_well_formed")
ERROR_CATEGORIES: tuple[str, ...] = CATEGORIES[1:]
UNIT_KINDS: dict[str, tuple[str, ...]] = {"NER": ("entity",), "RE": ("relation",), "EE": ("trigger", "argument")}
NONE_LABEL = "∅"  # the "no unit" row/column of a type confusion table
ERROR_COLUMNS: tuple[str, ...] = ("stage", "id", "dataset", "task", "kind", "category", "gold_label",
                                  "pred_label", "gold_text", "pred_text", "gold", "pred")

Interval = tuple[int, int]


def find_spans(span: str, text: str) -> list[Interval]:
    """Every case-insensitive occurrence of ``span`` in ``text`` (any run of whitespace matches any other)."""
    words = span.split() if isinstance(span, str) else []
    if not words:
        return []
    pattern = r"\s+".join(re.escape(w) for w in words)
    return [(m.start(), m.end()) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]


def span_positions(span: dict[str, Any], text: str) -> list[Interval]:
    """A span's offsets when it has valid ones, else its occurrences in the text."""
    start, end = span.get("start"), span.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        return [(start, end)]
    return find_spans(span.get("text", ""), text)


def _overlap(a: Sequence[Interval], b: Sequence[Interval]) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)


@dataclass
class Unit:
    """One unit seen for error analysis: its spans (dicts with text/start/end), label and extra labels."""

    kind: str
    label: str
    spans: list[dict[str, Any]]
    extra: tuple[str, ...] = ()  # RE: (head type, tail type) when both carry one
    source: dict[str, Any] = field(default_factory=dict)  # the unit as in the structure
    positions: list[list[Interval]] = field(default_factory=list)

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(normalize_text(s.get("text")) for s in self.spans)

    @property
    def key(self) -> tuple:
        return (self.texts, normalize_text(self.label), tuple(normalize_text(x) for x in self.extra))

    def same_label(self, other: Unit) -> bool:
        if normalize_text(self.label) != normalize_text(other.label):
            return False
        if self.extra and other.extra:
            return tuple(map(normalize_text, self.extra)) == tuple(map(normalize_text, other.extra))
        return True

    def describe(self) -> str:
        if self.kind == "relation":
            head, tail = (s.get("text", "") for s in self.spans)
            types = [f" [{t}]" if t else "" for t in (self.extra or ("", ""))]
            return f"{head}{types[0]} —{self.label}→ {tail}{types[1]}"
        return f"{self.label}: {self.spans[0].get('text', '')}"


def _units(structure: Structure, task: str, text: str, where: str) -> list[Unit]:
    """Top-level units of a structure (entities, relations or event triggers) with located spans."""
    try:
        if task == "NER":
            units = [Unit("entity", e["type"], [e], source=e) for e in structure.get("entities") or []]
        elif task == "RE":
            units = []
            for r in structure.get("relations") or []:
                types = (r["head"].get("type") or "", r["tail"].get("type") or "")
                units.append(Unit("relation", r["type"], [r["head"], r["tail"]],
                                  extra=types if all(types) else (), source=r))
        elif task == "EE":
            units = [Unit("trigger", ev["type"], [ev["trigger"]], source=ev) for ev in structure.get("events") or []]
        else:
            raise RecordError(f"unknown task {task!r}", record=where, field="task")
    except (KeyError, TypeError, AttributeError) as err:
        raise RecordError(f"malformed unit ({err!r})", record=where, field=task) from err
    for unit in units:
        unit.positions = [span_positions(s, text) for s in unit.spans]
    return _dedup(units)


def _arguments(event: dict[str, Any], text: str, where: str) -> list[Unit]:
    try:
        units = [Unit("argument", a["role"], [a], source=a) for a in event.get("arguments") or []]
    except (KeyError, TypeError) as err:
        raise RecordError(f"malformed argument ({err!r})", record=where, field="events.arguments") from err
    for unit in units:
        unit.positions = [span_positions(s, text) for s in unit.spans]
    return _dedup(units)


def _dedup(units: list[Unit]) -> list[Unit]:
    seen, out = set(), []
    for unit in units:
        if unit.key not in seen:
            seen.add(unit.key)
            out.append(unit)
    return out


def _row(category: str, kind: str, gold: Unit | None, pred: Unit | None) -> dict[str, Any]:
    return {"kind": kind, "category": category,
            "gold_label": gold.label if gold else None, "pred_label": pred.label if pred else None,
            "gold_text": " | ".join(s.get("text", "") for s in gold.spans) if gold else None,
            "pred_text": " | ".join(s.get("text", "") for s in pred.spans) if pred else None,
            "gold": gold.describe() if gold else None, "pred": pred.describe() if pred else None}


def pair_units(gold: list[Unit], pred: list[Unit], text: str
               ) -> tuple[list[dict[str, Any]], list[tuple[Unit, Unit]]]:
    """Categorize one kind of unit; returns the rows and the (gold, pred) pairs that were made."""
    normalized_text = normalize_text(text)
    free = list(range(len(gold)))
    category: dict[int, str] = {}
    partner: dict[int, int] = {}

    def claim(p: int, test) -> bool:
        for g in free:
            if test(gold[g], pred[p]):
                free.remove(g)
                partner[p] = g
                return True
        return False

    for p in range(len(pred)):
        if claim(p, lambda g, u: g.key == u.key):
            category[p] = "correct"
    for p, unit in enumerate(pred):
        if p not in category and any(t and t not in normalized_text for t in unit.texts):
            category[p] = "hallucinated"
    for p in range(len(pred)):
        if p not in category and claim(p, lambda g, u: g.texts == u.texts):
            category[p] = "wrong_type"
    for p in range(len(pred)):
        if p not in category and claim(p, _boundary_match):
            category[p] = "wrong_boundary"
    rows, pairs = [], []
    for p, unit in enumerate(pred):
        g = partner.get(p)
        rows.append(_row(category.get(p, "spurious"), unit.kind, gold[g] if g is not None else None, unit))
        if g is not None:
            pairs.append((gold[g], unit))
    rows += [_row("missed", gold[g].kind, gold[g], None) for g in free]
    return rows, pairs


def _boundary_match(gold: Unit, pred: Unit) -> bool:
    if not gold.same_label(pred) or len(gold.spans) != len(pred.spans):
        return False
    for g_text, p_text, g_pos, p_pos in zip(gold.texts, pred.texts, gold.positions, pred.positions, strict=True):
        if g_text == p_text:
            continue
        if not (_overlap(g_pos, p_pos) or (g_text and p_text and (g_text in p_text or p_text in g_text))):
            return False
    return True


def classify_record(record: Record, predicted: Structure, *, well_formed: bool = True) -> list[dict[str, Any]]:
    """Category rows (see the module docstring) for one gold record and its predicted structure."""
    task, text, where = record.get("task"), record.get("text"), record.get("id")
    if not isinstance(text, str):
        raise RecordError("missing or not a string", record=where, field="text")
    rows = [] if well_formed else [{**_row("not_well_formed", "output", None, None)}]
    gold_units, pred_units = _units(record, task, text, where), _units(predicted, task, text, f"{where} (prediction)")
    unit_rows, pairs = pair_units(gold_units, pred_units, text)
    rows += unit_rows
    if task == "EE":
        paired_pred = {id(p) for _, p in pairs}
        paired_gold = {id(g) for g, _ in pairs}
        for gold_ev, pred_ev in pairs:
            rows += pair_units(_arguments(gold_ev.source, text, where),
                               _arguments(pred_ev.source, text, where), text)[0]
        for unit in pred_units:
            if id(unit) not in paired_pred:
                rows += pair_units([], _arguments(unit.source, text, where), text)[0]
        for unit in gold_units:
            if id(unit) not in paired_gold:
                rows += pair_units(_arguments(unit.source, text, where), [], text)[0]
    return rows


def error_table(predictions: pd.DataFrame) -> pd.DataFrame:
    """Category rows for every (stage, record) of a :func:`~prouie_lib.analysis.loaders.load_predictions` table."""
    rows = []
    for item in predictions.itertuples(index=False):
        base = {"stage": item.stage, "id": item.id, "dataset": item.dataset, "task": item.task}
        record = item.record if isinstance(item.record, dict) else {"id": item.id, "task": item.task,
                                                                     "text": item.text, **item.gold}
        well_formed = bool(item.well_formed) and bool(getattr(item, "has_prediction", True))
        rows += [{**base, **row} for row in classify_record(record, item.predicted, well_formed=well_formed)]
    return pd.DataFrame(rows, columns=list(ERROR_COLUMNS))


def category_counts(errors: pd.DataFrame, by: Sequence[str] = ("stage", "task"),
                    categories: Iterable[str] = CATEGORIES) -> pd.DataFrame:
    """Rows per ``by`` group, one column per category (counts of rows), every category present."""
    categories = list(categories)
    chosen = errors[errors["category"].isin(categories)]
    table = chosen.groupby([*by, "category"]).size().unstack("category", fill_value=0)
    table = table.reindex(columns=categories, fill_value=0)
    if "stage" in by:  # pipeline order (base, cm, sa, de), not alphabetical
        table = table.sort_index(key=lambda index: index.map(lambda s: stage_sort_key(s)[0])
                                 if index.name == "stage" else index, sort_remaining=True)
    return table


def type_confusion(errors: pd.DataFrame, *, task: str | None = None, kind: str | None = None,
                   stage: str | None = None) -> pd.DataFrame:
    """Gold label (rows) × predicted label (columns) counts of paired units.

    ``correct`` and ``wrong_type`` rows give the cells; ``missed`` units count in the ``∅`` column and
    ``spurious`` / ``hallucinated`` ones in the ``∅`` row. ``wrong_boundary`` pairs count as their label.
    """
    rows = errors
    for column, value in (("task", task), ("kind", kind), ("stage", stage)):
        if value is not None:
            rows = rows[rows[column] == value]
    rows = rows[rows["category"] != "not_well_formed"]
    gold = rows["gold_label"].fillna(NONE_LABEL)
    pred = rows["pred_label"].fillna(NONE_LABEL)
    table = pd.crosstab(gold, pred).rename_axis(index="gold", columns="predicted")
    labels = sorted(set(table.index) | set(table.columns), key=lambda x: (x == NONE_LABEL, x))
    return table.reindex(index=labels, columns=labels, fill_value=0)


def record_categories(errors: pd.DataFrame) -> dict[tuple[str, str], set[str]]:
    """``(stage, id) → {categories}`` of a table from :func:`error_table`."""
    out: dict[tuple[str, str], set[str]] = {}
    for stage, rid, category in errors[["stage", "id", "category"]].itertuples(index=False):
        out.setdefault((stage, rid), set()).add(category)
    return out
