"""Stage "base": evaluate the untrained backbone (the first row of the ablation table)."""

from __future__ import annotations

import time
from typing import Any

from prouie_lib.config import RunConfig
from prouie_lib.models import load_backbone, write_model_chain
from prouie_lib.stages.common import evaluate_stage, prepare_stage_dir, record_timing, seed_everything


def run_base(config: RunConfig, *, resume: bool = False) -> dict[str, Any]:
    """Predict the eval split with the backbone in SA's (streamlined) format; write ``runs/<name>/base/``."""
    stage_dir = prepare_stage_dir(config, "base", resume=resume)
    seed_everything(config.seed)
    start = time.time()
    model, tokenizer = load_backbone(config.model.backbone)
    write_model_chain(stage_dir / "model", config.model.backbone, [])
    scores = evaluate_stage(model, tokenizer, config, stage_dir, config.sa.format)
    record_timing(stage_dir, total_seconds=time.time() - start)
    return scores
