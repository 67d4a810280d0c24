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

Two equivalent parser implementations: the reference one works on ``(character, escaped)`` tokens
(:func:`tokenize`); the default fast path works on plain strings — the unescaped characters plus a *mask*
string of the same length in which every escaped character is replaced by ``\x00`` — so splitting, searching
and stripping run as C-level ``str`` operations. ``StreamlinedFormat(fast_path=False)`` selects the reference;
a hypothesis test checks that both give identical results on arbitrary strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from prouie_lib.formats.base import OFF_SCHEMA, ParseResult
from prouie_lib.formats.cleanup import strip_eos
from prouie_lib.formats.units import (
    argument_pairs,
    check_task,
    entity_types,
    event_roles,
    make_entity,
    make_event,
    make_relation,
    relation_types,
    renderable_units,
)
from prouie_lib.schema import Labels, Record

NONE = "None"
SPAN_SPECIALS = frozenset("\\()|[]")
LABEL_SPECIALS = SPAN_SPECIALS | {":"}

Token = tuple[str, bool]  # (character, escaped)
Seg = tuple[str, str]  # fast path: (unescaped characters, mask with every escaped character as MASK)
MASK = "\x00"


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


# ---- fast path: the same primitives on (characters, mask) string pairs ---------------------------------------

_ESCAPE = re.compile(r"\\(.)?", re.DOTALL)  # ``\x`` (any x, newline too) or a lone final backslash
_PARENS = re.compile(r"[()]")
_SPLIT_SCAN = {sep: re.compile(f"[(){re.escape(sep)}]") for sep in ":|"}


def masked(text: str) -> Seg:
    """``text`` as (characters, mask): the fast path's equivalent of :func:`tokenize`.

    ``characters`` is ``"".join(c for c, _ in tokenize(text))`` and ``mask`` is the same with every escaped
    token replaced by :data:`MASK`, so the unescaped specials (and unescaped whitespace) of a text are exactly
    the specials (and whitespace) of its mask, at the same positions.
    """
    if "\\" not in text:
        return text, text
    chars = _ESCAPE.sub(lambda m: "\\" if m.group(1) is None else m.group(1), text)
    return chars, _ESCAPE.sub(MASK, text)


def _seg_plain(seg: Seg) -> str:
    return seg[0].strip()


def _seg_cuts(mask: str, sep: str) -> list[int] | None:
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


def _seg_split(seg: Seg, sep: str) -> list[Seg]:
    """:func:`_split` on a (characters, mask) pair."""
    chars, mask = seg
    cuts = _seg_cuts(mask, sep)
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


def _seg_partition(seg: Seg, sep: str) -> tuple[Seg, Seg] | None:
    """:func:`_partition` on a (characters, mask) pair: split at the first cut, the rest kept verbatim."""
    chars, mask = seg
    cuts = _seg_cuts(mask, sep)
    at = mask.find(sep) if cuts is None else (cuts[0] if cuts else -1)
    if at < 0:
        return None
    return (chars[:at], mask[:at]), (chars[at + 1:], mask[at + 1:])


def _seg_typed_span(seg: Seg) -> tuple[str, str] | None:
    """:func:`_typed_span` on a (characters, mask) pair."""
    chars, mask = seg
    end = len(mask.rstrip())  # str.rstrip strips exactly the characters for which str.isspace() holds
    if not end or mask[end - 1] != "]":
        return None
    k = mask.rfind("[", 0, end - 1)
    if k < 0:
        return None
    return chars[:k].strip(), chars[k + 1:end - 1].strip()


def _seg_scan_units(seg: Seg, result: ParseResult) -> tuple[list[Seg], bool]:
    """:func:`_scan_units` on a (characters, mask) pair."""
    chars, mask = seg
    units: list[Seg] = []
    saw_none = False

    def flush(start: int, end: int) -> None:
        nonlocal saw_none
        chunk = chars[start:end].strip()
        if not chunk:
            return
        if chunk.casefold() == NONE.casefold():
            saw_none = True
        else:
            result.errors.append(f"unexpected text outside units: {chunk[:40]!r}")

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


class _Ops(NamedTuple):
    """The primitives one parser implementation needs; units are token lists or (characters, mask) pairs."""

    segments: Callable  # text -> the whole text as one unit-like sequence
    scan_units: Callable
    split: Callable
    partition: Callable
    plain: Callable
    typed_span: Callable


class StreamlinedFormat:
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

    def parse(self, text: str, labels: Labels, task: str) -> ParseResult:
        result = ParseResult(typed_relations=self.keep_entity_types)
        try:
            self._parse(text if isinstance(text, str) else str(text), labels or {}, task, result)
        except Exception as err:  # noqa: BLE001 - the contract: parse never raises on model text
            result.errors.append(f"internal parser error: {type(err).__name__}: {err}")
        result.well_formed = not result.errors
        return result

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

    def _read_entity(self, ops: _Ops, unit, k: int, allowed: set[str], result: ParseResult) -> None:
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
                entity = make_entity(span, etype)
                if not known:
                    entity[OFF_SCHEMA] = True
                    result.dropped_labels += 1
                result.structure["entities"].append(entity)
            else:
                result.errors.append(f"unit {k + 1}: empty span")

    def _read_relation(self, ops: _Ops, unit, k: int, allowed: set[str], known: set[str],
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
        rel = make_relation(head, head_type, rtype, tail, tail_type)
        if rtype not in allowed or (known and any(t and t not in known for _, t in ends)):
            rel[OFF_SCHEMA] = True
            result.dropped_labels += 1
        result.structure["relations"].append(rel)

    def _read_event(self, ops: _Ops, unit, k: int, roles: dict[str, list[str]], result: ParseResult) -> None:
        fields = ops.split(unit, "|")
        first = ops.partition(fields[0], ":")
        if first is None:
            result.errors.append(f"unit {k + 1}: no ':' between event type and trigger")
            return
        etype, trigger = ops.plain(first[0]), ops.plain(first[1])
        if not etype:
            result.errors.append(f"unit {k + 1}: empty event type")
        if not trigger:
            result.errors.append(f"unit {k + 1}: empty trigger")
            return
        known = etype in roles
        arguments = []
        off_roles = set()
        for field in fields[1:]:
            pair = ops.partition(field, ":")
            if pair is None:
                result.errors.append(f"unit {k + 1}: argument {ops.plain(field)[:30]!r} has no 'role:'")
                continue
            role, span = ops.plain(pair[0]), ops.plain(pair[1])
            if not role:
                result.errors.append(f"unit {k + 1}: empty role")
            if not span:
                result.errors.append(f"unit {k + 1}: empty argument for role {role!r}")
                continue
            if known and role not in roles[etype]:
                off_roles.add(role)
            arguments.append((role, span))
        event = make_event(etype, trigger, arguments)
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


TOKEN_OPS = _Ops(tokenize, _scan_units, _split, _partition, _plain, _typed_span)
FAST_OPS = _Ops(masked, _seg_scan_units, _seg_split, _seg_partition, _seg_plain, _seg_typed_span)
