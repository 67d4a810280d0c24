"""Figures of a run: each function takes tables from :mod:`~prouie_lib.analysis.loaders` (or
:mod:`~prouie_lib.analysis.errors`, :mod:`~prouie_lib.analysis.tables`) and returns a
:class:`matplotlib.figure.Figure`.

Figures are built without pyplot (no global state, safe under the Agg backend and in widgets). The one way to
show any figure of the kit (these, :mod:`~prouie_lib.analysis.data_plots`, :mod:`~prouie_lib.analysis.stage_progress`)
is :func:`show_figure`; :func:`figure_png` gives its PNG bytes, :func:`empty_figure` is what a plot without data
returns.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from prouie_lib.analysis.errors import ERROR_CATEGORIES, NONE_LABEL, type_confusion
from prouie_lib.analysis.tables import component_column, headline_table, step_stats, zero_spread_fraction
from prouie_lib.analysis.traces import component_names
from prouie_lib.rundir import stage_label, stage_sort_key

COUNT_COMPONENTS: tuple[str, ...] = ("hallucinated_spans", "dropped_labels", "penalty")  # not in [0, 1]
CATEGORY_COLORS: dict[str, str] = {
    "correct": "#4daf4a", "missed": "#ff7f00", "spurious": "#e41a1c", "wrong_type": "#984ea3",
    "wrong_boundary": "#377eb8", "hallucinated": "#a65628", "not_well_formed": "#999999",
}


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """PNG bytes of a figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def show_figure(fig: Figure, dpi: int = 90):
    """The figure as an IPython image (displays in any notebook, whatever the matplotlib backend)."""
    from IPython.display import Image

    return Image(data=figure_png(fig, dpi=dpi), format="png")


def empty_figure(message: str, size: tuple[float, float] = (6, 3)) -> Figure:
    """A figure that only says ``message`` (what a plot shows when it has no data)."""
    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


# ---------------------------------------------------------------- training curves


