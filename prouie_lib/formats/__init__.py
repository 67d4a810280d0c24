"""Target formats: how a record's gold structure becomes target text, and how model text becomes a structure.

``FORMATS`` maps a name to a ready-made format object following :class:`~prouie_lib.formats.base.TargetFormat`
(``render(record) -> str``, ``parse(text, labels, task) -> ParseResult``, plus ``describe(task)``, the one-line
answer-format instruction used in prompts):

- ``complete``: explicit, exhaustive JSON (stage CM) — :mod:`prouie_lib.formats.complete`;
- ``complete-present``: the same JSON with only the labels (and EE roles) that have units;
- ``streamlined``: compact units, RE with entity types (stage SA) — :mod:`prouie_lib.formats.streamlined`;
- ``streamlined-notypes``: the same without RE entity types (to measure what dropping them saves).
"""

from __future__ import annotations

from prouie_lib.formats.base import ParseResult, TargetFormat
from prouie_lib.formats.complete import CompleteFormat
from prouie_lib.formats.streamlined import StreamlinedFormat

FORMATS: dict[str, TargetFormat] = {
    "complete": CompleteFormat(),
    "complete-present": CompleteFormat(exhaustive=False),
    "streamlined": StreamlinedFormat(keep_entity_types=True),
    "streamlined-notypes": StreamlinedFormat(keep_entity_types=False),
}


def get_format(name: str | TargetFormat) -> TargetFormat:
    """The registered format called ``name`` (a format object is returned as is)."""
    if not isinstance(name, str):
        return name
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; known: {sorted(FORMATS)}") from None


__all__ = ["FORMATS", "CompleteFormat", "ParseResult", "StreamlinedFormat", "TargetFormat", "get_format"]
