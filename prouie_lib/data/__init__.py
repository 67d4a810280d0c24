"""Data unification: every source format -> validated unified records (see ``prouie_lib.schema``).

Public API::

    load_examples(name_or_path, split, *, data_root=None, lenient=None, limit=None, fmt=None,
                  verbalize=True) -> list[dict]
    load_split(...) -> LoadResult(records, report, spec, split)
    dataset_stats(name_or_path, split=None, ...) -> dict   # the `prouie data stats --json` shape
    read_jsonl(path) / write_jsonl(records, path)
    to_hf_dataset(records) -> datasets.Dataset ; from_hf_row(row) -> dict
    registry.DATASETS / registry.get_spec(name) / registry.data_root()
    validation.validate_record(record, *, file, record_index, lenient=False, report=None)

Importing this package is light (no ``datasets``/``torch``); ``to_hf_dataset`` imports ``datasets``.
"""

from __future__ import annotations

from prouie_lib.data import registry, validation
from prouie_lib.data.hf import from_hf_row, to_hf_dataset, to_hf_row
from prouie_lib.data.io import read_jsonl, write_jsonl
from prouie_lib.data.loading import LoadResult, load_examples, load_split, resolve, split_names
from prouie_lib.data.registry import DATASETS, DatasetSpec, data_root, get_spec
from prouie_lib.data.stats import collect_stats, dataset_stats, format_stats, split_stats
from prouie_lib.data.validation import ValidationReport, validate_record

__all__ = [
    "DATASETS", "DatasetSpec", "LoadResult", "ValidationReport", "collect_stats", "data_root", "dataset_stats",
    "format_stats", "from_hf_row", "get_spec", "load_examples", "load_split", "read_jsonl", "registry",
    "resolve", "split_names", "split_stats", "to_hf_dataset", "to_hf_row", "validate_record", "validation",
    "write_jsonl",
]
