"""The main job: base evaluation → CM → SA → DE → control → report, resumable stage by stage."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from prouie_lib import distributed
from prouie_lib.analysis.report import ablation_table, write_report
from prouie_lib.config import ConfigError, RunConfig, check_fingerprint, preflight
from prouie_lib.rundir import RUN_CONFIG, STAGES, stage_done

__all__ = ["ablation_table", "preflight", "run_pipeline", "write_report"]  # the report lives in analysis.report


def run_pipeline(config: RunConfig, *, fresh: bool = False, rerun_from: str | None = None, progress=print,
                 source: str | None = None) -> Path:
    """Run every configured stage (skipping finished ones, continuing a partial one) and write report.md.

    Before any stage starts: :func:`preflight`, then every existing stage folder's fingerprint is compared with the
    config (a changed stage stops the run with a :class:`~prouie_lib.config.StaleStageError`). ``rerun_from``
    deletes that stage's folder and those of the stages after it first, so they are computed again. SIGINT/SIGTERM
    stop the run resumably (:class:`prouie_lib.stages.interrupts.Interrupted`).

    Under a launcher every process runs this; the main process alone deletes, checks and writes the run
    directory (:mod:`prouie_lib.distributed`), and stage ``k`` starts on every process once it is done on all.
    """
    from prouie_lib.stages import run_stage
    from prouie_lib.stages.interrupts import graceful_interrupts

    preflight(config, source=source)
    if not distributed.is_main():
        progress = _silent  # one voice per run (prouie_lib.distributed)
    if config.seeds:
        return run_seeds(config, fresh=fresh, rerun_from=rerun_from, progress=progress, source=source)
    if rerun_from is not None and rerun_from not in config.stages:
        raise ConfigError(f"--rerun-from {rerun_from}: not one of the configured stages {list(config.stages)}",
                          file=source, field="stages")
    # The main process alone deletes and checks; the others wait and stop with the same error if it fails.
    distributed.on_main(_clear_and_check, config, fresh, rerun_from, progress)
    with graceful_interrupts():
        for stage in config.stages:
            stage_dir = config.stage_dir(stage)
            done, started = distributed.on_main(lambda d=stage_dir: (stage_done(d), d.exists()))
            if done:
                progress(f"[pipeline] {stage}: done already ({stage_dir}), skipped")
                continue
            progress(f"[pipeline] {stage}: running")
            start = time.time()
            run_stage(stage, config, resume=started)
            progress(f"[pipeline] {stage}: finished in {time.time() - start:.0f} s")
        return distributed.on_main(write_report, config)


def _clear_and_check(config: RunConfig, fresh: bool, rerun_from: str | None, progress) -> None:
    """``--fresh`` and ``--rerun-from`` deletions, then every existing stage folder's fingerprint check."""
    if fresh and config.run_dir.exists():
        shutil.rmtree(config.run_dir)
    if rerun_from is not None:
        for stage in STAGES[STAGES.index(rerun_from):]:
            if config.stage_dir(stage).exists():
                progress(f"[pipeline] {stage}: removed for --rerun-from {rerun_from}")
                shutil.rmtree(config.stage_dir(stage))
    for stage in config.stages:
        check_fingerprint(config, stage)


def _silent(message: str) -> None:
    return None


def seed_config(config: RunConfig, seed: int) -> RunConfig:
    """One seed's run of a run over several seeds: ``runs/<name>/seed-<k>/`` with ``seed: k``."""
    import dataclasses

    from prouie_lib.rundir import seed_dir

    folder = seed_dir(config.run_dir, seed)
    return dataclasses.replace(config, seed=seed, seeds=None, output_dir=str(folder.parent), name=folder.name)


def run_seeds(config: RunConfig, *, fresh: bool = False, rerun_from: str | None = None, progress=print,
              source: str | None = None) -> Path:
    """The whole ablation once per seed (each resumable on its own), then the aggregate report over the seeds."""
    from prouie_lib.analysis.seeds_report import write_seeds_report
    from prouie_lib.config import save_config

    if fresh:
        distributed.on_main(lambda: shutil.rmtree(config.run_dir) if config.run_dir.exists() else None)
    distributed.on_main(lambda: (config.run_dir.mkdir(parents=True, exist_ok=True),
                                 save_config(config, config.run_dir / RUN_CONFIG)))
    for seed in config.seeds or []:
        one = seed_config(config, seed)
        progress(f"[pipeline] seed {seed}: {one.run_dir}")
        run_pipeline(one, rerun_from=rerun_from, progress=progress, source=source)
    return distributed.on_main(write_seeds_report, config.run_dir, list(config.stages), config.name,
                               config.eval.protocol)
