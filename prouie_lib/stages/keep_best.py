"""``trainer.keep_best: dev``: keep the best checkpoint of a trained arm on a dev head, the same rule for every arm.

The model is scored on the first ``keep_best_limit`` dev records per dataset (macro headline F1 in the arm's
evaluated format) before training — the input model is a candidate too, so an arm that only gets worse falls back
to its input (DE: SA's model) — every ``keep_best_every`` optimizer steps, and after the last step. Each time a
check beats the best so far by more than ``keep_best_margin`` points (0: strictly), the weights are saved to
``<stage>/best/``; with ``keep_best_max_drop`` set, a check whose F1 on any one dataset is more than that many
points below the input's cannot become the best (a macro gain on one task must not buy a collapse on another).
When training ends the best weights are loaded back before the stage saves and evaluates its model (a stage that
kept its input model scores its input stage's eval predictions instead of generating them again, when they were
made with the same settings: :func:`input_predictions_to_reuse`). The checks
(step, dev F1 macro and per dataset, seconds) and the choice are in ``<stage>/keep_best.json``, each check's
predictions in ``<stage>/keep_best_predictions/step-<k>.jsonl`` (so other selection rules can be replayed offline:
:mod:`prouie_lib.analysis.keep_best_rules`); their time is part of the stage's time. A resumed stage keeps the checks
up to its checkpoint and the best weights saved so far.

The input's check is made once per run: when another arm already scored the same model on the same dev head in
the same format — SA's input is CM's kept model, DE's is SA's, the control's and CM's are both the backbone — its
number is reused (``"reused_from"`` in the check; greedy generation makes it the number a new check would give).
In a run over several seeds the backbone's check is made once for all seeds: a backbone arm starts from the
backbone itself (with LoRA, a new adapter starts as the identity), so the backbone arms of every seed score the same
model (``"reused_from": "../seed-42/cm"``), when that seed's arm ran with the same model, data and eval settings.

trl's trainers have ``load_best_model_at_end`` only with an ``eval_dataset`` scored by loss; the kit selects by
generated F1, so this is a callback (transformers' hook for exactly such additions) instead.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from prouie_lib import distributed, rundir
from prouie_lib.config import RunConfig, TrainerConfig
from prouie_lib.evaluation.predict import write_predictions
from prouie_lib.schema import Record
from prouie_lib.stages.atomic_io import write_json


def dev_head(config: RunConfig, limit: int) -> list[Record]:
    """The dev records every check scores: the first ``limit`` per dataset."""
    from prouie_lib.stages.stage_data import load_split

    return load_split(config, "dev", limit_per_dataset=limit, head=True)


def check_predictions_path(stage_dir: Path, step: int) -> Path:
    """Where the predictions behind a check at ``step`` are kept (replayed by :mod:`prouie_lib.analysis.keep_best_rules`)."""
    return Path(stage_dir) / rundir.KEEP_BEST_PREDICTIONS / f"step-{step}.jsonl"


def source_input_check(kept: dict[str, Any], stage: str) -> dict[str, Any] | None:
    """The check in another arm's keep-best record (``kept``) that scored ``stage``'s input: that arm's kept step
    when ``stage`` trains from it (it has an upstream stage), else step 0 (both arms start from the backbone)."""
    step = kept.get("chosen_step") if rundir.STAGE_INPUT.get(stage) else 0
    return None if step is None else next((c for c in kept.get("checks", []) if c["step"] == step), None)


def input_predictions_to_reuse(config: RunConfig, stage: str, fmt: str) -> Path | None:
    """The input stage's ``predictions.jsonl`` when ``stage`` fell back to its input model on dev and the input
    stage predicted the same eval records in the same format with the same settings (its config snapshot's
    ``eval``, ``data`` and ``model`` sections equal this run's: :func:`same_prediction_settings`); else None. The
    same model on the same prompts gives the same greedy completions, so the stage scores them instead of generating
    them again (``predictions_reused_from`` in its ``scores.json``)."""
    previous = rundir.STAGE_INPUT.get(stage)
    kept_path = config.stage_dir(stage) / rundir.KEEP_BEST
    if previous is None or not kept_path.exists() or not json.loads(kept_path.read_text()).get("fell_back_to_input"):
        return None
    folder = config.stage_dir(previous)
    if not all((folder / name).exists() for name in (rundir.PREDICTIONS, rundir.SCORES)):
        return None
    if json.loads((folder / rundir.SCORES).read_text()).get("format") != fmt:
        return None
    return folder / rundir.PREDICTIONS if same_prediction_settings(folder, config) else None


def same_prediction_settings(stage_dir: Path, config: RunConfig) -> bool:
    """Whether the stage in ``stage_dir`` predicted with this run's settings: its config snapshot's ``eval`` and
    ``data`` and ``model`` sections equal ``config``'s (the same model then gives the same greedy completions)."""
    import dataclasses

    from prouie_lib.config import load_config

    path = Path(stage_dir) / rundir.CONFIG
    if not path.exists():
        return False
    before = load_config(path)
    return (dataclasses.asdict(before.eval) == dataclasses.asdict(config.eval)
            and dataclasses.asdict(before.data) == dataclasses.asdict(config.data)
            and dataclasses.asdict(before.model) == dataclasses.asdict(config.model))


def dev_scores(records: list[Record], lines: list[dict[str, Any]], protocol: str) -> tuple[float, dict[str, float]]:
    """Macro over datasets of the headline F1 (what the ablation table reports) of ``lines`` on ``records``, and
    each dataset's headline F1."""
    from prouie_lib.evaluation.score import headline_f1s, headline_macro_f1, score_predictions

    scores = score_predictions(records, lines, protocol=protocol)
    return round(headline_macro_f1(scores) or 0.0, 2), headline_f1s(scores)


def choose_best(checks: list[dict[str, Any]], margin: float = 0.0,
                max_drop: float | None = None) -> dict[str, Any] | None:
    """The kept check among ``checks`` (in step order; the first is the input's): each check that beats the best so
    far by more than ``margin`` macro points takes its place, unless ``max_drop`` is set and one of its datasets is
    more than ``max_drop`` points below the input's on that dataset."""
    best = None
    floor = (checks[0].get("per_dataset") or {}) if checks else {}  # the input's F1 per dataset
    for i, check in enumerate(checks):
        if best is not None and check["dev_f1"] <= best["dev_f1"] + margin:
            continue
        if i and max_drop is not None and any(check.get("per_dataset", {}).get(name, 0.0) < f1 - max_drop
                                              for name, f1 in floor.items()):
            continue
        best = check
    return best


class KeepBestCallback(TrainerCallback):
    """Scores the model on a dev head at step 0, every ``every`` steps and at the end; saves each new best."""

    def __init__(self, config: RunConfig, stage_dir: Path, fmt: str, trainer_cfg: TrainerConfig) -> None:
        self.config, self.fmt = config, fmt
        self.every = trainer_cfg.keep_best_every or trainer_cfg.save_steps
        self.limit = trainer_cfg.keep_best_limit
        self.margin, self.max_drop = trainer_cfg.keep_best_margin, trainer_cfg.keep_best_max_drop
        self.records = dev_head(config, trainer_cfg.keep_best_limit)
        self.path, self.best_dir = Path(stage_dir) / rundir.KEEP_BEST, Path(stage_dir) / rundir.BEST
        self.checks: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None

    def resume_at(self, step: int) -> None:
        """Keep the checks made up to ``step`` (the checkpoint a resumed trainer starts from; 0: none)."""
        done = json.loads(self.path.read_text())["checks"] if step and self.path.exists() else []
        self.checks = [c for c in done if c["step"] <= step]
        self.best = choose_best(self.checks, self.margin, self.max_drop)
        if self.best is not None and not self.best_dir.is_dir():  # the weights of that check were not kept
            self.checks, self.best = [], None

    def input_check(self) -> dict[str, Any] | None:
        """This arm's input scored on the same dev head and format by another arm of the run, or None."""
        stage = self.path.parent.name
        for source, folder in self._input_sources(stage):
            path = folder / rundir.KEEP_BEST
            kept = json.loads(path.read_text()) if path.exists() else {}
            if (kept.get("format"), kept.get("limit"), kept.get("records")) != (self.fmt, self.limit,
                                                                                len(self.records)):
                continue
            found = source_input_check(kept, stage)
            if found is not None and (self.max_drop is None or "per_dataset" in found):
                reused = {"per_dataset": found["per_dataset"]} if "per_dataset" in found else {}
                return {"step": 0, "dev_f1": found["dev_f1"], **reused, "seconds": 0.0, "reused_from": source}
        return None

    def _input_sources(self, stage: str) -> list[tuple[str, Path]]:
        """The arms that may have scored this arm's input, as (name relative to this seed's folder, folder): the
        upstream arm, or for an arm trained from the backbone the run's other backbone arms, then (in a run over
        several seeds) every other seed's backbone arms that predicted with this run's settings."""
        seed_dir = self.path.parent.parent
        upstream = rundir.STAGE_INPUT.get(stage)
        if upstream:
            return [(upstream, seed_dir / upstream)]
        arms = [s for s, up in rundir.STAGE_INPUT.items() if up is None]
        sources = [(s, seed_dir / s) for s in arms if s != stage]
        if seed_dir.name.startswith(rundir.SEED_PREFIX):
            sources += [(f"../{other.name}/{s}", other / s) for other in rundir.seed_dirs(seed_dir.parent).values()
                        if other.resolve() != seed_dir.resolve() for s in arms
                        if same_prediction_settings(other / s, self.config)]
        return sources

    def _check(self, model, tokenizer, step: int) -> None:
        from prouie_lib.stages.skeleton import predict_for_run

        if any(c["step"] == step for c in self.checks):
            return
        entry = self.input_check() if step == 0 else None
        if entry is None:
            start = time.time()
            lines = predict_for_run(model, tokenizer, self.config, self.records, self.fmt)  # every process
            macro, per_dataset = dev_scores(self.records, lines, self.config.eval.protocol)
            entry = {"step": step, "dev_f1": macro, "per_dataset": per_dataset,
                     "seconds": round(time.time() - start, 2)}
            distributed.on_main(write_predictions, lines, check_predictions_path(self.path.parent, step))
        self.checks.append(entry)
        if choose_best(self.checks, self.margin, self.max_drop) is entry:
            from prouie_lib.stages.sft_phase import save_weights

            self.best = entry
            distributed.save_on_main(model, save_weights, model, self.best_dir)
        distributed.on_main(write_json, self.path, self.summary())

    def summary(self) -> dict[str, Any]:
        return {"split": "dev", "records": len(self.records), "limit": self.limit, "format": self.fmt,
                "every": self.every, "margin": self.margin, "max_drop": self.max_drop, "checks": self.checks,
                "best_step": self.best["step"] if self.best else None,
                "best_dev_f1": self.best["dev_f1"] if self.best else None,
                "check_seconds": round(sum(c["seconds"] for c in self.checks), 2)}

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.global_step == 0:
            self._check(model, processing_class, 0)

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.global_step % self.every == 0 or state.global_step == state.max_steps:
            self._check(model, processing_class, state.global_step)

    def restore(self, model, final_step: int):
        """After training: the best check's weights in ``model`` (unchanged when the last step is the best)."""
        from prouie_lib.stages.sft_phase import load_weights

        if self.best is None or self.best["step"] == final_step:
            chosen = final_step
        else:
            model = load_weights(model, self.best_dir)
            chosen = self.best["step"]
        summary = {**self.summary(), "final_step": final_step, "chosen_step": chosen,
                   "fell_back_to_input": chosen == 0}
        distributed.on_main(write_json, self.path, summary)
        return model


def keep_best_callback(config: RunConfig, stage_dir: Path, fmt: str,
                       trainer_cfg: TrainerConfig) -> KeepBestCallback | None:
    """The callback when ``trainer_cfg.keep_best`` asks for it, else None."""
    if trainer_cfg.keep_best != "dev":
        return None
    return KeepBestCallback(config, stage_dir, fmt, trainer_cfg)
