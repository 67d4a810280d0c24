"""One SFT phase through trl's SFTTrainer, resumable, plus saving/loading stage models as model chains.

A stage's model is stored as a *chain*: the base backbone spec plus the LoRA adapters of the stages so far,
merged in order when loaded (``prouie_lib.models.load_backbone``). Each stage merges the previous stages'
adapters into the weights and trains a fresh LoRA — simple, one adapter at a time, and what GRPOTrainer's
``peft_config`` expects. Full fine-tuning saves full weights instead and starts a new chain from them.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prouie_lib import distributed
from prouie_lib.config import RunConfig, TrainerConfig
from prouie_lib.models import quiet_library_deprecations, read_model_chain, write_model_chain
from prouie_lib.rundir import BEST, CHECKPOINTS, MODEL, PHASES_DIR, TRACKING
from prouie_lib.stages.atomic_io import write_json
from prouie_lib.stages.checkpoints import (
    announce_resume,
    checkpoint_step,
    last_checkpoint,
    quiet_tied_lm_head,
)
from prouie_lib.stages.interrupts import KillAfterStepCallback, StopOnSignalCallback, training_loop
from prouie_lib.stages.training_args import lora_config, sft_config, tracking_callbacks
from prouie_lib.stages.training_log import LogHistoryCallback, truncate_log


def attach_lora(model, config: RunConfig):
    """Wrap a model in a fresh trainable LoRA adapter (peft), or return it unchanged for full fine-tuning."""
    peft_cfg = lora_config(config)
    if peft_cfg is None:
        return model
    from peft import get_peft_model

    with quiet_library_deprecations():
        return get_peft_model(model, peft_cfg)


def save_weights(model, folder: Path) -> Path:
    """Save the trainable part: the LoRA adapter of a PeftModel, or the full model."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    return folder


def load_weights(model, folder: Path):
    """Load weights saved by :func:`save_weights` into ``model`` (same architecture); returns the model."""
    from peft import PeftModel

    if isinstance(model, PeftModel):
        from peft import load_peft_weights, set_peft_model_state_dict

        set_peft_model_state_dict(model, load_peft_weights(str(folder)))
        return model
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(folder), dtype=model.dtype).to(model.device)


def finish_stage_model(model, tokenizer, stage_dir: Path, input_spec: str, save_dtype: str | None = None) -> Path:
    """Save the stage's weights and write its model chain (input chain + this stage's adapter).

    ``save_dtype`` (full fine-tuning): the weights are rounded to it in place, then saved in it, so that the model
    evaluated next and the model saved are the same (``model.save_dtype``). Every process rounds its own copy; the
    main process alone writes."""
    from peft import PeftModel

    model_dir = stage_dir / MODEL
    chain = read_model_chain(input_spec)
    if isinstance(model, PeftModel):
        def save_adapter() -> None:
            adapter = save_weights(model, model_dir / "adapter")
            write_model_chain(model_dir, chain["base"], chain["adapters"] + [str(adapter)])

        distributed.save_on_main(model, save_adapter)
        return model_dir
    import torch

    training_dtype = model.dtype
    if save_dtype is not None:
        model.to(getattr(torch, save_dtype))  # keeps tied weights tied (one tensor saved)

    def save_full() -> None:
        weights = save_weights(model, model_dir / "weights")
        tokenizer.save_pretrained(str(weights))
        write_model_chain(model_dir, str(weights.resolve()), [])

    distributed.save_on_main(model, save_full)
    model.to(training_dtype)  # with save_dtype: the rounded values, back in the training dtype
    return model_dir


