"""Stage SA — Streamlined Alignment: SFT on a sample of the training data in the streamlined format.

Starts from CM's result: CM's adapter is merged into the weights and a fresh LoRA is trained (documented in
``prouie_lib.stages.sft_phase``). The sample comes from ``uniform``, ``balanced`` or ``hard`` (records the CM model
gets least right, scored with strict F1 of its complete-format predictions — beyond the paper).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from prouie_lib import distributed, rundir
from prouie_lib.config import RunConfig, TrainerConfig
from prouie_lib.schema import Record
from prouie_lib.stages import sampling
from prouie_lib.stages.atomic_io import write_json
from prouie_lib.stages.keep_best import keep_best_callback
from prouie_lib.stages.sft_phase import attach_lora, train_phase
from prouie_lib.stages.skeleton import StageRun, Trained, predict_for_run, run_skeleton
from prouie_lib.stages.stage_data import filter_long_prompts, load_split, sft_rows
from prouie_lib.stages.training_log import rewrite_log_history


def strict_scorer(model, tokenizer, config: RunConfig, fmt: str):
    """Per-record strict F1 (0–1) of the model's predictions in ``fmt`` — the ``hard`` sampler's difficulty."""
    from prouie_lib.rewards import get_reward

    strict = get_reward("strict_f1")

    def score(records: Sequence[Record]) -> list[float]:
        lines = predict_for_run(model, tokenizer, config, records, fmt)
        return [strict(line["completion"], record, fmt).total for line, record in zip(lines, records, strict=True)]

    return score


def choose_sample(config: RunConfig, records: list[Record], model, tokenizer) -> list[Record]:
    sa = config.sa
    if sa.sampler == "uniform":
        return sampling.uniform(records, k=sa.sample_k, ratio=sa.sample_ratio, seed=config.seed)
    if sa.sampler == "balanced":
        return sampling.balanced(records, k=sa.sample_k, ratio=sa.sample_ratio, seed=config.seed)
    scorer = strict_scorer(model, tokenizer, config, config.cm.format)
    return sampling.hard(records, scorer, k=sa.sample_k, ratio=sa.sample_ratio, pool=sa.hard_pool,
                         seed=config.seed)


def sa_trainer(config: RunConfig) -> TrainerConfig:
    """SA's trainer settings after the hand-over rule (``sa.handover``): its own, or CM's continued."""
    if config.sa.handover == "continue":
        return dataclasses.replace(config.sa.trainer, warmup_steps=0,
                                   learning_rate=config.sa.lr_fraction * config.cm.trainer.learning_rate)
    return config.sa.trainer


def run_sa(config: RunConfig, *, resume: bool = False) -> dict[str, Any]:
    """Train SA from CM's output; write ``runs/<name>/sa/``; return the eval scores."""
    return run_skeleton("sa", config, resume=resume, fmt=config.sa.format, train=train_sa)


def train_sa(run: StageRun) -> Trained:
    """SA's training part: choose the sample (or reread it on resume), then one SFT phase on it."""
    config, stage_dir, resume = run.config, run.stage_dir, run.resume
    # Choose the sample of the training data; a resumed stage rereads it (the hard sampler is expensive and
    # must not change on resume).
    records = load_split(config, config.data.train_split,
                         limit_per_dataset=config.data.train_limit_per_dataset)
    sample_file = stage_dir / rundir.SAMPLE_IDS
    if resume and sample_file.exists():
        wanted = set(json.loads(sample_file.read_text())["ids"])
        sample = [r for r in records if r["id"] in wanted]
    else:
        sample = choose_sample(config, records, run.model, run.tokenizer)  # the same on every process
        distributed.on_main(write_json, sample_file, {"sampler": config.sa.sampler, "ids": [r["id"] for r in sample]})

    # Streamlined-format rows; prompts too long for the model are dropped (and counted).
    rows, dropped = filter_long_prompts(sft_rows(sample, config.sa.format, config), run.tokenizer,
                                        config.data.max_prompt_tokens)

    # One SFT phase with a fresh LoRA (CM's adapter is merged into the input model), with the hand-over's settings.
    trainer_cfg = sa_trainer(config)
    model = attach_lora(run.model, config)
    log_path = stage_dir / rundir.LOG_HISTORY
    if not resume:
        distributed.on_main(log_path.unlink, missing_ok=True)
    model, steps, history = train_phase(
        model, run.tokenizer, rows, trainer_cfg, stage_dir / rundir.PHASES_DIR / "0-sa", log_path,
        seed=config.seed, report_to=config.report_to, phase="sa", step_offset=0, resume=resume,
        keep_best=keep_best_callback(config, stage_dir, config.sa.format, trainer_cfg))

    # The trainer's own log history and the phase record.
    distributed.on_main(rewrite_log_history, log_path, history)
    distributed.on_main(write_json, stage_dir / rundir.PHASES, {"phases": [{"phase": "sa", "start_step": 0, "end_step": steps,
                                                       "examples": len(rows)}],
                                           "sampler": config.sa.sampler, "train_examples": len(rows),
                                           "handover": {"rule": config.sa.handover,
                                                        "learning_rate": trainer_cfg.learning_rate,
                                                        "warmup_steps": trainer_cfg.warmup_steps},
                                           "dropped_long_prompts": dropped})
    return Trained(model, trainer_cfg)
