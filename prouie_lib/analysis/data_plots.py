"""Figures for dataset exploration (notebook 01): label distribution, text lengths, annotation density.

Each returns a :class:`matplotlib.figure.Figure` built without pyplot (or draws on the ``ax`` it is given);
show it with :func:`prouie_lib.analysis.plots.show_figure`. The tables beside them (dataset statistics,
validation issues) are in :mod:`prouie_lib.analysis.tables`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from prouie_lib.schema import TASK_FIELD, Record


def _new_axes(size: tuple[float, float]) -> Axes:
    return Figure(figsize=size).add_subplot()


def label_distribution(stats: Mapping[str, Any], ax: Axes | None = None, top: int = 25) -> Figure:
    """Horizontal bars of label counts per split for one dataset's stats (the ``top`` most frequent)."""
    splits = list(stats["splits"])
    totals: dict[str, int] = {}
    for split in splits:
        for label, n in stats["splits"][split]["labels"].items():
            totals[label] = totals.get(label, 0) + n
    labels = sorted(totals, key=lambda k: -totals[k])[:top][::-1]
    if ax is None:
        ax = _new_axes((7, 0.3 * len(labels) + 1.2))
    height = 0.8 / max(len(splits), 1)
    for i, split in enumerate(splits):
        counts = [stats["splits"][split]["labels"].get(label, 0) for label in labels]
        ax.barh([y + i * height for y in range(len(labels))], counts, height=height, label=split)
    ax.set_yticks([y + 0.4 - height / 2 for y in range(len(labels))], labels)
    ax.set_xlabel("count")
    ax.set_title(f"{stats['dataset']} ({stats['task']}): label distribution")
    ax.legend()
    ax.figure.tight_layout()
    return ax.figure


def text_lengths(records_by_name: Mapping[str, Sequence[Record]], ax: Axes | None = None) -> Figure:
    """Text length (whitespace tokens) per dataset as horizontal box plots (whiskers: 5th-95th percentile)."""
    names = list(records_by_name)
    if ax is None:
        ax = _new_axes((7, 0.45 * len(names) + 1.2))
    lengths = [[len(r["text"].split()) for r in records_by_name[name]] or [0] for name in names]
    ax.boxplot(lengths[::-1], vert=False, whis=(5, 95), showfliers=False, tick_labels=names[::-1])
    ax.set_xlabel("text length (tokens)")
    ax.set_title("text lengths")
    ax.figure.tight_layout()
    return ax.figure


def units_per_example(record: Record) -> int:
    """Annotated units of one example: events for EE, relations for RE, entities for NER."""
    return len(record[TASK_FIELD[record["task"]]])


def mentions_per_example(records_by_name: Mapping[str, Sequence[Record]], ax: Axes | None = None,
                         max_count: int = 8) -> Figure:
    """Share of examples with 0, 1, ... entities (NER), relations (RE) or events (EE), per dataset."""
    if ax is None:
        ax = _new_axes((7, 3.5))
    names = list(records_by_name)
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        records = records_by_name[name]
        counts = [0] * (max_count + 1)
        for record in records:
            counts[min(units_per_example(record), max_count)] += 1
        share = [c / max(len(records), 1) for c in counts]
        ax.bar([x + i * width for x in range(max_count + 1)], share, width=width, label=name)
    ax.set_xticks(range(max_count + 1), [str(x) for x in range(max_count)] + [f"{max_count}+"])
    ax.set_xlabel("units per example (NER: entities, RE: relations, EE: events)")
    ax.set_ylabel("share of examples")
    ax.set_title("annotation density")
    ax.legend(fontsize="small")
    ax.figure.tight_layout()
    return ax.figure
