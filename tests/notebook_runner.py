"""The one way the tests execute a notebook: headless, cwd ``notebooks/``, parameters injected after its
``parameters`` cell (papermill-style), plus helpers to read what it printed and showed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def read_notebook(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def run_notebook(name: str, parameters: dict[str, Any] | None = None, timeout: int = 600) -> nbformat.NotebookNode:
    """Run ``notebooks/<name>`` top to bottom; returns the executed notebook. A failing cell raises
    (``CellExecutionError``), so a returned notebook has no error output."""
    nb = read_notebook(name)
    if parameters:
        index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        source = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
        injected = nbformat.v4.new_code_cell(source)
        injected.metadata["tags"] = ["injected-parameters"]
        nb.cells.insert(index + 1, injected)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def outputs(nb: nbformat.NotebookNode) -> list[dict]:
    """Every output of every code cell, in order."""
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def outputs_text(nb: nbformat.NotebookNode) -> str:
    """All text/plain and stream output of a notebook, for assertions."""
    chunks = []
    for out in outputs(nb):
        chunks.append(out.get("text", ""))
        chunks.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(chunks)


def outputs_with(nb: nbformat.NotebookNode, mime: str) -> list[dict]:
    """The outputs that carry ``mime`` (``image/png``, ``text/html``, a widget view, ...)."""
    return [out for out in outputs(nb) if mime in out.get("data", {})]


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The one cell tagged ``parameters``; it is the first code cell."""
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    assert tagged[0] is next(c for c in nb.cells if c.cell_type == "code")
    return tagged[0]


def check_metadata(nb: nbformat.NotebookNode) -> None:
    """The kernel every notebook names, and a ``SMOKE = True`` parameter (CI runs the smoke mode)."""
    assert nb.metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3", "language": "python"}
    assert "SMOKE = True" in parameters_cell(nb).source
