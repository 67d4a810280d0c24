"""Stage DE — Deep Exploration: GRPO (trl's GRPOTrainer) with stepwise fine-grained rewards, from SA's result.

Prompts come from the training data with the gold record (JSON string), task, format and id as dataset
columns, which trl hands to the reward functions. Every generation batch is appended to
``de/reward_traces.jsonl`` (step, prompt id, group, task, completion, total reward, its components, advantage,
gold record) so rewards can be replayed offline with ``prouie reward replay``.

Prompts can be restricted to some datasets or tasks (``de.datasets``, ``de.tasks``). Completions cut at
``max_completion_length`` are left out of the loss (trl's ``mask_truncated_completions``). A fixed *probe* of dev
prompts is decoded greedily before training and after every ``probe_every`` steps; ``probe.jsonl`` records the
fraction of probe outputs that differ from step 0, so a user sees whether DE moved the greedy outputs at all.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from prouie_lib import distributed, rundir
from prouie_lib.config import RunConfig
from prouie_lib.models import quiet_library_deprecations
from prouie_lib.schema import Record
from prouie_lib.stages.atomic_io import write_json
from prouie_lib.stages.checkpoints import (
    announce_resume,
    checkpoint_step,
    last_checkpoint,
    quiet_tied_lm_head,
)
from prouie_lib.stages.interrupts import KillAfterStepCallback, StopOnSignalCallback, training_loop
from prouie_lib.stages.keep_best import keep_best_callback
from prouie_lib.stages.skeleton import StageRun, Trained, predict_for_run, run_skeleton
from prouie_lib.stages.stage_data import filter_long_prompts, load_split, prompt_messages
from prouie_lib.stages.training_args import lora_config, tracking_callbacks, trainer_kwargs
from prouie_lib.stages.training_log import LogHistoryCallback, rewrite_log_history, truncate_log

try:  # the subclass below needs trl; keep the module importable for docs without it
    from trl import GRPOTrainer
except ImportError:  # pragma: no cover
    GRPOTrainer = object  # type: ignore[assignment,misc]


def admitted(records: list[Record], config: RunConfig) -> list[Record]:
    """The records DE's prompt filter admits (``de.datasets``, ``de.tasks``; None admits all), order kept."""
    de = config.de
    return [r for r in records if (de.datasets is None or r["dataset"] in de.datasets)
            and (de.tasks is None or r["task"] in de.tasks)]


def select_prompts(records: list[Record], config: RunConfig) -> list[Record]:
    """DE's prompt records: the configured datasets/tasks only, then at most ``train_limit`` of them (seeded)."""
    de = config.de
    chosen = admitted(records, config)
    if not chosen:
        raise ValueError(f"de.datasets={de.datasets} / de.tasks={de.tasks} select none of the "
                         f"{len(records)} training records (datasets: {sorted({r['dataset'] for r in records})})")
    if de.train_limit is not None and len(chosen) > de.train_limit:
        chosen = random.Random(config.seed).sample(chosen, de.train_limit)
    return chosen


class ProbeCallback(TrainerCallback):
    """Greedy outputs of a fixed probe set before training and every ``every`` steps, compared with step 0."""

    def __init__(self, config: RunConfig, records: list[Record], path: Path, every: int) -> None:
        self.config, self.records, self.path, self.every = config, records, Path(path), max(1, every)
        lines = [json.loads(x) for x in self.path.read_text().splitlines()] if self.path.exists() else []
        self.first = lines[0]["outputs"] if lines else None
        self.previous = lines[-1]["outputs"] if lines else None

    def _probe(self, model, tokenizer, step: int) -> None:
        lines = predict_for_run(model, tokenizer, self.config, self.records, self.config.de.format,
                                max_new_tokens=self.config.de.max_completion_length)
        outputs = [line["completion"] for line in lines]
        self.first = self.first or outputs
        previous = self.previous or outputs
        entry = {"step": step, "n": len(outputs),
                 "changed_vs_start": sum(a != b for a, b in zip(outputs, self.first, strict=True)) / len(outputs),
                 "changed_vs_previous": sum(a != b for a, b in zip(outputs, previous, strict=True)) / len(outputs),
                 "outputs": outputs}
        self.previous = outputs
        if distributed.is_main():  # every process took part in the probe; the main process writes it
            with self.path.open("a") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        if self.first is None:
            self._probe(model, processing_class, state.global_step)

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.global_step % self.every == 0 or state.global_step == state.max_steps:
            self._probe(model, processing_class, state.global_step)


