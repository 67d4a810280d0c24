"""The streamlined parser's reference scanner: it works on ``(character, escaped)`` tokens (:func:`tokenize`).

Slow but plain; :mod:`.streamlined_masked` is the default and a hypothesis test checks that both give identical
results on arbitrary strings (``StreamlinedFormat(fast_path=False)`` selects this one).
"""

from __future__ import annotations

from collections.abc import Sequence

from prouie_lib.formats.base import ParseResult
from prouie_lib.formats.streamlined_syntax import ScanOps, read_outside

Token = tuple[str, bool]  # (character, escaped)


def tokenize(text: str) -> list[Token]:
    """Characters with their escape flag; ``\\x`` becomes ``(x, True)``, a lone final backslash stays literal."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            tokens.append((text[i + 1], True))
            i += 2
        else:
            tokens.append((text[i], text[i] == "\\"))
            i += 1
    return tokens


def plain(tokens: Sequence[Token]) -> str:
    return "".join(c for c, _ in tokens).strip()


def split(tokens: Sequence[Token], sep: str) -> list[list[Token]]:
    """Split at unescaped ``sep`` outside nested parentheses."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for c, escaped in tokens:
        if not escaped:
            if c == "(":
                depth += 1
            elif c == ")":
                depth = max(0, depth - 1)
            elif c == sep and depth == 0:
                parts.append([])
                continue
        parts[-1].append((c, escaped))
    return parts


def partition(tokens: Sequence[Token], sep: str) -> tuple[list[Token], list[Token]] | None:
    parts = split(tokens, sep)
    if len(parts) < 2:
        return None
    rest: list[Token] = []
    for k, part in enumerate(parts[1:]):
        if k:
            rest.append((sep, False))
        rest.extend(part)
    return parts[0], rest


def typed_span(tokens: Sequence[Token]) -> tuple[str, str] | None:
    """``SPAN [TYPE]`` → (span, type); None when there is no trailing unescaped ``[...]``."""
    toks = list(tokens)
    while toks and not toks[-1][1] and toks[-1][0].isspace():
        toks.pop()
    if not toks or toks[-1] != ("]", False):
        return None
    for k in range(len(toks) - 2, -1, -1):
        if toks[k] == ("[", False):
            return plain(toks[:k]), plain(toks[k + 1:-1])
    return None


def scan_units(tokens: list[Token], result: ParseResult) -> tuple[list[list[Token]], bool]:
    """Top-level units (their inner tokens) and whether a bare ``None`` was seen; junk is reported."""
    units: list[list[Token]] = []
    saw_none = False
    outside: list[Token] = []

    def flush() -> None:
        nonlocal saw_none
        saw_none = read_outside(plain(outside), result) or saw_none
        outside.clear()

    i = 0
    while i < len(tokens):
        c, escaped = tokens[i]
        if c == "(" and not escaped:
            flush()
            depth, j = 1, i + 1
            while j < len(tokens) and depth:
                cj, ej = tokens[j]
                if not ej and cj == "(":
                    depth += 1
                elif not ej and cj == ")":
                    depth -= 1
                j += 1
            if depth:
                result.errors.append(f"unit {len(units) + 1} is not closed (output cut off?)")
                result.cut_off = True
                return units, saw_none
            units.append(tokens[i + 1:j - 1])
            i = j
        elif c == ")" and not escaped:
            flush()
            result.errors.append("unmatched ')'")
            i += 1
        else:
            outside.append((c, escaped))
            i += 1
    flush()
    return units, saw_none


TOKEN_OPS = ScanOps(tokenize, scan_units, split, partition, plain, typed_span)
