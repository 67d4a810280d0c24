"""A JSON reader that keeps what it could read from broken or truncated text (no ``eval``, never raises).

Strict JSON grammar (as :mod:`json`), with three differences useful for model output:

- objects come back as :class:`JsonObject`, a list of ``(key, value)`` pairs, so duplicate keys and their
  order survive;
- on an error or at the end of the text, every open container is closed and returned with the members read
  so far (a member whose value is cut off is left out, except a container value, which is kept partial);
- the result says whether the text was complete, where reading stopped, whether it ran out of text inside
  the value (``cut_off``: a completion cut at the generation limit) and which containers were returned
  partial (``partial``: their ``id()``), so a caller can skip a half-read unit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}
_WS = " \t\n\r"


class JsonObject(list):
    """A JSON object as a list of ``(key, value)`` pairs (duplicates and order kept)."""


@dataclass
class JsonRead:
    value: Any = None
    complete: bool = False  # the value was read in full, without any error
    end: int = 0  # index in the text just after what was read
    errors: list[str] = field(default_factory=list)
    cut_off: bool = False  # reading stopped because the text ended inside the value
    partial: set[int] = field(default_factory=set)  # id() of every container returned incomplete


class _Reader:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.errors: list[str] = []
        self.partial: set[int] = set()

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in _WS:
            self.i += 1

    def fail(self, message: str) -> None:
        where = "end of text" if self.i >= len(self.s) else f"char {self.i} ({self.s[self.i]!r})"
        self.errors.append(f"{message} at {where}")

    def value(self, depth: int = 0) -> tuple[Any, bool]:
        """(value, complete). A cut-off scalar gives (None, False); a cut-off container its partial content."""
        self.ws()
        if self.i >= len(self.s):
            self.fail("expected a value")
            return None, False
        if depth > 200:
            self.fail("nesting too deep")
            return None, False
        c = self.s[self.i]
        if c == "{":
            return self.obj(depth)
        if c == "[":
            return self.arr(depth)
        if c == '"':
            return self.string()
        for word, val in _LITERALS.items():
            if self.s.startswith(word, self.i):
                self.i += len(word)
                return val, True
        match = _NUMBER.match(self.s, self.i)
        if match:
            self.i = match.end()
            text = match.group()
            return (float(text) if any(ch in text for ch in ".eE") else int(text)), True
        self.fail("expected a value")
        return None, False

    def string(self) -> tuple[str | None, bool]:
        try:
            text, end = json.decoder.scanstring(self.s, self.i + 1)
        except (json.JSONDecodeError, ValueError):
            try:  # raw control characters (e.g. a newline) inside the string: read it, but say so
                text, end = json.decoder.scanstring(self.s, self.i + 1, False)
                self.fail("control character in string")
            except (json.JSONDecodeError, ValueError):
                if '"' not in self.s[self.i + 1:]:  # no closing quote anywhere: the text was cut inside it
                    self.i = len(self.s)
                self.fail("unterminated or invalid string")
                self.i = len(self.s)
                return None, False
        self.i = end
        return text, True

    def obj(self, depth: int) -> tuple[JsonObject, bool]:
        self.i += 1
        pairs = JsonObject()
        first = True
        while True:
            self.ws()
            if self.i >= len(self.s):
                self.fail("unclosed object")
                return self._cut(pairs), False
            if self.s[self.i] == "}":
                self.i += 1
                return pairs, True
            if not first:
                if self.s[self.i] != ",":
                    self.fail("expected ',' or '}'")
                    return pairs, False
                self.i += 1
                self.ws()
                if self.i < len(self.s) and self.s[self.i] == "}":
                    self.fail("trailing comma")
                    self.i += 1
                    return pairs, False
            first = False
            self.ws()
            if self.i >= len(self.s) or self.s[self.i] != '"':
                self.fail("expected a string key")
                return self._cut(pairs), False
            key, ok = self.string()
            if not ok:
                return self._cut(pairs), False
            self.ws()
            if self.i >= len(self.s) or self.s[self.i] != ":":
                self.fail("expected ':'")
                return self._cut(pairs), False
            self.i += 1
            val, ok = self.value(depth + 1)
            if ok or isinstance(val, list):  # complete value, or a partial container
                pairs.append((key, val))
            if not ok:
                return self._cut(pairs), False

    def _cut(self, container: list) -> list:
        """Mark a container returned incomplete (its id goes to ``partial``)."""
        self.partial.add(id(container))
        return container

    def arr(self, depth: int) -> tuple[list, bool]:
        self.i += 1
        items: list[Any] = []
        first = True
        while True:
            self.ws()
            if self.i >= len(self.s):
                self.fail("unclosed array")
                return self._cut(items), False
            if self.s[self.i] == "]":
                self.i += 1
                return items, True
            if not first:
                if self.s[self.i] != ",":
                    self.fail("expected ',' or ']'")
                    return items, False
                self.i += 1
                self.ws()
                if self.i < len(self.s) and self.s[self.i] == "]":
                    self.fail("trailing comma")
                    self.i += 1
                    return items, False
            first = False
            val, ok = self.value(depth + 1)
            if ok or isinstance(val, list):
                items.append(val)
            if not ok:
                return self._cut(items), False


def read_json(text: str, start: int = 0) -> JsonRead:
    """Read one JSON value from ``text[start:]`` as far as possible."""
    reader = _Reader(text)
    reader.i = start
    value, complete = reader.value()
    complete = complete and not reader.errors
    cut_off = not complete and reader.i >= len(text) and all(e.endswith("at end of text") for e in reader.errors)
    return JsonRead(value=value, complete=complete, end=reader.i, errors=reader.errors, cut_off=cut_off,
                    partial=reader.partial)


def to_plain(value: Any) -> Any:
    """Convert :class:`JsonObject` pairs back to dicts (last duplicate wins), recursively."""
    if isinstance(value, JsonObject):
        return {key: to_plain(val) for key, val in value}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    return value
