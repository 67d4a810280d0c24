r"""The *streamlined* target format (stage SA): only what is present, compact, unambiguous.

One parenthesised unit per extracted item, units written back to back; ``None`` when there is nothing::

    NER  (person: Barack Obama)(location: Paris)
    RE   (John [person] | work for | IBM [organization])        keep_entity_types=True (default)
         (John | work for | IBM)                                  "streamlined-notypes"
    EE   (Attack: bombed | attacker: rebels | place: Kabul)
    none None

Grammar (``␣`` optional spaces): an entity is ``(TYPE: SPAN)``; a relation ``(HEAD [TYPE] | RELATION |
TAIL [TYPE])``; an event ``(EVENT TYPE: TRIGGER | ROLE: ARGUMENT | ...)`` with one ``| ROLE: ARGUMENT`` per
argument (a role with two arguments appears twice), arguments in schema role order. Units keep record order;
exact duplicate units (and an event's duplicate arguments) are rendered once.

Escaping rule, which makes the notation unambiguous for any label or span: in every span and label, each of
``\ ( ) | [ ]`` is written with a backslash before it; in labels ``:`` is escaped too. A field's separator is
therefore always the first *unescaped* ``:`` (labels have none), ``|`` splits fields, and an entity type is
the last unescaped ``[...]`` of a head/tail field. Fields are stripped of surrounding whitespace, so a span
with leading/trailing whitespace is not representable (readers never produce one).

Parsing is lenient and never raises: ``\x`` reads as ``x`` for any ``x``; balanced unescaped parentheses
inside a unit read as literal text; surrounding whitespace and end-of-sequence markers are ignored. Anything
else out of grammar — text between units, a cut-off last unit, a unit without its ``:``/``|`` separators, an
empty span, ``None`` next to units, a missing entity type (types mode) — makes the result not well-formed but
keeps every unit that could be read. Units whose label is outside the schema are dropped and counted in
``dropped_labels`` (an RE unit whose entity type is outside a non-empty ``entity_types`` too; an event
argument whose role is not a role of its event type is dropped and counted, its event kept).
"""

from __future__ import annotations

from collections.abc import Sequence

from prouie_lib.formats.base import ParseResult
from prouie_lib.formats.cleanup import strip_eos
from prouie_lib.formats.units import (
    argument_pairs,
    check_task,
    entity_types,
    event_roles,
    make_entity,
    make_event,
    make_relation,
    renderable_units,
    task_labels,
)
from prouie_lib.schema import Labels, Record

NONE = "None"
SPAN_SPECIALS = frozenset("\\()|[]")
LABEL_SPECIALS = SPAN_SPECIALS | {":"}

Token = tuple[str, bool]  # (character, escaped)


def escape_span(text: str) -> str:
    return "".join("\\" + c if c in SPAN_SPECIALS else c for c in text)


def escape_label(text: str) -> str:
    return "".join("\\" + c if c in LABEL_SPECIALS else c for c in text)


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


def _plain(tokens: Sequence[Token]) -> str:
    return "".join(c for c, _ in tokens).strip()


def _split(tokens: Sequence[Token], sep: str) -> list[list[Token]]:
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


def _partition(tokens: Sequence[Token], sep: str) -> tuple[list[Token], list[Token]] | None:
    parts = _split(tokens, sep)
    if len(parts) < 2:
        return None
    rest: list[Token] = []
    for k, part in enumerate(parts[1:]):
        if k:
            rest.append((sep, False))
        rest.extend(part)
    return parts[0], rest


def _typed_span(tokens: Sequence[Token]) -> tuple[str, str] | None:
    """``SPAN [TYPE]`` → (span, type); None when there is no trailing unescaped ``[...]``."""
    toks = list(tokens)
    while toks and not toks[-1][1] and toks[-1][0].isspace():
        toks.pop()
    if not toks or toks[-1] != ("]", False):
        return None
    for k in range(len(toks) - 2, -1, -1):
        if toks[k] == ("[", False):
            return _plain(toks[:k]), _plain(toks[k + 1:-1])
    return None


