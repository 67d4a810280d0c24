"""The training stages: base evaluation, CM and SA (trl SFTTrainer + peft), DE (trl GRPOTrainer), and the
plain-SFT control ``sft`` (stage names and order: ``prouie_lib.rundir``)."""

from __future__ import annotations

from typing import Any

from prouie_lib.config import RunConfig
from prouie_lib.rundir import STAGES


def run_stage(stage: str, config: RunConfig, *, resume: bool = False) -> dict[str, Any]:
    """Run one stage by name and return its eval scores."""
    if stage == "base":
        from prouie_lib.stages.base import run_base as run
    elif stage == "cm":
        from prouie_lib.stages.cm import run_cm as run
    elif stage == "sa":
        from prouie_lib.stages.sa import run_sa as run
    elif stage == "de":
        from prouie_lib.stages.de import run_de as run
    elif stage == "sft":
        from prouie_lib.stages.control import run_control as run
    else:
        raise ValueError(f"unknown stage {stage!r}; known: {', '.join(STAGES)}")
    return run(config, resume=resume)
