"""The streamlined format's notation, shared by the format and its two scanners: ``None``, the escaping rule
(see :mod:`prouie_lib.formats.streamlined`), and the primitives a scanner provides (:class:`ScanOps`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from prouie_lib.formats.base import ParseResult

NONE = "None"
SPAN_SPECIALS = frozenset("\\()|[]")
LABEL_SPECIALS = SPAN_SPECIALS | {":"}


def escape_span(text: str) -> str:
    return "".join("\\" + c if c in SPAN_SPECIALS else c for c in text)


def escape_label(text: str) -> str:
    return "".join("\\" + c if c in LABEL_SPECIALS else c for c in text)


def read_outside(chunk: str, result: ParseResult) -> bool:
    """Text between units (already stripped): True for a bare ``None``; other non-empty text is an error."""
    if not chunk:
        return False
    if chunk.casefold() == NONE.casefold():
        return True
    result.errors.append(f"unexpected text outside units: {chunk[:40]!r}")
    return False


class ScanOps(NamedTuple):
    """The primitives one scanner implementation gives the parser; a unit is a token list
    (:mod:`.streamlined_tokens`) or a (characters, mask) pair (:mod:`.streamlined_masked`)."""

    segments: Callable  # text -> the whole text as one unit-like sequence
    scan_units: Callable  # (whole, result) -> (top-level units, whether a bare None was seen)
    split: Callable  # (unit, sep) -> parts at unescaped sep outside nested parentheses
    partition: Callable  # (unit, sep) -> (before the first cut, the rest) or None
    plain: Callable  # unit -> its characters, stripped
    typed_span: Callable  # unit -> (span, type) of ``SPAN [TYPE]`` or None
