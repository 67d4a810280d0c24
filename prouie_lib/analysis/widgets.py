"""ipywidgets (8.x) to inspect a run: extractions, reward traces, and a reward playground.

Each widget is a ``VBox`` subclass built by a function from a run directory, a
:class:`~prouie_lib.analysis.loaders.RunData` or the table it needs. Its controls and views are attributes,
so code (and tests) can drive it without a browser: set ``widget.step.value = 2`` and read
``widget.group_view.value``. Views are ``HTML`` widgets and PNG ``Image`` widgets (``figure`` keeps the last
matplotlib figure), which render the same in JupyterLab and headless.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from prouie_lib.analysis.errors import CATEGORIES, error_table, record_categories
from prouie_lib.analysis.highlight import highlight_html
from prouie_lib.analysis.loaders import (
    COMPONENT_PREFIX,
    RunData,
    component_names,
    load_predictions,
    load_reward_traces,
    stage_sort_key,
)
from prouie_lib.analysis.plots import CATEGORY_COLORS, default_components, figure_png, plot_reward_components
from prouie_lib.analysis.reward_tables import (
    group_rows,
    groups_at,
    ranking_changes,
    replay_frame,
    sfr_breakdown,
)

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


# ---------------------------------------------------------------- extraction inspector


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


# ---------------------------------------------------------------- reward trace viewer


class RewardTraceViewer(widgets.VBox):
    """A step slider and component toggles over the reward traces: the curves up to the chosen step and the
    completions of one prompt's group side by side with their rewards, advantages and components."""

    def __init__(self, traces: pd.DataFrame, *, components: Sequence[str] | None = None, band: str = "minmax",
                 smoothing: float = 0.0) -> None:
        if traces.empty:
            raise ValueError("RewardTraceViewer: no reward traces (de/reward_traces.jsonl is missing or empty)")
        self.traces = traces.reset_index(drop=True)
        steps = sorted(self.traces["step"].unique())
        self.step = widgets.IntSlider(min=int(steps[0]), max=int(steps[-1]), value=int(steps[-1]),
                                      description="step", continuous_update=False)
        chosen = list(components) if components is not None else default_components(self.traces)
        names = ["reward", *component_names(self.traces)]
        unknown = [c for c in chosen if c not in names]
        if unknown:
            raise ValueError(f"RewardTraceViewer: unknown component(s) {unknown}; have {names}")
        self.toggles = {name: widgets.ToggleButton(value=name in chosen, description=name,
                                                   layout=widgets.Layout(width="auto"))
                        for name in names}
        self.band = widgets.ToggleButtons(options=["minmax", "std", "none"], value=band, description="band")
        self.smoothing = widgets.FloatSlider(value=smoothing, min=0.0, max=0.95, step=0.05, description="smoothing")
        self.prompt = widgets.Dropdown(description="prompt", layout=widgets.Layout(width="420px"))
        self.curves = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))  # natural size
        self.group_view = widgets.HTML()
        self.figure: Figure | None = None
        self.step.observe(self._on_step, names="value")
        for toggle in self.toggles.values():
            toggle.observe(lambda _change: (self.draw(), self.render_group()), names="value")
        for control in (self.band, self.smoothing):
            control.observe(lambda _change: self.draw(), names="value")
        self._keys: list[tuple[Any, ...]] = []
        self._rendering = False
        self.prompt.observe(lambda _change: None if self._rendering else self.render_group(), names="value")
        super().__init__([
            self.step, widgets.HBox(list(self.toggles.values()), layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.band, self.smoothing]), self.curves, self.prompt, self.group_view,
        ])
        self._on_step(None)

    def selected_components(self) -> list[str]:
        return [name for name, toggle in self.toggles.items() if toggle.value]

    def _on_step(self, _change: Any) -> None:
        previous = self.group_key()
        self._keys = groups_at(self.traces, self.step.value)
        options = [(f"{key[1]} (group {key[2]})" if len(key) > 2 else str(key[1]), i)
                   for i, key in enumerate(self._keys)]
        same_prompt = [i for i, key in enumerate(self._keys) if previous is not None and key[1] == previous[1]]
        self._rendering = True  # one redraw for the whole step change
        try:
            self.prompt.options = options
            self.prompt.value = same_prompt[0] if same_prompt else (0 if options else None)
        finally:
            self._rendering = False
        self.draw()
        self.render_group()

    def group_key(self) -> tuple[Any, ...] | None:
        """``(step, prompt_id[, group])`` of the group shown."""
        index = self.prompt.value
        return None if index is None or not self._keys else self._keys[index]

    def draw(self) -> None:
        self.figure = plot_reward_components(self.traces, self.selected_components(), band=self.band.value,
                                             smoothing=self.smoothing.value, up_to_step=self.step.value)
        self.curves.value = figure_png(self.figure)

    def render_group(self) -> None:
        key = self.group_key()
        if key is None:
            self.group_view.value = _message(f"no completions logged at step {self.step.value}")
            return
        rows = group_rows(self.traces, key)
        self.group_view.value = group_html(rows, self.selected_components())


