"""What the three stages share: data rows for trl, trl/peft configs from ours, run-directory I/O, evaluation."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from prouie_lib.config import RunConfig, TrainerConfig, check_fingerprint, save_config, stage_fingerprint
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
from prouie_lib.schema import TASK_DIFFICULTY, Record

KILL_ENV = "PROUIE_KILL_AFTER_STEP"  # test hook: die right after the checkpoint of this step is saved
CHECKPOINT_PREFIX = "checkpoint-"  # transformers' checkpoint folder names
TRAINER_STATE = "trainer_state.json"  # written last into a checkpoint folder by transformers
_WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "model.safetensors.index.json",
                 "pytorch_model.bin", "pytorch_model.bin.index.json")


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


# ---------------------------------------------------------------- interrupts (SIGINT / SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The run stopped on SIGINT/SIGTERM; what was written is resumable (``detail`` says what was saved)."""

    def __init__(self, signum: int = signal.SIGINT, detail: str = "") -> None:
        self.signum, self.detail = signum, detail
        super().__init__(f"interrupted by {signal.Signals(signum).name}" + (f"; {detail}" if detail else ""))


_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_state: dict[str, Any] = {"installed": False, "requested": None, "training": 0}


def interrupt_requested() -> int | None:
    """The signal number received inside a training loop (which then stops at the next step end), else None."""
    return _state["requested"]


def _on_signal(signum, frame) -> None:
    if _state["requested"] is not None:  # the second signal: stop at once (an unfinished checkpoint is skipped)
        raise Interrupted(signum, "stopped at once on the second signal")
    _state["requested"] = signum
    if _state["training"]:
        print(f"\nprouie: {signal.Signals(signum).name} received: finishing the current step and saving a "
              "checkpoint (send it again to stop at once)", file=sys.stderr, flush=True)
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def graceful_interrupts() -> Iterator[None]:
    """Handle SIGINT/SIGTERM while a run is in progress.

    Inside a training loop (:func:`training_loop`) the signal only sets a flag: the step in progress and any
    checkpoint write finish, a checkpoint is saved and :class:`Interrupted` is raised after the loop. Elsewhere
    (loading, evaluation, between stages) :class:`Interrupted` is raised at once: every file that marks progress
    is written atomically, so the stage resumes where it was.
    """
    if _state["installed"] or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _on_signal) for sig in _SIGNALS}
    _state.update(installed=True, requested=None, training=0)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _state.update(installed=False, requested=None, training=0)


@contextlib.contextmanager
def training_loop(checkpoints: Path) -> Iterator[None]:
    """Mark a trainer loop: a signal now stops it after the step (with a checkpoint); raise Interrupted after."""
    _state["training"] += 1
    try:
        yield
    finally:
        _state["training"] -= 1
    signum = _state["requested"]
    if signum is not None:
        last = last_checkpoint(checkpoints, warn=False)
        raise Interrupted(signum, f"checkpoint saved: {last}" if last else "no checkpoint yet")


class StopOnSignalCallback(TrainerCallback):
    """Ends training after the current step, with a checkpoint, once SIGINT/SIGTERM was received."""

    def on_step_end(self, args, state, control, **kwargs):
        if _state["requested"] is not None:
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_save(self, args, state, control, **kwargs):
        if _state["requested"] is not None:  # the signal came during the checkpoint write: stop after it
            control.should_training_stop = True
        return control


class _TiedLmHeadFilter(logging.Filter):
    """Drops transformers' resume warning about ``lm_head.weight`` when the model ties it to the embeddings.

    A tied model saves the shared matrix once (safetensors de-duplicates it under ``embed_tokens``), so the key is
    "missing" from every checkpoint; loading the embeddings fills the tied head too (tests/test_interrupts.py).
    """

    MESSAGE = "There were missing keys in the checkpoint model loaded: ['lm_head.weight']."

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.MESSAGE


def ties_lm_head(model) -> bool:
    """Whether the model's LM head is the input embedding matrix (one tensor)."""
    try:
        head, embed = model.get_output_embeddings(), model.get_input_embeddings()
    except (AttributeError, NotImplementedError):
        return False
    return head is not None and embed is not None and head.weight is embed.weight


@contextlib.contextmanager
def quiet_tied_lm_head(model) -> Iterator[None]:
    """Silence exactly the harmless ``lm_head.weight`` resume warning, and only for a model with a tied head."""
    if not ties_lm_head(model):
        yield
        return
    logger, filt = logging.getLogger("transformers.trainer"), _TiedLmHeadFilter()
    logger.addFilter(filt)
    try:
        yield
    finally:
        logger.removeFilter(filt)


class KillAfterStepCallback(TrainerCallback):
    """Test hook for resumability: with ``PROUIE_KILL_AFTER_STEP=N`` the process dies after saving step N."""

    def __init__(self) -> None:
        value = os.environ.get(KILL_ENV)
        self.kill_at = int(value) if value else None

    def on_save(self, args, state, control, **kwargs):
        if self.kill_at is not None and state.global_step >= self.kill_at:
            os._exit(3)


