"""Shared test setup: offline hub, quiet tokenizers, repo paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory, repo_root):
    """The whole pipeline of configs/tiny.yaml (every stage and the report), run once per session; read it only."""
    from prouie_lib.config import load_config
    from prouie_lib.pipeline import run_pipeline

    config = load_config(repo_root / "configs" / "tiny.yaml", {"output_dir": str(tmp_path_factory.mktemp("runs"))})
    run_pipeline(config, progress=lambda message: None)
    return config
