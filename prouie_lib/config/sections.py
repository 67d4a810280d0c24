"""The run config's sections as dataclasses (one YAML file describes a whole run: model, data, the stages,
evaluation), and the error a mistake in one raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prouie_lib.rundir import STAGES
from prouie_lib.schema import RecordError


@dataclass
class ModelConfig:
    """Backbone and adaptation method."""

    backbone: str = "smollm2-135m-offline"  # or tiny-random, a hub id, a local path
    lora: bool = True  # False = full fine-tuning
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: str | list[str] = "all-linear"
    # Full fine-tuning: dtype a stage saves its weights in (None: the training dtype). "bfloat16" halves the run
    # folder; the weights are rounded to it *before* the stage is evaluated, so the saved model is the evaluated one.
    save_dtype: str | None = None


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
    # "dev": keep the best of the input model, every `keep_best_every` steps (0: save_steps) and the last step,
    # scored on the first `keep_best_limit` dev records per dataset (prouie_lib/stages/keep_best.py). None: the last.
    keep_best: str | None = None
    keep_best_every: int = 0
    keep_best_limit: int = 16
    # A check becomes the best only if it beats the best so far by more than `keep_best_margin` macro-F1 points and,
    # when `keep_best_max_drop` is set, no dataset's F1 is more than that many points below the input's.
    keep_best_margin: float = 0.0
    keep_best_max_drop: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CMConfig:
    """Stage CM: complete modeling on the full training data, curriculum NER → RE → EE."""

    # complete-present: the explicit JSON without empty lists. With the exhaustive "complete" JSON, CM on real data
    # learned to print empty lists (benchmarks/results/cpu-conll04-exhaustive-cm: NER and RE F1 0 after CM).
    format: str = "complete-present"
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
    # How SA takes over CM's model. restart: SA's own trainer settings (a fresh warm-up to sa.trainer's LR).
    # continue: no warm-up and a learning rate of lr_fraction × CM's peak LR (cm.trainer.learning_rate), so SA goes on
    # from where CM's schedule left the model instead of re-warming it (prouie_lib/stages/sa.py).
    handover: str = "restart"
    lr_fraction: float = 0.5
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
    # Run each batch's shared prompt prefix (template, instruction, schema) once and reuse its KV cache: the same
    # greedy outputs, 1.1–1.3× faster on CPU (benchmarks/prefix_reuse.py). Not part of a stage's fingerprint.
    reuse_prefix: bool = True


@dataclass
class RunConfig:
    name: str = "demo"
    output_dir: str = "runs"
    seed: int = 42
    # Several training seeds: the whole ablation once per seed in runs/<name>/seed-<k>/ (resumable seed by seed),
    # then an aggregate report over them at runs/<name>/ (prouie_lib.analysis.seeds_report). None: one run, `seed`.
    seeds: list[int] | None = None
    # The dev runs (names or paths) whose results fixed this run's settings; a test run's report names them.
    chosen_on_dev: list[str] = field(default_factory=list)
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
