"""Run configuration: dataclasses loadable from YAML, strictly validated, snapshotted into every run directory.

One YAML file describes a whole run (model, data, the three stages, evaluation). Unknown sections or fields,
unknown datasets, stages or enum values, numbers out of range (batch sizes <= 0, negative limits, NaN) are errors
(:class:`ConfigError`) that name the file and the field, raised before any stage starts.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from prouie_lib.rundir import STAGES
from prouie_lib.schema import TASKS, RecordError

CURRICULA = ("ordered", "sequential", "mixed")
SCALE_REWARDS = ("group", "batch", "none")
SAMPLERS = ("uniform", "balanced", "hard")


@dataclass
class ModelConfig:
    """Backbone and adaptation method."""

    backbone: str = "smollm2-135m-offline"  # or tiny-random, a hub id, a local path
    lora: bool = True  # False = full fine-tuning
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: str | list[str] = "all-linear"


@dataclass
class DataConfig:
    """Which datasets feed training and evaluation (registry names or paths)."""

    datasets: list[str] = field(default_factory=lambda: ["sample"])
    data_root: str | None = None  # default: $PROUIE_DATA_ROOT or ../shared/datasets
    train_split: str = "train"
    # Subsample each dataset's train split (seeded): one number for all, or {registry name: number}.
    train_limit_per_dataset: int | dict[str, int] | None = None
    max_prompt_tokens: int = 384  # longer prompts are dropped (counted in the stage log)
    system_prompt: str | None = None  # None: the formats module's default


@dataclass
class TrainerConfig:
    """Settings mapped onto trl's SFTConfig/GRPOConfig (``extra`` passes any other field verbatim)."""

    learning_rate: float = 2e-4
    num_train_epochs: float = 1.0
    max_steps: int = -1
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    lr_scheduler_type: str = "cosine"
    warmup_steps: float = 0.05  # < 1: ratio of total steps; >= 1: steps
    weight_decay: float = 0.0
    logging_steps: int = 1
    save_steps: int = 50
    save_total_limit: int | None = 2
    max_length: int = 512  # SFT: prompt + completion tokens
    packing: bool = False
    bf16: bool | None = None  # None: bf16 on CUDA, fp32 on CPU (trl's default of True is 25x slower on CPU)
    activation_checkpointing: bool = False  # transformers 5 name of gradient checkpointing (~22% slower on CPU)
    # LM head (and loss) only on completion positions, on CPU too (prouie_lib/stages/lm_head.py); same loss.
    compact_lm_head: bool = True
    # Keep intermediate checkpoints (with optimizer state) after the stage finishes; by default they are deleted.
    keep_checkpoints: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CMConfig:
    """Stage CM: complete modeling on the full training data, curriculum NER → RE → EE."""

    format: str = "complete"
    # ordered: one trainer (one optimizer, one LR schedule) over phases NER → RE → EE in order;
    # sequential: a new trainer per phase (optimizer and schedule restart); mixed: shuffled, no phases.
    curriculum: str = "ordered"
    # Later phases replay this share of the earlier phases' examples (k = fraction × earlier examples).
    replay_fraction: float = 0.0
    # After each phase, score the tasks seen so far on the first N records per dataset of this split (0: off).
    phase_eval_limit: int = 16
    phase_eval_split: str = "dev"
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


@dataclass
class SAConfig:
    """Stage SA: streamlined alignment on a sample, starting from CM (CM's adapter is merged, a new LoRA trains)."""

    format: str = "streamlined"
    sampler: str = "uniform"  # uniform | balanced | hard
    # Examples per dataset: one number, or {dataset name as in the records: number}; a dataset missing from the
    # mapping (or sample_k None) takes sample_ratio of its records.
    sample_k: int | dict[str, int] | None = None
    sample_ratio: float | None = 0.3
    hard_pool: int = 256  # hard sampler: candidates per dataset scored with the CM model
    trainer: TrainerConfig = field(default_factory=TrainerConfig)  # default LR = CM's default


