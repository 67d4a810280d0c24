"""Unified records on disk: JSON Lines, one record per line, fields in ``RECORD_FIELDS`` order."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prouie_lib.data.validation import ValidationReport, validate_record
from prouie_lib.schema import RECORD_FIELDS, Record, RecordError


def ordered(record: dict[str, Any]) -> Record:
    """The record with its fields in canonical order (unknown fields kept at the end)."""
    out = {key: record[key] for key in RECORD_FIELDS if key in record}
    out.update({key: value for key, value in record.items() if key not in out})
    return out


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file; bytes that are not UTF-8 raise a RecordError naming the file."""
    number = 0
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                yield number, line
    except UnicodeDecodeError as err:
        raise RecordError(f"not UTF-8 text (byte {err.object[err.start]:#04x}); is it the right file?",
                          file=str(path), record=f"line {number + 1}") from None


def iter_json_objects(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line of any JSON Lines file (predictions, traces, logs).

    A line that is not valid JSON or not an object raises a RecordError naming the file and the line.
    """
    path = Path(path)
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise RecordError(f"invalid JSON: {err.msg}", file=str(path), record=f"line {number}") from None
        if not isinstance(value, dict):
            raise RecordError(f"expected a JSON object, got {type(value).__name__}", file=str(path),
                              record=f"line {number}")
        yield number, value


def read_json_objects(path: str | Path) -> list[dict[str, Any]]:
    """Every object of a JSON Lines file (:func:`iter_json_objects` without the line numbers)."""
    return [value for _, value in iter_json_objects(path)]


def read_jsonl(path: str | Path, *, lenient: bool = False, report: ValidationReport | None = None,
               limit: int | None = None) -> list[Record]:
    """Read and validate unified records.

    Each error names the file, the record (``index (line n)``) and the field. In lenient mode bad
    lines and records are dropped or repaired and counted in ``report``.
    """
    path = Path(path)
    report = report if report is not None else ValidationReport()
    records: list[Record] = []
    index = 0
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        where = f"{index} (line {lineno})"
        index += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            error = RecordError(f"invalid JSON: {err.msg} (column {err.colno})", file=str(path), record=where,
                                field="json")
            if not lenient:
                raise error from None
            report.add("dropped", "record", error)
            continue
        record = validate_record(obj, file=str(path), record_index=where, lenient=lenient, report=report)
        if record is not None:
            records.append(ordered(record))
            if limit is not None and len(records) >= limit:
                break
    return records


def write_jsonl(records: Iterable[Record], path: str | Path) -> int:
    """Write records (fields in canonical order, UTF-8, one per line); returns the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(ordered(record), ensure_ascii=False) + "\n")
            n += 1
    return n
