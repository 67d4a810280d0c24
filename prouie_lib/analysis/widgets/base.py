"""What the widgets share: the source → table rule, small HTML tables, messages."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prouie_lib.analysis.loaders import RunData, load_predictions
from prouie_lib.analysis.traces import load_reward_traces

ALL = "(all)"
ANY = "(any)"
Source = str | Path | RunData | pd.DataFrame


def _frame(source: Source, attribute: str) -> pd.DataFrame:
    """One table of a run: given as is, taken from a RunData, or read alone from a run directory."""
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, RunData):
        return getattr(source, attribute)
    readers = {"traces": load_reward_traces, "predictions": load_predictions}
    return readers[attribute](source)


def table_html(frame: pd.DataFrame, *, row_style: Sequence[str] | None = None, css_class: str = "prouie-table") -> str:
    """A small escaped HTML table (``row_style``: one inline style per row)."""
    cell = "border:1px solid #ddd;padding:2px 6px;vertical-align:top;text-align:left"
    head = "".join(f'<th style="{cell};background:#f3f3f3">{html.escape(str(c))}</th>' for c in frame.columns)
    body = []
    for i, row in enumerate(frame.itertuples(index=False)):
        style = row_style[i] if row_style else ""
        cells = "".join(f'<td style="{cell}">{html.escape(_fmt(v))}</td>' for v in row)
        body.append(f'<tr style="{style}">{cells}</tr>')
    return (f'<table class="{css_class}" style="border-collapse:collapse;font-size:12px">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.3f}"
    return str(value)


def _message(text: str, color: str = "#555") -> str:
    return f'<div style="color:{color}">{html.escape(text)}</div>'