@dataclass
class DEConfig:
    """Stage DE: GRPO with stepwise fine-grained rewards, starting from SA."""

    format: str = "streamlined"
    reward: str = "sfr"  # any registered reward
    reward_params: dict[str, Any] = field(default_factory=dict)  # e.g. SFR weights
    per_task_rewards: bool = False
    reward_weights: list[float] | None = None
    multi_objective_aggregation: str = "sum_then_normalize"
    train_limit: int | None = 64  # prompts
    # Prompt filter: only these datasets (record dataset names) / tasks; None keeps all.
    datasets: list[str] | None = None
    tasks: list[str] | None = None
    num_generations: int = 4
    beta: float = 0.0
    loss_type: str = "dapo"
    temperature: float = 0.9
    max_completion_length: int = 96
    # trl: a truncated completion (cut at max_completion_length) is left out of the loss.
    mask_truncated_completions: bool = True
    # batch: advantages scaled by the batch's reward std, so a group whose completions differ only a little
    # (e.g. in format) does not get full-size advantages as with "group".
    scale_rewards: str = "batch"
    # Probe: greedy outputs of the first N dev prompts after every `probe_every` steps, compared with step 0.
    probe_size: int = 8
    probe_every: int = 1
    use_vllm: bool = False
    vllm_mode: str = "colocate"
    trainer: TrainerConfig = field(
        default_factory=lambda: TrainerConfig(learning_rate=1e-5, per_device_train_batch_size=8)
    )


@dataclass
class ControlConfig:
    """Stage ``sft``, the control arm: plain SFT from the backbone in the evaluated format, on CM's training
    examples, for as many optimizer steps as CM and SA took together (``budget_steps`` overrides)."""

    format: str = "streamlined"
    budget_steps: int | None = None
    trainer: TrainerConfig | None = None  # None: CM's trainer settings (same LR and batch size)


@dataclass
class EvalConfig:
    split: str = "test"
    # The first N records of each dataset's eval split: one number for all, or {registry name: number}.
    limit_per_dataset: int | dict[str, int] | None = None
    batch_size: int = 16
    max_new_tokens: int | dict[str, int] = 128  # one cap, or per target format {"complete": 160, ...}
    protocol: str = "prouie"


@dataclass
class RunConfig:
    name: str = "demo"
    output_dir: str = "runs"
    seed: int = 42
    stages: list[str] = field(default_factory=lambda: list(STAGES))
    # Live tracking of every training stage, as trl's `report_to`: [] (none), ["tensorboard"] (offline; logs in
    # <run>/<stage>/tracking/, watch with `tensorboard --logdir runs/<name>`; needs the `track` extra), or any
    # other integration transformers knows (trackio, wandb, ...), passed through unchanged.
    report_to: list[str] = field(default_factory=list)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    cm: CMConfig = field(default_factory=CMConfig)
    sa: SAConfig = field(default_factory=SAConfig)
    de: DEConfig = field(default_factory=DEConfig)
    sft: ControlConfig = field(default_factory=ControlConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def max_new_tokens(self, fmt: str) -> int:
        """The generation cap for a target format (``eval.max_new_tokens`` may be per format)."""
        cap = self.eval.max_new_tokens
        return cap.get(fmt, max(cap.values())) if isinstance(cap, dict) else cap

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir) / self.name

    def stage_dir(self, stage: str) -> Path:
        return self.run_dir / stage


class ConfigError(RecordError):
    """A mistake in a run config (or a ``--set`` override): the message names the file and the field."""


def _build(cls: type, values: Any, file: str, prefix: str = ""):
    """Recursively build dataclass ``cls`` from a mapping, rejecting unknown fields."""
    if values is None:
        return cls()
    if not isinstance(values, dict):
        raise ConfigError(f"expected a mapping, got {type(values).__name__}", file=file, field=prefix or None)
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(str(k) for k in set(values) - known)
    if unknown:
        raise ConfigError(f"unknown field(s) {unknown}; known: {sorted(known)}", file=file, field=prefix or None)
    kwargs = {}
    for name, value in values.items():
        hint = hints[name]
        dotted = f"{prefix}.{name}" if prefix else name
        if get_origin(hint) in (Union, UnionType) and value is not None:  # `Section | None`
            hint = next((h for h in get_args(hint) if dataclasses.is_dataclass(h)), hint)
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value, file, dotted)
        else:
            kwargs[name] = _check_type(value, hint, file, dotted)
    return cls(**kwargs)


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


