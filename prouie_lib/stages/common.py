"""What the three stages share: data rows for trl, trl/peft configs from ours, run-directory I/O, evaluation."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from prouie_lib.config import RunConfig, TrainerConfig, save_config
from prouie_lib.rundir import MODEL, STAGE_INPUT
from prouie_lib.schema import TASK_DIFFICULTY, Record

KILL_ENV = "PROUIE_KILL_AFTER_STEP"  # test hook: die right after the checkpoint of this step is saved


def seed_everything(seed: int) -> None:
    from transformers import set_seed

    random.seed(seed)
    set_seed(seed)


def on_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


# ---------------------------------------------------------------- data


def load_split(config: RunConfig, split: str, *, limit_per_dataset: int | dict[str, int] | None = None,
               head: bool = False) -> list[Record]:
    """Records of every configured dataset for one split.

    A limit keeps at most N records of each dataset (records carry their dataset name): a seeded random
    subsample, or the first N with ``head`` (evaluation). A dict limit maps registry names to N.
    """
    from prouie_lib.data import load_examples

    records: list[Record] = []
    for name in config.data.datasets:
        loaded = load_examples(name, split, data_root=config.data.data_root)
        limit = limit_per_dataset.get(name) if isinstance(limit_per_dataset, dict) else limit_per_dataset
        if limit is not None:
            loaded = (first_per_dataset(loaded, limit) if head
                      else subsample_per_dataset(loaded, limit, seed=config.seed))
        records.extend(loaded)
    return records


def first_per_dataset(records: Sequence[Record], k: int) -> list[Record]:
    """The first ``k`` records of each dataset, order kept."""
    seen: dict[str, int] = {}
    kept = []
    for r in records:
        seen[r["dataset"]] = seen.get(r["dataset"], 0) + 1
        if seen[r["dataset"]] <= k:
            kept.append(r)
    return kept


def subsample_per_dataset(records: Sequence[Record], k: int, *, seed: int) -> list[Record]:
    """At most ``k`` records of each dataset (records carry their dataset name), seeded, order kept."""
    by_dataset: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_dataset.setdefault(r["dataset"], []).append(i)
    rng = random.Random(seed)
    keep: set[int] = set()
    for indices in by_dataset.values():
        keep.update(indices if len(indices) <= k else rng.sample(indices, k))
    return [r for i, r in enumerate(records) if i in keep]


def by_difficulty(records: Sequence[Record]) -> dict[str, list[Record]]:
    """Records grouped by task, in curriculum order NER → RE → EE (tasks without records left out)."""
    groups: dict[str, list[Record]] = {}
    for task in sorted(TASK_DIFFICULTY, key=TASK_DIFFICULTY.get):
        chosen = [r for r in records if r["task"] == task]
        if chosen:
            groups[task] = chosen
    return groups


def prompt_messages(record: Record, fmt: str, config: RunConfig) -> list[dict[str, str]]:
    from prouie_lib.formats.prompts import build_messages

    kwargs = {} if config.data.system_prompt is None else {"system": config.data.system_prompt}
    return build_messages(record, fmt=fmt, **kwargs)


def sft_rows(records: Sequence[Record], fmt: str, config: RunConfig) -> list[dict[str, Any]]:
    """Conversational prompt–completion rows (trl masks the loss to the completion)."""
    from prouie_lib.formats import get_format

    target = get_format(fmt)
    return [
        {"prompt": prompt_messages(r, fmt, config),
         "completion": [{"role": "assistant", "content": target.render(r)}],
         "id": r["id"], "task": r["task"], "dataset": r["dataset"]}
        for r in records
    ]


def filter_long_prompts(rows: list[dict[str, Any]], tokenizer, max_tokens: int) -> tuple[list[dict], int]:
    """Drop rows whose templated prompt exceeds ``max_tokens`` (trl 1.x has no max_prompt_length)."""
    kept = []
    for row in rows:
        text = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= max_tokens:
            kept.append(row)
    return kept, len(rows) - len(kept)


# ---------------------------------------------------------------- trl / peft configs


def lora_config(config: RunConfig):
    """A peft LoraConfig from the model section, or None for full fine-tuning."""
    if not config.model.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=config.model.lora_r, lora_alpha=config.model.lora_alpha,
                      lora_dropout=config.model.lora_dropout, target_modules=config.model.lora_target_modules,
                      task_type="CAUSAL_LM")


def trainer_kwargs(trainer: TrainerConfig, output_dir: Path, seed: int) -> dict[str, Any]:
    """Fields shared by SFTConfig and GRPOConfig, with CPU-safe defaults made explicit."""
    bf16 = on_gpu() if trainer.bf16 is None else trainer.bf16
    kwargs = dict(
        output_dir=str(output_dir), learning_rate=trainer.learning_rate,
        num_train_epochs=trainer.num_train_epochs, max_steps=trainer.max_steps,
        per_device_train_batch_size=trainer.per_device_train_batch_size,
        gradient_accumulation_steps=trainer.gradient_accumulation_steps,
        lr_scheduler_type=trainer.lr_scheduler_type, warmup_steps=trainer.warmup_steps,
        weight_decay=trainer.weight_decay, logging_steps=trainer.logging_steps,
        save_strategy="steps", save_steps=trainer.save_steps, save_total_limit=trainer.save_total_limit,
        bf16=bf16, fp16=False, gradient_checkpointing=trainer.gradient_checkpointing,
        report_to="none", seed=seed, data_seed=seed, disable_tqdm=False, use_cpu=not on_gpu(),
    )
    kwargs.update(trainer.extra)
    return kwargs


def sft_config(trainer: TrainerConfig, output_dir: Path, seed: int, **overrides):
    from trl import SFTConfig

    kwargs = trainer_kwargs(trainer, output_dir, seed)
    kwargs.update(max_length=trainer.max_length, packing=trainer.packing, completion_only_loss=True,
                  dataset_num_proc=None)
    kwargs.update(overrides)
    return SFTConfig(**kwargs)


# ---------------------------------------------------------------- run directory


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


class KillAfterStepCallback(TrainerCallback):
    """Test hook for resumability: with ``PROUIE_KILL_AFTER_STEP=N`` the process dies after saving step N."""

    def __init__(self) -> None:
        value = os.environ.get(KILL_ENV)
        self.kill_at = int(value) if value else None

    def on_save(self, args, state, control, **kwargs):
        if self.kill_at is not None and state.global_step >= self.kill_at:
            os._exit(3)


def last_checkpoint(output_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output_dir)) if Path(output_dir).is_dir() else None


def rewrite_log_history(path: Path, entries: list[dict[str, Any]]) -> None:
    """Replace the streamed log with the trainer's authoritative history (after a resume it has no duplicates)."""
    with Path(path).open("w") as fh:
        for entry in entries:
            fh.write(json.dumps(entry) + "\n")


