"""BioNLP shared-task standoff (brat-like): a folder of ``<doc>.txt`` + ``<doc>.a1`` + ``<doc>.a2``.

``.a1`` holds the given entities (``T1\\tProtein 0 5\\tBMP-6``), ``.a2`` the gold triggers/entities
(``T30\\tPositive_regulation 85 97\\tupregulation``) and events
(``E2\\tPositive_regulation:T31 Theme:E3 Cause:T6``). A split is one such folder.

Documented choices:

* **Sentences.** A document is split after ``.``, ``!`` or ``?`` followed by whitespace and an
  upper-case letter, digit or opening bracket, and at line breaks; a boundary that would cut an
  annotated span is not used. Sentences are then merged so that every event — trigger and all
  (flattened) arguments — lies inside one unit: the sentences spanned by an event are joined with
  everything between them. Each unit is one record, whitespace-trimmed, offsets relative to it;
  units without events are kept (negative examples). Ids carry the document name.
* **Nested events are flattened.** An argument that is itself an event (``Theme:E3``) is
  represented by that event's trigger span; the role is kept. Roles keep their source names
  (``Theme``, ``Theme2``, ``Cause``, ``Site``, ``CSite``, ``ToLoc``, ...).
* The ``.a1`` entities are used only as argument spans (EE records hold events only).
* A discontinuous span (``start end;start end``) becomes its covering span (counted as omitted).
* Modifications (``M``: Negation/Speculation), equivalences (``*``), relations (``R``),
  normalisations (``N``), attributes (``A``) and notes (``#``) are not represented; each is
  counted as omitted.
* A folder with ``.txt`` files but no ``.a2`` at all has no gold (e.g. GENIA test): reading it
  raises :class:`UnlabeledSplitError` instead of producing records without events.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prouie_lib.data.readers.base import RawRecord, ReadContext, UnlabeledSplitError, read_text

NAME = "bionlp"
DEFAULT_TASK = "EE"
_T_LINE = re.compile(r"^(T\d+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)\t(.*)$")
_E_LINE = re.compile(r"^(E\d+)\t(\S+):(\S+)((?: \S+:\S+)*)\s*$")
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])|\n+")
_OMITTED = {"M": "BioNLP modifications (Negation/Speculation)", "*": "BioNLP equivalence sets",
            "R": "BioNLP relations", "N": "BioNLP normalisations", "A": "BioNLP attributes",
            "#": "BioNLP notes"}


@dataclass
class _Span:
    type: str
    start: int
    end: int
    text: str


def sniff_folder(folder: Path) -> bool:
    return any(folder.glob("*.a1")) or any(folder.glob("*.a2"))


def _parse_annotations(path: Path, doc: str, spans: dict[str, _Span], events: dict, ctx: ReadContext) -> bool:
    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        where = f"line {lineno}"
        if line[0] in _OMITTED:
            ctx.report.omit(_OMITTED[line[0]])
            continue
        if line.startswith("T"):
            match = _T_LINE.match(line)
            if not match:
                raise ctx.error(f"malformed text-bound annotation {line[:80]!r}", where, "T")
            tid, ttype, ranges, text = match.groups()
            pieces = [tuple(map(int, r.split())) for r in ranges.split(";")]
            start, end = pieces[0][0], pieces[-1][1]
            if len(pieces) > 1:
                ctx.report.omit("BioNLP discontinuous spans (covering span used)")
                text = doc[start:end]
            if not 0 <= start < end <= len(doc) or doc[start:end] != text:
                raise ctx.error(f"offsets [{start}, {end}) select {doc[start:end]!r}, not {text!r}",
                                f"{where} ({tid})", f"{tid}.offsets")
            spans[tid] = _Span(ttype, start, end, text)
        elif line.startswith("E"):
            match = _E_LINE.match(line)
            if not match:
                raise ctx.error(f"malformed event annotation {line[:80]!r}", where, "E")
            eid, etype, trigger, rest = match.groups()
            args = [tuple(part.split(":", 1)) for part in rest.split()]
            events[eid] = (etype, trigger, args, where)
        else:
            raise ctx.error(f"unknown annotation line {line[:80]!r}", where, None)
    return True


def _flatten(events: dict, spans: dict[str, _Span], ctx: ReadContext) -> list[tuple[str, _Span, list]]:
    """Each event as (type, trigger span, [(role, span)]), event arguments replaced by their trigger."""

    def trigger_of(eid: str, where: str, field_name: str) -> _Span:
        if eid not in events:
            raise ctx.error(f"unknown event {eid}", where, field_name)
        tid = events[eid][1]
        if tid not in spans:
            raise ctx.error(f"unknown trigger {tid}", events[eid][3], f"{eid}.trigger")
        return spans[tid]

    out = []
    for eid, (etype, _trigger, args, where) in events.items():
        trig = trigger_of(eid, where, f"{eid}.trigger")
        resolved = []
        for role, ref in args:
            field_name = f"{eid}.{role}"
            if ref.startswith("E"):
                resolved.append((role, trigger_of(ref, f"{where} ({eid})", field_name)))
            elif ref in spans:
                resolved.append((role, spans[ref]))
            else:
                raise ctx.error(f"unknown argument {ref}", f"{where} ({eid})", field_name)
        out.append((etype, trig, resolved))
    return out


def split_sentences(doc: str, protected: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``[start, end)`` of each sentence (trimmed); no boundary falls inside a protected span."""
    cuts = []
    for match in _BOUNDARY.finditer(doc):
        if not any(s < match.end() and e > match.start() for s, e in protected):
            cuts.append((match.start(), match.end()))
    bounds, pos = [], 0
    for gap_start, gap_end in cuts + [(len(doc), len(doc))]:
        piece = doc[pos:gap_start]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            bounds.append((pos + lead, pos + len(piece.rstrip())))
        pos = gap_end
    return bounds


