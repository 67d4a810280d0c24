"""Scoring prediction lines against gold records: per dataset (micro over records), macro over datasets.

The public entry: it reads the inputs (:mod:`~prouie_lib.evaluation.inputs`), walks the datasets and each
dataset's records, and leaves every scoring step to the protocol (:mod:`~prouie_lib.evaluation.protocols`).

Prediction lines carry ``id`` and either a raw ``completion`` with its ``format`` (parsed against the gold
record's labels and task) or the parsed ``entities``/``relations``/``events`` (with an optional
``well_formed``, default true). When a line has both, the structure fields win (they may come from merged
split-schema chunks); the completion still matters to protocols that look at it (``iepile``).
A gold record without a prediction line is scored as an empty prediction and counted in ``missing``;
a prediction whose id is not in the gold is an error.

:func:`score_predictions` returns::

    {"protocol": P,
     "datasets": {NAME: {"task": T, "n": n, "missing": m,
                         "metrics": {METRIC: {"p": x, "r": x, "f1": x, "source": S}},
                         "parse_error_rate": x, "hallucination_rate": x, "off_schema_rate": x}},
     "macro": {METRIC: mean F1 over the datasets that have METRIC},
     "kit_extensions": [METRIC, ...]}

all rates in percent: ``parse_error_rate`` is the share of a dataset's records whose prediction is not
well-formed; ``hallucination_rate`` the share of predicted spans not found in the record text (see
:mod:`prouie_lib.evaluation.protocols`); ``off_schema_rate`` the share of predicted units (entities;
relations; events and arguments) whose label is outside the record's schema — they are scored too, each
protocol with its own normalization. ``source`` says where a metric's definition comes from: ``"peer"`` (the
peer's own evaluator computes it: comparable to its tables), ``"kit extension"`` (the peer does not define it:
never quote it as a peer number) or ``"kit"`` (the ``prouie`` protocol); ``kit_extensions`` lists the metrics
labelled ``"kit extension"`` anywhere in the result. NAME is the record's ``dataset`` (``dataset/task`` when
one dataset holds several tasks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from prouie_lib.evaluation.inputs import index_gold, index_predictions, read_prediction
from prouie_lib.evaluation.metrics import Counts, off_schema_counts
from prouie_lib.evaluation.protocols import KIT_EXTENSION, Prediction, Protocol, get_protocol
from prouie_lib.formats import get_format
from prouie_lib.formats.units import merge_structures
from prouie_lib.schema import HEADLINE_METRIC, TASKS, Record

PREDICTION_KEYS = ("id", "completion", "format", "well_formed", "entities", "relations", "events")


def prediction_line(record: Record, completion: str | Sequence[str], fmt: str,
                    label_subsets: Sequence[Sequence[str]] | None = None) -> dict[str, Any]:
    """The prediction line for ``record``: ``{"id", "completion", "format", "well_formed", "entities",
    "relations", "events"}``.

    With ``label_subsets`` (split schema), ``completion`` holds one completion per subset; each is parsed
    against its subset, the structures are merged, and ``completion`` is stored as the list.
    """
    target = get_format(fmt)
    labels, task = record.get("labels") or {}, record["task"]
    if label_subsets is None:
        if not isinstance(completion, str):
            raise TypeError("completion must be a string unless label_subsets is given")
        parsed = target.parse(completion, labels, task)
        structure, well_formed = parsed.structure, parsed.well_formed
    else:
        from prouie_lib.formats.units import restrict_record

        if isinstance(completion, str) or len(completion) != len(label_subsets):
            raise ValueError("give one completion per label subset")
        results = [target.parse(text, restrict_record(record, subset)["labels"], task)
                   for text, subset in zip(completion, label_subsets, strict=True)]
        structure = merge_structures(r.structure for r in results)
        well_formed = all(r.well_formed for r in results)
        completion = list(completion)
    return {"id": record["id"], "completion": completion, "format": target.name, "well_formed": well_formed,
            "entities": structure["entities"], "relations": structure["relations"], "events": structure["events"]}


def headline_f1s(scores: Mapping[str, Any]) -> dict[str, float]:
    """Each dataset's headline F1 in a :func:`score_predictions` result (or a stage's ``scores.json``), for the
    datasets that have their headline metric."""
    return {name: entry["metrics"][HEADLINE_METRIC[entry["task"]]]["f1"]
            for name, entry in (scores.get("datasets") or {}).items()
            if HEADLINE_METRIC.get(entry.get("task")) in (entry.get("metrics") or {})}


def headline_macro_f1(scores: Mapping[str, Any]) -> float | None:
    """Mean over datasets of each dataset's headline F1 in a :func:`score_predictions` result (or a stage's
    ``scores.json``); None without a dataset that has its headline metric."""
    f1s = list(headline_f1s(scores).values())
    return sum(f1s) / len(f1s) if f1s else None


def score_predictions(gold_records: Iterable[Record], pred_lines: Iterable[Mapping[str, Any]],
                      protocol: str | Protocol = "prouie", *, gold_source: str | None = None,
                      pred_source: str | None = None, bootstrap: int = 0) -> dict[str, Any]:
    """Score ``pred_lines`` against ``gold_records`` under ``protocol`` (see the module docstring).

    With ``bootstrap`` > 0 every metric also gets ``"ci": [low, high]``, a 95% percentile bootstrap interval
    over the records from that many resamples (:mod:`prouie_lib.evaluation.bootstrap`).
    """
    scores, units = score_with_units(gold_records, pred_lines, protocol, gold_source=gold_source,
                                     pred_source=pred_source)
    if bootstrap > 0:
        from prouie_lib.evaluation.bootstrap import add_intervals

        add_intervals(scores, units, lambda name: get_protocol(protocol).scores, resamples=bootstrap)
    return scores


def score_with_units(gold_records: Iterable[Record], pred_lines: Iterable[Mapping[str, Any]],
                     protocol: str | Protocol = "prouie", *, gold_source: str | None = None,
                     pred_source: str | None = None) -> tuple[dict[str, Any], dict[str, dict[str, list[Counts]]]]:
    """:func:`score_predictions` plus the unit counts of every scored instance (a record, or a pooled group):
    ``units[dataset][metric]`` is one :class:`Counts` per instance in gold order (for bootstrap and paired tests).
    """
    proto = get_protocol(protocol)
    gold = index_gold(gold_records, gold_source)
    lines = index_predictions(pred_lines, gold, pred_source)
    datasets: dict[str, Any] = {}
    units: dict[str, dict[str, list[Counts]]] = {}
    for name, task, records in _datasets(gold.values()):
        datasets[name], units[name] = _score_dataset(proto, task, records, lines, pred_source)

    macro: dict[str, list[float]] = {}
    extensions: set[str] = set()
    for entry in datasets.values():
        for metric, values in entry["metrics"].items():
            macro.setdefault(metric, []).append(values["f1"])
            if values["source"] == KIT_EXTENSION:
                extensions.add(metric)
    return ({"protocol": proto.name, "datasets": datasets,
             "macro": {metric: sum(f1s) / len(f1s) for metric, f1s in macro.items()},
             "kit_extensions": sorted(extensions)}, units)


def _datasets(gold: Iterable[Record]) -> list[tuple[str, str, list[Record]]]:
    """``(name, task, records)`` per (dataset, task) in task then dataset order; ``name`` is the dataset, or
    ``dataset/task`` when the dataset holds several tasks."""
    groups: dict[tuple[str, str], list[Record]] = {}
    for record in gold:
        groups.setdefault((record["dataset"], record["task"]), []).append(record)
    tasks_per_dataset: dict[str, set[str]] = {}
    for dataset, task in groups:
        tasks_per_dataset.setdefault(dataset, set()).add(task)
    return [(dataset if len(tasks_per_dataset[dataset]) == 1 else f"{dataset}/{task}", task, records)
            for (dataset, task), records in sorted(groups.items(), key=lambda kv: (TASKS.index(kv[0][1]), kv[0][0]))]


def _score_dataset(proto: Protocol, task: str, records: list[Record], lines: Mapping[str, Mapping[str, Any]],
                   pred_source: str | None) -> tuple[dict[str, Any], dict[str, list[Counts]]]:
    """One dataset's entry of the result, and its unit counts per metric, one per scored instance."""
    instances: dict[str, list[Counts]] = {metric: [] for metric in proto.metrics(task)}
    read: list[tuple[Record, Prediction]] = []
    spans = hallucinated = 0
    for group in proto.instances(records):
        predictions = [read_prediction(lines.get(record["id"]), record, task, pred_source) for record in group]
        read.extend(zip(group, predictions, strict=True))
        counted = proto.count_instance(task, group, predictions)
        for metric, counts in counted.counts.items():
            instances[metric].append(counts)
        spans += counted.spans
        hallucinated += counted.hallucinated
    off_schema = [off_schema_counts(pred.structure, record.get("labels") or {}, task) for record, pred in read]
    n = len(records)
    return {
        "task": task, "n": n, "missing": sum(pred.line is None for _, pred in read),
        "metrics": proto.metric_scores(task, instances),
        "parse_error_rate": _percent(sum(not pred.well_formed for _, pred in read), n),
        "hallucination_rate": _percent(hallucinated, spans),
        "off_schema_rate": _percent(sum(off for _, off in off_schema), sum(units for units, _ in off_schema)),
    }, instances


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0
