"""Configs: every shipped YAML loads and validates; mistakes give errors that name the field."""

from __future__ import annotations

import pytest

from prouie_lib.config import RunConfig, config_from_dict, load_config


@pytest.mark.parametrize("name", ["demo", "tiny", "cpu-conll04", "cpu-conll04-strictf1", "paper"])
def test_shipped_configs_load(repo_root, name):
    path = repo_root / "configs" / f"{name}.yaml"
    if not path.exists():
        pytest.skip(f"{path.name} not written yet")
    config = load_config(path)
    assert isinstance(config, RunConfig) and config.name


def test_every_config_file_is_covered(repo_root):
    shipped = {p.stem for p in (repo_root / "configs").glob("*.yaml")}
    assert shipped <= {"demo", "tiny", "cpu-conll04", "cpu-conll04-strictf1", "paper"}


def test_unknown_field_is_named():
    with pytest.raises(ValueError, match=r"config\.cm\.trainer: unknown field\(s\) \['max_stepz'\]"):
        config_from_dict({"cm": {"trainer": {"max_stepz": 3}}})


def test_unknown_stage_dataset_and_enum_are_named():
    with pytest.raises(ValueError, match="unknown stage 'xx'"):
        config_from_dict({"stages": ["cm", "xx"]})
    with pytest.raises(ValueError, match="data.datasets"):
        config_from_dict({"data": {"datasets": ["NoSuchDataset"]}})
    with pytest.raises(ValueError, match="curriculum"):
        config_from_dict({"cm": {"curriculum": "random"}})
    with pytest.raises(ValueError, match="expected"):
        config_from_dict({"seed": "seven"})


def test_overrides_use_dotted_keys(repo_root):
    config = load_config(repo_root / "configs" / "tiny.yaml", {"cm.trainer.max_steps": 5, "cm.format": "complete"})
    assert config.cm.trainer.max_steps == 5
    assert config.model.backbone == "tiny-random"
