"""The stage skeleton every stage runs: prepare the stage folder, seed, load the input model, train (the part
each stage passes in), save, evaluate, record the timing. The helpers for its blocks follow it."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prouie_lib import distributed
from prouie_lib.config import RunConfig, TrainerConfig, check_fingerprint, save_config, stage_fingerprint
from prouie_lib.data.io import read_json_objects
from prouie_lib.models import load_backbone, write_model_chain
from prouie_lib.resources import mmap_large_allocations, peak_rss_mb, release_memory, reset_peak_rss
from prouie_lib.rundir import (
    CONFIG,
    FINGERPRINT,
    MODEL,
    PREDICTIONS,
    RUN_CONFIG,
    SCORES,
    STAGE_INPUT,
    TIMING,
    gold_file,
)
from prouie_lib.schema import Record
from prouie_lib.stages.atomic_io import write_json
from prouie_lib.stages.sft_phase import finish_stage_model, remove_checkpoints
from prouie_lib.stages.stage_data import load_split


@dataclass
class StageRun:
    """What a stage's training part gets from the skeleton."""

    config: RunConfig
    stage: str
    stage_dir: Path
    source: str  # the input model: the backbone, or the model folder of the stage this one builds on
    model: Any
    tokenizer: Any
    resume: bool


@dataclass
class Trained:
    """What a stage's training part hands back: the trained model, the trainer settings whose checkpoints are
    deleted once the stage is evaluated, and timing keys of its own (seconds)."""

    model: Any
    trainer: TrainerConfig
    timing: dict[str, float] = field(default_factory=dict)


def run_skeleton(stage: str, config: RunConfig, *, resume: bool, fmt: str,
                 train: Callable[[StageRun], Trained] | None) -> dict[str, Any]:
    """Run one stage around its training part ``train`` (None: evaluate the input model as it is); write
    ``runs/<name>/<stage>/`` and return the eval scores (predictions scored in ``fmt``)."""
    # Prepare the stage folder: refuse to overwrite it, check its fingerprint on resume, snapshot the config (the
    # main process alone; under a launcher the others wait and share its outcome, error included).
    stage_dir = distributed.on_main(prepare_stage_dir, config, stage, resume=resume)
    seed_everything(config.seed)
    start = time.time()
    mmap_large_allocations()  # large tensors come from mmap, not glibc's fragmenting heap (prouie_lib.resources)
    release_memory()  # what an earlier stage in this process held goes back to the system first
    reset_peak_rss()  # so that timing.json's peak_rss_mb is this stage's own

    # Load the input model: the backbone, or the model of the stage this one builds on (rundir.STAGE_INPUT).
    source = input_stage(config, stage)
    model, tokenizer = load_backbone(source)
    if train is None:  # nothing to train (the base stage): its model is the input model
        distributed.on_main(write_model_chain, stage_dir / MODEL, source, [])
        scores = evaluate_stage(model, tokenizer, config, stage_dir, fmt)
        distributed.on_main(record_timing, stage_dir, total_seconds=time.time() - start, peak_rss_mb=peak_rss_mb())
        return scores

    # Train: the part that makes each stage what it is. A stage that continues an interrupted run's progress says
    # so in timing.json: its seconds are this process's only.
    resumed = bool(resume and distributed.on_main(has_training_progress, stage_dir))
    trained = train(StageRun(config, stage, stage_dir, source, model, tokenizer, resume))

    # Save the trained weights and the model chain (the input chain plus this stage's adapter or weights).
    finish_stage_model(trained.model, tokenizer, stage_dir, source, config.model.save_dtype)
    train_seconds = time.time() - start

    # Evaluate on the configured eval split; scores.json, written last, marks the stage done. A stage that kept its
    # input model on dev scores its input stage's predictions when they were made with the same settings.
    from prouie_lib.stages.keep_best import input_predictions_to_reuse

    reuse = distributed.on_main(input_predictions_to_reuse, config, stage, fmt)
    scores = evaluate_stage(trained.model, tokenizer, config, stage_dir, fmt, reuse=reuse)

    # Record the timing and the batch geometry, then delete the checkpoints (after evaluation: a resume during it
    # needs them). peak_rss_mb is the main process's own.
    distributed.on_main(record_timing, stage_dir, train_seconds=train_seconds, total_seconds=time.time() - start,
                        peak_rss_mb=peak_rss_mb(), **batch_geometry(trained.trainer), **trained.timing,
                        **({"resumed": 1} if resumed else {}))
    distributed.on_main(remove_checkpoints, stage_dir, trained.trainer)
    return scores


def batch_geometry(trainer: TrainerConfig) -> dict[str, int]:
    """How many rows one optimizer step sees: per device × accumulation × processes (``world_size``)."""
    world = distributed.world_size()
    return {"world_size": world, "per_device_train_batch_size": trainer.per_device_train_batch_size,
            "gradient_accumulation_steps": trainer.gradient_accumulation_steps,
            "effective_batch_size": trainer.per_device_train_batch_size * trainer.gradient_accumulation_steps * world}


def seed_everything(seed: int) -> None:
    from transformers import set_seed

    random.seed(seed)
    set_seed(seed)


def input_stage(config: RunConfig, stage: str) -> str:
    """The model a stage starts from: its input stage's model when it exists, else the backbone."""
    previous = STAGE_INPUT[stage]
    if previous is None:
        return config.model.backbone
    folder = config.stage_dir(previous)
    if (folder / MODEL).exists():
        return str(folder / MODEL)
    if previous in config.stages:
        raise ValueError(f"stage {stage} starts from {previous}, but {folder}/{MODEL} does not exist: "
                         f"run {previous} first")
    return config.model.backbone


