"""CoNLL-style IOB/BIO column files: one token per line, a blank line between sentences.

Columns are tab-separated (or whitespace-separated when a line has no tab); the first column is
the token and the last the tag, so 2- and 3-column files (token, [POS,] tag) and CoNLL-2003's 4
columns all read. ``-DOCSTART-`` lines separate documents and are skipped. Tags are ``O``,
``B-TYPE`` or ``I-TYPE``; both IOB2 (every mention starts with ``B-``) and IOB1 (``B-`` only
between two adjacent mentions of one type) decode with one rule: ``B-X`` always opens a mention,
``I-X`` continues an open ``X`` mention and otherwise opens one. The sentence text is the tokens
joined by single spaces; offsets point into it. A malformed line drops its whole sentence in
lenient mode. A token that is empty or only whitespace (tweet corpora have lines such as ``\tO`` and
`` \tO``) carries no text: strict mode rejects it (the message points to ``--lenient``), lenient mode
skips the token, counts one repair and keeps the sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from prouie_lib.data.readers.base import RawRecord, ReadContext, join_tokens, read_text
from prouie_lib.schema import RecordError

NAME = "bio"
DEFAULT_TASK = "NER"
_TAG = re.compile(r"^(O|[BI]-\S.*)$")


def sniff(path: Path, head: str) -> bool:
    """At least two thirds of the non-blank lines of the head look like ``token <sep> tag``."""
    lines = [line for line in head.split("\n")[:-1] if line.strip()][:50]
    if not lines:
        return False
    good = 0
    for line in lines:
        parts = line.split("\t") if "\t" in line else line.split()
        good += len(parts) >= 2 and (bool(_TAG.match(parts[-1])) or parts[0] == "-DOCSTART-")
    return good >= 2 / 3 * len(lines)  # tolerant, so that a file with a few bad lines still reads (and errs)


def decode(tokens: list[str], tags: list[str]) -> list[dict]:
    """Entities (text, type, char offsets into the space-joined text) from IOB1/IOB2 tags."""
    text, starts = join_tokens(tokens)
    spans: list[list] = []  # [type, first token, last token]
    open_type = None
    for i, tag in enumerate(tags):
        if tag == "O":
            open_type = None
            continue
        prefix, etype = tag[0], tag[2:]
        if prefix == "I" and open_type == etype:
            spans[-1][2] = i
        else:
            spans.append([etype, i, i])
            open_type = etype
    entities = []
    for etype, first, last in spans:
        start, end = starts[first], starts[last] + len(tokens[last])
        entities.append({"text": text[start:end], "type": etype, "start": start, "end": end})
    return entities


def read(path: Path, ctx: ReadContext) -> Iterator[RawRecord]:
    tokens: list[str] = []
    tags: list[str] = []
    first_line, bad, skipped = 0, None, 0
    index = 0

    def flush() -> RawRecord | None:
        nonlocal index, bad
        where = f"{index} (line {first_line})"
        index += 1
        if bad is None and not tokens:  # every token was whitespace (each skip counted as a repair)
            bad = ("no token with text left after skipping whitespace-only tokens", "tokens")
        if bad is not None:
            message, field_name = bad

            def fail():
                raise ctx.error(message, where, field_name)

            ctx.attempt(fail)
            return None
        return RawRecord(text=join_tokens(tokens)[0], where=where, entities=decode(tokens, tags))

    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        parts = line.split("\t") if "\t" in line else line.split()
        if not line.strip() or parts[0] == "-DOCSTART-":
            if tokens or bad is not None or skipped:
                raw = flush()
                if raw is not None:
                    yield raw
            tokens, tags, bad, skipped = [], [], None, 0
            continue
        if not tokens and bad is None and not skipped:
            first_line = lineno
        if bad is not None:
            continue
        position = len(tokens)
        if len(parts) < 2:
            bad = (f"line {lineno}: expected 'token<TAB>tag' (2 or more columns), got {line!r}",
                   f"tokens[{position}].tag")
        elif not _TAG.match(parts[-1]):
            bad = (f"line {lineno}: tag {parts[-1]!r} is not O, B-TYPE or I-TYPE", f"tokens[{position}].tag")
        elif not parts[0].strip():
            message = (f"line {lineno}: empty or whitespace-only token {parts[0]!r} (no text; --lenient skips such "
                       "tokens and counts a repair)")
            if ctx.lenient:
                ctx.report.add("repaired", "token", RecordError(
                    f"line {lineno}: skipped empty or whitespace-only token {parts[0]!r} (tag {parts[-1]})",
                    file=ctx.file, record=f"{index} (line {first_line})", field=f"tokens[{position}].token"))
                skipped += 1
            else:
                bad = (message, f"tokens[{position}].token")
        else:
            tokens.append(parts[0])
            tags.append(parts[-1])
    if tokens or bad is not None or skipped:
        raw = flush()
        if raw is not None:
            yield raw
