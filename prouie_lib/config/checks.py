"""Checks of a run config beyond types: numeric ranges, stage names, enum values, datasets, rewards, paths
(:func:`validate`, run on every load); and :func:`preflight`, the checks before a run that need no model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prouie_lib.config.sections import ConfigError, RunConfig, TrainerConfig
from prouie_lib.rundir import STAGES
from prouie_lib.schema import TASKS

# Allowed values of the enum fields.
SAVE_DTYPES = ("float32", "bfloat16", "float16")
CURRICULA = ("ordered", "sequential", "mixed")
SCALE_REWARDS = ("group", "batch", "none")
SAMPLERS = ("uniform", "balanced", "hard")
HANDOVERS = ("restart", "continue")
KEEP_BEST = ("dev",)
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
              "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "cosine_warmup_with_min_lr",
              "warmup_stable_decay")
LOSS_TYPES = ("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo")
AGGREGATIONS = ("sum_then_normalize", "normalize_then_sum")
VLLM_MODES = ("colocate", "server")

# Numeric ranges: (dotted field relative to its section, test, what the test means). Checked for every section of
# that type, so each trainer block (cm/sa/de/sft) is covered.
_TRAINER_RANGES: tuple[tuple[str, Any, str], ...] = (
    ("learning_rate", lambda v: v > 0, "> 0"),
    ("num_train_epochs", lambda v: v > 0, "> 0"),
    ("max_steps", lambda v: v == -1 or v > 0, "-1 (use num_train_epochs) or > 0"),
    ("per_device_train_batch_size", lambda v: v > 0, "> 0"),
    ("gradient_accumulation_steps", lambda v: v > 0, "> 0"),
    ("warmup_steps", lambda v: v >= 0, ">= 0"),
    ("weight_decay", lambda v: v >= 0, ">= 0"),
    ("logging_steps", lambda v: v > 0, "> 0"),
    ("save_steps", lambda v: v > 0, "> 0"),
    ("save_total_limit", lambda v: v is None or v >= 1, ">= 1 (or null: keep all)"),
    ("max_length", lambda v: v > 0, "> 0"),
    ("keep_best_every", lambda v: v >= 0, ">= 0 (0: save_steps)"),
    ("keep_best_limit", lambda v: v > 0, "> 0"),
    ("keep_best_margin", lambda v: v >= 0, ">= 0 (F1 points)"),
    ("keep_best_max_drop", lambda v: v is None or v >= 0, ">= 0 (F1 points; or null: off)"),
)
_RANGES: tuple[tuple[str, Any, str], ...] = (
    ("seed", lambda v: v >= 0, ">= 0"),
    ("seeds", lambda v: v is None or (len(v) > 0 and len(set(v)) == len(v) and min(v) >= 0),
     "a non-empty list of distinct seeds >= 0 (or null: one run with `seed`)"),
    ("model.lora_r", lambda v: v > 0, "> 0"),
    ("model.lora_alpha", lambda v: v > 0, "> 0"),
    ("model.lora_dropout", lambda v: 0 <= v < 1, "in [0, 1)"),
    ("data.max_prompt_tokens", lambda v: v > 0, "> 0"),
    ("cm.replay_fraction", lambda v: 0 <= v <= 1, "in [0, 1]"),
    ("cm.phase_eval_limit", lambda v: v >= 0, ">= 0 (0: off)"),
    ("sa.sample_ratio", lambda v: v is None or 0 < v <= 1, "in (0, 1]"),
    ("sa.hard_pool", lambda v: v > 0, "> 0"),
    ("sa.lr_fraction", lambda v: 0 < v <= 10, "in (0, 10]"),
    ("de.train_limit", lambda v: v is None or v > 0, "> 0 (or null: all prompts)"),
    ("de.num_generations", lambda v: v >= 2, ">= 2 (GRPO compares completions of one prompt)"),
    ("de.beta", lambda v: v >= 0, ">= 0"),
    ("de.temperature", lambda v: v > 0, "> 0"),
    ("de.max_completion_length", lambda v: v > 0, "> 0"),
    ("de.probe_size", lambda v: v >= 0, ">= 0 (0: off)"),
    ("de.probe_every", lambda v: v > 0, "> 0"),
    ("sft.budget_steps", lambda v: v is None or v > 0, "> 0 (or null: CM + SA steps)"),
    ("eval.batch_size", lambda v: v > 0, "> 0"),
)
# Fields that are one number or {name: number}: every number must pass.
_COUNT_RANGES: tuple[tuple[str, Any, str], ...] = (
    ("data.train_limit_per_dataset", lambda v: v >= 0, ">= 0"),
    ("sa.sample_k", lambda v: v >= 0, ">= 0"),
    ("eval.limit_per_dataset", lambda v: v >= 0, ">= 0"),
    ("eval.max_new_tokens", lambda v: v > 0, "> 0"),
)


def _get(config: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        config = getattr(config, part)
    return config


def _trainer_sections(config: RunConfig) -> list[tuple[str, TrainerConfig]]:
    sections = [(f"{name}.trainer", getattr(config, name).trainer) for name in ("cm", "sa", "de")]
    if config.sft.trainer is not None:
        sections.append(("sft.trainer", config.sft.trainer))
    return sections


def _one_of(value: Any, allowed: tuple[str, ...] | list[str], file: str, field_name: str, what: str = "") -> None:
    if value not in allowed:
        raise ConfigError(f"unknown {what or 'value'} {value!r}; known: {', '.join(allowed)}", file=file,
                          field=field_name)


def validate(config: RunConfig, where: str = "config") -> RunConfig:
    """Semantic checks beyond types: numeric ranges, stage names, enum values, datasets, rewards, paths.

    ``where`` names the config file in error messages (a :class:`ConfigError` naming the field).
    """
    file = where

    def fail(field_name: str, message: str):
        raise ConfigError(message, file=file, field=field_name)

    if not config.name or Path(config.name).name != config.name or config.name in (".", ".."):
        fail("name", f"must be a plain folder name (no '/'), got {config.name!r}")
    if not config.stages:
        fail("stages", f"no stage to run; known: {list(STAGES)}")
    for stage in config.stages:
        _one_of(stage, STAGES, file, "stages", "stage")
    for dotted, ok, rule in _RANGES:
        value = _get(config, dotted)
        if not ok(value):
            fail(dotted, f"must be {rule}, got {value!r}")
    for dotted, ok, rule in _COUNT_RANGES:
        value = _get(config, dotted)
        values = value.items() if isinstance(value, dict) else ([(None, value)] if value is not None else [])
        for key, number in values:
            if not ok(number):
                fail(dotted if key is None else f"{dotted}.{key}", f"must be {rule}, got {number!r}")
    for section, trainer in _trainer_sections(config):
        for name, ok, rule in _TRAINER_RANGES:
            value = getattr(trainer, name)
            if not ok(value):
                fail(f"{section}.{name}", f"must be {rule}, got {value!r}")
        _one_of(trainer.lr_scheduler_type, SCHEDULERS, file, f"{section}.lr_scheduler_type", "scheduler")
        if trainer.keep_best is not None:
            _one_of(trainer.keep_best, KEEP_BEST, file, f"{section}.keep_best", "keep_best (or null)")
    if config.cm.trainer.keep_best is not None and config.cm.curriculum == "sequential":
        fail("cm.trainer.keep_best", "needs one trainer over the whole stage: use cm.curriculum ordered or mixed "
                                     "(sequential restarts the trainer at every phase)")
    if config.model.save_dtype is not None:
        _one_of(config.model.save_dtype, SAVE_DTYPES, file, "model.save_dtype", "dtype")
    _one_of(config.cm.curriculum, CURRICULA, file, "cm.curriculum", "curriculum")
    _one_of(config.sa.sampler, SAMPLERS, file, "sa.sampler", "sampler")
    _one_of(config.sa.handover, HANDOVERS, file, "sa.handover", "hand-over")
    _one_of(config.de.multi_objective_aggregation, AGGREGATIONS, file, "de.multi_objective_aggregation")
    _one_of(config.de.vllm_mode, VLLM_MODES, file, "de.vllm_mode")
    _one_of(config.de.scale_rewards, SCALE_REWARDS, file, "de.scale_rewards")
    _one_of(config.de.loss_type, LOSS_TYPES, file, "de.loss_type", "loss type")
    for task in config.de.tasks or []:
        _one_of(task, TASKS, file, "de.tasks", "task")
    de_batch = config.de.trainer.per_device_train_batch_size * config.de.trainer.gradient_accumulation_steps
    if "de" in config.stages and de_batch % config.de.num_generations:
        fail("de.num_generations", f"{config.de.num_generations} must divide de.trainer.per_device_train_batch_size "
                                   f"x gradient_accumulation_steps ({de_batch}): a batch holds whole groups")
    for dotted in ("data.train_split", "cm.phase_eval_split", "eval.split"):
        if not _get(config, dotted).strip():
            fail(dotted, "must not be empty")
    if config.data.data_root is not None and not Path(config.data.data_root).expanduser().is_dir():
        fail("data.data_root", f"no such folder: {config.data.data_root}")
    from prouie_lib.evaluation.protocols import PROTOCOLS
    from prouie_lib.formats import FORMATS

    _one_of(config.eval.protocol, sorted(PROTOCOLS), file, "eval.protocol", "protocol")
    for section in ("cm", "sa", "de", "sft"):
        _one_of(getattr(config, section).format, sorted(FORMATS), file, f"{section}.format", "format")
    if isinstance(config.eval.max_new_tokens, dict):
        for key in config.eval.max_new_tokens:
            _one_of(key, sorted(FORMATS), file, "eval.max_new_tokens", "format")
    from prouie_lib.data.registry import get_spec

    if not config.data.datasets:
        fail("data.datasets", "no dataset given")
    for i, name in enumerate(config.data.datasets):
        if not Path(name).expanduser().exists():
            try:
                get_spec(name)
            except (KeyError, ValueError) as err:
                fail(f"data.datasets[{i}]", f"{err}; or no such file or folder")
    from prouie_lib.rewards.registry import UnknownRewardError, resolve_reward

    try:  # a registered name, module:function or path/to/file.py:function (loaded and registered)
        resolve_reward(config.de.reward)
    except (UnknownRewardError, TypeError) as err:
        fail("de.reward", str(err))
    return config


# ---------------------------------------------------------------- before a run


def preflight(config: RunConfig, *, source: str | None = None) -> None:
    """Checks that need no model and no training, run before any stage starts: the backbone is loadable offline
    and every dataset has the splits the configured stages read. Errors name ``source`` (the config file)."""
    from prouie_lib.data.loading import resolve
    from prouie_lib.models import check_backbone

    check_backbone(config.model.backbone, file=source)
    splits = {"data.train_split": config.data.train_split, "eval.split": config.eval.split}
    if "cm" in config.stages and config.cm.phase_eval_limit > 0:
        splits["cm.phase_eval_split"] = config.cm.phase_eval_split
    for i, name in enumerate(config.data.datasets):
        try:
            spec = resolve(name, data_root=config.data.data_root)
            folder = spec.folder(config.data.data_root)
            if not folder.exists():
                raise FileNotFoundError(f"dataset {spec.name}: folder {folder} not found (set $PROUIE_DATA_ROOT or "
                                        "data.data_root)")
        except (ValueError, FileNotFoundError) as err:
            raise ConfigError(str(err), file=source, field=f"data.datasets[{i}]") from None
        for field_name, split in splits.items():
            try:
                spec.split_name(split)
            except ValueError as err:
                raise ConfigError(str(err), file=source, field=field_name) from None
