"""Stage CM — Complete Modeling: SFT on the full training data in the complete format, NER → RE → EE.

Curricula:
- ``ordered`` (default): one trainer — one optimizer state and one learning-rate schedule — over the phases
  NER → RE → EE fed in that order (shuffled within a phase). The earlier default restarted optimizer, warm-up
  and schedule at every phase; on real data its last, short EE phase overwrote much of RE (report of
  2026-11-26), so continuity is the default and ``sequential`` stays as the ablation.
- ``sequential``: one trainer per phase; each continues the previous phase's weights with a fresh optimizer and
  schedule.
- ``mixed``: one pass over the shuffled data (the no-curriculum baseline).
``replay_fraction`` mixes into each later phase that share of the *earlier phases'* examples, against
forgetting. After each phase (``phase_eval_limit`` > 0) the tasks seen so far are scored on the first records of
the dev split, written to ``phase_scores.json``, so forgetting is visible. Phase boundaries (global steps) are in
``phases.json`` and tag every ``log_history.jsonl`` entry; in ``ordered`` a batch may straddle two phases.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from prouie_lib import distributed, rundir
from prouie_lib.config import RunConfig
from prouie_lib.schema import HEADLINE_METRIC, Record
from prouie_lib.stages.atomic_io import write_json
from prouie_lib.stages.keep_best import keep_best_callback
from prouie_lib.stages.sft_phase import attach_lora, train_phase
from prouie_lib.stages.skeleton import StageRun, Trained, predict_for_run, run_skeleton
from prouie_lib.stages.stage_data import by_difficulty, filter_long_prompts, load_split, sft_rows
from prouie_lib.stages.training_log import rewrite_log_history


def plan_phases(rows: list[dict[str, Any]], curriculum: str, replay_fraction: float,
                seed: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """Split SFT rows into ``(phase name, rows)`` in curriculum order, with replay of earlier phases' rows."""
    rng = random.Random(seed)
    if curriculum == "mixed":
        mixed = list(rows)
        rng.shuffle(mixed)
        return [("mixed", mixed)]
    phases, seen = [], []
    for task, task_rows in by_difficulty(rows).items():
        phase_rows = list(task_rows)
        if seen and replay_fraction > 0:
            phase_rows += rng.sample(seen, min(len(seen), round(replay_fraction * len(seen))))
        rng.shuffle(phase_rows)
        phases.append((task, phase_rows))
        seen.extend(task_rows)
    return phases


def tasks_seen(phases: list[tuple[str, list[dict[str, Any]]]], index: int) -> list[str]:
    """Tasks trained on up to and including phase ``index`` (replayed rows included), in difficulty order."""
    return list(by_difficulty([row for _, rows in phases[: index + 1] for row in rows]))


def phase_boundaries(phases: list[tuple[str, list[Any]]], batch_rows: int) -> list[int]:
    """Global step at which each phase of a single ordered pass ends (the batch holding its last row)."""
    ends, total = [], 0
    for _, rows in phases:
        total += len(rows)
        ends.append(math.ceil(total / batch_rows))
    return ends


# ---------------------------------------------------------------- per-phase evaluation


def phase_eval_records(config: RunConfig) -> list[Record]:
    """The dev head every phase is scored on: the first ``phase_eval_limit`` records per dataset (none when 0)."""
    cm = config.cm
    if cm.phase_eval_limit <= 0:
        return []
    return load_split(config, cm.phase_eval_split, limit_per_dataset=cm.phase_eval_limit, head=True)


