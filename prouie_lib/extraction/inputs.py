"""Texts to extract from: given directly, or read from a file or a stream.

- a ``.jsonl`` file (or stream, ``jsonl=True``): one JSON object per line with a non-empty string ``text``; an
  optional ``id``, ``task`` and ``labels`` (a unified labels object: that text's own schema);
- any other file or stream: one text per line (blank lines skipped; the id is the line number).

Every problem is a :class:`~prouie_lib.schema.RecordError` naming the file, the line and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from prouie_lib.schema import RecordError


@dataclass
class InputText:
    id: str
    text: str
    task: str | None = None
    labels: dict[str, Any] | None = None  # a text's own schema (a .jsonl line's ``labels``)
    line: int | None = None  # where it was read (files and streams)


def from_strings(texts: Sequence[str], *, flag: str = "--text") -> list[InputText]:
    """Texts given one by one (``--text``); an empty one is an error naming its position."""
    out = []
    for n, text in enumerate(texts, start=1):
        if not text.strip():
            raise RecordError("empty text", record=n, field=flag)
        out.append(InputText(str(n), text))
    return out


def read_lines(lines: Iterable[str], *, source: str, jsonl: bool) -> list[InputText]:
    """Texts from the lines of a file or stream named ``source``."""
    out = []
    try:
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            out.append(_json_line(line, n, source) if jsonl else InputText(str(n), line.rstrip("\r\n"), line=n))
    except UnicodeDecodeError as err:
        raise RecordError(f"not UTF-8 text (byte offset {err.start} of a line)", file=source) from None
    if not out:
        raise RecordError("no texts (every line is blank)", file=source)
    return out


def _json_line(line: str, n: int, source: str) -> InputText:
    where = f"line {n}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise RecordError(f"not a JSON object ({err.msg})", file=source, record=where) from None
    if not isinstance(obj, dict):
        raise RecordError("not a JSON object", file=source, record=where)
    text = obj.get("text")
    if text is None:
        raise RecordError("no 'text' field", file=source, record=where, field="text")
    if not isinstance(text, str) or not text.strip():
        raise RecordError("must be a non-empty string", file=source, record=where, field="text")
    task, labels = obj.get("task"), obj.get("labels")
    if task is not None and not isinstance(task, str):
        raise RecordError("must be a string (ner, re or ee)", file=source, record=where, field="task")
    if labels is not None and not isinstance(labels, dict):
        raise RecordError("must be an object like {\"entity_types\": [...]}", file=source, record=where,
                          field="labels")
    rid = obj.get("id")
    return InputText(str(rid) if rid is not None else str(n), text, task, labels, line=n)


def is_jsonl(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".jsonl", ".ndjson")


def read_file(path: str | Path) -> list[InputText]:
    """Texts of a ``.jsonl`` file or of a text file (one per line)."""
    with open(Path(path).expanduser(), encoding="utf-8-sig") as handle:
        return read_lines(handle, source=str(path), jsonl=is_jsonl(path))


def read_stream(stream: IO[str], *, jsonl: bool = False, source: str = "stdin") -> list[InputText]:
    return read_lines(stream, source=source, jsonl=jsonl)
