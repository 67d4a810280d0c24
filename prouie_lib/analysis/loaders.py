"""Read a run directory (``runs/<name>/``, see ``docs/run_directory.md``) into tidy pandas tables.

Every table has one row per observation and plain columns, so it can be filtered, grouped and plotted:

=====================  ==========================================================================
function               one row per
=====================  ==========================================================================
:func:`load_log_history`   trainer log entry: ``stage, phase, step, epoch`` + every logged metric
:func:`load_phases`        curriculum phase: ``stage, phase, start_step, end_step, examples``
:func:`~.traces.load_reward_traces` GRPO completion: ``step, prompt_id, group, ..., reward, advantage`` +
                           one ``components.<name>`` column per reward component
:func:`load_predictions`   (stage, record): the gold record joined with its prediction line
:func:`load_scores`        (stage, dataset, metric): ``p, r, f1`` + ``parse_error_rate, hallucination_rate``
:func:`load_timing`        stage: ``train_seconds, total_seconds, predict_seconds``
=====================  ==========================================================================

:func:`load_run` reads them all into a :class:`RunData`. A missing optional file gives an empty table with
the documented columns; a malformed line raises :class:`~prouie_lib.schema.RecordError` naming the file, the
line and the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from prouie_lib import rundir
from prouie_lib.analysis.run_files import (
    check_run_dir,
    list_stages,
    read_json,
    require_key,
    select_stages,
    stage_files,
    table_columns,
)
from prouie_lib.analysis.traces import TRACE_COLUMNS, load_reward_traces
from prouie_lib.data.io import iter_json_objects
from prouie_lib.rundir import stage_sort_key
from prouie_lib.schema import STRUCTURE_FIELDS, RecordError, index_by_id, structure_of

LOG_COLUMNS: tuple[str, ...] = ("stage", "phase", "step", "epoch")
PHASE_COLUMNS: tuple[str, ...] = ("stage", "phase", "start_step", "end_step", "examples")
PREDICTION_COLUMNS: tuple[str, ...] = ("stage", "id", "dataset", "task", "text", "gold", "predicted",
                                       "completion", "format", "well_formed", "has_prediction", "record")
SCORE_COLUMNS: tuple[str, ...] = ("stage", "protocol", "dataset", "task", "n", "metric", "p", "r", "f1",
                                  "parse_error_rate", "hallucination_rate")
TIMING_COLUMNS: tuple[str, ...] = ("stage", "train_seconds", "total_seconds", "predict_seconds")
MACRO = "macro"


# ---------------------------------------------------------------- training logs


def load_phases(run_dir: str | Path, stages: Sequence[str] | None = None) -> pd.DataFrame:
    """Curriculum phases of every trained stage (from ``<stage>/phases.json``)."""
    run_dir = check_run_dir(run_dir)
    rows = []
    for stage, path in stage_files(run_dir, stages, rundir.PHASES):
        phases = read_json(path)
        items = phases.get("phases") if isinstance(phases, dict) else None
        if not isinstance(items, list):
            raise RecordError("expected a list", file=str(path), field="phases")
        for i, item in enumerate(items):
            where = f"phases[{i}]"
            for key in ("phase", "start_step", "end_step"):
                if not isinstance(item, dict) or key not in item:
                    raise RecordError("missing", file=str(path), record=where, field=key)
            rows.append({"stage": stage, "phase": str(item["phase"]), "start_step": int(item["start_step"]),
                         "end_step": int(item["end_step"]), "examples": item.get("examples"),
                         **{k: v for k, v in item.items()
                            if k not in ("phase", "start_step", "end_step", "examples")}})
    return pd.DataFrame(rows, columns=table_columns(PHASE_COLUMNS, rows))


def _phase_of(step: float, phases: pd.DataFrame, default: str) -> str:
    for row in phases.itertuples():
        if row.start_step < step <= row.end_step:
            return row.phase
    return default


def load_log_history(run_dir: str | Path, stages: Sequence[str] | None = None) -> pd.DataFrame:
    """Every trainer log entry of every stage: ``stage, phase, step, epoch`` and one column per logged key.

    ``phase`` is the entry's own tag, else the phase of ``phases.json`` whose ``(start, end]`` holds the
    step, else the stage name.
    """
    run_dir = check_run_dir(run_dir)
    phases = load_phases(run_dir, stages)
    rows = []
    for stage, path in stage_files(run_dir, stages, rundir.LOG_HISTORY):
        stage_phases = phases[phases["stage"] == stage]
        for number, entry in iter_json_objects(path):
            step = require_key(entry, "step", path, number)
            if not isinstance(step, int | float) or isinstance(step, bool):
                raise RecordError(f"expected a number, got {step!r}", file=str(path), record=f"line {number}",
                                  field="step")
            phase = entry.get("phase") or _phase_of(step, stage_phases, stage)
            rows.append({**entry, "stage": stage, "phase": phase, "step": int(step)})
    frame = pd.DataFrame(rows, columns=table_columns(LOG_COLUMNS, rows))
    order = frame["stage"].map(lambda s: stage_sort_key(s)[0])
    return frame.assign(_order=order).sort_values(["_order", "stage", "step"], kind="stable") \
        .drop(columns="_order").reset_index(drop=True)


# ---------------------------------------------------------------- gold and predictions


def gold_path(run_dir: str | Path, split: str | None = None) -> Path:
    """``gold-<split>.jsonl`` of a run: the given split, the config's eval split, or the only one present."""
    run_dir = check_run_dir(run_dir)
    if split is not None:
        path = run_dir / f"gold-{split}.jsonl"
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        return path
    found = sorted(run_dir.glob("gold-*.jsonl"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise FileNotFoundError(f"{run_dir}: no gold-<split>.jsonl (the evaluation records)")
    wanted = _config_eval_split(run_dir)
    if wanted and (run_dir / f"gold-{wanted}.jsonl").exists():
        return run_dir / f"gold-{wanted}.jsonl"
    raise ValueError(f"{run_dir}: several gold files {[p.name for p in found]}; pass split=")


def _config_eval_split(run_dir: Path) -> str | None:
    path = run_dir / rundir.RUN_CONFIG
    if not path.exists():
        return None
    import yaml

    config = yaml.safe_load(path.read_text()) or {}
    value = (config.get("eval") or {}).get("split") if isinstance(config, dict) else None
    return value if isinstance(value, str) else None


def load_gold(run_dir: str | Path, split: str | None = None) -> dict[str, dict[str, Any]]:
    """The evaluation records of a run by id (file order kept); each needs an id, a task and a text."""
    path = gold_path(run_dir, split)

    def check(record: dict[str, Any], rid: Any) -> None:
        for key in ("task", "text"):
            if key not in record:
                raise RecordError("missing", file=str(path), record=rid, field=key)

    return index_by_id((record for _, record in iter_json_objects(path)), file=str(path), kind="gold",
                       check=check)


def load_predictions(run_dir: str | Path, stages: Sequence[str] | None = None, *,
                     split: str | None = None) -> pd.DataFrame:
    """Per (stage, gold record): dataset, task, text, ``gold`` and ``predicted`` structures, completion.

    Stages without ``predictions.jsonl`` are skipped. A gold record without a prediction line gets an empty
    ``predicted`` structure, ``well_formed=False`` and ``has_prediction=False`` (counted as a failed
    output, never dropped); a prediction whose id is not in the gold file is an error.
    """
    run_dir = check_run_dir(run_dir)
    gold = load_gold(run_dir, split)
    rows = []
    for stage, path in stage_files(run_dir, stages, rundir.PREDICTIONS):
        by_id = index_by_id((line for _, line in iter_json_objects(path)), file=str(path), kind="prediction",
                            check=_prediction_check(gold, path))
        for gid, record in gold.items():
            line = by_id.get(gid)
            rows.append({
                "stage": stage, "id": gid, "dataset": record.get("dataset"), "task": record["task"],
                "text": record["text"], "gold": structure_of(record),
                "predicted": structure_of(line) if line else structure_of({}),
                "completion": line.get("completion") if line else None,
                "format": line.get("format") if line else None,
                "well_formed": bool(line.get("well_formed", True)) if line else False,
                "has_prediction": line is not None, "record": record,
            })
    return pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS))


