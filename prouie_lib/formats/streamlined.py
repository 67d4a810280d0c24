r"""The *streamlined* target format (stage SA): only what is present, compact, unambiguous.

Parenthesised units written back to back; ``None`` when there is nothing::

    NER  (person: Barack Obama | Angela Merkel)(location: Paris)
    RE   (John [person] | work for | IBM [organization])        keep_entity_types=True (default)
         (John | work for | IBM)                                  "streamlined-notypes"
    EE   (Attack: bombed | attacker: rebels | place: Kabul)
    none None

Grammar: NER groups the entities of one type, ``(TYPE: SPAN | SPAN | ...)``, one group per type present, in
order of first appearance (spans in record order; ``(TYPE: SPAN)(TYPE: SPAN)`` reads the same); a relation is
``(HEAD [TYPE] | RELATION | TAIL [TYPE])``; an event ``(EVENT TYPE: TRIGGER | ROLE: ARGUMENT | ...)`` with one
``| ROLE: ARGUMENT`` per argument (a role with two arguments appears twice), arguments in schema role order.
Relations and events keep record order; exact duplicate units (and an event's duplicate arguments) are
rendered once. Grouping NER spans saves 10–25% of the tokens on entity-dense data (the type is not repeated).

Escaping rule, which makes the notation unambiguous for any label or span: in every span and label, each of
``\ ( ) | [ ]`` is written with a backslash before it; in labels ``:`` is escaped too. A field's separator is
therefore always the first *unescaped* ``:`` (labels have none), ``|`` splits fields, and an entity type is
the last unescaped ``[...]`` of a head/tail field. Fields are stripped of surrounding whitespace, so a span
with leading/trailing whitespace is not representable (readers never produce one).

Parsing is lenient and never raises: ``\x`` reads as ``x`` for any ``x``; balanced unescaped parentheses
inside a unit read as literal text; surrounding whitespace and end-of-sequence markers are ignored. Anything
else out of grammar — text between units, a cut-off last unit, a unit without its ``:``/``|`` separators, an
empty span, an empty label or role, ``None`` next to units, a missing entity type or an empty ``[]`` one
(types mode, when the schema lists entity types) — makes the result not well-formed but keeps every unit
that could be read. A cut-off last unit (the text ends inside it) sets ``cut_off`` and is left out.
Units whose label is outside the schema are *kept*, flagged ``"off_schema": True`` and counted in
``dropped_labels``: an entity or event of an unknown type, a relation whose type (or an entity type, against
a non-empty ``entity_types``) is unknown, an argument whose role is not a role of its event type (the
argument is flagged, its event is not). Scorers decide what such units cost.

Two equivalent scanners feed the parser: the reference one works on ``(character, escaped)`` tokens
(:mod:`.streamlined_tokens`); the default fast path works on plain strings — the unescaped characters plus a
*mask* string of the same length in which every escaped character is replaced by ``\x00`` — so splitting,
searching and stripping run as C-level ``str`` operations (:mod:`.streamlined_masked`).
``StreamlinedFormat(fast_path=False)`` selects the reference; a hypothesis test checks that both give identical
results on arbitrary strings. The notation's constants and escaping live in :mod:`.streamlined_syntax`.
"""

from __future__ import annotations

from prouie_lib import schema
from prouie_lib.formats.base import OFF_SCHEMA, BaseFormat, ParseResult
from prouie_lib.formats.cleanup import strip_eos
from prouie_lib.formats.streamlined_masked import FAST_OPS
from prouie_lib.formats.streamlined_syntax import NONE, ScanOps, escape_label, escape_span
from prouie_lib.formats.streamlined_tokens import TOKEN_OPS
from prouie_lib.formats.units import renderable_units
from prouie_lib.schema import (
    Labels,
    Record,
    argument_pairs,
    check_task,
    entity_types,
    event_roles,
    relation_types,
)

__all__ = ["NONE", "StreamlinedFormat", "escape_label", "escape_span"]