def checkpoint_problem(folder: Path) -> str | None:
    """Why a checkpoint folder cannot be resumed from (None: complete).

    transformers writes the weights, optimizer, scheduler and RNG state first and ``trainer_state.json`` last, so a
    folder cut by a kill during the write lacks it (or holds a torn copy).
    """
    folder = Path(folder)
    state_file = folder / TRAINER_STATE
    if not state_file.is_file():
        return f"no {TRAINER_STATE} (the save was interrupted)"
    try:
        state = json.loads(state_file.read_text())
    except (ValueError, UnicodeDecodeError):
        return f"{TRAINER_STATE} is not valid JSON (the save was interrupted)"
    step = folder.name[len(CHECKPOINT_PREFIX):]
    if not isinstance(state, dict) or str(state.get("global_step")) != step:
        return f"{TRAINER_STATE} does not describe step {step}"
    if not any((folder / name).is_file() and (folder / name).stat().st_size > 0 for name in _WEIGHT_FILES):
        return "no model weights"
    return None


def last_checkpoint(output_dir: Path, *, warn: bool = True) -> str | None:
    """The newest *complete* checkpoint in ``output_dir``; incomplete newer ones are removed with a warning."""
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    folders = [p for p in output_dir.iterdir() if p.is_dir() and p.name.startswith(CHECKPOINT_PREFIX)
               and p.name[len(CHECKPOINT_PREFIX):].isdigit()]
    for folder in sorted(folders, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX):]), reverse=True):
        problem = checkpoint_problem(folder)
        if problem is None:
            return str(folder)
        if warn:
            print(f"prouie: warning: {folder} is incomplete ({problem}); removed, resuming from the previous "
                  "complete checkpoint", file=sys.stderr, flush=True)
            shutil.rmtree(folder, ignore_errors=True)
    return None


def checkpoint_step(checkpoint: str | Path | None) -> int:
    return int(Path(checkpoint).name[len(CHECKPOINT_PREFIX):]) if checkpoint else 0


def truncate_log(path: Path, last_step: int) -> None:
    """Keep the log entries up to ``last_step`` (a resumed trainer logs the later steps again)."""
    path = Path(path)
    if not path.exists():
        return
    kept = [line for line in path.read_text().splitlines() if line.strip() and json.loads(line).get("step", 0) <= last_step]
    write_text_atomic(path, "".join(line + "\n" for line in kept))


def rewrite_log_history(path: Path, entries: list[dict[str, Any]]) -> None:
    """Replace the streamed log with the trainer's authoritative history (after a resume it has no duplicates)."""
    write_text_atomic(Path(path), "".join(json.dumps(entry) + "\n" for entry in entries))


def write_text_atomic(path: Path, text: str) -> None:
    """Write a file under a temporary name and rename it: an interrupt leaves the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json(path: Path, value: Any) -> None:
    write_text_atomic(Path(path), json.dumps(value, indent=2, ensure_ascii=False) + "\n")


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
    stage_dir.mkdir(parents=True, exist_ok=True)
    write_json(stage_dir / FINGERPRINT, stage_fingerprint(config, stage))
    save_config(config, stage_dir / CONFIG)
    save_config(config, config.run_dir / RUN_CONFIG)
    return stage_dir


def evaluate_stage(model, tokenizer, config: RunConfig, stage_dir: Path, fmt: str) -> dict[str, Any]:
    """Predict the configured eval split, write predictions.jsonl + scores.json, return the scores."""
    from prouie_lib.data import write_jsonl
    from prouie_lib.evaluation.predict import predict_records, write_predictions
    from prouie_lib.evaluation.score import score_predictions

    gold = load_split(config, config.eval.split, limit_per_dataset=config.eval.limit_per_dataset, head=True)
    gold_path = config.run_dir / gold_file(config.eval.split)
    tmp = gold_path.with_name(f".{gold_path.name}.tmp")  # rewritten each time: eval.* may have changed (rerun)
    write_jsonl(gold, tmp)
    os.replace(tmp, gold_path)
    start = time.time()
    system = config.data.system_prompt
    lines = predict_records(model, tokenizer, gold, fmt, batch_size=config.eval.batch_size,
                            max_new_tokens=config.max_new_tokens(fmt), system=system)
    elapsed = time.time() - start
    write_predictions(lines, stage_dir / PREDICTIONS)
    scores = score_predictions(gold, lines, protocol=config.eval.protocol)
    scores["predict_seconds"] = round(elapsed, 2)
    scores["format"] = fmt
    write_json(stage_dir / SCORES, scores)  # last: scores.json + model/ mark the stage done (rundir.stage_done)
    return scores


def record_timing(stage_dir: Path, **seconds: float) -> None:
    path = Path(stage_dir) / TIMING
    timing = json.loads(path.read_text()) if path.exists() else {}
    timing.update({k: round(v, 2) for k, v in seconds.items()})
    write_json(path, timing)