def _prediction_check(gold: dict[str, Any], path: Path):
    def check(line: dict[str, Any], pid: Any) -> None:
        if str(pid) not in gold:
            raise RecordError("id not in the run's gold file", file=str(path), record=pid, field="id")
        for key in STRUCTURE_FIELDS:
            if not isinstance(line.get(key, []), list):
                raise RecordError("expected a list", file=str(path), record=pid, field=key)

    return check


# ---------------------------------------------------------------- scores and timing


def scores_rows(scores: dict[str, Any], stage: str, *, source: str = "<scores>") -> list[dict[str, Any]]:
    """Tidy rows of one ``prouie eval score --json`` object (macro rows have dataset ``"macro"``)."""
    datasets = scores.get("datasets")
    if not isinstance(datasets, dict):
        raise RecordError("missing or not an object", file=source, field="datasets")
    protocol = scores.get("protocol")
    rows = []
    for name, entry in datasets.items():
        metrics = entry.get("metrics") if isinstance(entry, dict) else None
        if not isinstance(metrics, dict):
            raise RecordError("missing or not an object", file=source, record=name, field="metrics")
        for metric, values in metrics.items():
            if not isinstance(values, dict) or "f1" not in values:
                raise RecordError("expected {p, r, f1}", file=source, record=name, field=f"metrics.{metric}")
            rows.append({"stage": stage, "protocol": protocol, "dataset": name, "task": entry.get("task"),
                         "n": entry.get("n"), "metric": metric, "p": values.get("p"), "r": values.get("r"),
                         "f1": values["f1"], "parse_error_rate": entry.get("parse_error_rate"),
                         "hallucination_rate": entry.get("hallucination_rate")})
    for metric, f1 in (scores.get("macro") or {}).items():
        value = f1.get("f1") if isinstance(f1, dict) else f1
        rows.append({"stage": stage, "protocol": protocol, "dataset": MACRO, "task": None, "n": None,
                     "metric": metric, "p": None, "r": None, "f1": value, "parse_error_rate": None,
                     "hallucination_rate": None})
    return rows