def remove_checkpoints(stage_dir: Path, trainer_cfg: TrainerConfig) -> None:
    """Delete a finished stage's intermediate checkpoints and per-phase weights (unless ``keep_checkpoints``)."""
    if trainer_cfg.keep_checkpoints:
        return
    for folder in (list(Path(stage_dir).rglob(CHECKPOINTS)) + list(Path(stage_dir).glob(f"{PHASES_DIR}/*/weights"))
                   + [Path(stage_dir) / BEST]):
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def planned_steps(n_rows: int, trainer_cfg: TrainerConfig, world_size: int = 1) -> int:
    """Optimizer steps trl's Trainer takes for ``n_rows`` rows on ``world_size`` processes (its own rule: each
    process's batches // accumulation × epochs)."""
    import math

    if trainer_cfg.max_steps > 0:
        return trainer_cfg.max_steps
    batches = math.ceil(n_rows / (trainer_cfg.per_device_train_batch_size * world_size))
    per_epoch = max(batches // trainer_cfg.gradient_accumulation_steps, 1)
    return math.ceil(trainer_cfg.num_train_epochs * per_epoch)


def train_phase(model, tokenizer, rows: list[dict[str, Any]], trainer_cfg: TrainerConfig, phase_dir: Path,
                log_path: Path, *, seed: int, phase: str | None, step_offset: int, resume: bool,
                keep_order: bool = False, callbacks: Sequence[Any] = (), report_to: Sequence[str] = (),
                keep_best: Any = None):
    """Train one SFT phase (prompt–completion rows), resuming from its last checkpoint when asked.

    Returns ``(model, steps, log_history)``. A finished phase leaves ``phase_dir/weights`` and ``state.json``;
    with ``resume`` such a phase is loaded instead of retrained, and a partial one continues from its newest
    complete checkpoint (log entries after it are dropped, as the trainer logs those steps again). SIGINT/SIGTERM
    end the loop after the current step with a checkpoint and raise ``Interrupted``. ``keep_order`` feeds the rows in order (one
    trainer over a whole curriculum); ``callbacks`` are extra trainer callbacks (e.g. per-phase evaluation);
    ``keep_best``: a :class:`~prouie_lib.stages.keep_best.KeepBestCallback` whose best weights replace the last ones.
    """
    from datasets import Dataset
    from trl import SFTTrainer

    from prouie_lib.stages.lm_head import use_compact_lm_head

    use_compact_lm_head(trainer_cfg.compact_lm_head)

    state_file = phase_dir / "state.json"
    if resume and state_file.exists():
        state = json.loads(state_file.read_text())
        return load_weights(model, phase_dir / "weights"), state["steps"], state["log_history"]

    overrides: dict[str, Any] = {}
    if keep_order:  # the `ordered` curriculum: batches follow the dataset order (tasks by difficulty)
        overrides.update(shuffle_dataset=False, train_sampling_strategy="sequential")
    callbacks = [*callbacks, *tracking_callbacks(report_to, phase_dir.parent.parent / TRACKING / phase_dir.name)]
    args = sft_config(trainer_cfg, phase_dir / CHECKPOINTS, seed, report_to, **overrides)
    dataset = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in rows])
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
        callbacks=[LogHistoryCallback(log_path, phase=phase, step_offset=step_offset), *callbacks,
                   *([keep_best] if keep_best is not None else []), StopOnSignalCallback(), KillAfterStepCallback()],
    )
    start = time.time()
    checkpoint = distributed.on_main(last_checkpoint, phase_dir / CHECKPOINTS) if resume else None
    if keep_best is not None:
        keep_best.resume_at(checkpoint_step(checkpoint))
    if resume:
        distributed.on_main(truncate_log, log_path, step_offset + checkpoint_step(checkpoint))
        announce_resume(phase_dir.parent.parent.name, checkpoint)
    with quiet_tied_lm_head(trainer.model), training_loop(phase_dir / CHECKPOINTS), quiet_library_deprecations():
        trainer.train(resume_from_checkpoint=checkpoint)
    model = trainer.model
    if keep_best is not None:
        model = keep_best.restore(model, trainer.state.global_step)
    history = [
        {**entry, "step": entry.get("step", 0) + step_offset, **({"phase": phase} if phase else {})}
        for entry in trainer.state.log_history
    ]
    state = {"phase": phase, "steps": trainer.state.global_step, "examples": len(rows),
             "seconds": round(time.time() - start, 2), "resumed_from": checkpoint, "log_history": history}

    def save_phase() -> None:
        save_weights(model, phase_dir / "weights")
        write_json(state_file, state)  # atomic, after the weights: its presence marks the phase finished

    distributed.save_on_main(model, save_phase)
    return model, state["steps"], history