def grpo_rows(records: list[dict[str, Any]], config: RunConfig) -> list[dict[str, Any]]:
    fmt = config.de.format
    return [{"prompt": prompt_messages(r, fmt, config), "gold": json.dumps(r, ensure_ascii=False),
             "task": r["task"], "format": fmt, "id": r["id"], "dataset": r["dataset"]} for r in records]


def grpo_config(config: RunConfig, output_dir: Path):
    from trl import GRPOConfig

    de = config.de
    kwargs = trainer_kwargs(de.trainer, output_dir, config.seed, config.report_to)
    kwargs.update(
        num_generations=de.num_generations, beta=de.beta, loss_type=de.loss_type, temperature=de.temperature,
        max_completion_length=de.max_completion_length, reward_weights=de.reward_weights,
        multi_objective_aggregation=de.multi_objective_aggregation, scale_rewards=de.scale_rewards,
        use_vllm=de.use_vllm, vllm_mode=de.vllm_mode, mask_truncated_completions=de.mask_truncated_completions,
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
        if self.model.training:  # every process: its lines are gathered to the main process, which writes them
            self._write_traces(inputs)
        return output

    def _write_traces(self, inputs: list[dict[str, Any]]) -> None:
        # trl logs the completions, rewards and advantages of *all* processes (gathered in rank order, this
        # process's ``len(inputs)`` at its rank's offset); the reward components (``last_results``) and ``inputs``
        # are this process's own. Each process pairs its own rows, then the main process writes every line once.
        n, rank, world = len(inputs), self.accelerator.process_index, self.accelerator.num_processes
        mine = slice(rank * n, (rank + 1) * n)
        completions = list(self._logs["completion"])[-n * world:][mine]
        advantages = list(self._logs["advantages"])[-n * world:][mine]
        per_func = {name: list(values)[-n * world:][mine] for name, values in self._logs["rewards"].items()}
        results: list[Any] = [None] * n
        for func in self.reward_funcs:
            last = getattr(func, "last_results", None)
            if last and len(last) == n:
                results = [res if res is not None else prev for res, prev in zip(last, results, strict=True)]
        group_size = self.num_generations
        step = self.state.global_step
        lines = []  # one per completion of this process
        for i, row in enumerate(inputs):
            completion = completions[i]
            if isinstance(completion, list):  # conversational
                completion = completion[-1]["content"] if completion else ""
            weighted = sum(
                w * v for w, v in zip(self.reward_weights.tolist(), (per_func[k][i] for k in per_func),
                                      strict=True) if v == v  # NaN: function not applicable
            )
            res = results[i]
            line = {"step": step, "prompt_id": row["id"], "group": (rank * n + i) // group_size,
                    "task": row["task"],
                    "dataset": row.get("dataset"), "format": row["format"], "completion": completion,
                    "reward": float(res.total) if res is not None else float(weighted),
                    "trainer_reward": float(weighted), "reward_name": self.reward_name,
                    "components": dict(res.components) if res is not None else {},
                    "advantage": float(advantages[i]) if i < len(advantages) else None,
                    "gold": json.loads(row["gold"])}
            lines.append(json.dumps(line, ensure_ascii=False) + "\n")
        lines = distributed.gather_lists(lines)
        if self.accelerator.is_main_process:
            with self.trace_path.open("a") as fh:
                fh.writelines(lines)


def run_de(config: RunConfig, *, resume: bool = False) -> dict[str, Any]:
    """Train DE from SA's output with GRPO; write ``runs/<name>/de/``; return the eval scores."""
    return run_skeleton("de", config, resume=resume, fmt=config.de.format, train=train_de)


def train_de(run: StageRun) -> Trained:
    """DE's training part: GRPO on the selected prompts, with reward traces, a probe and the time split."""
    from datasets import Dataset

    from prouie_lib.rewards import make_trl_reward_funcs
    from prouie_lib.stages.lm_head import use_compact_lm_head

    config, stage_dir, de = run.config, run.stage_dir, run.config.de
    # Prompts: the training records DE's filter admits (at most ``de.train_limit``); too long ones are dropped.
    records = select_prompts(load_split(config, config.data.train_split,
                                        limit_per_dataset=config.data.train_limit_per_dataset), config)
    rows, dropped = filter_long_prompts(grpo_rows(records, config), run.tokenizer, config.data.max_prompt_tokens)

    # Rewards, each timed (for the generation / reward / update split of the loop's time).
    reward_funcs = [TimedReward(f) for f in make_trl_reward_funcs(
        de.reward, per_task=de.per_task_rewards, weights=de.reward_params or None)]

    # Resume: from the last complete checkpoint, without the traces, probes and log entries written after it.
    trace_path, log_path, probe_path = (stage_dir / rundir.REWARD_TRACES, stage_dir / rundir.LOG_HISTORY,
                                        stage_dir / rundir.PROBE)
    checkpoint = distributed.on_main(last_checkpoint, stage_dir / rundir.CHECKPOINTS) if run.resume else None
    distributed.on_main(_cut_stage_logs, checkpoint, trace_path, log_path, probe_path)
    if run.resume:
        announce_resume("de", checkpoint)

    # Callbacks: the streamed log, the probe, keep-best on dev, stop on a signal, the kill test hook, tracking.
    callbacks = [LogHistoryCallback(log_path), StopOnSignalCallback(), KillAfterStepCallback()]
    keep_best = keep_best_callback(config, stage_dir, de.format, de.trainer)
    if keep_best is not None:
        keep_best.resume_at(checkpoint_step(checkpoint))
        callbacks.insert(1, keep_best)
    if de.probe_size > 0:
        probe = select_probe(config)
        if probe:
            callbacks.insert(1, ProbeCallback(config, probe, probe_path, de.probe_every))
    use_compact_lm_head(de.trainer.compact_lm_head)
    callbacks += tracking_callbacks(config.report_to, stage_dir / rundir.TRACKING)

    # GRPO: trl's trainer with a fresh LoRA (peft_config) or full fine-tuning, stopping resumably on a signal.
    with quiet_library_deprecations():  # trl wraps the model in the LoRA adapter (peft_config)
        trainer = TracingGRPOTrainer(
            model=run.model, reward_funcs=reward_funcs, args=grpo_config(config, stage_dir / rundir.CHECKPOINTS),
            train_dataset=Dataset.from_list(rows), processing_class=run.tokenizer, peft_config=lora_config(config),
            callbacks=callbacks, trace_path=trace_path, reward_name=de.reward,
        )
    train_start = time.perf_counter()
    with (quiet_tied_lm_head(trainer.model), training_loop(stage_dir / rundir.CHECKPOINTS),
          quiet_library_deprecations()):  # trl reads `is_gradient_checkpointing` around its generation
        trainer.train(resume_from_checkpoint=checkpoint)
    loop_seconds = time.perf_counter() - train_start
    model = trainer.model if keep_best is None else keep_best.restore(trainer.model, trainer.state.global_step)

    # The trainer's own log history, the phase record, and where the loop's time went.
    distributed.on_main(rewrite_log_history, log_path, trainer.state.log_history)
    distributed.on_main(write_json, stage_dir / rundir.PHASES, {"phases": [{"phase": "de", "start_step": 0,
                                                       "end_step": trainer.state.global_step,
                                                       "examples": len(rows)}],
                                           "reward": de.reward, "dropped_long_prompts": dropped})
    reward_seconds = sum(f.seconds for f in reward_funcs)
    timing = {"grpo_loop_seconds": loop_seconds,
              "grpo_generation_seconds": trainer.generate_and_score_seconds - reward_seconds,
              "grpo_reward_seconds": reward_seconds,
              "grpo_update_seconds": loop_seconds - trainer.generate_and_score_seconds,
              "grpo_steps": max(1, trainer.state.global_step - checkpoint_step(checkpoint))}
    return Trained(model, de.trainer, timing)


def _cut_stage_logs(checkpoint: str | None, trace_path: Path, log_path: Path, probe_path: Path) -> None:
    """A fresh start deletes the traces, log and probe; a resume keeps what was written up to its checkpoint."""
    if checkpoint is None:
        for path in (trace_path, log_path, probe_path):
            path.unlink(missing_ok=True)
        return
    truncate_log(trace_path, checkpoint_step(checkpoint), inclusive=False)
    truncate_log(probe_path, checkpoint_step(checkpoint))
    truncate_log(log_path, checkpoint_step(checkpoint))


def select_probe(config: RunConfig) -> list[Record]:
    """The probe: the first ``probe_size`` dev records that DE's prompt filter admits (train if no dev split)."""
    de = config.de
    try:
        records = load_split(config, "dev")
    except (KeyError, ValueError, FileNotFoundError):
        records = load_split(config, config.data.train_split)
    return admitted(records, config)[: de.probe_size]