def evaluate_phase(model, tokenizer, config: RunConfig, dev_head: list[Record], tasks: list[str], phase: str,
                   step: int, path: Path) -> dict[str, Any] | None:
    """Score the tasks seen so far on the dev head (CM's format); append the entry to ``phase_scores.json`` and
    keep the predictions in ``phase_predictions/<phase>.jsonl``."""
    from prouie_lib.evaluation.predict import write_predictions
    from prouie_lib.evaluation.score import score_predictions

    cm = config.cm
    if not dev_head:
        return None
    records = [r for r in dev_head if r["task"] in tasks]
    start = time.time()
    lines = predict_for_run(model, tokenizer, config, records, cm.format)  # every process takes part
    scores = score_predictions(records, lines, protocol=config.eval.protocol)
    entry = {"phase": phase, "step": step, "tasks": tasks, "split": cm.phase_eval_split,
             "seconds": round(time.time() - start, 2),
             "datasets": {name: {"task": d["task"], "metric": HEADLINE_METRIC[d["task"]], "n": d["n"],
                                 "f1": d["metrics"][HEADLINE_METRIC[d["task"]]]["f1"],
                                 "parse_error_rate": d["parse_error_rate"]}
                          for name, d in scores["datasets"].items()}}

    def write() -> None:
        write_predictions(lines, path.parent / rundir.PHASE_PREDICTIONS / f"{phase}.jsonl")
        done = json.loads(path.read_text()) if path.exists() else []
        write_json(path, [e for e in done if e["phase"] != phase] + [entry])

    distributed.on_main(write)
    return entry


class PhaseEvalCallback(TrainerCallback):
    """Runs :func:`evaluate_phase` when the single ordered pass crosses a phase boundary."""

    def __init__(self, config: RunConfig, dev_head: list[Record], phases: list[tuple[str, list[Any]]],
                 ends: list[int], path: Path):
        self.config, self.dev_head, self.path, self.ends, self.phases = config, dev_head, path, ends, phases
        done = json.loads(path.read_text()) if path.exists() else []
        self.done = {e["phase"] for e in done}

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        for index, end in enumerate(self.ends):
            name = self.phases[index][0]
            if state.global_step == end and end < state.max_steps and name not in self.done:
                evaluate_phase(model, processing_class, self.config, self.dev_head, tasks_seen(self.phases, index),
                               name, end, self.path)
                self.done.add(name)


def phase_spans(ends: list[int], steps: int) -> list[tuple[int, int]]:
    """Each phase's ``(start step, end step)`` in a single trainer that ran ``steps`` optimizer steps over phases
    ending at ``ends`` (one ordered pass): cut at ``steps`` when training stopped early; when ``max_steps`` ran
    past one pass, the steps beyond it are counted in the last phase, so the spans add up to the steps trained
    (the control's budget is their sum)."""
    spans = [(min(start, steps), min(end, steps)) for start, end in zip([0, *ends[:-1]], ends, strict=True)]
    start, end = spans[-1]
    spans[-1] = (start, max(end, steps))
    return spans


def phase_at(step: int, ends: list[int], names: list[str]) -> str:
    """The phase a global step belongs to."""
    for end, name in zip(ends, names, strict=True):
        if step <= end:
            return name
    return names[-1]


# ---------------------------------------------------------------- the stage


def run_cm(config: RunConfig, *, resume: bool = False) -> dict[str, Any]:
    """Train CM from the configured backbone; write ``runs/<name>/cm/``; return the eval scores."""
    return run_skeleton("cm", config, resume=resume, fmt=config.cm.format, train=train_cm)