def _units(bounds: list[tuple[int, int]], flat: list) -> list[tuple[int, int]]:
    """Merge sentences so every event (trigger + arguments) lies inside one unit."""
    starts = [s for s, _ in bounds]

    def index_of(offset: int) -> int:
        return max(bisect_right(starts, offset) - 1, 0)

    reach = list(range(len(bounds)))  # reach[i]: last sentence that must share a unit with sentence i
    for _etype, trig, args in flat:
        offsets = [trig.start, trig.end - 1] + [o for _, span in args for o in (span.start, span.end - 1)]
        lo, hi = index_of(min(offsets)), index_of(max(offsets))
        reach[lo] = max(reach[lo], hi)
    units, i = [], 0
    while i < len(bounds):
        last = reach[i]
        j = i
        while j < last:  # extend while a sentence inside the unit reaches further
            j += 1
            last = max(last, reach[j])
        units.append((bounds[i][0], bounds[last][1]))
        i = last + 1
    return units


def _missing(ctx: ReadContext, stem: str) -> None:
    raise ctx.error("missing .a2 gold annotation file (other documents of this split have one)", stem, None)


def read(path: Path, ctx: ReadContext) -> Iterator[RawRecord]:
    texts = sorted(path.glob("*.txt"))
    if not any(path.glob("*.a2")):
        raise UnlabeledSplitError(
            f"{path}: {len(texts)} documents but no .a2 gold annotation files (shared-task test sets "
            "withhold them); this split has no gold events to load")
    for txt in texts:
        stem = txt.stem
        doc = read_text(txt)
        spans: dict[str, _Span] = {}
        events: dict = {}
        a1, a2 = txt.with_suffix(".a1"), txt.with_suffix(".a2")
        loaded = True
        for ann in (a1, a2):
            actx = ReadContext(file=str(ann), lenient=ctx.lenient, report=ctx.report)
            if not ann.is_file():
                if ann is a2:
                    actx.attempt(_missing, actx, stem, unit="document")
                    loaded = False
                continue
            ok = actx.attempt(_parse_annotations, ann, doc, spans, events, actx, unit="document")
            loaded = loaded and ok is not None
        if not loaded:
            continue
        actx = ReadContext(file=str(a2), lenient=ctx.lenient, report=ctx.report)
        flat = actx.attempt(_flatten, events, spans, actx, unit="document")
        if flat is None:
            continue
        bounds = split_sentences(doc, [(s.start, s.end) for s in spans.values()])
        for k, (start, end) in enumerate(_units(bounds, flat)):
            unit_events = []
            for etype, trig, args in flat:
                if start <= trig.start < end:
                    unit_events.append({
                        "type": etype,
                        "trigger": {"text": trig.text, "start": trig.start - start, "end": trig.end - start},
                        "arguments": [{"role": role, "text": span.text, "start": span.start - start,
                                       "end": span.end - start} for role, span in args]})
            yield RawRecord(text=doc[start:end], where=f"{stem} sentence {k}", events=unit_events,
                            doc=stem, task="EE")
