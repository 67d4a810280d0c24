"""Reward playground: edit SFR weights or choose a registered reward, replay it on logged completions, compare with the original."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from prouie_lib.analysis.plots import figure_png
from prouie_lib.analysis.reward_tables import (
    ranking_changes,
    replay_frame,
)
from prouie_lib.analysis.widgets.base import Source, _frame, _message, table_html


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
