"""Which stage of a run to use when a whole run folder is given as the model.

A run scored on a dev split (``eval.split: dev``) has a dev score for every stage: the finished stage with the
best macro F1 (the mean over datasets of each task's headline F1, :data:`prouie_lib.schema.HEADLINE_METRIC`)
is used, the control ``sft`` included, pipeline order breaking ties. A run scored on the test split has no dev
score to choose by (choosing by test scores would be choosing on the test set): its final stage is used, the
last finished of base → CM → SA → DE in :data:`prouie_lib.rundir.STAGES` (the control ``sft`` is not a final
stage; it is used only when no other stage finished).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from prouie_lib import rundir
from prouie_lib.schema import HEADLINE_METRIC

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


def macro_f1(scores: dict) -> float | None:
    """Mean headline F1 over the datasets of a ``scores.json`` (None without datasets)."""
    f1s = [entry["metrics"][HEADLINE_METRIC[entry["task"]]]["f1"] for entry in (scores.get("datasets") or {}).values()
           if HEADLINE_METRIC.get(entry.get("task")) in (entry.get("metrics") or {})]
    return sum(f1s) / len(f1s) if f1s else None


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


def choose_stage(run_dir: str | Path) -> StageChoice:
    """The stage to use from a run folder (the rule of the module docstring)."""
    run_dir = Path(run_dir)
    split = eval_split(run_dir)
    if split == "dev":
        scored = []
        for stage in finished_stages(run_dir):
            score = macro_f1(json.loads((run_dir / stage / rundir.SCORES).read_text()))
            if score is not None:
                scored.append((score, -rundir.STAGES.index(stage), stage))
        if scored:
            score, _, stage = max(scored)
            return StageChoice(stage, run_dir / stage, f"the best dev score of the run (macro F1 {score:.1f})")
    choice = final_stage(run_dir)
    return StageChoice(choice.stage, choice.folder,
                       f"{choice.reason}; the run was scored on {split}, not dev, so no stage is chosen by score")


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
