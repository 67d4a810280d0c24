"""Stage "base": evaluate the untrained backbone (the first row of the ablation table)."""

from __future__ import annotations

from typing import Any

from prouie_lib.config import RunConfig
from prouie_lib.stages.skeleton import run_skeleton


def run_base(config: RunConfig, *, resume: bool = False) -> dict[str, Any]:
    """Predict the eval split with the backbone in SA's (streamlined) format; write ``runs/<name>/base/``."""
    return run_skeleton("base", config, resume=resume, fmt=config.sa.format, train=None)
