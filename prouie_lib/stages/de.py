"""Stage DE — Deep Exploration: GRPO (trl's GRPOTrainer) with stepwise fine-grained rewards, from SA's result.

Prompts come from the training data with the gold record (JSON string), task, format and id as dataset
columns, which trl hands to the reward functions. Every generation batch is appended to
``de/reward_traces.jsonl`` (step, prompt id, group, task, completion, total reward, its components, advantage,
gold record) so rewards can be replayed offline with ``prouie reward replay``.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from prouie_lib.config import RunConfig
from prouie_lib.models import load_backbone
from prouie_lib.stages.common import (
    KillAfterStepCallback,
    LogHistoryCallback,
    evaluate_stage,
    filter_long_prompts,
    last_checkpoint,
    load_split,
    lora_config,
    prepare_stage_dir,
    prompt_messages,
    record_timing,
    rewrite_log_history,
    seed_everything,
    trainer_kwargs,
    write_json,
)
from prouie_lib.stages.sa import input_stage
from prouie_lib.stages.sft import finish_stage_model

try:  # the subclass below needs trl; keep the module importable for docs without it
    from trl import GRPOTrainer
except ImportError:  # pragma: no cover
    GRPOTrainer = object  # type: ignore[assignment,misc]


def grpo_rows(records: list[dict[str, Any]], config: RunConfig) -> list[dict[str, Any]]:
    fmt = config.de.format
    return [{"prompt": prompt_messages(r, fmt, config), "gold": json.dumps(r, ensure_ascii=False),
             "task": r["task"], "format": fmt, "id": r["id"], "dataset": r["dataset"]} for r in records]


def grpo_config(config: RunConfig, output_dir: Path):
    from trl import GRPOConfig

    de = config.de
    kwargs = trainer_kwargs(de.trainer, output_dir, config.seed)
    kwargs.update(
        num_generations=de.num_generations, beta=de.beta, loss_type=de.loss_type, temperature=de.temperature,
        max_completion_length=de.max_completion_length, reward_weights=de.reward_weights,
        multi_objective_aggregation=de.multi_objective_aggregation, scale_rewards=de.scale_rewards,
        use_vllm=de.use_vllm, vllm_mode=de.vllm_mode,
    )
    kwargs.update(de.trainer.extra)
    return GRPOConfig(**kwargs)


class TimedReward:
    """Wraps a reward function to add up the seconds spent in it (for the generation/reward/update split)."""

    def __init__(self, fn) -> None:
        self.fn, self.__name__, self.seconds = fn, fn.__name__, 0.0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start

    def __getattr__(self, name: str):
        return getattr(self.fn, name)


class TracingGRPOTrainer(GRPOTrainer):
    """GRPOTrainer that appends each training generation batch to ``reward_traces.jsonl``.

    trl keeps completions, per-function rewards and advantages of the last batch only in private deques
    (``self._logs``) and prints/saves them only with ``log_completions``; this subclass hooks the one method
    that produces them and writes one JSON line per completion, with the reward components that our reward
    functions keep in ``last_results``.
    """

    def __init__(self, *args, trace_path: Path, reward_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.trace_path, self.reward_name = Path(trace_path), reward_name
        self.generate_and_score_seconds = 0.0

    def _generate_and_score_completions(self, inputs):
        start = time.perf_counter()
        output = super()._generate_and_score_completions(inputs)
        if self.model.training:
            self.generate_and_score_seconds += time.perf_counter() - start
        if self.model.training and self.accelerator.is_main_process:
            self._write_traces(inputs)
        return output

    def _write_traces(self, inputs: list[dict[str, Any]]) -> None:
        n = len(inputs)
        completions = list(self._logs["completion"])[-n:]
        advantages = list(self._logs["advantages"])[-n:]
        per_func = {name: list(values)[-n:] for name, values in self._logs["rewards"].items()}
        results: list[Any] = [None] * n
        for func in self.reward_funcs:
            last = getattr(func, "last_results", None)
            if last and len(last) == n:
                results = [res if res is not None else prev for res, prev in zip(last, results, strict=True)]
        group_size = self.num_generations
        step = self.state.global_step
        with self.trace_path.open("a") as fh:
            for i, row in enumerate(inputs):
                completion = completions[i]
                if isinstance(completion, list):  # conversational
                    completion = completion[-1]["content"] if completion else ""
                weighted = sum(
                    w * v for w, v in zip(self.reward_weights.tolist(), (per_func[k][i] for k in per_func),
                                          strict=True) if v == v  # NaN: function not applicable
                )
                res = results[i]
                line = {"step": step, "prompt_id": row["id"], "group": i // group_size, "task": row["task"],
                        "dataset": row.get("dataset"), "format": row["format"], "completion": completion,
                        "reward": float(res.total) if res is not None else float(weighted),
                        "trainer_reward": float(weighted), "reward_name": self.reward_name,
                        "components": dict(res.components) if res is not None else {},
                        "advantage": float(advantages[i]) if i < len(advantages) else None,
                        "gold": json.loads(row["gold"])}
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def run_de(config: RunConfig, *, resume: bool = False) -> dict[str, Any]:
    """Train DE from SA's output with GRPO; write ``runs/<name>/de/``; return the eval scores."""
    from prouie_lib.rewards import make_trl_reward_funcs

    stage_dir = prepare_stage_dir(config, "de", resume=resume)
    seed_everything(config.seed)
    start = time.time()
    source = input_stage(config, "de")
    model, tokenizer = load_backbone(source)
    records = load_split(config, config.data.train_split,
                         limit_per_dataset=config.data.train_limit_per_dataset)
    if config.de.train_limit is not None and len(records) > config.de.train_limit:
        records = random.Random(config.seed).sample(records, config.de.train_limit)
    rows, dropped = filter_long_prompts(grpo_rows(records, config), tokenizer, config.data.max_prompt_tokens)
    from datasets import Dataset

    reward_funcs = [TimedReward(f) for f in make_trl_reward_funcs(
        config.de.reward, per_task=config.de.per_task_rewards, weights=config.de.reward_params or None)]
    trace_path = stage_dir / "reward_traces.jsonl"
    log_path = stage_dir / "log_history.jsonl"
    checkpoint = last_checkpoint(stage_dir / "checkpoints") if resume else None
    if checkpoint is None:
        trace_path.unlink(missing_ok=True)
        log_path.unlink(missing_ok=True)
    else:  # drop traces written after the checkpoint we resume from
        _truncate_traces(trace_path, int(Path(checkpoint).name.split("-")[-1]))
    trainer = TracingGRPOTrainer(
        model=model, reward_funcs=reward_funcs, args=grpo_config(config, stage_dir / "checkpoints"),
        train_dataset=Dataset.from_list(rows), processing_class=tokenizer, peft_config=lora_config(config),
        callbacks=[LogHistoryCallback(log_path), KillAfterStepCallback()],
        trace_path=trace_path, reward_name=config.de.reward,
    )
    train_start = time.perf_counter()
    trainer.train(resume_from_checkpoint=checkpoint)
    loop_seconds = time.perf_counter() - train_start
    rewrite_log_history(log_path, trainer.state.log_history)
    write_json(stage_dir / "phases.json", {"phases": [{"phase": "de", "start_step": 0,
                                                       "end_step": trainer.state.global_step,
                                                       "examples": len(rows)}],
                                           "reward": config.de.reward, "dropped_long_prompts": dropped})
    finish_stage_model(trainer.model, tokenizer, stage_dir, source)
    train_seconds = time.time() - start
    scores = evaluate_stage(trainer.model, tokenizer, config, stage_dir, config.de.format)
    reward_seconds = sum(f.seconds for f in reward_funcs)
    steps = max(1, trainer.state.global_step - (int(Path(checkpoint).name.split("-")[-1]) if checkpoint else 0))
    record_timing(stage_dir, train_seconds=train_seconds, total_seconds=time.time() - start,
                  grpo_loop_seconds=loop_seconds,
                  grpo_generation_seconds=trainer.generate_and_score_seconds - reward_seconds,
                  grpo_reward_seconds=reward_seconds,
                  grpo_update_seconds=loop_seconds - trainer.generate_and_score_seconds,
                  grpo_steps=steps)
    return scores


def _truncate_traces(path: Path, step: int) -> None:
    """Keep trace lines of generation batches that belong to steps already in the checkpoint."""
    if not path.exists():
        return
    kept = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] < step]
    path.write_text("".join(line + "\n" for line in kept))
