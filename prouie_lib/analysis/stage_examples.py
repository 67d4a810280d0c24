"""The same few test records through every stage: gold next to each stage's output, each unit marked right or
wrong — what CM, SA, DE and the control changed, at a glance (notebook 00).

Units and their categories come from :mod:`prouie_lib.analysis.errors` (``correct``, ``spurious``,
``wrong_type``, ``wrong_boundary``, ``hallucinated``, ``missed``, ``not_well_formed``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from prouie_lib.analysis.errors import error_table
from prouie_lib.rundir import stage_label, stage_sort_key

MARKS = {"correct": "✓", "missed": "missed", "spurious": "✗", "wrong_type": "✗ type", "wrong_boundary": "✗ span",
         "hallucinated": "✗ not in text"}


def pick_examples(predictions: pd.DataFrame, per_task: int = 1) -> list[str]:
    """The first ``per_task`` records of each task (in gold order) whose gold has at least one unit."""
    chosen: list[str] = []
    counts: dict[str, int] = {}
    first_stage = predictions[predictions["stage"] == predictions["stage"].iloc[0]]
    for item in first_stage.itertuples(index=False):
        gold = item.gold or {}
        if not any(gold.get(field) for field in ("entities", "relations", "events")):
            continue
        if counts.get(item.task, 0) < per_task:
            counts[item.task] = counts.get(item.task, 0) + 1
            chosen.append(item.id)
    return chosen


def stage_units(predictions: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    """Category rows (``errors.error_table``) of the chosen records, every stage."""
    return error_table(predictions[predictions["id"].isin(list(ids))])


def _unit(row, side: str) -> str:
    label, text = row[f"{side}_label"], row[f"{side}_text"]
    return f"{text} ({label})" if label else str(text)


def stage_examples_html(predictions: pd.DataFrame, ids: Sequence[str] | None = None) -> str:
    """One table per record: the gold units, then per stage its units with a mark and the gold units it missed."""
    ids = list(ids) if ids is not None else pick_examples(predictions)
    units = stage_units(predictions, ids)
    stages = sorted(predictions["stage"].unique(), key=stage_sort_key)
    blocks = []
    for rid in ids:
        record = predictions[predictions["id"] == rid].iloc[0]
        rows = units[units["id"] == rid]
        gold = rows[(rows["stage"] == stages[0]) & rows["gold_label"].notna()]
        cells = [("gold", "; ".join(html.escape(_unit(r, "gold")) for _, r in gold.iterrows()) or "None")]
        for stage in stages:
            mine = rows[rows["stage"] == stage]
            shown = []
            for _, r in mine.iterrows():
                if r["category"] == "not_well_formed":
                    shown.append("<b>not well-formed</b>")
                elif r["category"] == "missed":
                    continue
                else:
                    good = r["category"] == "correct"
                    shown.append(f"<span style='color:{'#2e7d32' if good else '#c62828'}'>"
                                 f"{html.escape(_unit(r, 'pred'))} {MARKS[r['category']]}</span>")
            missed = int((mine["category"] == "missed").sum())
            text = "; ".join(shown) or "None"
            cells.append((stage_label(stage), text + (f" <i>({missed} missed)</i>" if missed else "")))
        body = "".join(f"<tr><td style='text-align:left'><b>{name}</b></td><td style='text-align:left'>{cell}"
                       f"</td></tr>" for name, cell in cells)
        blocks.append(f"<p><b>{html.escape(record['task'])}</b> · {html.escape(str(rid))}: "
                      f"<i>{html.escape(record['text'])}</i></p><table>{body}</table>")
    return "\n".join(blocks)