class StreamlinedFormat:
    """Compact parenthesised units; ``keep_entity_types`` decides whether RE units carry entity types."""

    def __init__(self, keep_entity_types: bool = True) -> None:
        self.keep_entity_types = keep_entity_types
        self.name = "streamlined" if keep_entity_types else "streamlined-notypes"
        self.needs_entity_types = keep_entity_types

    def describe(self, task: str) -> str:
        """One line telling the model what to output."""
        check_task(task)
        if task == "NER":
            unit = "(type: span) for each entity"
        elif task == "RE":
            unit = ("(head [type] | relation | tail [type])" if self.keep_entity_types
                    else "(head | relation | tail)") + " for each relation"
        else:
            unit = "(event type: trigger | role: argument | ...) for each event"
        return f"Answer with {unit}, or {NONE}."

    # ---- render ------------------------------------------------------------------------------------------

    def render(self, record: Record) -> str:
        task = record["task"]
        units = renderable_units(record)
        if not units:
            return NONE
        if task == "NER":
            return "".join(f"({escape_label(e['type'])}: {escape_span(e['text'])})" for e in units)
        if task == "RE":
            return "".join(self._relation(r) for r in units)
        roles = event_roles(record.get("labels") or {})
        return "".join(_render_event(ev, roles[ev["type"]]) for ev in units)

    def _relation(self, rel: dict) -> str:
        head, tail = rel["head"], rel["tail"]
        if self.keep_entity_types:
            h = f"{escape_span(head['text'])} [{escape_label(head.get('type') or '')}]"
            t = f"{escape_span(tail['text'])} [{escape_label(tail.get('type') or '')}]"
        else:
            h, t = escape_span(head["text"]), escape_span(tail["text"])
        return f"({h} | {escape_label(rel['type'])} | {t})"

    # ---- parse -------------------------------------------------------------------------------------------

    def parse(self, text: str, labels: Labels, task: str) -> ParseResult:
        result = ParseResult()
        try:
            self._parse(text if isinstance(text, str) else str(text), labels or {}, task, result)
        except Exception as err:  # noqa: BLE001 - the contract: parse never raises on model text
            result.errors.append(f"internal parser error: {type(err).__name__}: {err}")
        result.well_formed = not result.errors
        return result

    def _parse(self, text: str, labels: Labels, task: str, result: ParseResult) -> None:
        check_task(task)
        units, saw_none = _scan_units(tokenize(strip_eos(text)), result)
        if saw_none and units:
            result.errors.append(f"{NONE!r} next to extracted units")
        if not units and not saw_none and not result.errors:
            result.errors.append(f"empty output (expected units or {NONE!r})")
        allowed = set(task_labels(labels, task))
        for k, unit in enumerate(units):
            if task == "NER":
                self._read_entity(unit, k, allowed, result)
            elif task == "RE":
                self._read_relation(unit, k, allowed, labels, result)
            else:
                self._read_event(unit, k, event_roles(labels), result)

    def _read_entity(self, unit: list[Token], k: int, allowed: set[str], result: ParseResult) -> None:
        parts = _partition(unit, ":")
        if parts is None:
            result.errors.append(f"unit {k + 1}: no ':' between type and span")
            return
        etype, span = _plain(parts[0]), _plain(parts[1])
        if etype not in allowed:
            result.dropped_labels += 1
        elif not span:
            result.errors.append(f"unit {k + 1}: empty span")
        else:
            result.structure["entities"].append(make_entity(span, etype))

    def _read_relation(self, unit: list[Token], k: int, allowed: set[str], labels: Labels,
                       result: ParseResult) -> None:
        fields = _split(unit, "|")
        if len(fields) != 3:
            result.errors.append(f"unit {k + 1}: expected 3 '|'-separated fields, got {len(fields)}")
            return
        rtype = _plain(fields[1])
        ends = []
        for side, toks in (("head", fields[0]), ("tail", fields[2])):
            typed = _typed_span(toks) if self.keep_entity_types else None
            if typed is None:
                if self.keep_entity_types:
                    result.errors.append(f"unit {k + 1}: {side} has no [entity type]")
                typed = (_plain(toks), "")
            if not typed[0]:
                result.errors.append(f"unit {k + 1}: empty {side}")
                return
            ends.append(typed)
        known = entity_types(labels)
        if rtype not in allowed or (known and any(t and t not in known for _, t in ends)):
            result.dropped_labels += 1
            return
        (head, head_type), (tail, tail_type) = ends
        result.structure["relations"].append(make_relation(head, head_type, rtype, tail, tail_type))

    def _read_event(self, unit: list[Token], k: int, roles: dict[str, list[str]], result: ParseResult) -> None:
        fields = _split(unit, "|")
        first = _partition(fields[0], ":")
        if first is None:
            result.errors.append(f"unit {k + 1}: no ':' between event type and trigger")
            return
        etype, trigger = _plain(first[0]), _plain(first[1])
        if etype not in roles:
            result.dropped_labels += 1
            return
        if not trigger:
            result.errors.append(f"unit {k + 1}: empty trigger")
            return
        arguments = []
        for field in fields[1:]:
            pair = _partition(field, ":")
            if pair is None:
                result.errors.append(f"unit {k + 1}: argument {_plain(field)[:30]!r} has no 'role:'")
                continue
            role, span = _plain(pair[0]), _plain(pair[1])
            if role not in roles[etype]:
                result.dropped_labels += 1
            elif not span:
                result.errors.append(f"unit {k + 1}: empty argument for role {role!r}")
            else:
                arguments.append((role, span))
        result.structure["events"].append(make_event(etype, trigger, arguments))


def _render_event(event: dict, roles: list[str]) -> str:
    order = {role: i for i, role in enumerate(roles)}
    pairs = sorted(argument_pairs(event), key=lambda pair: order.get(pair[0], len(order)))
    args = "".join(f" | {escape_label(role)}: {escape_span(text)}" for role, text in pairs)
    return f"({escape_label(event['type'])}: {escape_span(event['trigger']['text'])}{args})"


def _scan_units(tokens: list[Token], result: ParseResult) -> tuple[list[list[Token]], bool]:
    """Top-level units (their inner tokens) and whether a bare ``None`` was seen; junk is reported."""
    units: list[list[Token]] = []
    saw_none = False
    outside: list[Token] = []

    def flush() -> None:
        nonlocal saw_none
        chunk = _plain(outside)
        outside.clear()
        if not chunk:
            return
        if chunk.casefold() == NONE.casefold():
            saw_none = True
        else:
            result.errors.append(f"unexpected text outside units: {chunk[:40]!r}")

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
