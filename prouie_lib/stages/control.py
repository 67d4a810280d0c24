"""Stage ``sft`` — the control arm: plain SFT of the backbone in the evaluated format, at the budget of CM + SA.

A stage "helps" only against a control at the same budget. This stage trains the configured backbone directly
in the format the stages are evaluated in (``sft.format``, streamlined by default), on the same training
examples CM sees (SA's sample is a subset of them), for as many optimizer steps as CM and SA took together —
read from their ``phases.json`` when they ran, planned from the config otherwise — with CM's trainer settings
(optimizer steps of the same effective batch as CM's, counted at the run's world size)
unless ``sft.trainer`` is given. The budget and where it came from are written to ``phases.json`` and stated in
the report.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from prouie_lib import distributed, rundir
from prouie_lib.config import RunConfig
from prouie_lib.stages.atomic_io import write_json
from prouie_lib.stages.keep_best import keep_best_callback
from prouie_lib.stages.sft_phase import attach_lora, planned_steps, train_phase
from prouie_lib.stages.skeleton import StageRun, Trained, run_skeleton
from prouie_lib.stages.stage_data import filter_long_prompts, load_split, sft_rows
from prouie_lib.stages.training_log import rewrite_log_history


def stage_steps(config: RunConfig, stage: str, rows: list[dict[str, Any]]) -> tuple[int, str]:
    """Optimizer steps a budget stage took (its ``phases.json``) or would take (planned), and which it is."""
    path = config.stage_dir(stage) / rundir.PHASES
    if path.exists():
        phases = json.loads(path.read_text())["phases"]
        return sum(p["end_step"] - p["start_step"] for p in phases), "measured"
    world = distributed.world_size()
    if stage == "cm":
        return planned_steps(len(rows), config.cm.trainer, world), "planned, replay not counted"
    from collections import Counter

    from prouie_lib.stages.sampling import quota

    sizes = Counter(row["dataset"] for row in rows)
    n_sample = sum(quota(n, config.sa.sample_k, config.sa.sample_ratio, name) for name, n in sizes.items())
    return planned_steps(n_sample, config.sa.trainer, world), "planned"


def control_budget(config: RunConfig, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The control's optimizer steps: ``sft.budget_steps`` or the steps of CM and SA together."""
    if config.sft.budget_steps is not None:
        return {"steps": config.sft.budget_steps, "source": "sft.budget_steps"}
    parts = {stage: stage_steps(config, stage, rows) for stage in rundir.BUDGET_STAGES}
    return {"steps": sum(steps for steps, _ in parts.values()),
            "source": " + ".join(f"{stage} {steps} ({how})" for stage, (steps, how) in parts.items())}


def run_control(config: RunConfig, *, resume: bool = False) -> dict[str, Any]:
    """Train the control from the backbone; write ``runs/<name>/sft/``; return the eval scores."""
    return run_skeleton("sft", config, resume=resume, fmt=config.sft.format, train=train_control)


def train_control(run: StageRun) -> Trained:
    """The control's training part: one SFT phase on CM's training examples, at the budget of CM + SA."""
    config, stage_dir, fmt = run.config, run.stage_dir, run.config.sft.format
    # CM's training examples, in the evaluated format; prompts too long for the model are dropped (and counted).
    records = load_split(config, config.data.train_split, limit_per_dataset=config.data.train_limit_per_dataset)
    rows, dropped = filter_long_prompts(sft_rows(records, fmt, config), run.tokenizer,
                                        config.data.max_prompt_tokens)

    # The budget: as many optimizer steps as CM and SA took (or would take) together.
    budget = control_budget(config, rows)
    trainer_cfg = dataclasses.replace(config.sft.trainer or config.cm.trainer, max_steps=budget["steps"])

    # One SFT phase with a fresh LoRA (or full fine-tuning) from the backbone.
    model = attach_lora(run.model, config)
    log_path = stage_dir / rundir.LOG_HISTORY
    if not run.resume:
        distributed.on_main(log_path.unlink, missing_ok=True)
    model, steps, history = train_phase(
        model, run.tokenizer, rows, trainer_cfg, stage_dir / rundir.PHASES_DIR / "0-sft", log_path,
        seed=config.seed, report_to=config.report_to, phase="sft", step_offset=0, resume=run.resume,
        keep_best=keep_best_callback(config, stage_dir, fmt, trainer_cfg))

    # The trainer's own log history and the phase record, with the budget and where it came from.
    distributed.on_main(rewrite_log_history, log_path, history)
    distributed.on_main(write_json, stage_dir / rundir.PHASES, {
        "phases": [{"phase": "sft", "start_step": 0, "end_step": steps, "examples": len(rows)}],
        "budget": budget, "format": fmt, "train_examples": len(rows), "dropped_long_prompts": dropped})
    return Trained(model, trainer_cfg)
