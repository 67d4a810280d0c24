"""Execute a notebook headless with parameters injected after its `parameters` cell (papermill-style)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, parameters: dict[str, Any] | None = None, timeout: int = 600):
    """Run ``notebooks/<name>`` with cwd ``notebooks/``; returns the executed notebook (raises on a failing cell)."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    if parameters:
        index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        source = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
        injected = nbformat.v4.new_code_cell(source)
        injected.metadata["tags"] = ["injected-parameters"]
        nb.cells.insert(index + 1, injected)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def outputs_text(nb) -> str:
    """All text/plain and stream output of a notebook, for assertions."""
    chunks = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            chunks.append(out.get("text", ""))
            chunks.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(chunks)
