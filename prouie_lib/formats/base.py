"""The contract every target format follows: ``render(record) -> str`` and a ``parse`` that never raises.

:class:`BaseFormat` holds the part of ``parse`` every format shares (the guard that turns any exception into a
recorded error, and ``well_formed``); a format implements ``render`` and ``_parse``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from prouie_lib.schema import Labels, Record, Structure, empty_structure

OFF_SCHEMA = "off_schema"  # flag key on a unit (entity, relation, event or argument) outside the schema


@dataclass
class ParseResult:
    """What a parser could read from model text.

    ``structure`` holds the units read (offsets are ``None``: model text has none), *including* units whose
    label is outside the schema: those are kept, flagged with ``"off_schema": True`` (on the entity,
    relation, event, or on the single argument whose role is not a role of its event type), so that every
    scorer can count them against the model (an invented or case-changed label must cost precision).
    ``dropped_labels`` counts these off-schema units (the historical name: they used to be dropped).

    ``well_formed`` is False when any part of the text could not be read (an empty label, or an empty entity
    type in a typed RE format whose schema lists entity types, is malformed; a non-empty label outside the
    schema is not); ``errors`` says what went wrong.

    ``cut_off`` is True when the text ends inside an unfinished unit (a completion cut at the generation
    limit): ``structure`` then holds only the units completed before the cut, and the cut adds exactly one
    entry to ``errors`` (see :attr:`only_cut_off`). ``typed_relations`` says whether the format writes RE
    entity types (False for ``streamlined-notypes``): whether a typed RE step applies follows from the
    format and the gold, never from what the prediction happens to contain.
    """

    structure: Structure = field(default_factory=empty_structure)
    well_formed: bool = True
    errors: list[str] = field(default_factory=list)
    dropped_labels: int = 0
    cut_off: bool = False
    typed_relations: bool = True

    @property
    def off_schema_units(self) -> int:
        """Units kept with a label outside the schema (same number as ``dropped_labels``)."""
        return self.dropped_labels

    @property
    def only_cut_off(self) -> bool:
        """The text was cut inside a unit and nothing else is wrong with it."""
        return self.cut_off and len(self.errors) == 1


class TargetFormat(Protocol):
    name: str

    def render(self, record: Record) -> str:
        """The target text for a record's gold structure under its task and label schema."""

    def parse(self, text: str, labels: Labels, task: str) -> ParseResult:
        """Read a structure back from (possibly broken) model text; never raises."""


class BaseFormat:
    """A target format: subclasses set ``name`` and implement :meth:`render` and :meth:`_parse`.

    ``needs_entity_types`` says whether the format writes RE entity types (it becomes
    :attr:`ParseResult.typed_relations` of every parse).
    """

    name: str
    needs_entity_types: bool = True

    def render(self, record: Record) -> str:
        raise NotImplementedError

    def parse(self, text: str, labels: Labels, task: str) -> ParseResult:
        """Read a structure back from (possibly broken) model text; never raises."""
        result = ParseResult(typed_relations=self.needs_entity_types)
        try:
            self._parse(text if isinstance(text, str) else str(text), labels or {}, task, result)
        except Exception as err:  # noqa: BLE001 - the contract: parse never raises on model text
            result.errors.append(f"internal parser error: {type(err).__name__}: {err}")
        result.well_formed = not result.errors
        return result

    def _parse(self, text: str, labels: Labels, task: str, result: ParseResult) -> None:
        """Fill ``result`` from ``text`` (a string), appending to ``result.errors`` what cannot be read."""
        raise NotImplementedError
