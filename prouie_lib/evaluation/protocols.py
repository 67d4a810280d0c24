"""Scoring protocols: how units are normalized, counted and turned into P/R/F1.

:class:`Protocol` owns the scoring walk of one instance (a record, or records pooled by
:meth:`~Protocol.group_key`), :meth:`~Protocol.count_instance`: gold and predicted structures → units per
metric → counts; over a dataset, :meth:`~Protocol.metric_scores` sums the counts and turns them into P/R/F1.
Each protocol below overrides only the steps its rules change. :mod:`~prouie_lib.evaluation.score` reads the
inputs and walks the datasets and records.

``prouie`` is our default. ``instructuie``, ``iepile`` and ``uie`` reproduce the peers' evaluators as
documented in ``../shared/reference/landscape.md`` §2 (InstructUIE ``src/evaluation/evaluator.py``, IEPile
``ie2instruction/eval_func.py`` + ``eval/metric``, UIE ``uie/extraction/scorer.py``), so our numbers can be put
next to their tables. Every rule is listed in the protocol's docstring and pinned by a test
(``tests/test_evaluation_protocols.py``).

All protocols score micro over the records of a dataset (counts summed, then P/R/F1), report percentages, and
compute the hallucination rate as the share of predicted spans (entity spans; relation heads and tails;
triggers and arguments) whose normalized text is not a substring of the normalized record text.

Off-schema units (a label outside the record's schema, kept and flagged by the parsers) are scored by every
protocol, each with its own normalization: under ``prouie`` a case- or space-changed label is the schema label
(``PERSON`` = ``person``) and an unknown one is a false positive; ``instructuie`` lower-cases (its ``_format``);
``iepile`` and ``uie`` compare labels as written. The share of off-schema units is reported separately.

Which metrics a peer defines: :meth:`Protocol.metric_source` says ``"peer"`` for a metric the peer's own code
computes (the number is comparable to its tables), ``"kit extension"`` for one it does not (same rules
applied to a unit the peer never scores: do not quote it as a peer number), and ``"kit"`` for the kit's own
``prouie`` protocol.

The peers' string rules and readers themselves (InstructUIE's ``_format`` and target texts, IEPile's gold
de-duplication and JSON extraction) are in :mod:`~prouie_lib.evaluation.peer_rules`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prouie_lib.evaluation.metrics import (
    METRICS_BY_TASK,
    Counts,
    count_multiset,
    count_set,
    metric_units,
    predicted_spans,
    prf,
    prf_iepile,
)
from prouie_lib.evaluation.peer_rules import (
    iepile_extract,
    instructuie_format,
    ner_target,
    re_target,
    unique_by,
)
from prouie_lib.formats import FORMATS, CompleteFormat
from prouie_lib.schema import (
    NA_RELATION_TYPES,
    TASK_FIELD,
    Record,
    Structure,
    empty_structure,
    normalize_text,
)


def drop_na_relations(structure: Structure) -> Structure:
    out = dict(structure)
    out["relations"] = [r for r in structure.get("relations") or [] if r["type"] not in NA_RELATION_TYPES]
    return out


def task_part(structure: Mapping[str, Any], task: str) -> Structure:
    """The part of ``structure`` that ``task`` scores (its entities, relations or events); the rest empty."""
    out = empty_structure()
    out[TASK_FIELD[task]] = list(structure.get(TASK_FIELD[task]) or [])
    return out


@dataclass
class Prediction:
    """One record's prediction as scoring sees it: the task part of the structure (off-schema units included),
    whether the output was well-formed, and the raw prediction line (``None`` when the line is missing)."""

    structure: Structure
    well_formed: bool = True
    line: Mapping[str, Any] | None = None


@dataclass
class InstanceCounts:
    """One scored instance: unit counts per metric, and how many predicted spans were checked against the
    text and how many of them were not found there (the hallucination rate's parts)."""

    counts: dict[str, Counts]
    spans: int = 0
    hallucinated: int = 0


KIT, PEER, KIT_EXTENSION = "kit", "peer", "kit extension"


class Protocol:
    """Base: prouie-style units from :func:`metric_units`, NA relations dropped on both sides, set counting.

    The walk: :meth:`count_instance` (:meth:`gold_structure`, :meth:`pred_structure` → :meth:`units` →
    :meth:`count`, plus :meth:`span_in_text`) per instance of :meth:`instances`, then :meth:`metric_scores`
    (:meth:`scores`) per dataset.
    """

    name = "base"
    # task -> the metrics the peer's own evaluator computes (None: the kit's own protocol)
    peer_metrics: dict[str, frozenset[str]] | None = None

    # ---- the walk ------------------------------------------------------------------------------------------

    def instances(self, records: Sequence[Record]) -> list[list[Record]]:
        """A dataset's records grouped into scored instances by :meth:`group_key`, in first-seen order."""
        groups: dict[Hashable, list[Record]] = {}
        for record in records:
            groups.setdefault(self.group_key(record), []).append(record)
        return list(groups.values())

    def count_instance(self, task: str, records: Sequence[Record],
                       predictions: Sequence[Prediction]) -> InstanceCounts:
        """Count one instance: the first record's gold against the pooled predictions of its ``records``
        (one prediction per record, in order)."""
        gold = self.gold_structure(task_part(records[0], task))
        preds = [self.pred_structure(prediction, task) for prediction in predictions]
        counts = {metric: self.count(self.units(metric, gold),
                                     [unit for pred in preds for unit in self.units(metric, pred)])
                  for metric in self.metrics(task)}
        spans = [(span, record["text"]) for pred, record in zip(preds, records, strict=True)
                 for span in predicted_spans(pred, task)]
        return InstanceCounts(counts, len(spans), sum(not self.span_in_text(span, text) for span, text in spans))

    def metric_scores(self, task: str, instances: Mapping[str, Sequence[Counts]]) -> dict[str, dict[str, Any]]:
        """Per metric: P/R/F1 of its instances' summed counts (micro over the dataset) and its source."""
        return {metric: {**self.scores(sum(counts, Counts())), "source": self.metric_source(metric, task)}
                for metric, counts in instances.items()}

    # ---- the steps, overridden by each protocol ------------------------------------------------------------

    def metrics(self, task: str) -> tuple[str, ...]:
        return METRICS_BY_TASK[task]

    def metric_source(self, metric: str, task: str) -> str:
        """``"peer"``, ``"kit extension"`` (the peer does not define it) or ``"kit"`` (the prouie protocol)."""
        if self.peer_metrics is None:
            return KIT
        return PEER if metric in self.peer_metrics.get(task, frozenset()) else KIT_EXTENSION

    def normalize(self, text: str) -> str:
        return text

    def group_key(self, record: Record) -> Hashable:
        """Records with the same key are scored as one instance (first record's gold, pooled predictions)."""
        return record["id"]

    def gold_structure(self, structure: Structure) -> Structure:
        return drop_na_relations(structure)

    def pred_structure(self, pred: Prediction, task: str) -> Structure:
        """The predicted structure to score."""
        return drop_na_relations(pred.structure)

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
    - Off-schema units count: after normalization a case- or space-changed label equals the schema label
      (``PERSON: x`` scores as ``person: x``); any other unknown label is a false positive.
    - EE arguments are reported both untied (``ee_arg_id``/``ee_arg_cls``) and tied to their event's type and
      trigger (``ee_arg_id_tied``/``ee_arg_cls_tied``, TextEE's Arg-I+/Arg-C+).
    - P/R/F1 in percent, unrounded; a metric with no gold and no predicted unit in a dataset scores 100
      (nothing to find, nothing wrongly found); otherwise an empty denominator gives 0.
    - Hallucination: normalized span not a substring of the normalized text.
    """

    name = "prouie"

    def normalize(self, text: str) -> str:
        return normalize_text(text)

    def scores(self, counts: Counts) -> dict[str, float]:
        return prf(counts, empty_is_perfect=True)


class InstructUIEProtocol(Protocol):
    """``instructuie``: InstructUIE's ``calculate_f1.py`` / ``evaluator.py`` (landscape.md §2.1).

    Rules:
    - Structures are written in InstructUIE's target layout and scored as strings, as its evaluator does:
      NER ``" type: span; type: span"`` or ``" None"``; RE ``" relation: head, tail; ..."`` or ``" None"``.
    - Normalization ``_format`` on both sides: collapse whitespace, drop spaces around ``, : ( ) . _ ; ' -``,
      lower-case, remove ``{}``, squeeze repeated ``, . ;``, map ``’`` to ``'``, and replace every
      ``location`` with ``located`` (types and spans alike). Off-schema units are kept, so ``PERSON: x`` is
      lower-cased into ``person:x`` and an invented type is a false positive, as in InstructUIE.
    - NER (``EvaluatorNER``): items are ``_format(text).split(';')``, each ``_format``-ed, **not** filtered for
      ``:``. Quirks reproduced: a record without gold entities has the gold item ``"none"``, so a prediction
      that says ``None`` scores one TP there; an empty prediction where entities exist adds the FP ``"none"``;
      a span containing ``;`` splits into two items. Gold entities typed ``NA`` or ``""`` are left out (the
      loader).
    - "Said None" is not "said nothing": a well-formed empty answer (streamlined ``None``, complete JSON with
      only empty lists, or a structured line with empty lists) is rendered ``" None"``; an empty completion,
      one from which nothing could be read (not well-formed, no unit), or a missing prediction line is the
      literal empty answer ``""``, which InstructUIE splits into the one item ``""``: a false positive, and
      a gold ``"none"`` is then missed.
    - RE (``EvaluatorRE``, ``MetricF1NA``): items split on ``;``, kept only if they contain ``:``, so
      ``None`` and ``""`` are no items. Gold relations typed ``NA``/``""`` stay in the gold as
      ``"NA: head, tail"`` items (the loader's ``ground_truth``) and count as FNs unless predicted;
      ``MetricF1NA``'s NA rule tests for ``',na,'`` and never fires on this layout, so this is plain micro-F1.
      No entity types: only ``re_boundary`` is reported (InstructUIE has no strict RE).
    - Counting: sets per record (``MetricF1``: TP=|G∩P|, FN=|G−P|, FP=|P−G|), summed over the dataset.
    - EE: InstructUIE scores EE and EET by instance accuracy and EEA by F1 over ``role: name`` items; no EE
      metric here is InstructUIE's, all are **kit extensions**: our units with every field ``_format``-ed and
      set counting; gold events typed ``NA``/``""`` are left out (the loader).
    - P/R/F1 in percent, unrounded (InstructUIE prints fractions with ``%g``); empty denominators give 0.
    - Hallucination: ``_format(span)`` not a substring of ``_format(text)``.
    """

    name = "instructuie"
    peer_metrics = {"NER": frozenset({"ner"}), "RE": frozenset({"re_boundary"}), "EE": frozenset()}

    def metrics(self, task: str) -> tuple[str, ...]:
        return ("re_boundary",) if task == "RE" else METRICS_BY_TASK[task]

    def normalize(self, text: str) -> str:
        return instructuie_format(text)

    def gold_structure(self, structure: Structure) -> Structure:
        out = dict(structure)
        out["entities"] = [e for e in structure.get("entities") or [] if e["type"] not in NA_RELATION_TYPES]
        out["events"] = [e for e in structure.get("events") or [] if e["type"] not in NA_RELATION_TYPES]
        return out  # NA relations are kept (as "NA: head, tail")

    def pred_structure(self, pred: Prediction, task: str) -> Structure:
        out = dict(pred.structure)
        empty = not any(pred.structure.get(key) for key in ("entities", "relations", "events"))
        completion = pred.line.get("completion") if pred.line is not None else None
        blank = isinstance(completion, str) and not completion.strip()
        out[SAID_NOTHING] = pred.line is None or blank or (empty and not pred.well_formed)
        return out

    def units(self, metric: str, structure: Structure) -> list:
        if metric == "ner":
            text = "" if structure.get(SAID_NOTHING) else ner_target(structure)
            return [instructuie_format(item) for item in instructuie_format(text).split(";")]
        if metric == "re_boundary":
            text = "" if structure.get(SAID_NOTHING) else re_target(structure)
            items = [instructuie_format(item) for item in instructuie_format(text).split(";")]
            return [item for item in items if ":" in item]
        return metric_units(metric, structure, instructuie_format)


SAID_NOTHING = "said_nothing"  # key set by InstructUIEProtocol.pred_structure


class IEPileProtocol(Protocol):
    """``iepile``: IEPile / OneKE ``ie2instruction/eval_func.py`` with the default ``match_mode="normal"``, on the
    gold its ``convert_func.py --split test`` builds.

    Rules:
    - No normalization at all: case-, whitespace- and punctuation-sensitive exact strings; labels as written
      (an off-schema or case-changed label is a false positive).
    - Multiset counting (``count_instance_f1`` in ``normal`` mode): every predicted tuple counts, each gold
      tuple can be matched once, so a duplicated prediction is an extra FP.
    - Gold as the converter builds it: repeated gold units are dropped (``filter_lable``: NER by (entity,
      type), RE by (head, relation, tail); EE keeps repeats).
    - Repeated texts: the converter keys a record by a hash of its text and the evaluator pools the records of
      one (dataset, text): their predictions are concatenated and the *first* record's gold is scored once.
    - Tuples: NER (entity, type); RE (head, relation, tail) → ``re_boundary``; EE event (type, trigger) →
      ``ee_trigger_cls``, argument (event type, argument, role) → ``ee_arg_cls``, not tied to the trigger.
      ``re_strict`` (IEPile's SPO task raises), ``ee_trigger_id``, ``ee_arg_id`` and the tied argument
      metrics are **kit extensions**, counted alike.
    - A raw ``completion`` (or each chunk of a split-schema list) in the JSON (``complete``) format is read as
      IEPile's extracters read model output, not by our lenient parser: ``json.loads`` failing or a non-object
      gives no prediction (IEPile's ``错误数``); a key whose value is not a list is skipped (``{"person": "x"}``
      gives nothing); non-string spans are skipped; any key is accepted as a label (off-schema and ``NA``
      included); an event argument ``"NAN"`` is dropped. Other lines use the parsed structure.
    - Relations typed ``NA``/``""`` are kept on both sides and counted like any other (IEPile has no NA rule).
    - Reporting (``F1Metric.safe_div``/``safe_div_``): P = round(100·TP/pred, 2), R = round(100·TP/gold, 2),
      F1 = round(2PR/(P+R), 2) from the already rounded P and R; an empty denominator gives 0.
    - Hallucination: exact substring test.
    """

    name = "iepile"
    peer_metrics = {"NER": frozenset({"ner"}), "RE": frozenset({"re_boundary"}),
                    "EE": frozenset({"ee_trigger_cls", "ee_arg_cls"})}

    def group_key(self, record: Record) -> Hashable:
        return ("text", record["dataset"], record["text"])

    def gold_structure(self, structure: Structure) -> Structure:
        out = dict(structure)
        out["entities"] = unique_by(structure.get("entities") or [], lambda e: (e["text"], e["type"]))
        out["relations"] = unique_by(structure.get("relations") or [],
                                     lambda r: (r["head"]["text"], r["type"], r["tail"]["text"]))
        return out

    def pred_structure(self, pred: Prediction, task: str) -> Structure:
        line = pred.line
        if line is not None and isinstance(FORMATS.get(line.get("format")), CompleteFormat):  # the JSON formats
            chunks = line.get("completion")
            chunks = [chunks] if isinstance(chunks, str) else chunks
            if isinstance(chunks, list) and chunks and all(isinstance(c, str) for c in chunks):
                out = empty_structure()
                for chunk in chunks:
                    part = iepile_extract(chunk, task)
                    for key in out:
                        out[key].extend(part[key])
                return out
        return pred.structure

    def count(self, gold: list, pred: list) -> Counts:
        return count_multiset(gold, pred)

    def scores(self, counts: Counts) -> dict[str, float]:
        return prf_iepile(counts)


class UIEProtocol(Protocol):
    """``uie``: UIE's ``uie/extraction/scorer.py``, string mode, default ``match_mode="normal"``.

    Rules:
    - No normalization: exact strings (UIE's ``string`` metrics; offsets are not scored — model text has none);
      labels as written (an off-schema or case-changed label is a false positive).
    - Multiset counting (``Metric.count_instance`` ``normal``): each gold tuple can be matched once; every
      prediction counts; gold tuples are not de-duplicated.
    - Tuples: entity (type, span); relation strict (relation, head type, head, tail type, tail) and boundary
      (relation, head, tail); event trigger (event type, trigger) → ``ee_trigger_cls``; role (event type,
      role, argument) → ``ee_arg_cls``, not tied to the trigger. ``ee_trigger_id``, ``ee_arg_id`` and the tied
      argument metrics are **kit extensions**, counted alike.
    - Relations typed ``NA``/``""`` are kept on both sides and counted like any other (UIE has no NA rule).
    - P/R/F1 in percent, unrounded; an empty denominator gives 0.
    - Hallucination: exact substring test.
    """

    name = "uie"
    peer_metrics = {"NER": frozenset({"ner"}), "RE": frozenset({"re_boundary", "re_strict"}),
                    "EE": frozenset({"ee_trigger_cls", "ee_arg_cls"})}

    def gold_structure(self, structure: Structure) -> Structure:
        return structure

    def pred_structure(self, pred: Prediction, task: str) -> Structure:
        return pred.structure

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
