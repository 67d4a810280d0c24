"""Which stage of a run to use when a whole run folder is given as the model.

The stage with the best dev score, where the run has one for its stages, else its final stage:

1. a run scored on a dev split (``eval.split: dev``): the finished stage with the best macro F1 in its
   ``scores.json`` (the mean over datasets of each task's headline F1, :data:`prouie_lib.schema.HEADLINE_METRIC`),
   the control ``sft`` included;
2. else, when every finished trained stage kept its best checkpoint on dev (``trainer.keep_best: dev``: its
   ``keep_best.json``, all over the same number of dev records): the one with the best of those dev scores (the
   untrained ``base`` has none);
3. else (test scores only: choosing by them would be choosing on the test set) the final stage: the last finished
   of base → CM → SA → DE in :data:`prouie_lib.rundir.STAGES`; the control ``sft`` is not a final stage and is
   used only when no other stage finished.

Between equal scores the earlier stage in pipeline order wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from prouie_lib import rundir
from prouie_lib.evaluation.score import headline_macro_f1

CONTROL = "sft"


@dataclass(frozen=True)
class StageChoice:
    stage: str
    folder: Path
    reason: str  # one sentence: why this stage


def is_run_folder(path: str | Path) -> bool:
    """A run directory (``runs/<name>/``): a run config and at least one stage folder."""
    path = Path(path)
    return (path / rundir.RUN_CONFIG).is_file() and any((path / stage).is_dir() for stage in rundir.STAGES)


def finished_stages(run_dir: str | Path) -> list[str]:
    return [stage for stage in rundir.STAGES if rundir.stage_done(Path(run_dir) / stage)]


def eval_split(run_dir: str | Path) -> str:
    """The split a run's stages were scored on (``eval.split`` of its config; ``test`` when unreadable)."""
    import yaml

    from prouie_lib.data.registry import canonical_split

    try:
        config = yaml.safe_load((Path(run_dir) / rundir.RUN_CONFIG).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return "test"
    return canonical_split(str((config.get("eval") or {}).get("split") or "test"))


def final_stage(run_dir: str | Path) -> StageChoice:
    """The run's final stage (the last finished method stage; ``sft`` only when nothing else finished)."""
    run_dir = Path(run_dir)
    done = finished_stages(run_dir)
    method = [stage for stage in done if stage != CONTROL]
    if method:
        return StageChoice(method[-1], run_dir / method[-1],
                           f"the final finished stage of the run ({' → '.join(method)})")
    if done:
        return StageChoice(CONTROL, run_dir / CONTROL, "the only finished stage of the run (the control)")
    raise ValueError(f"{run_dir}: no finished stage (a stage is finished once its {rundir.SCORES} and "
                     f"{rundir.MODEL}/ are written)")


def _best(scored: list[tuple[float, str]]) -> tuple[float, str]:
    """The highest score; between equal scores the earlier stage in pipeline order."""
    return max(scored, key=lambda item: (item[0], -rundir.STAGES.index(item[1])))


def dev_head_scores(run_dir: Path, stages: list[str]) -> list[tuple[float, str]]:
    """Each trained stage's ``keep_best.json`` dev F1 (the checkpoint it kept), when every trained stage has one
    over the same number of dev records (otherwise the scores are not comparable: empty)."""
    trained = [stage for stage in stages if stage != "base"]
    kept = {stage: run_dir / stage / rundir.KEEP_BEST for stage in trained}
    if not trained or not all(path.is_file() for path in kept.values()):
        return []
    read = {stage: json.loads(path.read_text()) for stage, path in kept.items()}
    if len({entry.get("records") for entry in read.values()}) != 1 or any(
            entry.get("best_dev_f1") is None for entry in read.values()):
        return []
    return [(float(entry["best_dev_f1"]), stage) for stage, entry in read.items()]


def choose_stage(run_dir: str | Path) -> StageChoice:
    """The stage to use from a run folder (the rule of the module docstring)."""
    run_dir = Path(run_dir)
    split, done = eval_split(run_dir), finished_stages(run_dir)
    if split == "dev":
        scored = [(score, stage) for stage in done
                  if (score := headline_macro_f1(json.loads((run_dir / stage / rundir.SCORES).read_text()))) is not None]
        if scored:
            score, stage = _best(scored)
            return StageChoice(stage, run_dir / stage, f"the best dev score of the run (macro F1 {score:.1f})")
    kept = dev_head_scores(run_dir, done)
    if kept:
        score, stage = _best(kept)
        return StageChoice(stage, run_dir / stage, f"the best dev score of the run's trained stages (macro F1 "
                                                   f"{score:.1f} on the dev head of trainer.keep_best)")
    choice = final_stage(run_dir)
    return StageChoice(choice.stage, choice.folder,
                       f"{choice.reason}; the run has no dev score of every stage (scored on {split}), so none is "
                       "chosen by score")


def resolve_model(model: str | Path) -> tuple[str, StageChoice | None]:
    """The loadable spec for ``model``: a run folder becomes its chosen stage's folder (with the choice); a run over
    several seeds (``runs/<name>/seed-<k>/``) is an error naming its seed folders; anything else stays as given."""
    if is_run_folder(model):
        choice = choose_stage(model)
        return str(choice.folder), choice
    seeds = rundir.seed_dirs(Path(model))
    if seeds:  # a run over several seeds holds one run folder per seed: which seed's model is the user's choice
        raise ValueError(f"{model}: a run over {len(seeds)} seeds; give one seed's run folder or one of its stages "
                         f"({', '.join(str(folder) for folder in seeds.values())})")
    return str(model), None
