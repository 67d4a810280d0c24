"""trl and peft configs from ours: the trainer fields SFT and GRPO share, LoRA, and live tracking."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prouie_lib.config import RunConfig, TrainerConfig


def on_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def lora_config(config: RunConfig):
    """A peft LoraConfig from the model section, or None for full fine-tuning."""
    if not config.model.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=config.model.lora_r, lora_alpha=config.model.lora_alpha,
                      lora_dropout=config.model.lora_dropout, target_modules=config.model.lora_target_modules,
                      task_type="CAUSAL_LM")


def trl_report_to(report_to: Sequence[str]) -> list[str] | str:
    """The run's ``report_to`` as trl sees it: every integration but TensorBoard (see :func:`tracking_callbacks`)."""
    return [r for r in report_to if r not in ("tensorboard", "none")] or "none"


def tracking_callbacks(report_to: Sequence[str], log_dir: Path) -> list[Any]:
    """TensorBoard, when asked for, as a callback writing to ``log_dir`` (transformers 5 would write under the
    checkpoint folder, which a finished stage deletes)."""
    callbacks: list[Any] = []
    if "tensorboard" in report_to:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:
            raise ValueError("report_to: tensorboard needs the `track` extra: pip install -e '.[track]'") from err
        from transformers.integrations import TensorBoardCallback

        callbacks.append(TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(log_dir))))
    return callbacks


def trainer_kwargs(trainer: TrainerConfig, output_dir: Path, seed: int,
                   report_to: Sequence[str] = ()) -> dict[str, Any]:
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
        bf16=bf16, fp16=False, activation_checkpointing=trainer.activation_checkpointing,
        report_to=trl_report_to(report_to), seed=seed, data_seed=seed, disable_tqdm=False, use_cpu=not on_gpu(),
    )
    kwargs.update(trainer.extra)
    return kwargs


def sft_config(trainer: TrainerConfig, output_dir: Path, seed: int, report_to: Sequence[str] = (), **overrides):
    from trl import SFTConfig

    kwargs = trainer_kwargs(trainer, output_dir, seed, report_to)
    kwargs.update(max_length=trainer.max_length, packing=trainer.packing, completion_only_loss=True,
                  dataset_num_proc=None)
    kwargs.update(overrides)
    return SFTConfig(**kwargs)
