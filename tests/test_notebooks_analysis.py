"""Notebooks 05 (reward analysis) and 06 (evaluation) run top to bottom in smoke mode on the fixture run."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _execute(name: str) -> tuple[nbformat.NotebookNode, float]:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    start = time.perf_counter()
    NotebookClient(book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return book, time.perf_counter() - start


def _outputs(book: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in book.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def _parameters_cell(book: nbformat.NotebookNode) -> str:
    tagged = [c for c in book.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    return tagged[0].source


@pytest.mark.parametrize("name", ["05_reward_analysis.ipynb", "06_evaluation.ipynb"])
def test_notebook_metadata_and_parameters(name: str):
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert book.metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3", "language": "python"}
    first_code = next(c for c in book.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", [])
    source = _parameters_cell(book)
    assert "SMOKE = True" in source and 'RUN_DIR = "' in source


def test_reward_analysis_notebook_runs():
    book, _ = _execute("05_reward_analysis.ipynb")
    outputs = _outputs(book)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) >= 2  # trace viewer, playground
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3
    text = "".join(o.get("text", "") for o in outputs)
    assert "best completion changed in" in text


def test_evaluation_notebook_runs():
    book, _ = _execute("06_evaluation.ipynb")
    outputs = _outputs(book)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    for protocol in ("prouie", "instructuie", "iepile", "uie"):
        assert protocol in html
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 4