def _check_type(value: Any, hint: Any, file: str, where: str) -> Any:
    """Check a YAML value against a field's type hint (unions, lists and dicts of plain types)."""
    options = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    for option in options:
        base = get_origin(option) or option
        if option is type(None):
            if value is None:
                return None
        elif base is Any:
            return value
        elif base is bool:
            if isinstance(value, bool):
                return value
        elif base in (int, float):
            if isinstance(value, int | float) and not isinstance(value, bool) and (base is float or isinstance(value, int)):
                if not math.isfinite(value):
                    raise ConfigError(f"must be a finite number, got {value!r}", file=file, field=where)
                return base(value)
        elif base is list and isinstance(value, list):
            (item,) = get_args(option) or (Any,)
            return [_check_type(v, item, file, f"{where}[{i}]") for i, v in enumerate(value)]
        elif base is dict and isinstance(value, dict):
            key_hint, item_hint = get_args(option) or (Any, Any)
            return {_check_type(k, key_hint, file, f"{where} key"): _check_type(v, item_hint, file, f"{where}.{k}")
                    for k, v in value.items()}
        elif isinstance(base, type) and isinstance(value, base):
            return value
    raise ConfigError(f"expected {_type_name(hint)}, got {value!r}", file=file, field=where)


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
)
_RANGES: tuple[tuple[str, Any, str], ...] = (
    ("seed", lambda v: v >= 0, ">= 0"),
    ("model.lora_r", lambda v: v > 0, "> 0"),
    ("model.lora_alpha", lambda v: v > 0, "> 0"),
    ("model.lora_dropout", lambda v: 0 <= v < 1, "in [0, 1)"),
    ("data.max_prompt_tokens", lambda v: v > 0, "> 0"),
    ("cm.replay_fraction", lambda v: 0 <= v <= 1, "in [0, 1]"),
    ("cm.phase_eval_limit", lambda v: v >= 0, ">= 0 (0: off)"),
    ("sa.sample_ratio", lambda v: v is None or 0 < v <= 1, "in (0, 1]"),
    ("sa.hard_pool", lambda v: v > 0, "> 0"),
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
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
              "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "cosine_warmup_with_min_lr",
              "warmup_stable_decay")
LOSS_TYPES = ("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo")
AGGREGATIONS = ("sum_then_normalize", "normalize_then_sum")
VLLM_MODES = ("colocate", "server")


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
    _one_of(config.cm.curriculum, CURRICULA, file, "cm.curriculum", "curriculum")
    _one_of(config.sa.sampler, SAMPLERS, file, "sa.sampler", "sampler")
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


def config_from_dict(values: dict[str, Any], where: str = "config") -> RunConfig:
    if not isinstance(values, dict):
        raise ConfigError(f"expected a mapping of sections (model, data, cm, ...), got {type(values).__name__}",
                          file=where)
    return validate(_build(RunConfig, values, where), where)


def read_yaml(path: str | os.PathLike) -> Any:
    """A YAML file's content; unreadable files and syntax errors raise a ConfigError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"not UTF-8 text (byte {err.object[err.start]:#04x} at offset {err.start})",
                          file=str(path)) from None
    except OSError as err:
        raise ConfigError(err.strerror or str(err), file=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"invalid YAML: {where}{problem}", file=str(path)) from None


def load_config(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Load and validate a YAML run config; ``overrides`` uses dotted keys, e.g. ``{"cm.trainer.max_steps": 2}``."""
    path = Path(path)
    values = read_yaml(path)
    if values is None:
        raise ConfigError("empty config", file=str(path))
    if not isinstance(values, dict):
        raise ConfigError(f"expected a mapping of sections (model, data, cm, ...), got {type(values).__name__}",
                          file=str(path))
    for dotted, value in (overrides or {}).items():
        node = values
        *parents, leaf = dotted.split(".")
        for i, part in enumerate(parents):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {dotted}: {'.'.join(parents[:i + 1])} is not a section", file=str(path))
        node[leaf] = value
    return config_from_dict(values, where=str(path))


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def save_config(config: Any, path: str | os.PathLike) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False))


# ---------------------------------------------------------------- stage fingerprints

# Fields that change where or how a run is kept, never what a stage computes.
_NOT_FINGERPRINTED = ("name", "output_dir", "stages")