def prepare_stage_dir(config: RunConfig, stage: str, *, resume: bool) -> Path:
    """Create (or, without ``resume``, refuse to overwrite) a stage folder; snapshot the config and its fingerprint.

    Resuming a stage whose fingerprint (its config fields and those of the stages it builds on) differs from the
    current config is refused (:func:`prouie_lib.config.check_fingerprint`).
    """
    stage_dir = config.stage_dir(stage)
    if stage_dir.exists() and any(stage_dir.iterdir()) and not resume:
        raise ValueError(f"{stage_dir} exists; pass --resume to continue it or delete it to start over")
    if resume:
        check_fingerprint(config, stage)
        check_world_size(stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    record_timing(stage_dir, world_size=distributed.world_size())  # what a resume compares with
    write_json(stage_dir / FINGERPRINT, stage_fingerprint(config, stage))
    save_config(config, stage_dir / CONFIG)
    save_config(config, config.run_dir / RUN_CONFIG)
    return stage_dir


def has_training_progress(stage_dir: Path) -> bool:
    """Whether an earlier process left training progress in ``stage_dir`` that this one continues: a checkpoint or
    a finished phase (``phases/<k>/state.json``)."""
    from prouie_lib.rundir import PHASES_DIR
    from prouie_lib.stages.checkpoints import has_checkpoint

    return has_checkpoint(stage_dir) or any((Path(stage_dir) / PHASES_DIR).glob("*/state.json"))


def check_world_size(stage_dir: Path) -> None:
    """Refuse to continue a stage's training checkpoint under another number of processes.

    A checkpoint counts optimizer steps; with another world size each step sees another number of rows, so the
    resumed data order and epoch length would not be the interrupted run's. A stage with no checkpoint left (its
    training finished) continues under any world size."""
    from prouie_lib.stages.checkpoints import has_checkpoint

    path = Path(stage_dir) / TIMING
    before = json.loads(path.read_text()).get("world_size", 1) if path.exists() else None
    now = distributed.world_size()
    if before is None or before == now:
        return
    if has_checkpoint(stage_dir):
        raise ValueError(f"{stage_dir}: its training was started with {before} process(es) and this run has {now}; "
                         f"resume it with {before} (torchrun --nproc_per_node {before} ...), or recompute it with "
                         f"--rerun-from {Path(stage_dir).name}")


def predict_for_run(model, tokenizer, config: RunConfig, records: Sequence[Record], fmt: str, *,
                    max_new_tokens: int | None = None) -> list[dict]:
    """Prediction lines for ``records`` with the run's generation settings (``eval.batch_size``,
    ``eval.reuse_prefix``, ``data.system_prompt``; ``eval.max_new_tokens`` for ``fmt`` unless given). Every
    prediction a stage makes goes through here; the model's training mode is restored afterwards."""
    from prouie_lib.evaluation.predict import predict_records

    return predict_records(model, tokenizer, records, fmt, batch_size=config.eval.batch_size,
                           max_new_tokens=config.max_new_tokens(fmt) if max_new_tokens is None else max_new_tokens,
                           system=config.data.system_prompt, reuse_prefix=config.eval.reuse_prefix)


def evaluate_stage(model, tokenizer, config: RunConfig, stage_dir: Path, fmt: str, *,
                   reuse: Path | None = None) -> dict[str, Any]:
    """Predict the configured eval split, write predictions.jsonl + scores.json, return the scores. With ``reuse``
    (another stage's predictions of the same model on the same records: ``keep_best.input_predictions_to_reuse``)
    those are scored instead of generating again."""
    gold = load_split(config, config.eval.split, limit_per_dataset=config.eval.limit_per_dataset, head=True)
    distributed.on_main(_write_gold, gold, config.run_dir / gold_file(config.eval.split))
    if reuse is not None:
        return distributed.on_main(_score_and_write, config, stage_dir, gold, read_json_objects(reuse), fmt, 0.0,
                                   reused_from=reuse.parent.name)
    start = time.time()
    lines = predict_for_run(model, tokenizer, config, gold, fmt)  # shared between the processes, gathered on all
    elapsed = time.time() - start
    return distributed.on_main(_score_and_write, config, stage_dir, gold, lines, fmt, elapsed)


def _write_gold(gold: list[Record], gold_path: Path) -> None:
    from prouie_lib.data import write_jsonl

    tmp = gold_path.with_name(f".{gold_path.name}.tmp")  # rewritten each time: eval.* may have changed (rerun)
    write_jsonl(gold, tmp)
    os.replace(tmp, gold_path)


def _score_and_write(config: RunConfig, stage_dir: Path, gold: list[Record], lines: list[dict], fmt: str,
                     elapsed: float, reused_from: str | None = None) -> dict[str, Any]:
    """Score the predictions, write predictions.jsonl and then scores.json (the main process's part)."""
    from prouie_lib.evaluation.predict import write_predictions
    from prouie_lib.evaluation.score import score_predictions

    scores = score_predictions(gold, lines, protocol=config.eval.protocol)
    scores["predict_seconds"] = round(elapsed, 2)
    scores["format"] = fmt
    if reused_from is not None:
        scores["predictions_reused_from"] = reused_from
    write_predictions(lines, stage_dir / PREDICTIONS)
    write_json(stage_dir / SCORES, scores)  # last: scores.json + model/ mark the stage done (rundir.stage_done)
    return scores


def record_timing(stage_dir: Path, **seconds: float) -> None:
    path = Path(stage_dir) / TIMING
    timing = json.loads(path.read_text()) if path.exists() else {}
    timing.update({k: round(v, 2) for k, v in seconds.items()})
    write_json(path, timing)
