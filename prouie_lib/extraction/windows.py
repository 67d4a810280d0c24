"""Sentence windows: a text too long for the model's prompt budget becomes consecutive windows of whole sentences.

:func:`sentence_spans` cuts a text after ``.``, ``!``, ``?`` or ``…`` (with closing quotes or brackets) followed by
whitespace, and at line breaks, but not after common abbreviations (``Mr.``, ``e.g.``, ``U.S.``) or initials
(``J.``). :func:`windows` packs consecutive sentences into ``(start, end)`` character ranges of the original text
while ``fits(start, end)`` holds; a single sentence that does not fit is cut at whitespace, and a single word
that does not fit is a window of its own. Windows never overlap and keep the text between them out only where
it is whitespace, so offsets found in a window map back by adding its ``start``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Interval = tuple[int, int]

_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n")
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "cf", "no", "fig", "inc",
    "ltd", "co", "corp", "gen", "col", "lt", "sgt", "capt", "gov", "sen", "rep", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "a.m", "p.m",
})


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the ``.`` at ``dot`` ends an abbreviation or an initial rather than a sentence."""
    word = re.search(r"[\w.]*$", text[:dot]).group(0).lower()  # type: ignore[union-attr]
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_spans(text: str) -> list[Interval]:
    """``(start, end)`` of each sentence of ``text``, surrounding whitespace excluded, in order."""
    cuts, start = [], 0
    for match in _END.finditer(text):
        if match.group(0).startswith(".") and _is_abbreviation(text, match.start()):
            continue
        cuts.append((start, match.end()))
        start = match.end()
    cuts.append((start, len(text)))
    spans = []
    for begin, end in cuts:
        piece = text[begin:end]
        if piece.strip():
            left = len(piece) - len(piece.lstrip())
            spans.append((begin + left, begin + len(piece.rstrip())))
    return spans


def _words(text: str, start: int, end: int) -> list[Interval]:
    return [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]


def _pack(pieces: list[Interval], fits: Callable[[int, int], bool]) -> list[Interval]:
    """Consecutive pieces joined while the joined range fits (a piece that does not fit alone stays alone)."""
    out: list[Interval] = []
    for start, end in pieces:
        if out and fits(out[-1][0], end):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def windows(text: str, fits: Callable[[int, int], bool]) -> list[Interval]:
    """Character ranges of ``text`` to extract from one at a time (one range: the whole text when it fits)."""
    if fits(0, len(text)) or not text.strip():
        return [(0, len(text))]
    pieces: list[Interval] = []
    for start, end in sentence_spans(text):
        pieces += [(start, end)] if fits(start, end) else _pack(_words(text, start, end), fits)
    return _pack(pieces, fits)
