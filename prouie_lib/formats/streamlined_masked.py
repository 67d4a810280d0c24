"""The streamlined parser's default scanner: the reference scanner's primitives (:mod:`.streamlined_tokens`) on
``(characters, mask)`` string pairs, so splitting, searching and stripping run as C-level ``str`` operations.

``characters`` are the unescaped characters of a text and ``mask`` is the same string with every escaped
character replaced by :data:`MASK`: the unescaped specials (and whitespace) of a text are exactly the specials
(and whitespace) of its mask, at the same positions.
"""

from __future__ import annotations

import re

from prouie_lib.formats.base import ParseResult
from prouie_lib.formats.streamlined_syntax import ScanOps, read_outside

Seg = tuple[str, str]  # (unescaped characters, mask with every escaped character as MASK)
MASK = "\x00"

_ESCAPE = re.compile(r"\\(.)?", re.DOTALL)  # ``\x`` (any x, newline too) or a lone final backslash
_PARENS = re.compile(r"[()]")
_SPLIT_SCAN = {sep: re.compile(f"[(){re.escape(sep)}]") for sep in ":|"}


def masked(text: str) -> Seg:
    """``text`` as (characters, mask): the fast path's equivalent of :func:`.streamlined_tokens.tokenize`.

    ``characters`` is ``"".join(c for c, _ in tokenize(text))`` and ``mask`` is the same with every escaped
    token replaced by :data:`MASK`, so the unescaped specials (and unescaped whitespace) of a text are exactly
    the specials (and whitespace) of its mask, at the same positions.
    """
    if "\\" not in text:
        return text, text
    chars = _ESCAPE.sub(lambda m: "\\" if m.group(1) is None else m.group(1), text)
    return chars, _ESCAPE.sub(MASK, text)


def plain(seg: Seg) -> str:
    return seg[0].strip()


def _cuts(mask: str, sep: str) -> list[int] | None:
    """Positions of unescaped ``sep`` outside nested parentheses; None when the mask has no parenthesis."""
    if "(" not in mask and ")" not in mask:
        return None
    cuts = []
    depth = 0
    for m in _SPLIT_SCAN[sep].finditer(mask):
        c = m.group()
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            cuts.append(m.start())
    return cuts


def split(seg: Seg, sep: str) -> list[Seg]:
    """:func:`.streamlined_tokens.split` on a (characters, mask) pair."""
    chars, mask = seg
    cuts = _cuts(mask, sep)
    out: list[Seg] = []
    start = 0
    if cuts is None:  # no parentheses: every unescaped sep is a cut
        for part in mask.split(sep):
            end = start + len(part)
            out.append((chars[start:end], part))
            start = end + 1
        return out
    for cut in cuts:
        out.append((chars[start:cut], mask[start:cut]))
        start = cut + 1
    out.append((chars[start:], mask[start:]))
    return out


def partition(seg: Seg, sep: str) -> tuple[Seg, Seg] | None:
    """:func:`.streamlined_tokens.partition` on a (characters, mask) pair: split at the first cut, the rest kept verbatim."""
    chars, mask = seg
    cuts = _cuts(mask, sep)
    at = mask.find(sep) if cuts is None else (cuts[0] if cuts else -1)
    if at < 0:
        return None
    return (chars[:at], mask[:at]), (chars[at + 1:], mask[at + 1:])


def typed_span(seg: Seg) -> tuple[str, str] | None:
    """:func:`.streamlined_tokens.typed_span` on a (characters, mask) pair."""
    chars, mask = seg
    end = len(mask.rstrip())  # str.rstrip strips exactly the characters for which str.isspace() holds
    if not end or mask[end - 1] != "]":
        return None
    k = mask.rfind("[", 0, end - 1)
    if k < 0:
        return None
    return chars[:k].strip(), chars[k + 1:end - 1].strip()


def scan_units(seg: Seg, result: ParseResult) -> tuple[list[Seg], bool]:
    """:func:`.streamlined_tokens.scan_units` on a (characters, mask) pair."""
    chars, mask = seg
    units: list[Seg] = []
    saw_none = False

    def flush(start: int, end: int) -> None:
        nonlocal saw_none
        saw_none = read_outside(chars[start:end].strip(), result) or saw_none

    outside = 0  # start of the text outside units not yet flushed
    depth = 0
    opened = 0
    for m in _PARENS.finditer(mask):
        at = m.start()
        if m.group() == "(":
            if not depth:
                flush(outside, at)
                opened = at + 1
            depth += 1
        elif depth:
            depth -= 1
            if not depth:
                units.append((chars[opened:at], mask[opened:at]))
                outside = at + 1
        else:
            flush(outside, at)
            result.errors.append("unmatched ')'")
            outside = at + 1
    if depth:
        result.errors.append(f"unit {len(units) + 1} is not closed (output cut off?)")
        result.cut_off = True
        return units, saw_none
    flush(outside, len(chars))
    return units, saw_none


FAST_OPS = ScanOps(masked, scan_units, split, partition, plain, typed_span)
