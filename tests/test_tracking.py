"""Live tracking: with report_to [tensorboard] a tiny run writes TensorBoard event files per training stage."""

from __future__ import annotations

import pytest

from prouie_lib.config import load_config
from prouie_lib.stages import run_stage


def test_tiny_run_writes_tensorboard_logs(tmp_path, repo_root):
    pytest.importorskip("tensorboard", reason="the `track` extra (installed by make setup)")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = load_config(repo_root / "configs" / "tiny.yaml", {
        "output_dir": str(tmp_path), "report_to": ["tensorboard"], "stages": ["cm", "sa", "de"],
        "cm.phase_eval_limit": 0, "de.probe_size": 0, "eval.limit_per_dataset": 1, "eval.max_new_tokens": 4})
    for stage in config.stages:
        run_stage(stage, config)
    for stage, tag in (("cm", "train/loss"), ("sa", "train/loss"), ("de", "train/reward")):
        folders = {p.parent for p in (config.stage_dir(stage) / "tracking").rglob("events.out.tfevents.*")}
        assert folders, f"no event file under {stage}/tracking"
        scalars = []
        for folder in folders:
            events = EventAccumulator(str(folder))
            events.Reload()
            if tag in events.Tags()["scalars"]:
                scalars += events.Scalars(tag)
        assert [s.step for s in scalars] == sorted({s.step for s in scalars}) and len(scalars) >= 2, (stage, tag)
