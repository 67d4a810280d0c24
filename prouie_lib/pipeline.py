"""The main job: base evaluation → CM → SA → DE → control → report, resumable stage by stage."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from prouie_lib.analysis.report import ablation_table, write_report
from prouie_lib.config import RunConfig
from prouie_lib.rundir import stage_done

__all__ = ["ablation_table", "run_pipeline", "write_report"]  # the report lives in analysis.report


def run_pipeline(config: RunConfig, *, fresh: bool = False, progress=print) -> Path:
    """Run every configured stage (skipping finished ones, continuing a partial one) and write report.md."""
    from prouie_lib.stages import run_stage

    if fresh and config.run_dir.exists():
        shutil.rmtree(config.run_dir)
    for stage in config.stages:
        stage_dir = config.stage_dir(stage)
        if stage_done(stage_dir):
            progress(f"[pipeline] {stage}: done already ({stage_dir}), skipped")
            continue
        progress(f"[pipeline] {stage}: running")
        start = time.time()
        run_stage(stage, config, resume=stage_dir.exists())
        progress(f"[pipeline] {stage}: finished in {time.time() - start:.0f} s")
    return write_report(config)