def group_html(rows: pd.DataFrame, components: Sequence[str]) -> str:
    """The completions of one group as columns: text, reward, advantage, then each component."""
    cell = "border:1px solid #ddd;padding:3px 6px;vertical-align:top;max-width:260px"
    best = rows["reward"].max()
    gold = rows["gold"].iloc[0]
    header = "".join(
        f'<th style="{cell};background:{"#c8f0c0" if r == best else "#f3f3f3"}">#{p}</th>'
        for p, r in zip(rows["position"], rows["reward"], strict=True))
    lines = [f"<tr><th style='{cell}'></th>{header}</tr>"]
    texts = "".join(f'<td style="{cell}"><pre style="white-space:pre-wrap;margin:0;font-size:11px">'
                    f"{html.escape(str(c))}</pre></td>" for c in rows["completion"])
    lines.append(f"<tr><th style='{cell}'>completion</th>{texts}</tr>")
    names = ["reward", "advantage", *[c for c in components if c != "reward"]]
    for name in names:
        column = name if name in ("reward", "advantage") else COMPONENT_PREFIX + name
        if column not in rows:
            continue
        values = "".join(f'<td style="{cell}">{_fmt(v)}</td>' for v in rows[column])
        lines.append(f"<tr><th style='{cell};text-align:left'>{html.escape(name)}</th>{values}</tr>")
    title = (f"<div><b>{html.escape(str(rows['prompt_id'].iloc[0]))}</b> · {html.escape(str(rows['task'].iloc[0]))}"
             f" · step {rows['step'].iloc[0]} · text: <i>{html.escape(str(gold.get('text', '')))}</i></div>")
    return title + f'<table class="prouie-group" style="border-collapse:collapse;font-size:12px">{"".join(lines)}</table>'


def reward_trace_viewer(source: Source, **options: Any) -> RewardTraceViewer:
    """A :class:`RewardTraceViewer` over a run directory, a RunData or a traces table."""
    return RewardTraceViewer(_frame(source, "traces"), **options)


# ---------------------------------------------------------------- reward playground


def registered_rewards() -> list[str]:
    from prouie_lib.rewards import REWARDS

    return sorted(REWARDS)


