"""Stage ``sft`` — the control arm: plain SFT of the backbone in the evaluated format, at the budget of CM + SA.

A stage "helps" only against a control at the same budget. This stage trains the configured backbone directly
in the format the stages are evaluated in (``sft.format``, streamlined by default), on the same training
examples CM sees (SA's sample is a subset of them), for as many optimizer steps as CM and SA took together —
read from their ``phases.json`` when they ran, planned from the config otherwise — with CM's trainer settings
unless ``sft.trainer`` is given. The budget and where it came from are written to ``phases.json`` and stated in
the report.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from prouie_lib import rundir
from prouie_lib.config import RunConfig
from prouie_lib.models import load_backbone
from prouie_lib.stages.common import (
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
from prouie_lib.stages.sft_phase import (
    attach_lora,
    finish_stage_model,
    planned_steps,
    remove_checkpoints,
    train_phase,
)


def stage_steps(config: RunConfig, stage: str, rows: list[dict[str, Any]]) -> tuple[int, str]:
    """Optimizer steps a budget stage took (its ``phases.json``) or would take (planned), and which it is."""
    path = config.stage_dir(stage) / rundir.PHASES
    if path.exists():
        phases = json.loads(path.read_text())["phases"]
        return sum(p["end_step"] - p["start_step"] for p in phases), "measured"
    if stage == "cm":
        return planned_steps(len(rows), config.cm.trainer), "planned, replay not counted"
    from collections import Counter

    from prouie_lib.stages.sampling import quota

    sizes = Counter(row["dataset"] for row in rows)
    n_sample = sum(quota(n, config.sa.sample_k, config.sa.sample_ratio, name) for name, n in sizes.items())
    return planned_steps(n_sample, config.sa.trainer), "planned"


def control_budget(config: RunConfig, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The control's optimizer steps: ``sft.budget_steps`` or the steps of CM and SA together."""
    if config.sft.budget_steps is not None:
        return {"steps": config.sft.budget_steps, "source": "sft.budget_steps"}
    parts = {stage: stage_steps(config, stage, rows) for stage in rundir.BUDGET_STAGES}
    return {"steps": sum(steps for steps, _ in parts.values()),
            "source": " + ".join(f"{stage} {steps} ({how})" for stage, (steps, how) in parts.items())}


def run_control(config: RunConfig, *, resume: bool = False) -> dict[str, Any]:
    """Train the control from the backbone; write ``runs/<name>/sft/``; return the eval scores."""
    fmt = config.sft.format
    stage_dir = prepare_stage_dir(config, "sft", resume=resume)
    seed_everything(config.seed)
    start = time.time()
    model, tokenizer = load_backbone(config.model.backbone)
    records = load_split(config, config.data.train_split, limit_per_dataset=config.data.train_limit_per_dataset)
    rows, dropped = filter_long_prompts(sft_rows(records, fmt, config), tokenizer, config.data.max_prompt_tokens)
    budget = control_budget(config, rows)
    trainer_cfg = dataclasses.replace(config.sft.trainer or config.cm.trainer, max_steps=budget["steps"])
    model = attach_lora(model, config)
    log_path = stage_dir / rundir.LOG_HISTORY
    if not resume:
        log_path.unlink(missing_ok=True)
    model, steps, history = train_phase(
        model, tokenizer, rows, trainer_cfg, stage_dir / rundir.PHASES_DIR / "0-sft", log_path, seed=config.seed,
        report_to=config.report_to, phase="sft", step_offset=0, resume=resume)
    rewrite_log_history(log_path, history)
    write_json(stage_dir / rundir.PHASES, {
        "phases": [{"phase": "sft", "start_step": 0, "end_step": steps, "examples": len(rows)}],
        "budget": budget, "format": fmt, "train_examples": len(rows), "dropped_long_prompts": dropped})
    finish_stage_model(model, tokenizer, stage_dir, config.model.backbone)
    train_seconds = time.time() - start
    scores = evaluate_stage(model, tokenizer, config, stage_dir, fmt)
    record_timing(stage_dir, train_seconds=train_seconds, total_seconds=time.time() - start)
    remove_checkpoints(stage_dir, trainer_cfg)  # after evaluation: a resume during it needs them
    return scores
