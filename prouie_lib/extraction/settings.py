"""How a model is prompted: the answer format, system prompt and token budgets it was trained and evaluated with.

A model trained here must be prompted exactly as in training, so the settings follow the model:

- a stage folder (``runs/<name>/<stage>``, or its ``model/``): the format its predictions were scored in
  (``scores.json``), the run config's ``data.system_prompt``, ``data.max_prompt_tokens`` and its evaluation cap
  ``eval.max_new_tokens`` for that format (``config.yaml`` of the stage);
- an exported folder (``prouie export``): the same settings, saved in its :data:`SETTINGS_FILE`;
- anything else (a backbone spec, a hub id, a checkpoint folder): the kit's defaults (``streamlined``, the kit's
  system prompt, 128 new tokens, 384 prompt tokens as ``data.max_prompt_tokens``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prouie_lib import rundir

SETTINGS_FILE = "prouie_extract.json"
DEFAULT_FORMAT = "streamlined"
DEFAULT_MAX_NEW_TOKENS = 128
DEFAULT_MAX_PROMPT_TOKENS = 384  # as DataConfig.max_prompt_tokens


@dataclass
class PromptSettings:
    """The prompt and generation settings of a model (``system`` None: the kit's default system prompt)."""

    format: str = DEFAULT_FORMAT
    system: str | None = None
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    max_prompt_tokens: int = DEFAULT_MAX_PROMPT_TOKENS
    source: str = "the kit's defaults"
    extra: dict[str, Any] = field(default_factory=dict)  # what the settings came from (run, stage, backbone)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def stage_folder(spec: str | Path) -> Path | None:
    """The stage folder ``spec`` names (a stage folder or its ``model/``), else None."""
    path = Path(str(spec)).expanduser()
    folder = path.parent if path.name == rundir.MODEL else path
    if (folder / rundir.MODEL).is_dir() and ((folder / rundir.CONFIG).is_file() or (folder / rundir.SCORES).is_file()):
        return folder
    return None


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) if path.is_file() else None
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML ({err})") from None
    return data if isinstance(data, dict) else {}


def stage_settings(folder: Path) -> PromptSettings:
    """The settings a stage's model was evaluated with (see the module docstring)."""
    scores_path = folder / rundir.SCORES
    scores = json.loads(scores_path.read_text()) if scores_path.is_file() else {}
    config = _read_yaml(folder / rundir.CONFIG)
    data, evaluation = config.get("data") or {}, config.get("eval") or {}
    fmt = scores.get("format") or DEFAULT_FORMAT
    cap = evaluation.get("max_new_tokens", DEFAULT_MAX_NEW_TOKENS)
    if isinstance(cap, dict):
        cap = cap.get(fmt, max(cap.values(), default=DEFAULT_MAX_NEW_TOKENS))
    return PromptSettings(
        format=fmt, system=data.get("system_prompt"), max_new_tokens=int(cap),
        max_prompt_tokens=int(data.get("max_prompt_tokens") or DEFAULT_MAX_PROMPT_TOKENS),
        source=f"stage {folder.name} of run {folder.parent.name} ({folder})",
        extra={"run": folder.parent.name, "stage": folder.name,
               "backbone": (config.get("model") or {}).get("backbone")})


def settings_for(spec: str | Path) -> PromptSettings:
    """The settings of the model ``spec`` names (see the module docstring)."""
    path = Path(str(spec)).expanduser()
    if (path / SETTINGS_FILE).is_file():
        saved = json.loads((path / SETTINGS_FILE).read_text())
        known = {k: saved[k] for k in ("format", "system", "max_new_tokens", "max_prompt_tokens", "extra") if k in saved}
        return PromptSettings(**known, source=f"exported model {path} ({SETTINGS_FILE})")
    folder = stage_folder(path)
    if folder is not None:
        return stage_settings(folder)
    return PromptSettings(extra={"backbone": str(spec)})
