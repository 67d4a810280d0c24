"""Scoring prediction lines against gold records: per dataset (micro over records), macro over datasets.

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

from prouie_lib.evaluation.metrics import Counts, off_schema_counts, predicted_spans
from prouie_lib.evaluation.protocols import KIT_EXTENSION, Prediction, Protocol, get_protocol
from prouie_lib.formats import get_format
from prouie_lib.formats.units import merge_structures
from prouie_lib.schema import (
    HEADLINE_METRIC,
    STRUCTURE_FIELDS,
    TASK_FIELD,
    TASKS,
    Record,
    RecordError,
    Structure,
    empty_structure,
    index_by_id,
)

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


def headline_macro_f1(scores: Mapping[str, Any]) -> float | None:
    """Mean over datasets of each dataset's headline F1 in a :func:`score_predictions` result (or a stage's
    ``scores.json``); None without a dataset that has its headline metric."""
    f1s = [entry["metrics"][HEADLINE_METRIC[entry["task"]]]["f1"] for entry in (scores.get("datasets") or {}).values()
           if HEADLINE_METRIC.get(entry.get("task")) in (entry.get("metrics") or {})]
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
    gold = _index_gold(gold_records, gold_source)
    preds = _index_predictions(pred_lines, gold, pred_source)
    groups: dict[tuple[str, str], list[Record]] = {}
    for record in gold.values():
        groups.setdefault((record["dataset"], record["task"]), []).append(record)
    tasks_per_dataset: dict[str, set[str]] = {}
    for dataset, task in groups:
        tasks_per_dataset.setdefault(dataset, set()).add(task)

    datasets: dict[str, Any] = {}
    units: dict[str, dict[str, list[Counts]]] = {}
    for (dataset, task), records in sorted(groups.items(), key=lambda kv: (TASKS.index(kv[0][1]), kv[0][0])):
        name = dataset if len(tasks_per_dataset[dataset]) == 1 else f"{dataset}/{task}"
        datasets[name], units[name] = _score_dataset(proto, task, records, preds, pred_source)

    macro: dict[str, float] = {}
    extensions: set[str] = set()
    for entry in datasets.values():
        for metric, values in entry["metrics"].items():
            macro.setdefault(metric, []).append(values["f1"])  # type: ignore[arg-type]
            if values["source"] == KIT_EXTENSION:
                extensions.add(metric)
    return ({"protocol": proto.name, "datasets": datasets,
             "macro": {metric: sum(f1s) / len(f1s) for metric, f1s in macro.items()},  # type: ignore[arg-type]
             "kit_extensions": sorted(extensions)}, units)


def _score_dataset(proto: Protocol, task: str, records: list[Record], preds: dict[str, Mapping[str, Any]],
                   pred_source: str | None) -> tuple[dict[str, Any], dict[str, list[Counts]]]:
    counts = {metric: Counts() for metric in proto.metrics(task)}
    instances: dict[str, list[Counts]] = {metric: [] for metric in counts}
    missing = not_well_formed = spans = hallucinated = units = off_schema = 0
    groups: dict[Any, list[Record]] = {}
    for record in records:
        groups.setdefault(proto.group_key(record), []).append(record)
    for group in groups.values():
        gold_s = proto.gold_structure(_task_part(group[0], task))  # a pooled group keeps its first gold
        pred_units: dict[str, list] = {metric: [] for metric in counts}
        for record in group:
            line = preds.get(record["id"])
            if line is None:
                missing += 1
                structure, well_formed = empty_structure(), True
            else:
                structure, well_formed = _read_prediction(line, record, pred_source)
            not_well_formed += not well_formed
            part = _task_part(structure, task)
            n_units, n_off = off_schema_counts(part, record.get("labels") or {}, task)
            units += n_units
            off_schema += n_off
            pred_s = proto.pred_structure(Prediction(part, well_formed, line), task)
            for metric in counts:
                pred_units[metric].extend(proto.units(metric, pred_s))
            for span in predicted_spans(pred_s, task):
                spans += 1
                hallucinated += not proto.span_in_text(span, record["text"])
        for metric in counts:
            instance = proto.count(proto.units(metric, gold_s), pred_units[metric])
            instances[metric].append(instance)
            counts[metric] += instance
    n = len(records)
    return {
        "task": task, "n": n, "missing": missing,
        "metrics": {metric: {**proto.scores(c), "source": proto.metric_source(metric, task)}
                    for metric, c in counts.items()},
        "parse_error_rate": 100 * not_well_formed / n if n else 0.0,
        "hallucination_rate": 100 * hallucinated / spans if spans else 0.0,
        "off_schema_rate": 100 * off_schema / units if units else 0.0,
    }, instances


def _task_part(structure: Mapping[str, Any], task: str) -> Structure:
    out = empty_structure()
    out[TASK_FIELD[task]] = list(structure.get(TASK_FIELD[task]) or [])
    return out


# ---- reading and checking inputs -------------------------------------------------------------------------


def _index_gold(records: Iterable[Record], source: str | None) -> dict[str, Record]:
    def check(record: Record, rid: Any) -> None:
        for key in ("dataset", "task", "text"):
            if not isinstance(record.get(key), str):
                raise RecordError(f"missing or non-string {key!r}", file=source, record=rid, field=key)
        if record["task"] not in TASKS:
            raise RecordError(f"unknown task {record['task']!r}", file=source, record=rid, field="task")

    return index_by_id(records, file=source, kind="gold", check=check)


def _index_predictions(lines: Iterable[Mapping[str, Any]], gold: Mapping[str, Record],
                       source: str | None) -> dict[str, Mapping[str, Any]]:
    preds: dict[str, Mapping[str, Any]] = {}
    for i, line in enumerate(lines):
        if not isinstance(line, Mapping) or line.get("id") is None:
            raise RecordError("prediction line has no id", file=source, record=f"line {i + 1}", field="id")
        rid = str(line["id"])
        if rid not in gold:
            raise RecordError(f"prediction id {rid!r} is not in the gold data", file=source, record=rid,
                              field="id")
        if rid in preds:
            raise RecordError("duplicate prediction id", file=source, record=rid, field="id")
        preds[rid] = line
    return preds


def _read_prediction(line: Mapping[str, Any], record: Record, source: str | None) -> tuple[Structure, bool]:
    rid = record["id"]
    if any(key in line for key in STRUCTURE_FIELDS):
        well_formed = line.get("well_formed", True)
        if not isinstance(well_formed, bool):
            raise RecordError("well_formed must be true or false", file=source, record=rid, field="well_formed")
        return _checked_structure(line, rid, source), well_formed
    if "completion" not in line:
        raise RecordError("needs a completion (with format) or entities/relations/events", file=source,
                          record=rid)
    completion = line["completion"]
    fmt = line.get("format")
    if not isinstance(completion, str):
        raise RecordError("completion must be a string", file=source, record=rid, field="completion")
    if not isinstance(fmt, str):
        raise RecordError("a completion needs its format", file=source, record=rid, field="format")
    try:
        target = get_format(fmt)
    except ValueError as err:
        raise RecordError(str(err), file=source, record=rid, field="format") from None
    parsed = target.parse(completion, record.get("labels") or {}, record["task"])
    return parsed.structure, parsed.well_formed


def _checked_structure(line: Mapping[str, Any], rid: str, source: str | None) -> Structure:
    """The structure fields of a prediction line, checked for the keys scoring needs."""

    def fail(field: str, message: str) -> RecordError:
        return RecordError(message, file=source, record=rid, field=field)

    def text_of(obj: Any, field: str) -> None:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("text"), str):
            raise fail(field, "expected an object with a string 'text'")

    def typed(obj: Any, field: str) -> None:
        text_of(obj, field)
        if not isinstance(obj.get("type"), str):
            raise fail(f"{field}.type", "expected a string 'type'")

    structure = empty_structure()
    for key in STRUCTURE_FIELDS:
        value = line.get(key) or []
        if not isinstance(value, list):
            raise fail(key, "expected a list")
        structure[key] = value
    for i, ent in enumerate(structure["entities"]):
        typed(ent, f"entities[{i}]")
    for i, rel in enumerate(structure["relations"]):
        if not isinstance(rel, Mapping) or not isinstance(rel.get("type"), str):
            raise fail(f"relations[{i}].type", "expected an object with a string 'type'")
        for side in ("head", "tail"):
            text_of(rel.get(side), f"relations[{i}].{side}")
    for i, ev in enumerate(structure["events"]):
        if not isinstance(ev, Mapping) or not isinstance(ev.get("type"), str):
            raise fail(f"events[{i}].type", "expected an object with a string 'type'")
        text_of(ev.get("trigger"), f"events[{i}].trigger")
        args = ev.get("arguments") or []
        if not isinstance(args, list):
            raise fail(f"events[{i}].arguments", "expected a list")
        for j, arg in enumerate(args):
            text_of(arg, f"events[{i}].arguments[{j}]")
            if not isinstance(arg.get("role"), str):
                raise fail(f"events[{i}].arguments[{j}].role", "expected a string 'role'")
    return structure
