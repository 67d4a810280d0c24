"""Dataset statistics in the shape ``prouie data stats --json`` prints.

``{"dataset": NAME, "task": T, "format": F, "splits": {SPLIT: {"examples", "entities", "relations",
"events", "arguments", "repairs", "drops", "labels": {LABEL: n}}}}``

``labels`` counts the task's primary units per label — entity types for NER, relation types for RE,
event types for EE (each record counted under its own task) — and lists every label of the
schema, also those with no mention. ``entities`` counts entity mentions (for RE the entity list,
i.e. relation arguments or all annotated mentions, depending on the source).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prouie_lib.data.loading import load_split, resolve
from prouie_lib.data.validation import ValidationReport
from prouie_lib.schema import Record

_PRIMARY = {"NER": "entity_types", "RE": "relation_types", "EE": "event_types"}


def split_stats(records: Iterable[Record], report: ValidationReport | None = None) -> dict[str, Any]:
    """Counts for one split (``report`` supplies repairs/drops)."""
    out = {"examples": 0, "entities": 0, "relations": 0, "events": 0, "arguments": 0,
           "repairs": report.repairs if report else 0, "drops": report.drops if report else 0}
    labels: dict[str, int] = {}
    for record in records:
        out["examples"] += 1
        out["entities"] += len(record["entities"])
        out["relations"] += len(record["relations"])
        out["events"] += len(record["events"])
        out["arguments"] += sum(len(ev["arguments"]) for ev in record["events"])
        task = record["task"]
        for name in record["labels"].get(_PRIMARY[task], []):
            labels.setdefault(name, 0)
        units = {"NER": record["entities"], "RE": record["relations"], "EE": record["events"]}[task]
        for unit in units:
            labels[unit["type"]] = labels.get(unit["type"], 0) + 1
    out["labels"] = labels
    return out


def collect_stats(name_or_path: str | Path, split: str | None = None, *, data_root: str | Path | None = None,
                  lenient: bool | None = None, fmt: str | None = None,
                  verbalize: bool = True) -> tuple[dict[str, Any], dict[str, ValidationReport]]:
    """:func:`dataset_stats` plus each split's full validation report."""
    spec = resolve(name_or_path, fmt=fmt, split=split, data_root=data_root)
    splits = [split] if split is not None else list(spec.splits)
    out: dict[str, Any] = {"dataset": spec.name, "task": spec.task, "format": spec.format, "splits": {}}
    reports: dict[str, ValidationReport] = {}
    tasks: set[str] = set()
    for name in splits:
        result = load_split(name_or_path, name, data_root=data_root, lenient=lenient, fmt=fmt, verbalize=verbalize)
        tasks.update(r["task"] for r in result.records)
        out["splits"][result.split] = split_stats(result.records, result.report)
        reports[result.split] = result.report
    if spec.task == "mixed" and len(tasks) == 1:
        out["task"] = tasks.pop()
    return out, reports


def dataset_stats(name_or_path: str | Path, split: str | None = None, *, data_root: str | Path | None = None,
                  lenient: bool | None = None, fmt: str | None = None, verbalize: bool = True) -> dict[str, Any]:
    """Counts per split (all labeled splits when ``split`` is None) in the ``stats --json`` shape."""
    return collect_stats(name_or_path, split, data_root=data_root, lenient=lenient, fmt=fmt,
                         verbalize=verbalize)[0]


_COLUMNS = ("examples", "entities", "relations", "events", "arguments", "repairs", "drops")


def format_stats(stats: dict[str, Any], reports: dict[str, ValidationReport] | None = None) -> str:
    """A plain-text rendering: one row per split, then the label counts, then validation notes."""
    splits = list(stats["splits"])
    lines = [f"dataset {stats['dataset']}  task {stats['task']}  format {stats['format']}", ""]
    width = max([len("split")] + [len(s) for s in splits])
    lines.append(f"{'split':<{width}}  " + "  ".join(f"{c:>9}" for c in _COLUMNS))
    for split in splits:
        row = stats["splits"][split]
        lines.append(f"{split:<{width}}  " + "  ".join(f"{row[c]:>9}" for c in _COLUMNS))
    labels: list[str] = []
    for split in splits:
        labels += [name for name in stats["splits"][split]["labels"] if name not in labels]
    if labels:
        lw = max(len("label"), *(len(name) for name in labels))
        cw = max(9, *(len(s) for s in splits))
        lines += ["", f"{'label':<{lw}}  " + "  ".join(f"{s:>{cw}}" for s in splits)]
        for name in labels:
            lines.append(f"{name:<{lw}}  " + "  ".join(
                f"{stats['splits'][s]['labels'].get(name, 0):>{cw}}" for s in splits))
    for split, report in (reports or {}).items():
        if report.repairs or report.drops or report.omitted:
            lines += ["", f"[{split}] {report.summary()}"]
            lines += [f"  {i.action} {i.unit}: {i.file}: record {i.record}: field {i.field}: {i.message}"
                      for i in report.issues[:5]]
    return "\n".join(lines)
