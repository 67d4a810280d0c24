"""Notebook 01 (data unification): metadata, parameters cell, and a smoke run top to bottom."""

from __future__ import annotations

import notebook_runner as runner

NAME = "01_data_unification.ipynb"


def test_notebook_metadata_and_parameters():
    book = runner.read_notebook(NAME)
    runner.check_metadata(book)
    assert runner.parameters_cell(book).metadata.get("tags") == ["parameters"]
    assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code")  # stored clean


def test_notebook_runs_in_smoke_mode():
    book = runner.run_notebook(NAME, timeout=300)
    assert len(runner.outputs_with(book, "image/png")) >= 3
    assert "Sample-EE/train/0" in runner.outputs_text(book)  # unified records are shown
