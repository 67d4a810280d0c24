"""Reward trace viewer: a step slider and component toggles over DE's reward traces; the completions of a group side by side."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure

from prouie_lib.analysis.plots import (
    TRAINER_STEP_OFFSET,
    default_components,
    figure_png,
    plot_reward_components,
)
from prouie_lib.analysis.reward_tables import group_rows, groups_at
from prouie_lib.analysis.traces import COMPONENT_PREFIX, component_names
from prouie_lib.analysis.widgets.base import Source, _fmt, _frame, _message


class RewardTraceViewer(widgets.VBox):
    """A step slider and component toggles over the reward traces: the curves up to the chosen step and the
    completions of one prompt's group side by side with their rewards, advantages and components."""

    def __init__(self, traces: pd.DataFrame, *, components: Sequence[str] | None = None, band: str = "minmax",
                 smoothing: float = 0.0) -> None:
        if traces.empty:
            raise ValueError("RewardTraceViewer: no reward traces (de/reward_traces.jsonl is missing or empty)")
        self.traces = traces.reset_index(drop=True)
        # The slider counts DE trainer steps, as the figure and trl's logs do (trace lines store step - 1).
        steps = sorted(int(s) + TRAINER_STEP_OFFSET for s in self.traces["step"].unique())
        self.step = widgets.IntSlider(min=steps[0], max=steps[-1], value=steps[-1], description="DE step",
                                      continuous_update=False)
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
        self._keys = groups_at(self.traces, self.step.value - TRAINER_STEP_OFFSET)
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
        """``(trace step, prompt_id[, group])`` of the group shown (the trace step is the trainer step - 1)."""
        index = self.prompt.value
        return None if index is None or not self._keys else self._keys[index]

    def draw(self) -> None:
        self.figure = plot_reward_components(self.traces, self.selected_components(), band=self.band.value,
                                             smoothing=self.smoothing.value, up_to_step=self.step.value)
        self.curves.value = figure_png(self.figure)

    def render_group(self) -> None:
        key = self.group_key()
        if key is None:
            self.group_view.value = _message(f"no completions logged at DE step {self.step.value}")
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
             f" · DE step {rows['step'].iloc[0] + TRAINER_STEP_OFFSET} · text: <i>{html.escape(str(gold.get('text', '')))}</i></div>")
    return title + f'<table class="prouie-group" style="border-collapse:collapse;font-size:12px">{"".join(lines)}</table>'


def reward_trace_viewer(source: Source, **options: Any) -> RewardTraceViewer:
    """A :class:`RewardTraceViewer` over a run directory, a RunData or a traces table."""
    return RewardTraceViewer(_frame(source, "traces"), **options)
