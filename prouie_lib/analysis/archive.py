"""Keeping a finished run in the repository (``benchmarks/results/<name>/``) and reading it back.

An archive holds the light files of a run directory (``docs/run_directory.md``): configs, reports, figures and
every stage's predictions, scores, logs, timing, keep-best checks and traces. It holds no weights, checkpoints or
gold files: the gold is rebuilt from the datasets with the archived config (:func:`rebuild_gold`), because the
datasets are read from ``PROUIE_DATA_ROOT`` and never copied into the repository.

A run over several seeds can take several sessions; each finished seed — or each finished arm of a seed (the
chain ``cm, sa, de`` in one session, the control ``sft`` in another: ``--set 'stages=[sft]'``) — is archived on
its own (:func:`archive_run` of ``runs/<name>/seed-<k>``; stage folders merge into what is archived), and
:func:`aggregate_archive` rewrites each archived seed's report over all its archived stages and recomputes the
aggregate report over every archived seed. :func:`check_archive` re-scores each archived prediction file
independently and lists every number that disagrees with the archived ``scores.json`` and ``seeds.json``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from prouie_lib import rundir

# Folders that hold weights or trainer state: never archived.
_HEAVY_DIRS = frozenset({rundir.MODEL, rundir.CHECKPOINTS, rundir.BEST, "weights"})


def _archived(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    if any(part in _HEAVY_DIRS or part.startswith("checkpoint-") for part in parts[:-1]):
        return False
    name = parts[-1]
    return not (name.startswith("gold-") or name.startswith(".") or name.endswith((".safetensors", ".bin", ".pt")))


def archive_run(run_dir: str | Path, dest: str | Path) -> list[Path]:
    """Copy the light files of ``run_dir`` (one run, one seed of a run, or a run over seeds) to ``dest``; return
    the copied paths. Each stage folder ``run_dir`` has replaces the archived one; archived stages it lacks stay."""
    run_dir, dest = Path(run_dir), Path(dest)
    if not (run_dir / rundir.RUN_CONFIG).exists():
        raise FileNotFoundError(f"{run_dir}: no {rundir.RUN_CONFIG}; not a run directory")
    for item in run_dir.rglob("*"):
        if item.is_dir() and item.name in rundir.STAGES and (dest / item.relative_to(run_dir)).exists():
            shutil.rmtree(dest / item.relative_to(run_dir))
    copied = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file() and _archived(p, run_dir)):
        target = dest / path.relative_to(run_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(target)
    return copied


def _run_config(folder: Path):
    from prouie_lib.config import load_config

    return load_config(folder / rundir.RUN_CONFIG)


def rebuild_gold(folder: str | Path) -> list[dict[str, Any]]:
    """The evaluation records a run (or one archived seed of it) was scored on, rebuilt from the datasets exactly
    as the stages build them (``stages.skeleton.evaluate_stage``)."""
    from prouie_lib.stages.stage_data import load_split

    config = _run_config(Path(folder))
    return load_split(config, config.eval.split, limit_per_dataset=config.eval.limit_per_dataset, head=True)


def _with_gold(folder: Path, mirror: Path, gold: list[dict[str, Any]], split: str) -> None:
    """``mirror``: ``folder``'s files linked in, plus the rebuilt gold file the readers look for."""
    from prouie_lib.data import write_jsonl

    mirror.mkdir(parents=True)
    for item in folder.iterdir():
        if item.name in rundir.STAGES:
            (mirror / item.name).symlink_to(item.resolve(), target_is_directory=True)
        elif item.is_file() and item.name != rundir.REPORT:
            shutil.copy2(item, mirror / item.name)
    write_jsonl(gold, mirror / rundir.gold_file(split))


def _rewrite_seed_report(folder: Path, mirror: Path) -> None:
    """The seed's ``report.md`` and figures over every archived stage (arms archived in different sessions), and
    its ``config.yaml`` listing those stages (the copied one lists the last archived command's, e.g. ``[sft]``)."""
    import dataclasses

    from prouie_lib.analysis.report import write_report
    from prouie_lib.config import save_config

    config = _run_config(folder)
    present = [s for s in rundir.STAGES if (folder / s / rundir.PREDICTIONS).exists()]
    if config.stages != present:
        save_config(dataclasses.replace(config, stages=present), folder / rundir.RUN_CONFIG)
    config = dataclasses.replace(config, output_dir=str(mirror.parent), name=mirror.name, stages=present)
    write_report(config)
    shutil.copy2(mirror / rundir.REPORT, folder / rundir.REPORT)
    if (mirror / rundir.FIGURES).is_dir():
        shutil.rmtree(folder / rundir.FIGURES, ignore_errors=True)
        shutil.copytree(mirror / rundir.FIGURES, folder / rundir.FIGURES)


