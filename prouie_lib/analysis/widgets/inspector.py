"""Extraction inspector: pick a record; gold and predicted spans highlighted, the raw completion, per-unit categories and the SFR breakdown."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import pandas as pd

from prouie_lib.analysis.errors import CATEGORIES, error_table, record_categories
from prouie_lib.analysis.highlight import highlight_html
from prouie_lib.analysis.plots import CATEGORY_COLORS
from prouie_lib.analysis.reward_tables import sfr_breakdown
from prouie_lib.analysis.widgets.base import ALL, ANY, Source, _frame, _message, table_html
from prouie_lib.rundir import stage_sort_key


class ExtractionInspector(widgets.VBox):
    """Pick a stage, dataset, task, error category and example; see the text with gold and predicted spans
    highlighted, the units with their error category, the raw completion and the per-unit SFR breakdown."""

    def __init__(self, predictions: pd.DataFrame, *, errors: pd.DataFrame | None = None, reward: str = "sfr",
                 stage: str | None = None) -> None:
        if predictions.empty:
            raise ValueError("ExtractionInspector: no predictions (does any stage have predictions.jsonl?)")
        self.predictions = predictions.reset_index(drop=True)
        self.errors = errors if errors is not None else error_table(self.predictions)
        self.reward_name = reward
        self._categories = record_categories(self.errors)
        stages = sorted(self.predictions["stage"].unique(), key=stage_sort_key)
        layout = widgets.Layout(width="240px")
        self.stage = widgets.Dropdown(options=stages, value=stage or stages[-1], description="stage", layout=layout)
        self.dataset = widgets.Dropdown(options=[ALL, *sorted(self.predictions["dataset"].dropna().unique())],
                                        description="dataset", layout=layout)
        self.task = widgets.Dropdown(options=[ALL, *[t for t in ("NER", "RE", "EE")
                                                     if (self.predictions["task"] == t).any()]],
                                     description="task", layout=layout)
        self.category = widgets.Dropdown(options=[ANY, *CATEGORIES], description="category", layout=layout)
        self.example = widgets.IntSlider(min=0, max=0, description="example", continuous_update=False)
        self.status = widgets.HTML()
        self.header = widgets.HTML()
        self.text_view = widgets.HTML()
        self.units_view = widgets.HTML()
        self.completion_view = widgets.HTML()
        self.reward_view = widgets.HTML()
        for control in (self.stage, self.dataset, self.task, self.category):
            control.observe(self._on_filter, names="value")
        self.example.observe(lambda _change: self.render(), names="value")
        section = widgets.HTML
        super().__init__([
            widgets.HBox([self.stage, self.dataset]), widgets.HBox([self.task, self.category]),
            widgets.HBox([self.example, self.status]), self.header, self.text_view,
            section("<b>Units</b>"), self.units_view, section("<b>Raw completion</b>"), self.completion_view,
            section(f"<b>Reward breakdown ({html.escape(str(reward))})</b>"), self.reward_view,
        ])
        self._on_filter(None)

    def matching(self) -> pd.DataFrame:
        """The prediction rows that pass the current filters."""
        rows = self.predictions[self.predictions["stage"] == self.stage.value]
        if self.dataset.value != ALL:
            rows = rows[rows["dataset"] == self.dataset.value]
        if self.task.value != ALL:
            rows = rows[rows["task"] == self.task.value]
        if self.category.value != ANY:
            wanted = self.category.value
            rows = rows[[wanted in self._categories.get((s, i), set()) for s, i in zip(rows["stage"], rows["id"],
                                                                                     strict=True)]]
        return rows

    def _on_filter(self, _change: Any) -> None:
        n = len(self.matching())
        self.example.unobserve_all("value")
        self.example.max = max(n - 1, 0)
        self.example.value = 0
        self.example.disabled = n <= 1
        self.example.observe(lambda _change: self.render(), names="value")
        self.render()

    def show(self, record_id: str) -> None:
        """Jump to a record (filters reset to all)."""
        with self.hold_trait_notifications():
            self.dataset.value, self.task.value, self.category.value = ALL, ALL, ANY
        ids = list(self.matching()["id"])
        if record_id not in ids:
            raise KeyError(f"no prediction for {record_id!r} in stage {self.stage.value!r}")
        self.example.value = ids.index(record_id)
        self.render()

    def current(self) -> pd.Series | None:
        rows = self.matching()
        return rows.iloc[self.example.value] if len(rows) else None

    def render(self) -> None:
        rows = self.matching()
        self.status.value = f"{len(rows)} record(s) match"
        row = rows.iloc[min(self.example.value, len(rows) - 1)] if len(rows) else None
        if row is None:
            for view in (self.header, self.text_view, self.units_view, self.completion_view, self.reward_view):
                view.value = ""
            self.header.value = _message("No record matches these filters.")
            return
        categories = sorted(self._categories.get((row["stage"], row["id"]), set()) - {"correct"})
        formed = "well-formed" if row["well_formed"] else "<b style='color:#c00'>not well-formed</b>"
        self.header.value = (f"<b>{html.escape(row['id'])}</b> · {html.escape(str(row['dataset']))} · "
                             f"{row['task']} · stage {html.escape(row['stage'])} · "
                             f"format {html.escape(str(row['format']))} · {formed} · errors: "
                             f"{html.escape(', '.join(categories) or 'none')}")
        record = row["record"] if isinstance(row["record"], dict) else {
            "id": row["id"], "task": row["task"], "text": row["text"], **row["gold"]}
        self.text_view.value = highlight_html(record, row["predicted"])
        self.units_view.value = self._units_html(row)
        completion = row["completion"]
        self.completion_view.value = (
            f'<pre class="prouie-completion" style="white-space:pre-wrap;margin:0">{html.escape(completion)}</pre>'
            if isinstance(completion, str) else _message("(no prediction line for this record)"))
        self.reward_view.value = self._reward_html(record, row)

    def _units_html(self, row: pd.Series) -> str:
        units = self.errors[(self.errors["stage"] == row["stage"]) & (self.errors["id"] == row["id"])]
        units = units[units["kind"] != "output"]
        if units.empty:
            return _message("no units in gold or prediction")
        parts = []
        titles = {"entity": "Entities", "relation": "Relations", "trigger": "Events (triggers)",
                  "argument": "Event arguments"}
        for kind, part in units.groupby("kind", sort=False):
            shown = part[["category", "gold", "pred"]].rename(columns={"pred": "predicted"})
            styles = [f"background:{CATEGORY_COLORS.get(c, '#fff')}22" for c in shown["category"]]
            parts.append(f"<div><i>{titles.get(kind, kind)}</i>{table_html(shown, row_style=styles)}</div>")
        return "".join(parts)

    def _reward_html(self, record: dict[str, Any], row: pd.Series) -> str:
        try:
            if isinstance(row["completion"], str) and row["format"]:
                result, table = sfr_breakdown(record, completion=row["completion"], fmt=row["format"],
                                              reward=self.reward_name)
            else:
                result, table = sfr_breakdown(record, predicted=row["predicted"], reward=self.reward_name)
        except Exception as err:  # shown, not hidden: the reward or the format may be user code
            return _message(f"reward failed: {type(err).__name__}: {err}", "#c00")
        components = ", ".join(f"{k}={v:.3g}" for k, v in result.components.items())
        return (f"<div>total <b>{result.total:.3f}</b> · {html.escape(components)}</div>"
                + table_html(table))


def extraction_inspector(source: Source, *, stage: str | None = None, reward: str = "sfr") -> ExtractionInspector:
    """An :class:`ExtractionInspector` over a run directory, a RunData or a predictions table."""
    return ExtractionInspector(_frame(source, "predictions"), stage=stage, reward=reward)
