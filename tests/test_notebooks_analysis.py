"""Notebooks 05 (reward analysis) and 06 (evaluation) run top to bottom in smoke mode on the fixture run."""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path

import pytest
from notebook_runner import (
    check_metadata,
    outputs_text,
    outputs_with,
    parameters_cell,
    read_notebook,
    run_notebook,
)

from prouie_lib.evaluation.protocols import PROTOCOLS

WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("name", ["05_reward_analysis.ipynb", "06_evaluation.ipynb"])
def test_notebook_metadata_and_parameters(name: str):
    book = read_notebook(name)
    check_metadata(book)
    assert 'RUN_DIR = "' in parameters_cell(book).source


def test_reward_analysis_notebook_runs():
    temporary = set(Path(tempfile.gettempdir()).glob("prouie-nb05-*"))
    book = run_notebook("05_reward_analysis.ipynb", timeout=300)
    assert set(Path(tempfile.gettempdir()).glob("prouie-nb05-*")) <= temporary  # its smoke DE run is removed
    assert len(outputs_with(book, WIDGET)) >= 2  # trace viewer, playground
    assert len(outputs_with(book, "image/png")) >= 3
    text = outputs_text(book)
    assert "best completion changed in" in text
    assert "DE trained with de.reward = " in text and "coarse_f1_reward.py:coarse_f1" in text
    logged = next(line for line in text.splitlines() if line.startswith("reward components logged by DE: "))
    assert set(ast.literal_eval(logged.partition(": ")[2])) <= {"format", "f1_entity_span", "f1_pair", "f1_trigger"}


def test_evaluation_notebook_runs():
    book = run_notebook("06_evaluation.ipynb", timeout=300)
    html = "".join(o["data"]["text/html"] for o in outputs_with(book, "text/html"))
    for protocol in PROTOCOLS:
        assert protocol in html
    assert outputs_with(book, WIDGET)
    assert len(outputs_with(book, "image/png")) >= 4