def aggregate_archive(archive: str | Path, stages: list[str] | None = None) -> Path:
    """Recompute ``report.md`` and ``seeds.json`` of an archived run over seeds from every archived
    ``seed-<k>/`` (gold rebuilt from the datasets; every archived stage unless ``stages``), and each seed's own
    ``report.md``; rewrite the archive's ``config.yaml`` to list every archived seed and stage, and each seed's to
    list its archived stages; return the aggregate report's path."""
    import dataclasses

    from prouie_lib.analysis.seeds_report import write_seeds_report
    from prouie_lib.config import save_config

    archive = Path(archive)
    config = _run_config(archive)
    seeds = rundir.seed_dirs(archive)
    if not seeds:
        raise FileNotFoundError(f"{archive}: no {rundir.SEED_PREFIX}<k>/ folder to aggregate")
    gold = rebuild_gold(next(iter(seeds.values())))
    with tempfile.TemporaryDirectory(prefix="prouie-archive-") as tmp:
        mirror = Path(tmp) / archive.name
        mirror.mkdir()
        shutil.copy2(archive / rundir.RUN_CONFIG, mirror / rundir.RUN_CONFIG)
        for seed, folder in seeds.items():
            _with_gold(folder, rundir.seed_dir(mirror, seed), gold, config.eval.split)
            _rewrite_seed_report(folder, rundir.seed_dir(mirror, seed))
        present = [s for s in rundir.STAGES if any((f / s / rundir.PREDICTIONS).exists() for f in seeds.values())]
        # The copied config is the last archived command's (``--seeds 45 --set stages=[sft]``): it should describe
        # the archive instead.
        save_config(dataclasses.replace(config, seeds=sorted(seeds), stages=present), archive / rundir.RUN_CONFIG)
        report = write_seeds_report(mirror, list(stages or present), config.name, config.eval.protocol)
        for name in (rundir.REPORT, rundir.SEEDS_SUMMARY):
            shutil.copy2(report.parent / name, archive / name)
    return archive / rundir.REPORT


def check_archive(archive: str | Path) -> list[str]:
    """Re-score every archived ``predictions.jsonl`` on its own against the rebuilt gold; return each headline F1
    that differs from the stage's archived ``scores.json`` or from the per-seed numbers in ``seeds.json`` (empty:
    everything agrees). Raises when there is nothing to check."""
    from prouie_lib.data.io import iter_json_objects
    from prouie_lib.evaluation.score import score_predictions

    archive = Path(archive)
    folders = rundir.seed_dirs(archive) or {None: archive}
    summary_path = archive / rundir.SEEDS_SUMMARY
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    left_out = (summary or {}).get("left_out", {})  # seeds still running: not in seeds.json's per-seed numbers
    problems: list[str] = []
    checked = 0
    gold = rebuild_gold(next(iter(folders.values())))  # the seeds of one run share their data and eval sections
    for seed, folder in folders.items():
        config = _run_config(folder)
        for stage in rundir.STAGES:
            path = folder / stage / rundir.PREDICTIONS
            if not path.exists():
                continue
            lines = [line for _, line in iter_json_objects(path)]
            fresh = score_predictions(gold, lines, protocol=config.eval.protocol)["datasets"]
            stored = json.loads((folder / stage / rundir.SCORES).read_text())["datasets"]
            per_seed = (summary or {}).get("scores", {}).get(stage, {})
            for name, entry in fresh.items():
                for metric, values in entry["metrics"].items():
                    checked += 1
                    kept = stored.get(name, {}).get("metrics", {}).get(metric, {}).get("f1")
                    if kept != values["f1"]:
                        problems.append(f"{path}: {name} {metric} F1 {values['f1']} re-scored, {kept} in "
                                        f"{rundir.SCORES}")
                aggregate = per_seed.get(name)
                if seed is not None and aggregate is not None and str(seed) not in left_out:
                    kept = aggregate["per_seed"].get(str(seed))
                    if kept != entry["metrics"][aggregate["metric"]]["f1"]:
                        problems.append(f"{path}: {name} {aggregate['metric']} F1 "
                                        f"{entry['metrics'][aggregate['metric']]['f1']} re-scored, {kept} in "
                                        f"{rundir.SEEDS_SUMMARY}")
    if not checked:
        raise FileNotFoundError(f"{archive}: no predictions.jsonl to re-score")
    return problems