def load_scores(run_dir: str | Path, stages: Sequence[str] | None = None) -> pd.DataFrame:
    """Stage × dataset × metric → p, r, f1 (percent) plus the dataset's parse-error and hallucination rates."""
    run_dir = check_run_dir(run_dir)
    rows = []
    for stage, path in stage_files(run_dir, stages, rundir.SCORES):
        rows += scores_rows(read_json(path), stage, source=str(path))
    frame = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    for col in ("p", "r", "f1", "parse_error_rate", "hallucination_rate"):
        frame[col] = pd.to_numeric(frame[col])
    frame["n"] = pd.to_numeric(frame["n"]).astype("Int64")
    return frame


def load_timing(run_dir: str | Path, stages: Sequence[str] | None = None) -> pd.DataFrame:
    """Seconds per stage: ``timing.json`` plus ``predict_seconds`` from ``scores.json``."""
    run_dir = check_run_dir(run_dir)
    rows = []
    for stage in select_stages(run_dir, stages):
        row: dict[str, Any] = {"stage": stage}
        if (run_dir / stage / rundir.TIMING).exists():
            row.update(read_json(run_dir / stage / rundir.TIMING))
        if (run_dir / stage / rundir.SCORES).exists():
            row["predict_seconds"] = read_json(run_dir / stage / rundir.SCORES).get("predict_seconds")
        rows.append(row)
    return pd.DataFrame(rows, columns=table_columns(TIMING_COLUMNS, rows))


# ---------------------------------------------------------------- everything


@dataclass
class RunData:
    """All tables of one run directory (build with :func:`load_run`, or from frames for tests)."""

    run_dir: Path | None = None
    log_history: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(LOG_COLUMNS)))
    phases: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PHASE_COLUMNS)))
    traces: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TRACE_COLUMNS)))
    predictions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PREDICTION_COLUMNS)))
    scores: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(SCORE_COLUMNS)))
    timing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TIMING_COLUMNS)))

    @property
    def stages(self) -> list[str]:
        names = set()
        for frame in (self.log_history, self.predictions, self.scores, self.timing):
            if "stage" in frame:
                names.update(frame["stage"].dropna().unique())
        if len(self.traces):
            names.add("de")
        return sorted(names, key=stage_sort_key)

    @property
    def name(self) -> str:
        return self.run_dir.name if self.run_dir is not None else "<frames>"


def load_run(run_dir: str | Path) -> RunData:
    """Read every table of a run directory (gold is needed only when some stage has predictions)."""
    run_dir = check_run_dir(run_dir)
    stages = list_stages(run_dir)
    has_predictions = any((run_dir / s / rundir.PREDICTIONS).exists() for s in stages)
    return RunData(
        run_dir=run_dir, log_history=load_log_history(run_dir), phases=load_phases(run_dir),
        traces=load_reward_traces(run_dir),
        predictions=load_predictions(run_dir) if has_predictions else RunData().predictions,
        scores=load_scores(run_dir), timing=load_timing(run_dir),
    )


def as_run_data(source: str | Path | RunData) -> RunData:
    return source if isinstance(source, RunData) else load_run(source)