class StreamlinedFormat(BaseFormat):
    """Compact parenthesised units; ``keep_entity_types`` decides whether RE units carry entity types."""

    def __init__(self, keep_entity_types: bool = True, fast_path: bool = True) -> None:
        self.keep_entity_types = keep_entity_types
        self.fast_path = fast_path
        self.name = "streamlined" if keep_entity_types else "streamlined-notypes"
        self.needs_entity_types = keep_entity_types

    def describe(self, task: str) -> str:
        """One line telling the model what to output."""
        check_task(task)
        if task == "NER":
            unit = "(type: span | span ...) for each entity type found"
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
            groups: dict[str, list[str]] = {}
            for ent in units:
                groups.setdefault(ent["type"], []).append(escape_span(ent["text"]))
            return "".join(f"({escape_label(etype)}: {' | '.join(spans)})" for etype, spans in groups.items())
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

    def _parse(self, text: str, labels: Labels, task: str, result: ParseResult) -> None:
        check_task(task)
        ops = FAST_OPS if self.fast_path else TOKEN_OPS
        units, saw_none = ops.scan_units(ops.segments(strip_eos(text)), result)
        if saw_none and units:
            result.errors.append(f"{NONE!r} next to extracted units")
        if not units and not saw_none and not result.errors:
            result.errors.append(f"empty output (expected units or {NONE!r})")
        if task == "NER":
            allowed = set(entity_types(labels))
            for k, unit in enumerate(units):
                self._read_entity(ops, unit, k, allowed, result)
        elif task == "RE":
            allowed, known = set(relation_types(labels)), set(entity_types(labels))
            for k, unit in enumerate(units):
                self._read_relation(ops, unit, k, allowed, known, result)
        else:
            roles = event_roles(labels)
            for k, unit in enumerate(units):
                self._read_event(ops, unit, k, roles, result)

    def _read_entity(self, ops: ScanOps, unit, k: int, allowed: set[str], result: ParseResult) -> None:
        parts = ops.partition(unit, ":")
        if parts is None:
            result.errors.append(f"unit {k + 1}: no ':' between type and span")
            return
        etype = ops.plain(parts[0])
        spans = [ops.plain(field) for field in ops.split(parts[1], "|")]
        if not etype:
            result.errors.append(f"unit {k + 1}: empty entity type")
        known = etype in allowed
        for span in spans:
            if span:
                entity = schema.entity(span, etype)
                if not known:
                    entity[OFF_SCHEMA] = True
                    result.dropped_labels += 1
                result.structure["entities"].append(entity)
            else:
                result.errors.append(f"unit {k + 1}: empty span")

    def _read_relation(self, ops: ScanOps, unit, k: int, allowed: set[str], known: set[str],
                       result: ParseResult) -> None:
        fields = ops.split(unit, "|")
        if len(fields) != 3:
            result.errors.append(f"unit {k + 1}: expected 3 '|'-separated fields, got {len(fields)}")
            return
        rtype = ops.plain(fields[1])
        if not rtype:
            result.errors.append(f"unit {k + 1}: empty relation type")
        ends = []
        for side, toks in (("head", fields[0]), ("tail", fields[2])):
            typed = ops.typed_span(toks) if self.keep_entity_types else None
            if typed is None:
                if self.keep_entity_types:
                    result.errors.append(f"unit {k + 1}: {side} has no [entity type]")
                typed = (ops.plain(toks), "")
            elif known and not typed[1]:
                result.errors.append(f"unit {k + 1}: {side} has an empty [entity type]")
            if not typed[0]:
                result.errors.append(f"unit {k + 1}: empty {side}")
                return
            ends.append(typed)
        (head, head_type), (tail, tail_type) = ends
        rel = schema.relation(head, head_type, rtype, tail, tail_type)
        if rtype not in allowed or (known and any(t and t not in known for _, t in ends)):
            rel[OFF_SCHEMA] = True
            result.dropped_labels += 1
        result.structure["relations"].append(rel)

    def _read_event(self, ops: ScanOps, unit, k: int, roles: dict[str, list[str]], result: ParseResult) -> None:
        fields = ops.split(unit, "|")
        first = _key_value(ops, fields[0], result, f"unit {k + 1}: no ':' between event type and trigger",
                           f"unit {k + 1}: empty event type", f"unit {k + 1}: empty trigger")
        if first is None:
            return
        etype, trigger = first
        known = etype in roles
        arguments = []
        off_roles = set()
        for field in fields[1:]:
            pair = _key_value(ops, field, result, f"unit {k + 1}: argument {ops.plain(field)[:30]!r} has no 'role:'",
                              f"unit {k + 1}: empty role", f"unit {k + 1}: empty argument for role {{key!r}}")
            if pair is None:
                continue
            role, span = pair
            if known and role not in roles[etype]:
                off_roles.add(role)
            arguments.append((role, span))
        event = schema.event(etype, trigger, arguments)
        if not known:
            event[OFF_SCHEMA] = True
            result.dropped_labels += 1
        for arg in event["arguments"]:
            if arg["role"] in off_roles:
                arg[OFF_SCHEMA] = True
                result.dropped_labels += 1
        result.structure["events"].append(event)


def _render_event(event: dict, roles: list[str]) -> str:
    order = {role: i for i, role in enumerate(roles)}
    pairs = sorted(argument_pairs(event), key=lambda pair: order.get(pair[0], len(order)))
    args = "".join(f" | {escape_label(role)}: {escape_span(text)}" for role, text in pairs)
    return f"({escape_label(event['type'])}: {escape_span(event['trigger']['text'])}{args})"


def _key_value(ops: ScanOps, field, result: ParseResult, no_colon: str, empty_key: str,
               empty_value: str) -> tuple[str, str] | None:
    """``key: value`` of one field, each plain; an error for what is missing (``{key!r}`` in ``empty_value`` names
    the key). None (skip the field) without a colon or a value; an empty key is reported but kept."""
    pair = ops.partition(field, ":")
    if pair is None:
        result.errors.append(no_colon)
        return None
    key, value = ops.plain(pair[0]), ops.plain(pair[1])
    if not key:
        result.errors.append(empty_key)
    if not value:
        result.errors.append(empty_value.format(key=key))
        return None
    return key, value