def _flat(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict) and value and all(isinstance(k, str) for k in value) and not prefix.endswith(
            ("extra", "reward_params", "train_limit_per_dataset", "sample_k", "limit_per_dataset", "max_new_tokens")):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: value}


def _section_fields(config: RunConfig, *sections: str) -> dict[str, Any]:
    data = to_dict(config)
    out: dict[str, Any] = {}
    for dotted in sections:
        node: Any = data
        for part in dotted.split("."):
            node = node[part]
        out.update(_flat(node, dotted))
    return {k: v for k, v in out.items() if not k.endswith(".keep_checkpoints")}


def stage_fingerprint(config: RunConfig, stage: str) -> dict[str, Any]:
    """The config fields a stage's result depends on, flat (``{"cm.trainer.learning_rate": 2e-4, ...}``).

    It covers the stage's own section, the model and data sections, evaluation and the seed, and the fingerprint
    of every stage it builds on (``rundir.STAGE_INPUT``; the control ``sft`` builds on CM and SA through its step
    budget and on CM's trainer settings when it has none of its own). The base stage only evaluates the backbone in
    SA's format.
    """
    from prouie_lib.rundir import STAGE_INPUT

    if stage == "base":
        return _section_fields(config, "seed", "model.backbone", "data.datasets", "data.data_root",
                               "data.system_prompt", "eval", "sa.format")
    fields = _section_fields(config, "seed", "model", "data", "eval", stage)
    upstream = STAGE_INPUT.get(stage)
    if upstream is not None:
        fields.update(stage_fingerprint(config, upstream))
    if stage == "sft":
        if config.sft.budget_steps is None:
            fields.update(stage_fingerprint(config, "cm"))
            fields.update(stage_fingerprint(config, "sa"))
        elif config.sft.trainer is None:
            fields.update(_section_fields(config, "cm.trainer"))
    return dict(sorted(fields.items()))


def _stored_fingerprint(stage_dir: Path, stage: str) -> tuple[dict[str, Any] | None, Path]:
    """The fingerprint a stage folder was made with (``fingerprint.json``, or derived from its config snapshot)."""
    from prouie_lib.rundir import CONFIG, FINGERPRINT

    path = stage_dir / FINGERPRINT
    if path.is_file():
        try:
            return json.loads(path.read_text()), path
        except ValueError:
            pass
    snapshot = stage_dir / CONFIG
    if snapshot.is_file():  # a folder from before fingerprints: its config snapshot says the same
        try:
            return stage_fingerprint(_build(RunConfig, yaml.safe_load(snapshot.read_text()), str(snapshot)), stage), \
                snapshot
        except (ValueError, yaml.YAMLError, TypeError):
            return None, snapshot
    return None, path


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def fingerprint_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``field (old → new)`` for every field whose value differs; when none does, the fields present on one side only
    (a stage that stops or starts depending on another, e.g. ``sft.budget_steps`` set, lists its own field first)."""
    def same(a: Any, b: Any) -> bool:
        return a == b or json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)

    changed = [f"{key} ({_short(old[key])} → {_short(new[key])})" for key in sorted(set(old) & set(new))
               if not same(old[key], new[key])]
    if changed:
        return changed
    return [f"{key} ({_short(old[key]) if key in old else 'unset'} → {_short(new[key]) if key in new else 'unset'})"
            for key in sorted(set(old) ^ set(new))]


class StaleStageError(ConfigError):
    """A stage folder was made with another config than the current one."""


def check_fingerprint(config: RunConfig, stage: str) -> None:
    """Refuse to reuse or resume a stage folder made with a different config (one line, the ways on)."""
    stage_dir = config.stage_dir(stage)
    if not stage_dir.is_dir():
        return
    stored, source = _stored_fingerprint(stage_dir, stage)
    if stored is None:
        return
    changes = fingerprint_changes(stored, json.loads(json.dumps(stage_fingerprint(config, stage), default=str)))
    if changes:
        shown = "; ".join(changes[:4]) + (f"; and {len(changes) - 4} more" if len(changes) > 4 else "")
        raise StaleStageError(
            f"stage {stage} was made with another config: {shown}. Run under a new name (--set name=NEW) "
            f"or recompute it and the stages after it (--rerun-from {stage})", file=str(source))


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
