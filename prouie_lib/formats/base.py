"""The contract every target format follows: ``render(record) -> str`` and a ``parse`` that never raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from prouie_lib.schema import Labels, Record, Structure, empty_structure


@dataclass
class ParseResult:
    """What a parser could read from model text.

    ``structure`` holds the units read (offsets are ``None``: model text has none);
    ``well_formed`` is False when any part of the text could not be read;
    ``errors`` says what went wrong; ``dropped_labels`` counts units whose label is outside
    the schema (they are dropped from ``structure``).
    """

    structure: Structure = field(default_factory=empty_structure)
    well_formed: bool = True
    errors: list[str] = field(default_factory=list)
    dropped_labels: int = 0


class TargetFormat(Protocol):
    name: str

    def render(self, record: Record) -> str:
        """The target text for a record's gold structure under its task and label schema."""

    def parse(self, text: str, labels: Labels, task: str) -> ParseResult:
        """Read a structure back from (possibly broken) model text; never raises."""
