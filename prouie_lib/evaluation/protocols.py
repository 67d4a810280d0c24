"""Scoring protocols: how units are normalized, counted and turned into P/R/F1.

``prouie`` is our default. ``instructuie``, ``iepile`` and ``uie`` reproduce the peers' evaluators as
documented in ``../shared/reference/landscape.md`` §2 (InstructUIE ``src/evaluation/evaluator.py``, IEPile
``ie2instruction/eval_func.py`` + ``eval/metric``, UIE ``uie/extraction/scorer.py``), so our numbers can be put
next to their tables. Every rule is listed in the protocol's docstring and pinned by a test
(``tests/test_evaluation_protocols.py``).

All protocols score micro over the records of a dataset (counts summed, then P/R/F1), report percentages, and
compute the hallucination rate as the share of predicted spans (entity spans; relation heads and tails;
triggers and arguments) whose normalized text is not a substring of the normalized record text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from prouie_lib.evaluation.metrics import (
    METRICS_BY_TASK,
    Counts,
    count_multiset,
    count_set,
    metric_units,
    prf,
    prf_iepile,
)
from prouie_lib.schema import Structure, empty_structure

# Relation types that mean "no relation" (InstructUIE's loader: ``type == 'NA' or type == ''``).
NA_RELATION_TYPES = frozenset({"NA", ""})


def collapse_casefold(text: str) -> str:
    """prouie normalization: strip, collapse every whitespace run to one space, casefold."""
    return " ".join(text.split()).casefold()


def instructuie_format(text: str) -> str:
    """InstructUIE's ``EvaluatorBase._format`` (``_remove_redundant_space`` included), character for character."""
    s = " ".join(text.split())
    s = re.sub(r"\s*(,|:|\(|\)|\.|_|;|'|-)\s*", r"\1", s)
    s = s.lower()
    s = s.replace("{", "").replace("}", "")
    s = re.sub(",+", ",", s)
    s = re.sub(r"\.+", ".", s)
    s = re.sub(";+", ";", s)
    s = s.replace("’", "'")
    s = s.replace("location", "located")
    return s


def _identity(text: str) -> str:
    return text


def drop_na_relations(structure: Structure) -> Structure:
    out = dict(structure)
    out["relations"] = [r for r in structure.get("relations") or [] if r["type"] not in NA_RELATION_TYPES]
    return out


class Protocol:
    """Base: prouie-style units from :func:`metric_units`, NA relations dropped on both sides."""

    name = "base"

    def metrics(self, task: str) -> tuple[str, ...]:
        return METRICS_BY_TASK[task]

    def normalize(self, text: str) -> str:
        return text

    def gold_structure(self, structure: Structure) -> Structure:
        return drop_na_relations(structure)

    def pred_structure(self, structure: Structure, line: Mapping[str, Any] | None) -> Structure:
        """The predicted structure to score (``line`` is the raw prediction line, None when missing)."""
        return drop_na_relations(structure)

    def units(self, metric: str, structure: Structure) -> list:
        return metric_units(metric, structure, self.normalize)

    def count(self, gold: list, pred: list) -> Counts:
        return count_set(gold, pred)

    def scores(self, counts: Counts) -> dict[str, float]:
        return prf(counts)

    def span_in_text(self, span: str, text: str) -> bool:
        return self.normalize(span) in self.normalize(text)


class ProUIEProtocol(Protocol):
    """``prouie`` (default): strict units, light normalization, set semantics.

    Rules:
    - Normalization of every label and span: strip, collapse whitespace runs to one space, casefold.
    - Set semantics per record: duplicate units collapse on both sides (a repeated prediction is not an FP).
    - Units per metric as in :mod:`prouie_lib.evaluation.metrics` (RE strict includes head/tail entity types;
      EE arguments keyed by (event type, role, span), not tied to their trigger).
    - Relations typed ``NA`` or ``""`` mean "no relation" and are dropped from gold and prediction.
    - P/R/F1 in percent, unrounded; a metric with no gold and no predicted unit in a dataset scores 100
      (nothing to find, nothing wrongly found); otherwise an empty denominator gives 0.
    - Hallucination: normalized span not a substring of the normalized text.
    """

    name = "prouie"

    def normalize(self, text: str) -> str:
        return collapse_casefold(text)

    def scores(self, counts: Counts) -> dict[str, float]:
        return prf(counts, empty_is_perfect=True)


