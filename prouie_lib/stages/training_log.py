"""A stage's ``log_history.jsonl`` (and other per-step JSONL files): streamed while training, cut back to a
checkpoint on resume, replaced by the trainer's own history at the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from prouie_lib.stages.atomic_io import write_text_atomic


class LogHistoryCallback(TrainerCallback):
    """Streams every trainer log entry to ``log_history.jsonl`` (tagged with the curriculum phase)."""

    def __init__(self, path: Path, *, phase: str | None = None, step_offset: int = 0) -> None:
        self.path, self.phase, self.step_offset = Path(path), phase, step_offset

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        entry = {"step": state.global_step + self.step_offset, "epoch": state.epoch, **logs}
        if self.phase is not None:
            entry["phase"] = self.phase
        with self.path.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")


def truncate_log(path: Path, last_step: int, *, inclusive: bool = True) -> None:
    """Keep the JSONL entries of steps up to ``last_step`` (before it when not ``inclusive``): a resumed trainer
    logs the later steps again. DE cuts its reward traces (``inclusive=False``) and probe lines the same way."""
    path = Path(path)
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        step = json.loads(line).get("step", 0) if line.strip() else None
        if step is not None and (step <= last_step if inclusive else step < last_step):
            kept.append(line)
    write_text_atomic(path, "".join(line + "\n" for line in kept))


def rewrite_log_history(path: Path, entries: list[dict[str, Any]]) -> None:
    """Replace the streamed log with the trainer's authoritative history (after a resume it has no duplicates)."""
    write_text_atomic(Path(path), "".join(json.dumps(entry) + "\n" for entry in entries))
