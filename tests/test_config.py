"""Configs: every shipped YAML loads and validates; mistakes give errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from prouie_lib.config import ConfigError, RunConfig, config_from_dict, load_config

SHIPPED = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


def test_configs_are_shipped():
    assert {"demo", "tiny"} <= {path.stem for path in SHIPPED}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_configs_load(path):
    config = load_config(path)
    assert isinstance(config, RunConfig) and config.name


def test_unknown_field_is_named():
    with pytest.raises(ValueError, match=r"config: field .cm\.trainer.: unknown field\(s\) \[.max_stepz.\]"):
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


@pytest.mark.parametrize("name", ["single_gpu", "multi_gpu", "deepspeed_zero3", "fsdp"])
def test_accelerate_configs_are_valid(repo_root, name):
    import yaml
    from accelerate.utils import DistributedType

    config = yaml.safe_load((repo_root / "configs" / "accelerate" / f"{name}.yaml").read_text())
    assert DistributedType(config["distributed_type"]) in (DistributedType.NO, DistributedType.MULTI_GPU,
                                                           DistributedType.DEEPSPEED, DistributedType.FSDP)
    assert config["mixed_precision"] == "bf16" and config["num_processes"] >= 1
    if name == "deepspeed_zero3":
        assert config["deepspeed_config"]["zero_stage"] == 3
    if name == "fsdp":
        assert config["fsdp_config"]["fsdp_version"] == 2


def test_paper_config_is_gpu_scale(repo_root):
    config = load_config(repo_root / "configs" / "paper.yaml")
    assert config.de.use_vllm and config.cm.trainer.bf16 and config.cm.curriculum == "sequential"
    assert config.cm.format == "complete" and config.sa.format == "streamlined" and config.de.reward == "sfr"
    assert "sft" in config.stages  # the paper-scale ablation has its control row


def test_float_fields_take_exponents_that_yaml_reads_as_strings(repo_root):
    # PyYAML (YAML 1.1) reads 1e-3 as the string "1e-3"; float fields take it as the number, other strings fail
    config = load_config(repo_root / "configs" / "tiny.yaml", {"cm.trainer.learning_rate": "1e-3",
                                                             "sa.trainer.learning_rate": "+2.5E-1"})
    assert config.cm.trainer.learning_rate == 0.001 and config.sa.trainer.learning_rate == 0.25
    with pytest.raises(ConfigError, match="expected float, got '1e'"):
        load_config(repo_root / "configs" / "tiny.yaml", {"cm.trainer.learning_rate": "1e"})
