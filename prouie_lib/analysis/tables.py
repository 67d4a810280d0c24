"""Tables behind the figures and the notebooks, as pandas frames: F1 per dataset and stage (the ablation),
reward statistics per GRPO step, groups without reward spread, and the dataset statistics and validation
issues of notebook 01."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from prouie_lib.analysis.loaders import MACRO
from prouie_lib.analysis.traces import COMPONENT_PREFIX, component_names
from prouie_lib.rundir import stage_sort_key
from prouie_lib.schema import HEADLINE_METRIC, TASK_DIFFICULTY

if TYPE_CHECKING:
    from prouie_lib.data.validation import ValidationReport


# ---------------------------------------------------------------- evaluation


def headline_table(scores: pd.DataFrame, metric: str = "headline") -> pd.DataFrame:
    """Dataset × stage F1 (percent): each dataset's headline metric (NER ``ner``, RE ``re_strict``,
    EE ``ee_arg_cls``) or the named metric, plus a ``macro`` row (mean over the datasets shown)."""
    rows = scores[scores["dataset"] != MACRO]
    if metric == "headline":
        rows = rows[rows["metric"] == rows["task"].map(HEADLINE_METRIC)]
    else:
        rows = rows[rows["metric"] == metric]
    if rows.empty:
        raise ValueError(f"no scores for metric {metric!r}")
    table = rows.pivot_table(index="dataset", columns="stage", values="f1", aggfunc="first")
    task_of = rows.groupby("dataset")["task"].first()
    order = sorted(table.index, key=lambda d: (TASK_DIFFICULTY.get(task_of.get(d), 9), d))
    table = table.loc[order, sorted(table.columns, key=stage_sort_key)]
    table.loc[MACRO] = table.mean(axis=0)
    return table


# ---------------------------------------------------------------- reward traces


def smooth(values: pd.Series, smoothing: float) -> pd.Series:
    """Exponential moving average with weight ``smoothing`` on the past (0 = none, as in TensorBoard)."""
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
    if smoothing == 0 or values.empty:
        return values
    return values.ewm(alpha=1 - smoothing, adjust=True).mean()


def component_column(name: str) -> str:
    return name if name in ("reward", "advantage", "trainer_reward") else COMPONENT_PREFIX + name


def step_stats(traces: pd.DataFrame, name: str, *, smoothing: float = 0.0) -> pd.DataFrame:
    """Per step: mean, std, min and max of ``reward`` or a component over every logged completion."""
    column = component_column(name)
    if column not in traces:
        raise KeyError(f"no component {name!r} in the traces; have {['reward', *component_names(traces)]}")
    stats = traces.groupby("step")[column].agg(["mean", "std", "min", "max"]).fillna({"std": 0.0})
    return stats.apply(lambda col: smooth(col, smoothing)) if smoothing else stats


def group_columns(traces: pd.DataFrame) -> list[str]:
    """Columns that identify a GRPO group (the completions of one prompt at one step)."""
    return ["step", "prompt_id"] + (["group"] if "group" in traces and traces["group"].notna().all() else [])


def zero_spread_fraction(traces: pd.DataFrame, column: str = "reward") -> pd.Series:
    """Per step: the fraction of groups whose completions all got the same reward (no GRPO signal)."""
    spread = traces.groupby(group_columns(traces))[column].agg(lambda x: float(x.max() - x.min()))
    return (spread <= 1e-12).groupby(level="step").mean().rename("frac_zero_spread")


# ---------------------------------------------------------------- datasets (notebook 01)

_COUNT_COLUMNS = ("examples", "entities", "relations", "events", "arguments", "repairs", "drops")


def stats_table(all_stats: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (dataset, split) from :func:`prouie_lib.data.dataset_stats` results."""
    rows = [{"dataset": st["dataset"], "task": st["task"], "format": st["format"], "split": split,
             **{c: row[c] for c in _COUNT_COLUMNS}, "labels": len(row["labels"])}
            for st in all_stats for split, row in st["splits"].items()]
    return pd.DataFrame(rows)


def report_table(reports: Mapping[str, ValidationReport]) -> pd.DataFrame:
    """The kept issues of several validation reports (key = e.g. ``dataset/split``)."""
    rows = [{"source": name, **row} for name, report in reports.items() for row in report.rows()]
    return pd.DataFrame(rows, columns=["source", "action", "unit", "file", "record", "field", "message"])
