"""Run configuration: dataclasses loadable from YAML, strictly validated, snapshotted into every run directory.

One YAML file describes a whole run (model, data, the three stages, evaluation). Unknown sections or fields,
unknown datasets, stages or enum values, numbers out of range (batch sizes <= 0, negative limits, NaN) are errors
(:class:`ConfigError`) that name the file and the field, raised before any stage starts.

This package's public names are imported from here (``from prouie_lib.config import load_config``); its modules
hold the sections (``sections``), reading YAML (``loading``), validation and preflight (``checks``) and the
per-stage fingerprints (``fingerprint``).
"""

from prouie_lib.config.checks import preflight, validate
from prouie_lib.config.fingerprint import (
    StaleStageError,
    check_fingerprint,
    fingerprint_changes,
    stage_fingerprint,
)
from prouie_lib.config.loading import config_from_dict, load_config, read_yaml, save_config, to_dict
from prouie_lib.config.sections import (
    CMConfig,
    ConfigError,
    ControlConfig,
    DataConfig,
    DEConfig,
    EvalConfig,
    ModelConfig,
    RunConfig,
    SAConfig,
    TrainerConfig,
)

__all__ = ["CMConfig", "ConfigError", "ControlConfig", "DEConfig", "DataConfig", "EvalConfig", "ModelConfig",
           "RunConfig", "SAConfig", "StaleStageError", "TrainerConfig", "check_fingerprint", "config_from_dict",
           "fingerprint_changes", "load_config", "preflight", "read_yaml", "save_config", "stage_fingerprint",
           "to_dict", "validate"]
