"""Unified records <-> ``datasets.Dataset`` rows.

Arrow cannot hold the nested fields cleanly (``labels.event_types`` has dataset-specific keys,
offsets may be ``None``), so ``id, dataset, task, split, text`` are plain string columns and
``labels, entities, relations, events`` are JSON-string columns; :func:`from_hf_row` decodes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from prouie_lib.schema import RECORD_FIELDS, Record

if TYPE_CHECKING:
    import datasets

STRING_COLUMNS: tuple[str, ...] = ("id", "dataset", "task", "split", "text")
JSON_COLUMNS: tuple[str, ...] = ("labels", "entities", "relations", "events")


def to_hf_row(record: Record) -> dict[str, str]:
    row = {key: record[key] for key in STRING_COLUMNS}
    row.update({key: json.dumps(record[key], ensure_ascii=False) for key in JSON_COLUMNS})
    return row


def from_hf_row(row: Mapping[str, Any]) -> Record:
    """The unified record of a row made by :func:`to_hf_dataset` (extra columns are ignored)."""
    out = {}
    for key in RECORD_FIELDS:
        value = row[key]
        out[key] = json.loads(value) if key in JSON_COLUMNS and isinstance(value, str) else value
    return out


def to_hf_dataset(records: Iterable[Record]) -> datasets.Dataset:
    """A ``datasets.Dataset`` with one string column per record field (nested fields as JSON)."""
    import datasets

    rows = [to_hf_row(r) for r in records]
    features = datasets.Features({key: datasets.Value("string") for key in RECORD_FIELDS})
    columns = {key: [row[key] for row in rows] for key in RECORD_FIELDS}
    return datasets.Dataset.from_dict(columns, features=features)