class InstructUIEProtocol(Protocol):
    """``instructuie``: InstructUIE's ``calculate_f1.py`` / ``evaluator.py`` (landscape.md §2.1).

    Rules:
    - Structures are written in InstructUIE's target layout and scored as strings, as its evaluator does:
      NER ``" type: span; type: span"`` or ``" None"``; RE ``" relation: head, tail; ..."`` or ``" None"``.
    - Normalization ``_format`` on both sides: collapse whitespace, drop spaces around ``, : ( ) . _ ; ' -``,
      lower-case, remove ``{}``, squeeze repeated ``, . ;``, map ``’`` to ``'``, and replace every
      ``location`` with ``located`` (types and spans alike).
    - NER (``EvaluatorNER``): items are ``_format(text).split(';')``, each ``_format``-ed, **not** filtered for
      ``:``. Quirks reproduced: a record without gold entities has the gold item ``"none"``, so an empty
      prediction scores one TP there; an empty prediction where entities exist adds the FP ``"none"``; a span
      containing ``;`` splits into two items. Gold entities typed ``NA`` or ``""`` are left out (the loader).
    - RE (``EvaluatorRE``, ``MetricF1NA``): items split on ``;``, kept only if they contain ``:``, so
      ``None`` is no item. Gold relations typed ``NA``/``""`` stay in the gold as ``"NA: head, tail"`` items
      (the loader's ``ground_truth``) and count as FNs unless predicted; ``MetricF1NA``'s NA rule tests for
      ``',NA,'`` in lower-cased strings and never fires, so this is plain micro-F1. No entity types: only
      ``re_boundary`` is reported (InstructUIE has no strict RE).
    - Counting: sets per record (``MetricF1``: TP=|G∩P|, FN=|G−P|, FP=|P−G|), summed over the dataset.
    - EE: InstructUIE scores EE and EET by instance accuracy and only EEA by F1; we do not mirror the
      accuracies. The four EE metrics use our units with every field ``_format``-ed and set counting (EEA-style
      F1 extended to all events); gold events typed ``NA``/``""`` are left out (the loader).
    - P/R/F1 in percent, unrounded (InstructUIE prints fractions with ``%g``); empty denominators give 0.
    - Hallucination: ``_format(span)`` not a substring of ``_format(text)``.
    """

    name = "instructuie"

    def metrics(self, task: str) -> tuple[str, ...]:
        return ("re_boundary",) if task == "RE" else METRICS_BY_TASK[task]

    def normalize(self, text: str) -> str:
        return instructuie_format(text)

    def gold_structure(self, structure: Structure) -> Structure:
        out = dict(structure)
        out["entities"] = [e for e in structure.get("entities") or [] if e["type"] not in NA_RELATION_TYPES]
        out["events"] = [e for e in structure.get("events") or [] if e["type"] not in NA_RELATION_TYPES]
        return out  # NA relations are kept (as "NA: head, tail")

    def pred_structure(self, structure: Structure, line: Mapping[str, Any] | None) -> Structure:
        return structure

    def units(self, metric: str, structure: Structure) -> list:
        if metric == "ner":
            return [instructuie_format(item) for item in instructuie_format(ner_target(structure)).split(";")]
        if metric == "re_boundary":
            items = [instructuie_format(item) for item in instructuie_format(re_target(structure)).split(";")]
            return [item for item in items if ":" in item]
        return metric_units(metric, structure, instructuie_format)


def ner_target(structure: Structure) -> str:
    """InstructUIE's NER target text (``load_NER_dataset``)."""
    pairs = [f"{e['type']}: {e['text']}" for e in structure.get("entities") or []]
    return " " + "; ".join(pairs) if pairs else " None"