def train_cm(run: StageRun) -> Trained:
    """CM's training part: the curriculum's phases over the full training data, scored on the dev head."""
    config, stage_dir, cm = run.config, run.stage_dir, run.config.cm
    # Complete-format rows of the full training data; prompts too long for the model are dropped (and counted).
    records = load_split(config, config.data.train_split, limit_per_dataset=config.data.train_limit_per_dataset)
    rows, dropped = filter_long_prompts(sft_rows(records, cm.format, config), run.tokenizer,
                                        config.data.max_prompt_tokens)

    # The curriculum: phases NER → RE → EE (with replay), and the dev head every phase is scored on.
    phases = plan_phases(rows, cm.curriculum, cm.replay_fraction, config.seed)
    names = [name for name, _ in phases]
    dev_head = phase_eval_records(config)
    model = attach_lora(run.model, config)
    log_path, phase_scores = stage_dir / rundir.LOG_HISTORY, stage_dir / rundir.PHASE_SCORES
    if not run.resume:
        distributed.on_main(lambda: [p.unlink(missing_ok=True) for p in (log_path, phase_scores)])

    # Train: a new trainer per phase (sequential), or one trainer over all phases in order (ordered, mixed).
    train = train_sequential if cm.curriculum == "sequential" else train_ordered
    model, history, boundaries = train(run, model, phases, dev_head, log_path, phase_scores)

    # The phase training ended in is scored on the final model (earlier ones were scored at their boundary).
    total_steps = boundaries[-1][2]
    last = names.index(phase_at(total_steps, [e for _, _, e, _ in boundaries], names))
    evaluate_phase(model, run.tokenizer, config, dev_head, tasks_seen(phases, last), names[last], total_steps,
                   phase_scores)

    # The trainer's own log history and the phase boundaries.
    distributed.on_main(rewrite_log_history, log_path, history)
    distributed.on_main(write_json, stage_dir / rundir.PHASES, {
        "curriculum": cm.curriculum, "train_examples": len(rows), "dropped_long_prompts": dropped,
        "steps": total_steps,
        "phases": [{"phase": name, "start_step": s, "end_step": e, "examples": len(phase_rows),
                    "tasks": sorted({r["task"] for r in phase_rows})} for name, s, e, phase_rows in boundaries]})
    return Trained(model, cm.trainer)


def train_sequential(run: StageRun, model, phases: list[tuple[str, list[dict[str, Any]]]], dev_head: list[Record],
                     log_path: Path, phase_scores: Path):
    """One trainer per phase, each scored on the dev head after it (but the last); returns the model, the log
    history and the phases' ``(name, start step, end step, rows)``."""
    config, cm = run.config, run.config.cm
    offset, history, boundaries = 0, [], []
    for index, (name, phase_rows) in enumerate(phases):
        model, steps, phase_history = train_phase(
            model, run.tokenizer, phase_rows, cm.trainer, run.stage_dir / rundir.PHASES_DIR / f"{index}-{name}",
            log_path, seed=config.seed, report_to=config.report_to, phase=name, step_offset=offset,
            resume=run.resume)
        boundaries.append((name, offset, offset + steps, phase_rows))
        history.extend(phase_history)
        offset += steps
        if index < len(phases) - 1:
            evaluate_phase(model, run.tokenizer, config, dev_head, tasks_seen(phases, index), name, offset,
                           phase_scores)
    return model, history, boundaries


def train_ordered(run: StageRun, model, phases: list[tuple[str, list[dict[str, Any]]]], dev_head: list[Record],
                  log_path: Path, phase_scores: Path):
    """One trainer over all phases in order, scored on the dev head at each phase boundary; returns what
    :func:`train_sequential` returns."""
    config, cm = run.config, run.config.cm
    names = [name for name, _ in phases]
    # Rows per optimizer step: under a launcher each process takes its own batches in turn from the ordered rows.
    batch_rows = (cm.trainer.per_device_train_batch_size * cm.trainer.gradient_accumulation_steps
                  * distributed.world_size())
    ends = phase_boundaries(phases, batch_rows)
    callback = PhaseEvalCallback(config, dev_head, phases, ends, phase_scores)
    all_rows = [row for _, phase_rows in phases for row in phase_rows]
    model, steps, history = train_phase(
        model, run.tokenizer, all_rows, cm.trainer, run.stage_dir / rundir.PHASES_DIR / f"0-{cm.curriculum}",
        log_path, seed=config.seed, report_to=config.report_to, phase=None, step_offset=0, resume=run.resume,
        keep_order=True, callbacks=[callback],
        keep_best=keep_best_callback(config, run.stage_dir, cm.format, cm.trainer))
    history = [{**entry, "phase": phase_at(entry.get("step", 0), ends, names)} for entry in history]
    boundaries = [(name, start, end, phase_rows)
                  for (name, phase_rows), (start, end) in zip(phases, phase_spans(ends, steps), strict=True)]
    return model, history, boundaries
