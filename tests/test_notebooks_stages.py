"""Notebooks 00 and 02–04 in smoke mode, in order, on one tiny-model run directory (05 and 06 read the
fixture run: tests/test_notebooks_analysis.py)."""

from __future__ import annotations

import json
import shutil

import pytest
from notebook_runner import outputs_text, outputs_with, run_notebook

RUN = "nb-smoke-test"


@pytest.fixture(scope="module")
def run_dir(repo_root):
    path = repo_root / "runs" / RUN
    shutil.rmtree(path, ignore_errors=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_stage_notebooks_then_quickstart(run_dir):
    nb = run_notebook("02_complete_modeling.ipynb", {"SMOKE": True, "RUN_NAME": RUN})
    assert (run_dir / "cm" / "scores.json").exists() and "complete" in outputs_text(nb)
    run_notebook("03_streamlined_alignment.ipynb", {"SMOKE": True, "RUN_NAME": RUN})
    assert (run_dir / "sa" / "scores.json").exists()
    run_notebook("04_deep_exploration.ipynb", {"SMOKE": True, "RUN_NAME": RUN})
    assert (run_dir / "de" / "reward_traces.jsonl").exists()
    nb = run_notebook("00_quickstart.ipynb", {"SMOKE": True, "RUN_NAME": RUN})
    text = outputs_text(nb)
    # the stages notebooks 02-04 trained are read, not retrained; the missing ones (base, the sft control) run
    assert "finished stages ['cm', 'sa', 'de'] are not retrained" in text and "base: macro F1" in text
    assert (run_dir / "report.md").exists()
    scores = json.loads((run_dir / "de" / "scores.json").read_text())
    assert set(scores["datasets"]) == {"Sample-NER", "Sample-RE", "Sample-EE"}
    # the try-it form at the end ran the final stage's model once on its example text
    assert outputs_with(nb, "application/vnd.jupyter.widget-view+json")
    states = json.dumps(nb.metadata.get("widgets", {}))
    assert "prouie-extract-status" in states and "model stage de of nb-smoke-test" in states, states[-2000:]