def plot_loss(log_history: pd.DataFrame, phases: pd.DataFrame | None = None, *,
              stages: Sequence[str] | None = None, metric: str = "loss") -> Figure:
    """``metric`` over global steps, one panel per stage, with dashed lines at curriculum phase boundaries."""
    if metric not in log_history:
        return empty_figure(f"no {metric!r} in the log history")
    logged = log_history.dropna(subset=[metric])
    names = [s for s in (stages or sorted(logged["stage"].unique(), key=stage_sort_key))
             if (logged["stage"] == s).any()]
    if not names:
        return empty_figure(f"no {metric!r} logged")
    fig = Figure(figsize=(4.2 * len(names), 3.2), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, stage in zip(axes, names, strict=True):
        rows = logged[logged["stage"] == stage]
        for phase, part in rows.groupby("phase", sort=False):
            ax.plot(part["step"], part[metric], marker=".", label=str(phase))
        if phases is not None and len(phases):
            bounds = phases[phases["stage"] == stage].sort_values("start_step")
            for row in bounds.iloc[1:].itertuples():
                ax.axvline(row.start_step, color="grey", linestyle="--", linewidth=1)
            for row in bounds.itertuples():
                ax.text((row.start_step + row.end_step) / 2, 1.0, str(row.phase), ha="center", va="bottom",
                        transform=ax.get_xaxis_transform(), fontsize=8)
        ax.set_title(f"{stage_label(stage)}: training {metric}", pad=14)
        ax.set_xlabel("trainer step")
        ax.set_ylabel(metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    return fig


# Trace lines carry the global step at which their batch was generated (0-based); that batch feeds the update
# trl logs as step + 1. Figures for people use the trainer's numbering.
TRAINER_STEP_OFFSET = 1
PANEL_COMPONENTS: tuple[str, ...] = ("format", "f1_pair", "f1_relation", "f1_entity_span", "f1_entity_type",
                                     "f1_trigger", "f1_event_type", "f1_argument", "f1_argument_role")


def finish_de_step_axes(ax, *, ylabel: str, title: str, legend: bool = True) -> None:
    """The common frame of a per-DE-step figure: integer trainer-step ticks, labels, title, legend, light grid."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("DE trainer step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if legend:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def chosen_components(traces: pd.DataFrame, limit: int = 3) -> list[str]:
    """Up to ``limit`` informative components: the SFR steps present, those that vary most first."""
    present = [c for c in component_names(traces) if c not in COUNT_COMPONENTS]
    preferred = [c for c in PANEL_COMPONENTS if c in present] or present
    spread = {c: float(traces[component_column(c)].std(skipna=True)) for c in preferred}
    spread = {c: 0.0 if pd.isna(v) else v for c, v in spread.items()}  # one value: no spread
    return sorted(preferred, key=lambda c: -spread[c])[:limit]


def default_components(traces: pd.DataFrame) -> list[str]:
    """``reward`` plus a few informative components (:func:`chosen_components`); any other can be asked for."""
    return ["reward", *chosen_components(traces)]


def plot_reward_components(traces: pd.DataFrame, components: Sequence[str] | None = None, *,
                           band: str = "minmax", smoothing: float = 0.0, up_to_step: int | None = None) -> Figure:
    """Mean of each reward component per DE trainer step with a min–max (``band="minmax"``) or ±std band, overlaid
    (the interactive view; :func:`plot_reward_panels` draws small multiples).

    ``up_to_step`` (a trainer step, as on the x axis) draws only steps ≤ it but keeps the full step range.
    """
    if band not in ("minmax", "std", "none"):
        raise ValueError(f"band must be 'minmax', 'std' or 'none', got {band!r}")
    if traces.empty:
        return empty_figure("no reward traces")
    names = list(components) if components is not None else default_components(traces)
    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.add_subplot()
    steps = traces["step"] + TRAINER_STEP_OFFSET
    shown = traces if up_to_step is None else traces[steps <= up_to_step]
    palette = colormaps["tab20"] if len(names) > 10 else colormaps["tab10"]
    for i, name in enumerate(names):
        color = palette(i % palette.N)
        if shown.empty:
            ax.plot([], [], color=color, label=name)
            continue
        stats = step_stats(shown, name, smoothing=smoothing)
        x = stats.index + TRAINER_STEP_OFFSET
        ax.plot(x, stats["mean"], marker="o", color=color, label=name, linewidth=2.2 if name == "reward" else 1.4)
        if band != "none":
            low_band, high_band = ((stats["min"], stats["max"]) if band == "minmax"
                                   else (stats["mean"] - stats["std"], stats["mean"] + stats["std"]))
            if len(stats) > 1:
                ax.fill_between(x, low_band, high_band, color=color, alpha=0.12)
            else:  # one step: a band has no width, draw it as a bar
                ax.vlines(x, low_band, high_band, color=color, alpha=0.35, linewidth=6)
    low, high = steps.min(), steps.max()
    ax.set_xlim(low - 0.2, high + 0.2 if high > low else low + 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("DE trainer step")
    ax.set_ylabel("value")
    title = "DE (GRPO) reward components" + (f" up to step {up_to_step}" if up_to_step is not None else "")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def plot_reward_panels(traces: pd.DataFrame, components: Sequence[str] | None = None) -> Figure:
    """DE reward per trainer step as small multiples: the total, then a few components (mean, min–max band)."""
    if traces.empty:
        return empty_figure("no reward traces")
    names = ["reward", *(components if components is not None else chosen_components(traces))]
    fig = Figure(figsize=(2.9 * len(names), 2.9), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False, sharex=True)[0]
    for i, (ax, name) in enumerate(zip(axes, names, strict=True)):
        stats = step_stats(traces, name)
        x = stats.index + TRAINER_STEP_OFFSET
        ax.plot(x, stats["mean"], marker="o", color=f"C{i}")
        ax.fill_between(x, stats["min"], stats["max"], color=f"C{i}", alpha=0.15)
        ax.set_title("total reward" if name == "reward" else name, fontsize=10)
        ax.set_xlabel("DE trainer step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean (band: min–max)")
    fig.suptitle("DE (GRPO): reward of the sampled completions per step")
    return fig


def plot_zero_spread(traces: pd.DataFrame, log_history: pd.DataFrame | None = None) -> Figure:
    """Fraction of groups with zero reward spread per step (from the traces; trl's own value if logged)."""
    if traces.empty:
        return empty_figure("no reward traces")
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.add_subplot()
    frac = zero_spread_fraction(traces)
    ax.bar(frac.index + TRAINER_STEP_OFFSET, frac.values, color="C3", alpha=0.7, label="from traces")
    if log_history is not None and "frac_reward_zero_std" in log_history:
        logged = log_history[(log_history["stage"] == "de")].dropna(subset=["frac_reward_zero_std"])
        if len(logged):  # trl logs after the step: entry step s covers the batch generated at step s - 1
            ax.plot(logged["step"], logged["frac_reward_zero_std"], "k.--", label="trl log")
    ax.set_ylim(0, 1.05)
    finish_de_step_axes(ax, ylabel="fraction of groups", title="DE: groups with zero reward spread (no GRPO signal)")
    return fig


def plot_completion_length(traces: pd.DataFrame, *, unit: str = "words") -> Figure:
    """Completion length per DE trainer step (mean with min–max band), one line per task."""
    column = {"words": "completion_words", "chars": "completion_chars"}.get(unit)
    if column is None:
        raise ValueError(f"unit must be 'words' or 'chars', got {unit!r}")
    if traces.empty:
        return empty_figure("no reward traces")
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.add_subplot()
    for i, (task, rows) in enumerate(traces.groupby("task")):
        stats = rows.groupby("step")[column].agg(["mean", "min", "max"])
        x = stats.index + TRAINER_STEP_OFFSET
        ax.plot(x, stats["mean"], marker="o", color=f"C{i}", label=str(task))
        ax.fill_between(x, stats["min"], stats["max"], color=f"C{i}", alpha=0.15)
    finish_de_step_axes(ax, ylabel=f"completion length ({unit})", title="DE: length of the sampled completions")
    return fig


# ---------------------------------------------------------------- evaluation


def plot_f1_by_stage(scores: pd.DataFrame, *, metric: str = "headline", stages: Sequence[str] | None = None) -> Figure:
    """The ablation chart: grouped bars of F1 per dataset (and macro), one bar per stage."""
    if scores.empty:
        return empty_figure("no scores")
    table = headline_table(scores, metric)
    if stages is not None:
        table = table[[s for s in stages if s in table.columns]]
    n_data, n_stage = table.shape
    fig = Figure(figsize=(max(5, 1.6 * n_data + 1), 3.4), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / max(n_stage, 1)
    x = np.arange(n_data)
    for i, stage in enumerate(table.columns):
        values = table[stage].to_numpy(dtype=float)
        bars = ax.bar(x + (i - (n_stage - 1) / 2) * width, np.nan_to_num(values), width, label=stage_label(stage))
        ax.bar_label(bars, labels=[f"{v:.0f}" if v == v else "" for v in values], fontsize=7, padding=1)
    ax.set_xticks(x, table.index)
    ax.set_ylim(0, 105)
    ax.set_ylabel("F1 (%)")
    ax.set_title("F1 per dataset and stage" + ("" if metric == "headline" else f" ({metric})"))
    ax.legend(fontsize=8, ncols=n_stage, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return fig


def plot_error_categories(errors: pd.DataFrame, *, categories: Sequence[str] = ERROR_CATEGORIES,
                          stages: Sequence[str] | None = None) -> Figure:
    """Per task, a stacked bar of error counts per stage (categories of :mod:`~prouie_lib.analysis.errors`)."""
    chosen = errors[errors["category"].isin(categories)]
    if chosen.empty:
        return empty_figure("no errors")
    tasks = [t for t in ("NER", "RE", "EE") if (chosen["task"] == t).any()]
    names = list(stages) if stages is not None else sorted(errors["stage"].unique(), key=stage_sort_key)
    fig = Figure(figsize=(3.6 * len(tasks) + 1.6, 3.4), layout="constrained")
    axes = fig.subplots(1, len(tasks), squeeze=False, sharey=True)[0]
    for ax, task in zip(axes, tasks, strict=True):
        counts = chosen[chosen["task"] == task].groupby(["stage", "category"]).size().unstack(fill_value=0)
        counts = counts.reindex(index=names, columns=list(categories), fill_value=0)
        bottom = np.zeros(len(names))
        for category in categories:
            ax.bar(names, counts[category], bottom=bottom, color=CATEGORY_COLORS.get(category), label=category)
            bottom += counts[category].to_numpy()
        ax.set_title(task)
        ax.set_xlabel("stage")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("units")
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


def plot_type_confusion(errors: pd.DataFrame, *, task: str, stage: str | None = None,
                        kind: str | None = None) -> Figure:
    """Heat map of gold × predicted labels (see :func:`~prouie_lib.analysis.errors.type_confusion`)."""
    table = type_confusion(errors, task=task, stage=stage, kind=kind)
    if table.empty:
        return empty_figure(f"no {task} units")
    n = len(table)
    fig = Figure(figsize=(1.0 + 0.55 * n + 1.5, 0.9 + 0.5 * n), layout="constrained")
    ax = fig.add_subplot()
    values = table.to_numpy()
    image = ax.imshow(values, cmap="Blues")
    for (i, j), v in np.ndenumerate(values):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                    color="white" if v > values.max() / 2 else "black")
    ax.set_xticks(range(n), table.columns, rotation=45, ha="right")
    ax.set_yticks(range(n), table.index)
    ax.set_xlabel(f"predicted ({NONE_LABEL}: not predicted)")
    ax.set_ylabel(f"gold ({NONE_LABEL}: not in gold)")
    ax.set_title(f"{task} type confusion" + (f" — {stage}" if stage else "") + (f" ({kind})" if kind else ""))
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig
