"""Rewards as trl ``GRPOTrainer`` reward functions (trl 1.16 signature).

trl calls each reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns)``
where ``columns`` holds every other dataset column as a list aligned with the completions, plus
``trainer_state``, ``log_extra(column, values)`` and ``log_metric(name, value)``. The DE training
dataset carries the columns ``gold`` (the unified record as a JSON string), ``task``, ``format``
and ``id``. A function returns one float per completion, or ``None`` where it does not apply
(trl turns it into NaN and leaves that function out for that sample).

Logging (when trl passes the hooks): for each component ``c`` of the results, the batch mean goes
to ``log_metric("rewards/<fn>/<c>", mean)`` (next to trl's own ``rewards/<fn>/mean``), and the
per-completion values to ``log_extra("<fn>/<c>", values)`` (the completions table). After each
call, ``fn.last_results`` holds the batch's :class:`RewardResult` (``None`` for skipped rows),
``fn.last_ids`` the ``id`` column and ``fn.last_rows()`` trace-ready dicts (id, task, format,
completion text, reward, components), for the run's reward trace writer.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from prouie_lib.rewards.base import Reward, RewardResult
from prouie_lib.rewards.registry import get_reward
from prouie_lib.rewards.steps import PreparedGold, prepare_gold
from prouie_lib.schema import TASKS, RecordError

_GOLD_JSON_CACHE: OrderedDict[str, PreparedGold] = OrderedDict()
_GOLD_JSON_CACHE_SIZE = 4096
# Names trl itself uses under rewards/<fn>/; a component with such a name gets a prefix.
_TRL_RESERVED = {"mean", "std"}


def gold_from_column(value: Any, *, row: int) -> PreparedGold:
    """A gold column cell (JSON string or dict) → prepared gold; JSON strings are cached by content."""
    if isinstance(value, str):
        hit = _GOLD_JSON_CACHE.get(value)
        if hit is not None:
            return hit
        try:
            record = json.loads(value)
        except json.JSONDecodeError as err:
            raise RecordError(f"not valid JSON ({err})", record=row, field="gold") from err
        prepared = _prepare_row(record, row)
        _GOLD_JSON_CACHE[value] = prepared
        if len(_GOLD_JSON_CACHE) > _GOLD_JSON_CACHE_SIZE:
            _GOLD_JSON_CACHE.popitem(last=False)
        return prepared
    if isinstance(value, dict | PreparedGold):
        return _prepare_row(value, row)
    raise RecordError(f"expected a JSON string or an object, got {type(value).__name__}", record=row,
                      field="gold")


def _prepare_row(record: Any, row: int) -> PreparedGold:
    if not isinstance(record, dict | PreparedGold):
        raise RecordError(f"expected a record object, got {type(record).__name__}", record=row, field="gold")
    try:
        return prepare_gold(record)
    except RecordError as err:
        raise RecordError(f"gold record: {err}", record=row, field="gold") from err


def completion_text(completion: Any) -> str:
    """The text of a completion: a plain string, or the assistant content of a conversational one."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if isinstance(completion, Sequence):
        parts = []
        for message in completion:
            if not isinstance(message, Mapping) or message.get("role", "assistant") != "assistant":
                continue
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, Sequence):  # content blocks: [{"type": "text", "text": ...}]
                parts.extend(b.get("text", "") for b in content if isinstance(b, Mapping) and
                             b.get("type", "text") == "text" and isinstance(b.get("text", ""), str))
        return "".join(parts)
    return ""


