"""The run directory: stage names and order, what each stage starts from, and every file name in it.

``runs/<name>/`` holds one folder per stage. Everything that reads or writes a run imports its names from here,
so a new stage or file is added once (``docs/run_directory.md`` is checked against this module by a test).
"""

from __future__ import annotations

from pathlib import Path

# Pipeline order. ``sft`` is the control arm: plain SFT in the evaluated format at the budget of CM + SA.
STAGES: tuple[str, ...] = ("base", "cm", "sa", "de", "sft")
# The stage whose model a stage starts from (None: the configured backbone).
STAGE_INPUT: dict[str, str | None] = {"base": None, "cm": None, "sa": "cm", "de": "sa", "sft": None}
# How a stage is named in tables and figures.
STAGE_LABELS: dict[str, str] = {"base": "base", "cm": "+CM", "sa": "+SA", "de": "+DE",
                                "sft": "plain SFT (same budget)"}
# Stages trained with SFT whose optimizer steps count toward the control arm's budget.
BUDGET_STAGES: tuple[str, ...] = ("cm", "sa")

# Files at the top of a run directory.
RUN_CONFIG = "config.yaml"
REPORT = "report.md"
FIGURES = "figures"
# A run over several seeds (``seeds: [...]``): one run directory per seed under ``runs/<name>/seed-<k>/``, and the
# aggregate over them at the top (report.md too).
SEED_PREFIX = "seed-"
SEEDS_SUMMARY = "seeds.json"

# Files in a stage folder.
CONFIG = "config.yaml"
FINGERPRINT = "fingerprint.json"
MODEL = "model"
SCORES = "scores.json"
PREDICTIONS = "predictions.jsonl"
LOG_HISTORY = "log_history.jsonl"
PHASES = "phases.json"
PHASE_SCORES = "phase_scores.json"
TIMING = "timing.json"
SAMPLE_IDS = "sample_ids.json"
REWARD_TRACES = "reward_traces.jsonl"
PROBE = "probe.jsonl"
CHECKPOINTS = "checkpoints"
PHASES_DIR = "phases"
TRACKING = "tracking"
PHASE_PREDICTIONS = "phase_predictions"
KEEP_BEST = "keep_best.json"
KEEP_BEST_PREDICTIONS = "keep_best_predictions"
BEST = "best"

# Every documented name (docs/run_directory.md lists each of them).
ALL_FILES: tuple[str, ...] = (RUN_CONFIG, REPORT, FIGURES, SEED_PREFIX, SEEDS_SUMMARY, CONFIG, MODEL, SCORES, PREDICTIONS, LOG_HISTORY,
                              PHASES, PHASE_SCORES, TIMING, SAMPLE_IDS, REWARD_TRACES, PROBE, CHECKPOINTS,
                              PHASES_DIR, TRACKING, PHASE_PREDICTIONS, KEEP_BEST, KEEP_BEST_PREDICTIONS,
                              BEST)


def gold_file(split: str) -> str:
    """The gold records every stage of a run is scored against."""
    return f"gold-{split}.jsonl"


def seed_dir(run_dir: Path, seed: int) -> Path:
    """The run directory of one seed of a run over several seeds."""
    return Path(run_dir) / f"{SEED_PREFIX}{seed}"


def seed_dirs(run_dir: Path) -> dict[int, Path]:
    """The seed run directories under ``run_dir`` (empty for a one-seed run), by seed."""
    run_dir = Path(run_dir)
    found = {}
    if run_dir.is_dir():
        for folder in run_dir.iterdir():
            tail = folder.name[len(SEED_PREFIX):]
            if folder.is_dir() and folder.name.startswith(SEED_PREFIX) and tail.lstrip("-").isdigit():
                found[int(tail)] = folder
    return dict(sorted(found.items()))


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


def stage_sort_key(stage: str) -> tuple[int, str]:
    return (STAGES.index(stage) if stage in STAGES else len(STAGES), stage)


def stage_done(stage_dir: Path) -> bool:
    """A stage is finished once its scores and its model are written."""
    return (Path(stage_dir) / SCORES).exists() and (Path(stage_dir) / MODEL).exists()
