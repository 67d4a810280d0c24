"""Stage CM — Complete Modeling: SFT on the full training data in the complete format, NER → RE → EE.

Curricula:
- ``sequential``: one phase per task in difficulty order; each phase continues the previous phase's adapter
  (a new trainer and learning-rate schedule per phase); ``replay_fraction`` mixes a share of earlier tasks'
  examples into later phases.
- ``ordered``: one pass, the data ordered by task difficulty (shuffled within a task), sequential sampler.
- ``mixed``: one pass over the shuffled data (the ablation baseline).
Phase boundaries (in global steps) are written to ``phases.json`` and tag every ``log_history.jsonl`` entry.
"""

from __future__ import annotations

import random
import time
from typing import Any

from prouie_lib.config import RunConfig
from prouie_lib.models import load_backbone
from prouie_lib.stages.common import (
    by_difficulty,
    evaluate_stage,
    filter_long_prompts,
    load_split,
    prepare_stage_dir,
    record_timing,
    rewrite_log_history,
    seed_everything,
    sft_rows,
    write_json,
)
from prouie_lib.stages.sft import attach_lora, finish_stage_model, train_phase


def plan_phases(rows: list[dict[str, Any]], curriculum: str, replay_fraction: float,
                seed: int) -> list[tuple[str, list[dict[str, Any]], bool]]:
    """Split SFT rows into ``(phase name, rows, keep_order)`` according to the curriculum."""
    rng = random.Random(seed)
    groups = by_difficulty(rows)
    if curriculum == "mixed":
        mixed = list(rows)
        rng.shuffle(mixed)
        return [("mixed", mixed, False)]
    if curriculum == "ordered":
        ordered: list[dict[str, Any]] = []
        for task_rows in groups.values():
            chunk = list(task_rows)
            rng.shuffle(chunk)
            ordered.extend(chunk)
        return [("ordered", ordered, True)]
    phases, seen = [], []
    for task, task_rows in groups.items():
        phase_rows = list(task_rows)
        if seen and replay_fraction > 0:
            k = min(len(seen), round(replay_fraction * len(task_rows)))
            phase_rows += rng.sample(seen, k)
        rng.shuffle(phase_rows)
        phases.append((task, phase_rows, False))
        seen.extend(task_rows)
    return phases


def run_cm(config: RunConfig, *, resume: bool = False) -> dict[str, Any]:
    """Train CM from the configured backbone; write ``runs/<name>/cm/``; return the eval scores."""
    stage_dir = prepare_stage_dir(config, "cm", resume=resume)
    seed_everything(config.seed)
    start = time.time()
    model, tokenizer = load_backbone(config.model.backbone)
    records = load_split(config, config.data.train_split,
                         limit_per_dataset=config.data.train_limit_per_dataset)
    rows, dropped = filter_long_prompts(sft_rows(records, config.cm.format, config), tokenizer,
                                        config.data.max_prompt_tokens)
    phases = plan_phases(rows, config.cm.curriculum, config.cm.replay_fraction, config.seed)
    model = attach_lora(model, config)
    log_path = stage_dir / "log_history.jsonl"
    if not resume:
        log_path.unlink(missing_ok=True)
    offset, history, boundaries = 0, [], []
    for index, (name, phase_rows, keep_order) in enumerate(phases):
        model, steps, phase_history = train_phase(
            model, tokenizer, phase_rows, config.cm.trainer, stage_dir / "phases" / f"{index}-{name}",
            log_path, seed=config.seed, phase=name, step_offset=offset, resume=resume, keep_order=keep_order)
        boundaries.append({"phase": name, "start_step": offset, "end_step": offset + steps,
                           "examples": len(phase_rows),
                           "tasks": sorted({r["task"] for r in phase_rows})})
        history.extend(phase_history)
        offset += steps
    rewrite_log_history(log_path, history)
    write_json(stage_dir / "phases.json", {"curriculum": config.cm.curriculum, "phases": boundaries,
                                           "train_examples": len(rows), "dropped_long_prompts": dropped})
    finish_stage_model(model, tokenizer, stage_dir, config.model.backbone)
    train_seconds = time.time() - start
    scores = evaluate_stage(model, tokenizer, config, stage_dir, config.cm.format)
    record_timing(stage_dir, train_seconds=train_seconds, total_seconds=time.time() - start)
    return scores