def write_json(path: Path, value: Any) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


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
    """Create (or, without ``resume``, refuse to overwrite) a stage folder and snapshot the config."""
    stage_dir = config.stage_dir(stage)
    if stage_dir.exists() and any(stage_dir.iterdir()) and not resume:
        raise ValueError(f"{stage_dir} exists; pass --resume to continue it or delete it to start over")
    stage_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, stage_dir / "config.yaml")
    save_config(config, config.run_dir / "config.yaml")
    return stage_dir


def evaluate_stage(model, tokenizer, config: RunConfig, stage_dir: Path, fmt: str) -> dict[str, Any]:
    """Predict the configured eval split, write predictions.jsonl + scores.json, return the scores."""
    from prouie_lib.data import write_jsonl
    from prouie_lib.evaluation.predict import predict_records, write_predictions
    from prouie_lib.evaluation.score import score_predictions

    gold = load_split(config, config.eval.split, limit_per_dataset=config.eval.limit_per_dataset, head=True)
    gold_path = config.run_dir / f"gold-{config.eval.split}.jsonl"
    if not gold_path.exists():
        write_jsonl(gold, gold_path)
    start = time.time()
    system = config.data.system_prompt
    lines = predict_records(model, tokenizer, gold, fmt, batch_size=config.eval.batch_size,
                            max_new_tokens=config.max_new_tokens(fmt), system=system)
    elapsed = time.time() - start
    write_predictions(lines, stage_dir / "predictions.jsonl")
    scores = score_predictions(gold, lines, protocol=config.eval.protocol)
    scores["predict_seconds"] = round(elapsed, 2)
    scores["format"] = fmt
    write_json(stage_dir / "scores.json", scores)
    return scores


def record_timing(stage_dir: Path, **seconds: float) -> None:
    path = Path(stage_dir) / "timing.json"
    timing = json.loads(path.read_text()) if path.exists() else {}
    timing.update({k: round(v, 2) for k, v in seconds.items()})
    write_json(path, timing)
