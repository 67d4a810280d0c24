"""Re-score a run's predictions under every evaluation protocol (``prouie``, ``instructuie``, ``iepile``, ``uie``),
so its numbers can be set beside published tables that used another evaluator."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from prouie_lib import rundir
from prouie_lib.analysis.loaders import SCORE_COLUMNS, gold_path, load_gold, scores_rows
from prouie_lib.analysis.run_files import check_run_dir, list_stages
from prouie_lib.data.io import iter_json_objects


def protocol_names() -> list[str]:
    from prouie_lib.evaluation.protocols import PROTOCOLS

    return list(PROTOCOLS)


def rescore_run(run_dir: str | Path, protocols: Sequence[str] | None = None, *,
                stages: Sequence[str] | None = None, split: str | None = None) -> pd.DataFrame:
    """Scores of every stage's ``predictions.jsonl`` under each protocol (the table of ``load_scores``)."""
    from prouie_lib.evaluation.score import score_predictions

    run_dir = check_run_dir(run_dir)
    gold = list(load_gold(run_dir, split).values())
    source = str(gold_path(run_dir, split))
    rows = []
    for stage in stages or list_stages(run_dir):
        path = run_dir / stage / rundir.PREDICTIONS
        if not path.exists():
            continue
        lines = [line for _, line in iter_json_objects(path)]
        for protocol in protocols or protocol_names():
            scores = score_predictions(gold, lines, protocol, gold_source=source, pred_source=str(path))
            rows += scores_rows(scores, stage, source=str(path))
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def protocol_table(scores: pd.DataFrame, stage: str) -> pd.DataFrame:
    """(dataset, metric) × protocol F1 of one stage, datasets first and the macro rows last."""
    rows = scores[scores["stage"] == stage]
    if rows.empty:
        raise ValueError(f"no scores for stage {stage!r}; have {sorted(scores['stage'].unique())}")
    table = rows.pivot_table(index=["dataset", "metric"], columns="protocol", values="f1", aggfunc="first",
                             sort=False)
    return table[[p for p in dict.fromkeys(rows["protocol"]) if p in table.columns]]
