"""The kit's own unified JSON Lines (``prouie data convert`` output, ``data/sample``).

Records are complete (their own ids, dataset names, tasks and label schemas) and are read with
:func:`prouie_lib.data.io.read_jsonl`, which validates each one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prouie_lib.schema import RECORD_FIELDS

NAME = "unified"
DEFAULT_TASK = None


def sniff(path: Path, first: Any) -> bool:
    return isinstance(first, dict) and {"text", "task", "labels"} <= set(first) and set(first) <= set(RECORD_FIELDS)
