"""Notebook 01 (data unification): metadata, parameters cell, and a smoke run top to bottom."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_data_unification.ipynb"


def test_notebook_metadata_and_parameters():
    book = nbformat.read(NOTEBOOK, as_version=4)
    assert book.metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3", "language": "python"}
    first_code = next(c for c in book.cells if c.cell_type == "code")
    assert first_code.metadata.get("tags") == ["parameters"]
    assert "SMOKE = True" in first_code.source
    assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code")  # stored clean


def test_notebook_runs_in_smoke_mode():
    book = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(book, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 3
    text = "".join(o.get("text", "") for o in outputs)
    assert "Sample-EE/train/0" in text  # unified records are shown