def re_target(structure: Structure) -> str:
    """InstructUIE's RE ``ground_truth`` text (``load_RE_dataset``; NA relations written as ``NA``)."""
    pairs = []
    for r in structure.get("relations") or []:
        rtype = "NA" if r["type"] in NA_RELATION_TYPES else r["type"]
        pairs.append(f"{rtype}: {r['head']['text']}, {r['tail']['text']}")
    return " " + "; ".join(pairs) if pairs else " None"


class IEPileProtocol(Protocol):
    """``iepile``: IEPile / OneKE ``ie2instruction/eval_func.py`` with the default ``match_mode="normal"``.

    Rules:
    - No normalization at all: case-, whitespace- and punctuation-sensitive exact strings.
    - Multiset counting (``count_instance_f1`` in ``normal`` mode): every predicted tuple counts, each gold
      tuple can be matched once, so a duplicated prediction is an extra FP (and duplicated gold needs
      duplicated predictions).
    - Tuples: NER (entity, type); RE (head, relation, tail) → ``re_boundary``; IEPile's SPO task tuple
      (head type, head, relation, tail type, tail) → ``re_strict``; EE event (type, trigger) →
      ``ee_trigger_cls``, argument (event type, argument, role) → ``ee_arg_cls``, not tied to the trigger.
      ``ee_trigger_id`` (trigger) and ``ee_arg_id`` (event type, argument) are our additions, counted alike.
    - A raw ``completion`` in the JSON (``complete``) format that ``json.loads`` rejects, or that is not an
      object, contributes no prediction at all (IEPile counts it in ``错误数``), even where our lenient
      parser recovered units (e.g. from a ```` ```json ```` fence or a cut-off output).
    - Relations typed ``NA``/``""`` are dropped from gold and prediction (our choice; IEPile data have none).
    - Reporting (``F1Metric.safe_div``/``safe_div_``): P = round(100·TP/pred, 2), R = round(100·TP/gold, 2),
      F1 = round(2PR/(P+R), 2) from the already rounded P and R; an empty denominator gives 0.
    - Hallucination: exact substring test.
    """

    name = "iepile"

    def pred_structure(self, structure: Structure, line: Mapping[str, Any] | None) -> Structure:
        if line is not None and line.get("format") == "complete" and isinstance(line.get("completion"), str):
            try:
                decoded = json.loads(line["completion"])
            except ValueError:
                decoded = None
            if not isinstance(decoded, dict):
                return empty_structure()
        return drop_na_relations(structure)

    def count(self, gold: list, pred: list) -> Counts:
        return count_multiset(gold, pred)

    def scores(self, counts: Counts) -> dict[str, float]:
        return prf_iepile(counts)


class UIEProtocol(Protocol):
    """``uie``: UIE's ``uie/extraction/scorer.py``, string mode, default ``match_mode="normal"``.

    Rules:
    - No normalization: exact strings (UIE's ``string`` metrics; offsets are not scored — model text has none).
    - Multiset counting (``Metric.count_instance`` ``normal``): each gold tuple can be matched once; every
      prediction counts.
    - Tuples: entity (type, span); relation strict (relation, head type, head, tail type, tail) and boundary
      (relation, head, tail); event trigger (event type, trigger) → ``ee_trigger_cls``; role (event type,
      role, argument) → ``ee_arg_cls``, not tied to the trigger. ``ee_trigger_id`` and ``ee_arg_id`` are our
      additions, counted alike.
    - Relations typed ``NA``/``""`` are dropped from gold and prediction (our choice; UIE data have none).
    - P/R/F1 in percent, unrounded; an empty denominator gives 0.
    - Hallucination: exact substring test.
    """

    name = "uie"

    def count(self, gold: list, pred: list) -> Counts:
        return count_multiset(gold, pred)


PROTOCOLS: dict[str, Protocol] = {
    p.name: p for p in (ProUIEProtocol(), InstructUIEProtocol(), IEPileProtocol(), UIEProtocol())
}


def get_protocol(name: str | Protocol) -> Protocol:
    if isinstance(name, Protocol):
        return name
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ValueError(f"unknown protocol {name!r}; known: {sorted(PROTOCOLS)}") from None
