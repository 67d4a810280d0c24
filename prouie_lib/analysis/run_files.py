"""Reading the files of a run directory (``runs/<name>/``, see ``docs/run_directory.md``): JSON whose errors
name the file, line and field, the stage folders present, and the column order of the tables built from them.

The readers of :mod:`~prouie_lib.analysis.loaders` (logs, predictions, scores, timing) and
:mod:`~prouie_lib.analysis.traces` (GRPO reward traces) build on these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from prouie_lib import rundir
from prouie_lib.rundir import stage_sort_key
from prouie_lib.schema import RecordError

STAGE_FILES: tuple[str, ...] = (rundir.PREDICTIONS, rundir.SCORES, rundir.LOG_HISTORY, rundir.PHASES,
                                rundir.TIMING, rundir.REWARD_TRACES)


def read_json(path: str | Path) -> Any:
    """A JSON file's value; invalid JSON raises a RecordError naming the file."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RecordError(f"not valid JSON ({err.msg} at line {err.lineno})", file=str(path)) from err


def require_key(obj: dict[str, Any], key: str, path: Path, number: int | str | None) -> Any:
    """``obj[key]``, or a RecordError naming the file, the line ``number`` and the field."""
    if key not in obj:
        raise RecordError("missing", file=str(path), record=None if number is None else f"line {number}",
                          field=key)
    return obj[key]


def check_run_dir(run_dir: str | Path) -> Path:
    """The run directory as a Path; FileNotFoundError if it is not a directory."""
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


def select_stages(run_dir: Path, stages: Sequence[str] | None) -> list[str]:
    """``stages`` (all stage folders when None); a name without a stage folder raises ValueError."""
    available = list_stages(run_dir)
    if stages is None:
        return available
    unknown = [s for s in stages if s not in available]
    if unknown:
        raise ValueError(f"{run_dir}: no stage folder(s) {unknown}; found {available}")
    return list(stages)


def stage_files(run_dir: Path, stages: Sequence[str] | None, name: str) -> Iterator[tuple[str, Path]]:
    """``(stage, path)`` of each selected stage folder (:func:`select_stages`) that holds the file ``name``."""
    for stage in select_stages(run_dir, stages):
        path = run_dir / stage / name
        if path.exists():
            yield stage, path


def table_columns(first: Sequence[str], rows: Iterable[dict[str, Any]]) -> list[str]:
    """The documented columns ``first``, then every other key of ``rows`` in order of appearance."""
    cols = list(first)
    seen = set(cols)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                cols.append(key)
    return cols