class TrlRewardFunction:
    """One trl reward function: scores rows of (some) tasks with a reward; see the module docstring."""

    def __init__(self, reward: Reward, *, name: str, tasks: Sequence[str] | None = None,
                 default_format: str | None = None, log_components: bool = True) -> None:
        self.reward = reward
        self.__name__ = name  # trl logs rewards/<__name__>/mean
        self.tasks = tuple(tasks) if tasks else None
        self.default_format = default_format
        self.log_components = log_components
        self.last_results: list[RewardResult | None] = []
        self.last_ids: list[Any] = []
        self._last_rows: list[dict[str, Any] | None] = []
        self._extra_columns: list[str] = []

    def __repr__(self) -> str:
        return f"<trl reward {self.__name__} ({self.reward.name}, tasks={self.tasks or 'all'})>"

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None,
                 completion_ids: Sequence[Any] | None = None, **columns: Any) -> list[float | None]:
        if completions is None:
            raise TypeError(f"{self.__name__}: trl passes completions=...; got none")
        n = len(completions)
        gold = columns.get("gold")
        if gold is None:
            raise KeyError(f"{self.__name__}: the dataset needs a 'gold' column (the unified record as JSON)")
        task_col = self._column(columns, "task", n)
        fmt_col = self._column(columns, "format", n)
        ids = self._column(columns, "id", n)
        if len(gold) != n:
            raise ValueError(f"{self.__name__}: 'gold' has {len(gold)} rows for {n} completions")
        results: list[RewardResult | None] = []
        rows: list[dict[str, Any] | None] = []
        for row in range(n):
            task = task_col[row] if task_col is not None else None
            rows.append(None)
            if self.tasks is not None and task is not None and task not in self.tasks:
                results.append(None)
                continue
            prepared = gold_from_column(gold[row], row=row)
            if task is not None and task != prepared.task:
                raise RecordError(f"task column says {task!r} but the gold record is {prepared.task!r}",
                                  record=ids[row] if ids is not None else row, field="task")
            if self.tasks is not None and prepared.task not in self.tasks:
                results.append(None)
                continue
            fmt = fmt_col[row] if fmt_col is not None else self.default_format
            if not fmt:
                raise KeyError(f"{self.__name__}: no 'format' column and no default format given")
            text = completion_text(completions[row])
            results.append(self.reward.score(text, prepared, fmt))
            row_id = ids[row] if ids is not None else prepared.record.get("id")
            rows[row] = {"id": row_id, "task": prepared.task, "format": fmt, "completion": text}
        self.last_results = results
        self._last_rows = rows
        self.last_ids = list(ids) if ids is not None else [None] * n
        if self.log_components:
            self._log(results, columns.get("log_metric"), columns.get("log_extra"))
        return [None if r is None else r.total for r in results]

    def last_rows(self) -> list[dict[str, Any] | None]:
        """The last batch, one entry per completion (``None`` where skipped): ``{"id", "task", "format",
        "completion", "reward", "reward_name", "components"}`` — ready for a reward trace line."""
        out: list[dict[str, Any] | None] = []
        for row, result in zip(self._last_rows, self.last_results, strict=True):
            if row is None or result is None:
                out.append(None)
            else:
                out.append({**row, "reward": result.total, "reward_name": self.reward.name,
                            "components": dict(result.components)})
        return out

    def _column(self, columns: Mapping[str, Any], key: str, n: int) -> Sequence[Any] | None:
        values = columns.get(key)
        if values is not None and len(values) != n:
            raise ValueError(f"{self.__name__}: column {key!r} has {len(values)} rows for {n} completions")
        return values

    def _log(self, results: list[RewardResult | None], log_metric: Any, log_extra: Any) -> None:
        scored = [r for r in results if r is not None]
        keys: list[str] = []
        for r in scored:
            keys.extend(k for k in r.components if k not in keys)
        if callable(log_metric):
            for key in keys:
                values = [r.components[key] for r in scored if key in r.components]
                log_metric(f"rewards/{self.__name__}/{self._safe(key)}", sum(values) / len(values))
        if callable(log_extra):
            # Keep every column seen so far: trl's completions table needs equal-length columns.
            self._extra_columns.extend(k for k in keys if k not in self._extra_columns)
            for key in self._extra_columns:
                log_extra(f"{self.__name__}/{key}",
                          [None if r is None else r.components.get(key) for r in results])

    @staticmethod
    def _safe(key: str) -> str:
        return f"component_{key}" if key in _TRL_RESERVED else key


def make_trl_reward_funcs(name_or_fn: str | Reward | Any, *, per_task: bool = False,
                          weights: Mapping[str, Any] | None = None, log_components: bool = True,
                          default_format: str | None = None,
                          tasks: Sequence[str] = TASKS) -> list[TrlRewardFunction]:
    """trl reward functions for a reward (a registered name, a Reward, or a structure-level function).

    ``per_task=True`` gives one function per task (``<name>_ner``, ``<name>_re``, ``<name>_ee``),
    each returning ``None`` for rows of other tasks — pair it with GRPOConfig ``reward_weights``
    (one weight per function) and ``multi_objective_aggregation``. ``weights`` configures the reward
    (SFR: ``{"format": 0.2, "entity_type": 1.0, "floor": -1.0, ...}``). ``default_format`` is used
    when the dataset has no ``format`` column.
    """
    reward = get_reward(name_or_fn, **dict(weights or {}))
    base = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in reward.name)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {unknown}; expected some of {list(TASKS)}")
    if not per_task:
        return [TrlRewardFunction(reward, name=base, default_format=default_format,
                                  log_components=log_components)]
    return [TrlRewardFunction(reward, name=f"{base}_{task.lower()}", tasks=[task],
                              default_format=default_format, log_components=log_components)
            for task in tasks]
