"""Read a run directory (``runs/<name>/``, see ``docs/run_directory.md``) into tidy pandas tables.

Every table has one row per observation and plain columns, so it can be filtered, grouped and plotted:

=====================  ==========================================================================
function               one row per
=====================  ==========================================================================
:func:`load_log_history`   trainer log entry: ``stage, phase, step, epoch`` + every logged metric
:func:`load_phases`        curriculum phase: ``stage, phase, start_step, end_step, examples``
:func:`load_reward_traces` GRPO completion: ``step, prompt_id, group, ..., reward, advantage`` +
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

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from prouie_lib import rundir
from prouie_lib.data.io import iter_json_objects
from prouie_lib.rundir import stage_sort_key
from prouie_lib.schema import STRUCTURE_FIELDS, RecordError, structure_of

STAGE_FILES: tuple[str, ...] = (rundir.PREDICTIONS, rundir.SCORES, rundir.LOG_HISTORY, rundir.PHASES,
                                rundir.TIMING, rundir.REWARD_TRACES)
COMPONENT_PREFIX = "components."
LOG_COLUMNS: tuple[str, ...] = ("stage", "phase", "step", "epoch")
PHASE_COLUMNS: tuple[str, ...] = ("stage", "phase", "start_step", "end_step", "examples")
TRACE_COLUMNS: tuple[str, ...] = ("step", "prompt_id", "group", "position", "task", "dataset", "format",
                                  "completion", "completion_chars", "completion_words", "reward",
                                  "trainer_reward", "reward_name", "advantage", "gold")
PREDICTION_COLUMNS: tuple[str, ...] = ("stage", "id", "dataset", "task", "text", "gold", "predicted",
                                       "completion", "format", "well_formed", "has_prediction", "record")
SCORE_COLUMNS: tuple[str, ...] = ("stage", "protocol", "dataset", "task", "n", "metric", "p", "r", "f1",
                                  "parse_error_rate", "hallucination_rate")
TIMING_COLUMNS: tuple[str, ...] = ("stage", "train_seconds", "total_seconds", "predict_seconds")
MACRO = "macro"


# ---------------------------------------------------------------- files


def read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RecordError(f"not valid JSON ({err.msg} at line {err.lineno})", file=str(path)) from err


def _require(obj: dict[str, Any], key: str, path: Path, number: int | str | None) -> Any:
    if key not in obj:
        raise RecordError("missing", file=str(path), record=None if number is None else f"line {number}",
                          field=key)
    return obj[key]


def check_run_dir(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory {run_dir} does not exist")
    return run_dir


def list_stages(run_dir: str | Path) -> list[str]:
    """Stage folders of a run (those holding any stage file), in pipeline order then by name."""
    run_dir = check_run_dir(run_dir)
    found = [p.name for p in run_dir.iterdir()
             if p.is_dir() and any((p / name).exists() for name in STAGE_FILES)]
    return sorted(found, key=stage_sort_key)


def _stages(run_dir: Path, stages: Sequence[str] | None) -> list[str]:
    available = list_stages(run_dir)
    if stages is None:
        return available
    unknown = [s for s in stages if s not in available]
    if unknown:
        raise ValueError(f"{run_dir}: no stage folder(s) {unknown}; found {available}")
    return list(stages)


# ---------------------------------------------------------------- training logs


def load_phases(run_dir: str | Path, stages: Sequence[str] | None = None) -> pd.DataFrame:
    """Curriculum phases of every trained stage (from ``<stage>/phases.json``)."""
    run_dir = check_run_dir(run_dir)
    rows = []
    for stage in _stages(run_dir, stages):
        path = run_dir / stage / rundir.PHASES
        if not path.exists():
            continue
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
    return pd.DataFrame(rows, columns=_columns(PHASE_COLUMNS, rows))


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
    for stage in _stages(run_dir, stages):
        path = run_dir / stage / rundir.LOG_HISTORY
        if not path.exists():
            continue
        stage_phases = phases[phases["stage"] == stage]
        for number, entry in iter_json_objects(path):
            step = _require(entry, "step", path, number)
            if not isinstance(step, int | float) or isinstance(step, bool):
                raise RecordError(f"expected a number, got {step!r}", file=str(path), record=f"line {number}",
                                  field="step")
            phase = entry.get("phase") or _phase_of(step, stage_phases, stage)
            rows.append({**entry, "stage": stage, "phase": phase, "step": int(step)})
    frame = pd.DataFrame(rows, columns=_columns(LOG_COLUMNS, rows))
    order = frame["stage"].map(lambda s: stage_sort_key(s)[0])
    return frame.assign(_order=order).sort_values(["_order", "stage", "step"], kind="stable") \
        .drop(columns="_order").reset_index(drop=True)


def _columns(first: Sequence[str], rows: Iterable[dict[str, Any]]) -> list[str]:
    cols = list(first)
    seen = set(cols)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                cols.append(key)
    return cols


# ---------------------------------------------------------------- reward traces


def trace_path(run_dir_or_file: str | Path) -> Path:
    path = Path(run_dir_or_file)
    if path.is_dir():
        path = path / "de" / rundir.REWARD_TRACES if (path / "de").is_dir() else path / rundir.REWARD_TRACES
    return path


def load_reward_traces(run_dir_or_file: str | Path) -> pd.DataFrame:
    """One row per logged GRPO completion (``de/reward_traces.jsonl`` of a run, or a trace file).

    Added columns: ``position`` (index of the completion inside its group, in file order),
    ``completion_chars`` / ``completion_words`` (length of the completion) and one
    ``components.<name>`` column per reward component (NaN where a line lacks it). A missing file gives an
    empty table.
    """
    path = trace_path(run_dir_or_file)
    if not path.exists():
        if not Path(run_dir_or_file).exists():
            raise FileNotFoundError(f"{run_dir_or_file} does not exist")
        return pd.DataFrame(columns=list(TRACE_COLUMNS))
    rows = []
    positions: dict[tuple[Any, Any, Any], int] = {}
    for number, line in iter_json_objects(path):
        for key in ("step", "prompt_id", "completion", "reward", "gold"):
            _require(line, key, path, number)
        components = line.get("components") or {}
        if not isinstance(components, dict):
            raise RecordError("expected an object", file=str(path), record=f"line {number}", field="components")
        gold = line["gold"]
        if isinstance(gold, str):
            try:
                gold = json.loads(gold)
            except json.JSONDecodeError as err:
                raise RecordError(f"not valid JSON ({err.msg})", file=str(path), record=f"line {number}",
                                  field="gold") from err
        completion = line["completion"] if isinstance(line["completion"], str) else ""
        group = line.get("group")
        key = (line["step"], line["prompt_id"], group)
        positions[key] = positions.get(key, -1) + 1
        row = {k: v for k, v in line.items() if k != "components"}
        row.update({"gold": gold, "group": group, "position": positions[key],
                    "task": line.get("task") or gold.get("task"), "dataset": line.get("dataset") or gold.get("dataset"),
                    "completion_chars": len(completion), "completion_words": len(completion.split()),
                    "reward": float(line["reward"]) if line["reward"] is not None else float("nan")})
        for name, value in components.items():
            row[COMPONENT_PREFIX + str(name)] = float(value) if value is not None else float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=_columns(TRACE_COLUMNS, rows))


def component_columns(traces: pd.DataFrame) -> list[str]:
    """The ``components.<name>`` columns of a traces table, in table order."""
    return [c for c in traces.columns if str(c).startswith(COMPONENT_PREFIX)]


def component_names(traces: pd.DataFrame) -> list[str]:
    return [c[len(COMPONENT_PREFIX):] for c in component_columns(traces)]


def trace_lines(traces: pd.DataFrame) -> list[dict[str, Any]]:
    """Traces back as the JSON-line dicts :func:`prouie_lib.rewards.replay_traces` reads."""
    comp = component_columns(traces)
    lines = []
    for row in traces.to_dict("records"):
        line = {k: v for k, v in row.items() if k not in comp}
        line["components"] = {c[len(COMPONENT_PREFIX):]: row[c] for c in comp if pd.notna(row[c])}
        lines.append(line)
    return lines


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
    """The evaluation records of a run by id (file order kept)."""
    path = gold_path(run_dir, split)
    records: dict[str, dict[str, Any]] = {}
    for number, record in iter_json_objects(path):
        for key in ("id", "task", "text"):
            _require(record, key, path, number)
        if record["id"] in records:
            raise RecordError("duplicate id", file=str(path), record=record["id"], field="id")
        records[record["id"]] = record
    return records


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
    for stage in _stages(run_dir, stages):
        path = run_dir / stage / rundir.PREDICTIONS
        if not path.exists():
            continue
        by_id: dict[str, dict[str, Any]] = {}
        for number, line in iter_json_objects(path):
            pid = _require(line, "id", path, number)
            if pid not in gold:
                raise RecordError("id not in the run's gold file", file=str(path), record=pid, field="id")
            if pid in by_id:
                raise RecordError("duplicate prediction", file=str(path), record=pid, field="id")
            for key in STRUCTURE_FIELDS:
                if not isinstance(line.get(key, []), list):
                    raise RecordError("expected a list", file=str(path), record=pid, field=key)
            by_id[pid] = line
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
    for stage in _stages(run_dir, stages):
        path = run_dir / stage / rundir.SCORES
        if path.exists():
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
    for stage in _stages(run_dir, stages):
        row: dict[str, Any] = {"stage": stage}
        if (run_dir / stage / rundir.TIMING).exists():
            row.update(read_json(run_dir / stage / rundir.TIMING))
        if (run_dir / stage / rundir.SCORES).exists():
            row["predict_seconds"] = read_json(run_dir / stage / rundir.SCORES).get("predict_seconds")
        rows.append(row)
    return pd.DataFrame(rows, columns=_columns(TIMING_COLUMNS, rows))


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
