"""What every reader shares: the raw record it yields, the read context, small text helpers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from prouie_lib.data.validation import ValidationReport
from prouie_lib.schema import Entity, Event, Labels, RecordError, Relation

T = TypeVar("T")


class UnlabeledSplitError(ValueError):
    """A split that exists but carries no gold annotations (e.g. a shared-task test set)."""


@dataclass
class RawRecord:
    """One example as a reader sees it, before ids, the label schema and validation are added.

    ``where`` locates it in the source for error messages (an index, or ``"5 (line 31)"``);
    ``doc`` names its source document for document-level formats (it then appears in the id);
    ``task`` is the reader's guess where the format can hold several tasks; ``offered`` holds
    labels the source asks about even when no mention has them (UniNER queries);
    ``entities_from_relations`` asks the loader to fill ``entities`` from the relation arguments
    after validation (formats whose entities exist only inside relations).
    """

    text: str
    where: str | int
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    doc: str | None = None
    task: str | None = None
    offered: Labels | None = None
    entities_from_relations: bool = False


@dataclass
class ReadContext:
    """The file being read, whether bad source records raise or are dropped, and the report."""

    file: str
    lenient: bool = False
    report: ValidationReport = field(default_factory=ValidationReport)

    def error(self, message: str, record: str | int | None, field_name: str | None) -> RecordError:
        return RecordError(message, file=self.file, record=record, field=field_name)

    def attempt(self, parse: Callable[..., T], *args: Any, unit: str = "record") -> T | None:
        """Run ``parse(*args)``; on a RecordError raise (strict) or count a drop and return None (lenient)."""
        try:
            return parse(*args)
        except RecordError as err:
            if not self.lenient:
                raise
            self.report.add("dropped", unit, err)
            return None


def read_text(path: Path) -> str:
    """A text file as UTF-8 (a BOM is dropped), with universal newlines; other bytes raise a RecordError."""
    try:
        with open(path, encoding="utf-8-sig", newline=None) as handle:
            return handle.read()
    except UnicodeDecodeError as err:
        raise RecordError(f"not UTF-8 text (byte {err.object[err.start]:#04x} at offset {err.start})",
                          file=str(path)) from None


def load_json(path: Path, ctx: ReadContext) -> Any:
    """A whole-file JSON document; a syntax error names the line."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise ctx.error(f"invalid JSON: {err.msg} (column {err.colno})", f"line {err.lineno}", "json") from None


def read_json_array(path: Path, ctx: ReadContext,
                    parse: Callable[[Any, int, ReadContext], RawRecord | None]) -> Iterator[RawRecord]:
    """Parse each element of a file holding one JSON array of examples (IE_INSTRUCTIONS, SpERT)."""
    data = load_json(path, ctx)
    if not isinstance(data, list):
        raise ctx.error(f"expected a JSON array of examples, got {type(data).__name__}", None, None)
    for index, item in enumerate(data):
        raw = ctx.attempt(parse, item, index, ctx)
        if raw is not None:
            yield raw


def iter_json_lines(path: Path, ctx: ReadContext) -> Iterator[tuple[int, int, Any]]:
    """``(index, line number, object)`` for each non-blank line; bad JSON raises or is dropped."""
    index = 0
    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        if not line.strip():
            continue

        def parse(line=line, lineno=lineno, index=index):
            try:
                return json.loads(line)
            except json.JSONDecodeError as err:
                raise ctx.error(f"invalid JSON: {err.msg} (column {err.colno})", f"{index} (line {lineno})", "json") from None

        obj = ctx.attempt(parse)
        if obj is not None:
            yield index, lineno, obj
        index += 1


def join_tokens(tokens: list[str]) -> tuple[str, list[int]]:
    """Tokens joined by single spaces, and each token's start offset in that text."""
    starts, pos = [], 0
    for token in tokens:
        starts.append(pos)
        pos += len(token) + 1
    return " ".join(tokens), starts


def token_span(tokens: list[str], starts: list[int], first: int, last: int) -> tuple[int, int]:
    """Character ``[start, end)`` of tokens ``first..last`` (inclusive) in :func:`join_tokens` text."""
    return starts[first], starts[last] + len(tokens[last])


def require(obj: Any, key: str, kind: type | tuple[type, ...], ctx: ReadContext, where, field_name: str) -> Any:
    """``obj[key]`` if present and of type ``kind``, else a RecordError naming the field."""
    if not isinstance(obj, dict):
        raise ctx.error(f"expected an object, got {type(obj).__name__}", where, field_name.rsplit(".", 1)[0] or None)
    if key not in obj:
        raise ctx.error("missing field", where, field_name)
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ctx.error(f"expected {names}, got {type(value).__name__}", where, field_name)
    return value