class RewardPlayground(widgets.VBox):
    """Re-score logged completions with other SFR weights or any registered reward and compare: reward
    distributions old vs new, and how the ranking (and GRPO's advantages) inside each group change.

    Rewards registered after the widget was built appear after :meth:`refresh_rewards` (the ↻ button;
    :meth:`replay` refreshes too).
    """

    def __init__(self, traces: pd.DataFrame, *, reward: str = "sfr") -> None:
        from prouie_lib.rewards import TASK_STEPS, get_reward

        if traces.empty:
            raise ValueError("RewardPlayground: no reward traces to replay")
        self.traces = traces.reset_index(drop=True)
        self.reward = widgets.Dropdown(options=registered_rewards(), value=reward, description="reward")
        self.refresh_button = widgets.Button(description="↻ rewards", tooltip="list newly registered rewards")
        self.replay_button = widgets.Button(description="Replay", button_style="primary")
        config = get_reward("sfr").config
        tasks = [t for t in ("NER", "RE", "EE") if (self.traces["task"] == t).any()]
        self.weights: dict[str, widgets.FloatSlider] = {
            "format": widgets.FloatSlider(value=config.format_weight, min=0, max=1, step=0.05, description="format")}
        for task in tasks:
            for step in TASK_STEPS[task]:
                self.weights[step] = widgets.FloatSlider(value=config.step_weights[step], min=0, max=1, step=0.05,
                                                         description=step, style={"description_width": "150px"},
                                                         layout=widgets.Layout(width="360px"))
        self.floor = widgets.FloatSlider(value=config.floor, min=-1, max=0.1, step=0.05, description="floor")
        self.hallucination_penalty = widgets.FloatSlider(value=config.hallucination_penalty, min=0, max=0.5,
                                                         step=0.05, description="halluc. pen.")
        self.normalize = widgets.Checkbox(value=config.normalize, description="normalize to max 1")
        self.summary = widgets.HTML(_message("Choose a reward or weights, then press Replay."))
        self.plot = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))
        self.ranking_view = widgets.HTML()
        self.figure: Figure | None = None
        self.result: pd.DataFrame | None = None
        self.changes: pd.DataFrame | None = None
        self.refresh_button.on_click(lambda _button: self.refresh_rewards())
        self.replay_button.on_click(lambda _button: self.replay())
        self.reward.observe(lambda _change: self._sync_controls(), names="value")
        sliders = [*self.weights.values(), self.floor, self.hallucination_penalty, self.normalize]
        super().__init__([
            widgets.HBox([self.reward, self.refresh_button, self.replay_button]),
            widgets.HBox(sliders, layout=widgets.Layout(flex_flow="row wrap")),
            self.summary, self.plot, self.ranking_view,
        ])
        self._sync_controls()

    def refresh_rewards(self) -> list[str]:
        """Re-read the reward registry into the dropdown (the current choice is kept)."""
        names = registered_rewards()
        if list(self.reward.options) != names:
            current = self.reward.value
            self.reward.options = names
            self.reward.value = current if current in names else names[0]
        return names

    def is_sfr(self) -> bool:
        from prouie_lib.rewards import REWARDS, StepwiseReward

        return isinstance(REWARDS.get(self.reward.value), StepwiseReward)

    def _sync_controls(self) -> None:
        for control in (*self.weights.values(), self.floor, self.hallucination_penalty, self.normalize):
            control.disabled = not self.is_sfr()

    def options(self) -> dict[str, Any]:
        """The SFR options set by the sliders (empty for a reward that is not an SFR)."""
        if not self.is_sfr():
            return {}
        return {**{name: slider.value for name, slider in self.weights.items()}, "floor": self.floor.value,
                "hallucination_penalty": self.hallucination_penalty.value, "normalize": self.normalize.value}

    def replay(self) -> pd.DataFrame | None:
        """Re-score every logged completion; update the summary, the figure and the ranking table."""
        self.refresh_rewards()
        try:
            result = replay_frame(self.traces, self.reward.value, **self.options())
        except Exception as err:  # a user-written reward or an invalid weight choice: say so in the widget
            self.summary.value = _message(f"replay failed: {type(err).__name__}: {err}", "#c00")
            return None
        self.result, self.changes = result, ranking_changes(result)
        old_name = ", ".join(sorted(result["reward_name"].dropna().astype(str).unique())) or "logged"
        changed = int(self.changes["argmax_changed"].sum())
        counted = int((self.changes["n"] > 1).sum())
        self.summary.value = (
            f"<div class='prouie-summary'>replayed <b>{len(result)}</b> completions in <b>{counted}</b> groups · "
            f"old ({html.escape(old_name)}) mean <b>{result['reward'].mean():.3f}</b> → new "
            f"({html.escape(self.reward.value)}) mean <b>{result['new_reward'].mean():.3f}</b> · mean |Δ| "
            f"{(result['new_reward'] - result['reward']).abs().mean():.3f} · best completion changed in "
            f"<b>{changed}</b>/{counted} groups · advantage sign changes "
            f"<b>{int(self.changes['advantage_sign_changes'].sum())}</b>/{len(result)}</div>")
        self.figure = plot_replay(result)
        self.plot.value = figure_png(self.figure)
        shown = self.changes.assign(spearman=self.changes["spearman"].round(3))
        styles = ["background:#fde2c4" if c else "" for c in shown["argmax_changed"]]
        self.ranking_view.value = "<b>Ranking inside each group</b>" + table_html(shown, row_style=styles)
        return result


def plot_replay(result: pd.DataFrame) -> Figure:
    """Old vs new reward: the two distributions, and one point per completion coloured by task."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    hist, scatter = fig.subplots(1, 2)
    old, new = result["reward"].to_numpy(float), result["new_reward"].to_numpy(float)
    low, high = float(min(old.min(), new.min(), 0)), float(max(old.max(), new.max(), 1))
    bins = np.linspace(low, high, 21)
    hist.hist(old, bins=bins, alpha=0.55, label=f"old ({result['reward_name'].iloc[0]})")
    hist.hist(new, bins=bins, alpha=0.55, label=f"new ({result['new_reward_name'].iloc[0]})")
    hist.set_xlabel("reward")
    hist.set_ylabel("completions")
    hist.legend(fontsize=8)
    hist.set_title("reward distribution")
    for i, (task, rows) in enumerate(result.groupby("task")):
        scatter.scatter(rows["reward"], rows["new_reward"], s=18, color=f"C{i}", label=str(task), alpha=0.8)
    scatter.plot([low, high], [low, high], color="grey", linewidth=1, linestyle="--")
    scatter.set_xlabel("old reward")
    scatter.set_ylabel("new reward")
    scatter.set_title("per completion")
    scatter.legend(fontsize=8)
    return fig


def reward_playground(source: Source, *, reward: str = "sfr") -> RewardPlayground:
    """A :class:`RewardPlayground` over a run directory, a RunData or a traces table."""
    return RewardPlayground(_frame(source, "traces"), reward=reward)
