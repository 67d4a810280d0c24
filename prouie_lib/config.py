"""Run configuration: dataclasses loadable from YAML, strictly validated, snapshotted into every run directory.

One YAML file describes a whole run (model, data, the three stages, evaluation). Unknown sections or fields,
unknown datasets, stages or enum values are errors that name the file and the field.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from prouie_lib.rundir import STAGES

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
    gradient_checkpointing: bool = False
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


def _build(cls: type, values: Any, where: str):
    """Recursively build dataclass ``cls`` from a mapping, rejecting unknown fields."""
    if values is None:
        return cls()
    if not isinstance(values, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(values).__name__}")
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; known: {sorted(known)}")
    kwargs = {}
    for name, value in values.items():
        hint = hints[name]
        if get_origin(hint) in (Union, UnionType) and value is not None:  # `Section | None`
            hint = next((h for h in get_args(hint) if dataclasses.is_dataclass(h)), hint)
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value, f"{where}.{name}")
        else:
            kwargs[name] = _check_type(value, hint, f"{where}.{name}")
    return cls(**kwargs)


def _check_type(value: Any, hint: Any, where: str) -> Any:
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
                return base(value)
        elif base is list and isinstance(value, list):
            (item,) = get_args(option) or (Any,)
            return [_check_type(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        elif base is dict and isinstance(value, dict):
            return value
        elif isinstance(base, type) and isinstance(value, base):
            return value
    raise ValueError(f"{where}: expected {hint}, got {value!r}")


def validate(config: RunConfig, where: str = "config") -> RunConfig:
    """Semantic checks beyond types: stage names, enum values, datasets known to the registry."""
    for stage in config.stages:
        if stage not in STAGES:
            raise ValueError(f"{where}.stages: unknown stage {stage!r}; known: {list(STAGES)}")
    if config.cm.curriculum not in CURRICULA:
        raise ValueError(f"{where}.cm.curriculum: {config.cm.curriculum!r} not in {list(CURRICULA)}")
    if config.sa.sampler not in SAMPLERS:
        raise ValueError(f"{where}.sa.sampler: {config.sa.sampler!r} not in {list(SAMPLERS)}")
    if config.de.multi_objective_aggregation not in ("sum_then_normalize", "normalize_then_sum"):
        raise ValueError(f"{where}.de.multi_objective_aggregation: {config.de.multi_objective_aggregation!r}")
    if config.de.vllm_mode not in ("colocate", "server"):
        raise ValueError(f"{where}.de.vllm_mode: {config.de.vllm_mode!r} not in ['colocate', 'server']")
    from prouie_lib.formats import FORMATS

    if config.de.scale_rewards not in SCALE_REWARDS:
        raise ValueError(f"{where}.de.scale_rewards: {config.de.scale_rewards!r} not in {list(SCALE_REWARDS)}")
    for section in ("cm", "sa", "de", "sft"):
        fmt = getattr(config, section).format
        if fmt not in FORMATS:
            raise ValueError(f"{where}.{section}.format: unknown format {fmt!r}; known: {sorted(FORMATS)}")
    from prouie_lib.data.registry import get_spec

    for name in config.data.datasets:
        if not Path(name).exists():
            try:
                get_spec(name)
            except (KeyError, ValueError) as err:
                raise ValueError(f"{where}.data.datasets: {err}") from None
    from prouie_lib.rewards import REWARDS

    if config.de.reward not in REWARDS:
        raise ValueError(f"{where}.de.reward: unknown reward {config.de.reward!r}; known: {sorted(REWARDS)}")
    return config


def config_from_dict(values: dict[str, Any], where: str = "config") -> RunConfig:
    return validate(_build(RunConfig, values, where), where)


def load_config(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Load and validate a YAML run config; ``overrides`` uses dotted keys, e.g. ``{"cm.trainer.max_steps": 2}``."""
    path = Path(path)
    values = yaml.safe_load(path.read_text()) or {}
    for dotted, value in (overrides or {}).items():
        node = values
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return config_from_dict(values, where=str(path))


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def save_config(config: Any, path: str | os.PathLike) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False))
