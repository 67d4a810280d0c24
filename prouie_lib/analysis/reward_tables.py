"""Tables behind the reward widgets: the per-unit SFR breakdown of one output, the completions of one GRPO
group, and a replay of logged completions under another reward with the ranking changes it causes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from prouie_lib.analysis.traces import trace_lines
from prouie_lib.schema import Record, Structure

ADVANTAGE_EPS = 1e-4  # trl: (r - mean) / (std + 1e-4), std unbiased, per group


def sfr_breakdown(record: Record, *, completion: str | None = None, fmt: str | None = None,
                  predicted: Structure | None = None, reward: Any = "sfr",
                  **options: Any) -> tuple[Any, pd.DataFrame]:
    """Score one output with the SFR and list, per step of the task, the units matched, missed and extra.

    Pass the raw ``completion`` with its format ``fmt`` (parsed as in training), or a ``predicted`` structure
    (taken as well-formed). Returns ``(RewardResult, table)``; the table has one row per step:
    ``step, weight, f1, gold, predicted, matched, missed, spurious`` (units shown as text).
    """
    from prouie_lib.formats import get_format
    from prouie_lib.rewards import get_reward
    from prouie_lib.rewards.steps import TASK_STEPS, task_units

    scorer = get_reward(reward, **options)
    task = record["task"]
    if completion is not None:
        if fmt is None:
            raise ValueError("sfr_breakdown: a completion needs its format (fmt=)")
        result = scorer(completion, record, fmt)
        parsed = get_format(fmt).parse(completion, record.get("labels") or {}, task)
        structure = parsed.structure
    elif predicted is not None:
        result = scorer.score_structure(predicted, record, fmt=fmt)
        structure = predicted
    else:
        raise ValueError("sfr_breakdown: pass completion= (with fmt=) or predicted=")
    gold_units = task_units(record, task, where=record.get("id")).units
    pred_units = task_units(structure, task, where="prediction").units
    weights: Mapping[str, float] = {}
    config = getattr(scorer, "config", None)
    if config is not None and hasattr(config, "task_weights"):
        weights = config.task_weights(task)[1]
    rows = []
    for step in TASK_STEPS[task]:
        gold, pred = set(gold_units[step]), set(pred_units[step])
        rows.append({"step": step, "weight": weights.get(step), "f1": result.components.get("f1_" + step),
                     "gold": len(gold), "predicted": len(pred),
                     "matched": _show(gold & pred), "missed": _show(gold - pred), "spurious": _show(pred - gold)})
    return result, pd.DataFrame(rows)


def _show(units: set) -> str:
    def one(unit: Any) -> str:
        return " · ".join(unit) if isinstance(unit, tuple) else str(unit)
    return "; ".join(sorted(one(u) for u in units))


def group_keys(traces: pd.DataFrame) -> list[str]:
    return ["step", "prompt_id"] + (["group"] if "group" in traces and traces["group"].notna().all() else [])


def groups_at(traces: pd.DataFrame, step: int) -> list[tuple[Any, ...]]:
    """The group keys ``(step, prompt_id[, group])`` logged at a step, in file order."""
    keys = group_keys(traces)
    rows = traces[traces["step"] == step]
    return list(dict.fromkeys(tuple(k) for k in rows[keys].itertuples(index=False)))


def group_rows(traces: pd.DataFrame, key: tuple[Any, ...]) -> pd.DataFrame:
    """The completions of one group, by position."""
    mask = np.ones(len(traces), dtype=bool)
    for column, value in zip(group_keys(traces), key, strict=False):
        mask &= (traces[column] == value).to_numpy()
    return traces[mask].sort_values("position")


def group_advantages(rewards: pd.Series, groups: pd.Series) -> pd.Series:
    """GRPO advantages as trl computes them with ``scale_rewards="group"``."""
    grouped = rewards.groupby(groups)
    mean = grouped.transform("mean")
    std = grouped.transform(lambda x: x.std(ddof=1) if len(x) > 1 else 0.0).fillna(0.0)
    return (rewards - mean) / (std + ADVANTAGE_EPS)


def _group_ids(traces: pd.DataFrame) -> pd.Series:
    return pd.Series(list(map(tuple, traces[group_keys(traces)].itertuples(index=False))), index=traces.index)


def replay_frame(traces: pd.DataFrame, reward: Any = "sfr", **options: Any) -> pd.DataFrame:
    """The traces re-scored with ``reward`` (``new_reward``, ``new_advantage``, ``new_components``), plus
    ``old_rank`` / ``new_rank`` (1 = best; ties share the best rank) inside each group."""
    from prouie_lib.rewards import replay_traces

    replayed = replay_traces(trace_lines(traces), reward, **options)
    out = traces.copy()
    out["new_reward"] = [line["new_reward"] for line in replayed]
    out["new_components"] = [line["new_components"] for line in replayed]
    out["new_reward_name"] = [line["new_reward_name"] for line in replayed]
    groups = _group_ids(out)
    out["new_advantage"] = group_advantages(out["new_reward"], groups)
    out["old_rank"] = out["reward"].groupby(groups).rank(ascending=False, method="min")
    out["new_rank"] = out["new_reward"].groupby(groups).rank(ascending=False, method="min")
    return out


def ranking_changes(replayed: pd.DataFrame) -> pd.DataFrame:
    """One row per group: old and new rewards in position order, whether the best completion(s) changed,
    how many advantages changed sign, to or from 0 included (what GRPO would push up or down differently),
    and the Spearman correlation of old and new rewards (NaN when one side has no spread)."""
    rows = []
    for key, group in replayed.groupby(group_keys(replayed), sort=True):
        group = group.sort_values("position")
        old, new = group["reward"].to_numpy(float), group["new_reward"].to_numpy(float)
        best_old = set(np.flatnonzero(np.isclose(old, old.max())))
        best_new = set(np.flatnonzero(np.isclose(new, new.max())))
        old_adv = group["advantage"].to_numpy(float) if "advantage" in group and group["advantage"].notna().all() \
            else group_advantages(group["reward"], pd.Series(0, index=group.index)).to_numpy()
        new_adv = group["new_advantage"].to_numpy(float)
        flips = int(np.sum(np.sign(np.round(old_adv, 6)) != np.sign(np.round(new_adv, 6))))
        spearman = pd.Series(old).rank().corr(pd.Series(new).rank()) if old.std() and new.std() else np.nan
        key = key if isinstance(key, tuple) else (key,)
        rows.append({"step": key[0], "prompt_id": key[1], "task": group["task"].iloc[0], "n": len(group),
                     "old_rewards": np.round(old, 3).tolist(), "new_rewards": np.round(new, 3).tolist(),
                     "argmax_changed": best_old != best_new, "advantage_sign_changes": flips, "spearman": spearman})
    return pd.DataFrame(rows)
