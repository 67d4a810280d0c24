"""Read the GRPO reward traces of a run (``de/reward_traces.jsonl``) into a table, one row per logged
completion, and back into the JSON lines :func:`prouie_lib.rewards.replay_traces` reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from prouie_lib import rundir
from prouie_lib.analysis.run_files import require_key, table_columns
from prouie_lib.data.io import iter_json_objects
from prouie_lib.schema import RecordError

COMPONENT_PREFIX = "components."
TRACE_COLUMNS: tuple[str, ...] = ("step", "prompt_id", "group", "position", "task", "dataset", "format",
                                  "completion", "completion_chars", "completion_words", "reward",
                                  "trainer_reward", "reward_name", "advantage", "gold")


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
            require_key(line, key, path, number)
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
    return pd.DataFrame(rows, columns=table_columns(TRACE_COLUMNS, rows))


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
