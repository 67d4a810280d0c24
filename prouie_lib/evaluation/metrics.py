"""Scoring units per metric, and counting them (set or multiset) into precision / recall / F1.

Metrics and the unit each one compares (every field passes through a protocol's normalizer first):

================  ==============================================  ====
metric            unit                                            task
================  ==============================================  ====
ner               (entity type, span)                             NER
re_boundary       (head span, relation type, tail span)           RE
re_strict         (head span, head type, relation, tail span,     RE
                  tail type)
ee_trigger_id     (trigger span,)                                 EE
ee_trigger_cls    (event type, trigger span)                      EE
ee_arg_id         (event type, argument span)                     EE
ee_arg_cls        (event type, role, argument span)               EE
ee_arg_id_tied    (event type, trigger span, argument span)       EE
ee_arg_cls_tied   (event type, trigger span, role, argument       EE
                  span)
================  ==============================================  ====

``ee_arg_id``/``ee_arg_cls`` do not tie an argument to its trigger instance (as UIE's and IEPile's role
metrics); the ``_tied`` pair does (TextEE's "Arg-I+"/"Arg-C+", GoLLIE's arguments inside matched events):
an argument only counts when it sits in an event with the right type and trigger. The SFR reward's argument
steps use the tied rule; the ``strict_f1`` reward uses the untied one (see :mod:`prouie_lib.rewards`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prouie_lib.schema import Structure

METRICS_BY_TASK: dict[str, tuple[str, ...]] = {
    "NER": ("ner",),
    "RE": ("re_boundary", "re_strict"),
    "EE": ("ee_trigger_id", "ee_trigger_cls", "ee_arg_id", "ee_arg_cls", "ee_arg_id_tied", "ee_arg_cls_tied"),
}
ALL_METRICS: tuple[str, ...] = tuple(m for ms in METRICS_BY_TASK.values() for m in ms)

Normalizer = Callable[[str], str]


def _same(text: str) -> str:
    return text


def metric_units(metric: str, structure: Structure, normalize: Normalizer = _same) -> list[tuple[str, ...]]:
    """The units ``metric`` compares in ``structure`` (a list: duplicates kept; counting decides)."""
    n = normalize
    if metric == "ner":
        return [(n(e["type"]), n(e["text"])) for e in structure.get("entities") or []]
    if metric in ("re_boundary", "re_strict"):
        out = []
        for r in structure.get("relations") or []:
            head, tail = r["head"], r["tail"]
            if metric == "re_boundary":
                out.append((n(head["text"]), n(r["type"]), n(tail["text"])))
            else:
                out.append((n(head["text"]), n(head.get("type") or ""), n(r["type"]), n(tail["text"]),
                            n(tail.get("type") or "")))
        return out
    events = structure.get("events") or []
    if metric == "ee_trigger_id":
        return [(n(ev["trigger"]["text"]),) for ev in events]
    if metric == "ee_trigger_cls":
        return [(n(ev["type"]), n(ev["trigger"]["text"])) for ev in events]
    if metric == "ee_arg_id":
        return [(n(ev["type"]), n(a["text"])) for ev in events for a in ev.get("arguments") or []]
    if metric == "ee_arg_cls":
        return [(n(ev["type"]), n(a["role"]), n(a["text"])) for ev in events for a in ev.get("arguments") or []]
    if metric == "ee_arg_id_tied":
        return [(n(ev["type"]), n(ev["trigger"]["text"]), n(a["text"]))
                for ev in events for a in ev.get("arguments") or []]
    if metric == "ee_arg_cls_tied":
        return [(n(ev["type"]), n(ev["trigger"]["text"]), n(a["role"]), n(a["text"]))
                for ev in events for a in ev.get("arguments") or []]
    raise ValueError(f"unknown metric {metric!r}; known: {list(ALL_METRICS)}")


def predicted_spans(structure: Structure, task: str) -> list[str]:
    """Every span text a prediction claims is in the text (for the hallucination rate)."""
    if task == "NER":
        return [e["text"] for e in structure.get("entities") or []]
    if task == "RE":
        return [r[side]["text"] for r in structure.get("relations") or [] for side in ("head", "tail")]
    spans = []
    for ev in structure.get("events") or []:
        spans.append(ev["trigger"]["text"])
        spans.extend(a["text"] for a in ev.get("arguments") or [])
    return spans


def off_schema_counts(structure: Structure, labels: Mapping[str, Any], task: str) -> tuple[int, int]:
    """(predicted units, units with a label outside the schema) of the task's part of ``structure``.

    Units: entities (NER); relations (RE: off-schema when the relation type, or an entity type against a
    non-empty ``entity_types``, is unknown); events and arguments (EE: an event of an unknown type, and each of
    its arguments, or an argument whose role is not a role of its event type). Exact string comparison.
    """
    entity_types = set(labels.get("entity_types") or [])
    if task == "NER":
        ents = structure.get("entities") or []
        return len(ents), sum(e["type"] not in entity_types for e in ents)
    if task == "RE":
        rels = structure.get("relations") or []
        allowed = set(labels.get("relation_types") or [])
        off = 0
        for r in rels:
            types = (r["head"].get("type") or "", r["tail"].get("type") or "")
            off += r["type"] not in allowed or bool(entity_types and any(t not in entity_types for t in types))
        return len(rels), off
    roles = {etype: set(rs or []) for etype, rs in (labels.get("event_types") or {}).items()}
    units = off = 0
    for ev in structure.get("events") or []:
        known = roles.get(ev["type"])
        args = ev.get("arguments") or []
        units += 1 + len(args)
        off += (known is None) + sum(known is None or a["role"] not in known for a in args)
    return units, off


@dataclass
class Counts:
    """True positives and the sizes of the gold and predicted unit collections."""

    tp: int = 0
    gold: int = 0
    pred: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.gold + other.gold, self.pred + other.pred)

    def as_dict(self) -> dict[str, int]:
        return {"tp": self.tp, "gold": self.gold, "pred": self.pred}


def count_set(gold: Iterable[Any], pred: Iterable[Any]) -> Counts:
    """Set semantics: duplicates collapse on both sides; TP = |G ∩ P|."""
    g, p = set(gold), set(pred)
    return Counts(len(g & p), len(g), len(p))


def count_multiset(gold: Iterable[Any], pred: Iterable[Any]) -> Counts:
    """Multiset semantics: every unit counts; each gold unit can match one predicted unit."""
    g, p = Counter(gold), Counter(pred)
    return Counts(sum((g & p).values()), sum(g.values()), sum(p.values()))


def prf(counts: Counts, *, empty_is_perfect: bool = False) -> dict[str, float]:
    """Precision, recall and F1 in percent (0 for an empty denominator, or 100 for nothing-vs-nothing when
    ``empty_is_perfect``)."""
    if empty_is_perfect and counts.gold == 0 and counts.pred == 0:
        return {"p": 100.0, "r": 100.0, "f1": 100.0}
    p = counts.tp / counts.pred if counts.pred else 0.0
    r = counts.tp / counts.gold if counts.gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": 100 * p, "r": 100 * r, "f1": 100 * f1}


def prf_iepile(counts: Counts) -> dict[str, float]:
    """IEPile's ``F1Metric``: P and R in percent rounded to 2 decimals, then F1 from those rounded values,
    rounded to 2 decimals; 0 for an empty denominator."""
    p = round(counts.tp / counts.pred * 100, 2) if counts.pred else 0.0
    r = round(counts.tp / counts.gold * 100, 2) if counts.gold else 0.0
    f1 = round(2 * p * r / (p + r), 2) if p + r else 0.0
    return {"p": p, "r": r, "f1": f1}
