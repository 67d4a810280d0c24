"""Packaging: pyproject and environment.yml agree; the console command lists its sub-commands."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml


def _names(requirements):
    return {re.split(r"[<>=!~ \[]", r.strip(), maxsplit=1)[0].lower() for r in requirements}


def test_environment_yml_matches_pyproject(repo_root):
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = set(project["dependencies"]) | set(extras["dev"]) | set(extras["track"])
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    pip_list = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {p for p in pip_list if not p.startswith("-")}
    assert listed == declared, f"only in pyproject: {declared - listed}; only in environment.yml: {listed - declared}"
    assert "python=3.11" in env["dependencies"]
    assert {"torch", "transformers", "peft", "trl", "datasets", "ipywidgets"} <= _names(declared)


def test_prouie_help_lists_subcommands():
    out = subprocess.run([sys.executable, "-m", "prouie_lib.cli", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for command in ("data", "eval", "predict", "extract", "export", "reward", "train", "pipeline"):
        assert re.search(rf"^\s+{command}\s", out, re.M), f"{command} missing from:\n{out}"
