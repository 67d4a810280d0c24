"""Per-stage fingerprints: the config fields a stage's result depends on, stored in its folder, so that a stage
made with another config is never reused or resumed (:func:`check_fingerprint`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from prouie_lib.config.loading import build_dataclass, to_dict
from prouie_lib.config.sections import ConfigError, RunConfig

# Fields that change where or how a run is kept, never what a stage computes.
_NOT_FINGERPRINTED = ("name", "output_dir", "stages")
# Fields inside sections that change what is kept on disk or how fast, not the stage's outputs.
_HOW_NOT_WHAT = (".keep_checkpoints", "eval.reuse_prefix")


def _flat(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict) and value and all(isinstance(k, str) for k in value) and not prefix.endswith(
            ("extra", "reward_params", "train_limit_per_dataset", "sample_k", "limit_per_dataset", "max_new_tokens")):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: value}


def _section_fields(config: RunConfig, *sections: str) -> dict[str, Any]:
    data = to_dict(config)
    out: dict[str, Any] = {}
    for dotted in sections:
        node: Any = data
        for part in dotted.split("."):
            node = node[part]
        out.update(_flat(node, dotted))
    return {k: v for k, v in out.items() if not k.endswith(_HOW_NOT_WHAT)}


def stage_fingerprint(config: RunConfig, stage: str) -> dict[str, Any]:
    """The config fields a stage's result depends on, flat (``{"cm.trainer.learning_rate": 2e-4, ...}``).

    It covers the stage's own section, the model and data sections, evaluation and the seed, and the fingerprint
    of every stage it builds on (``rundir.STAGE_INPUT``; the control ``sft`` builds on CM and SA through its step
    budget and on CM's trainer settings when it has none of its own). The base stage only evaluates the backbone in
    SA's format.
    """
    from prouie_lib.rundir import STAGE_INPUT

    if stage == "base":
        return _section_fields(config, "seed", "model.backbone", "data.datasets", "data.data_root",
                               "data.system_prompt", "eval", "sa.format")
    fields = _section_fields(config, "seed", "model", "data", "eval", stage)
    upstream = STAGE_INPUT.get(stage)
    if upstream is not None:
        fields.update(stage_fingerprint(config, upstream))
    if stage == "sft":
        if config.sft.budget_steps is None:
            fields.update(stage_fingerprint(config, "cm"))
            fields.update(stage_fingerprint(config, "sa"))
        elif config.sft.trainer is None:
            fields.update(_section_fields(config, "cm.trainer"))
    return dict(sorted(fields.items()))


def _stored_fingerprint(stage_dir: Path, stage: str) -> tuple[dict[str, Any] | None, Path]:
    """The fingerprint a stage folder was made with (``fingerprint.json``, or derived from its config snapshot)."""
    from prouie_lib.rundir import CONFIG, FINGERPRINT

    path = stage_dir / FINGERPRINT
    if path.is_file():
        try:
            return json.loads(path.read_text()), path
        except ValueError:
            pass
    snapshot = stage_dir / CONFIG
    if snapshot.is_file():  # a folder from before fingerprints: its config snapshot says the same
        try:
            return stage_fingerprint(build_dataclass(RunConfig, yaml.safe_load(snapshot.read_text()), str(snapshot)), stage), \
                snapshot
        except (ValueError, yaml.YAMLError, TypeError):
            return None, snapshot
    return None, path


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def fingerprint_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``field (old → new)`` for every field whose value differs; when none does, the fields present on one side only
    (a stage that stops or starts depending on another, e.g. ``sft.budget_steps`` set, lists its own field first)."""
    def same(a: Any, b: Any) -> bool:
        return a == b or json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)

    changed = [f"{key} ({_short(old[key])} → {_short(new[key])})" for key in sorted(set(old) & set(new))
               if not same(old[key], new[key])]
    if changed:
        return changed
    return [f"{key} ({_short(old[key]) if key in old else 'unset'} → {_short(new[key]) if key in new else 'unset'})"
            for key in sorted(set(old) ^ set(new))]


class StaleStageError(ConfigError):
    """A stage folder was made with another config than the current one."""


def check_fingerprint(config: RunConfig, stage: str) -> None:
    """Refuse to reuse or resume a stage folder made with a different config (one line, the ways on)."""
    stage_dir = config.stage_dir(stage)
    if not stage_dir.is_dir():
        return
    stored, source = _stored_fingerprint(stage_dir, stage)
    if stored is None:
        return
    changes = fingerprint_changes(stored, json.loads(json.dumps(stage_fingerprint(config, stage), default=str)))
    if changes:
        shown = "; ".join(changes[:4]) + (f"; and {len(changes) - 4} more" if len(changes) > 4 else "")
        raise StaleStageError(
            f"stage {stage} was made with another config: {shown}. Run under a new name (--set name=NEW) "
            f"or recompute it and the stages after it (--rerun-from {stage})", file=str(source))
