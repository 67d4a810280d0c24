"""SpERT JSON (lavis-nlp/spert, PFN re-hosts): one JSON array per split file.

Elements: ``{"tokens": [str], "entities": [{"type", "start", "end"}], "relations": [{"type",
"head", "tail"}], "orig_id"?}`` with token offsets (end exclusive) and relation head/tail indexing
``entities``. The text is the tokens joined by single spaces. All entities are kept (also those in
no relation, e.g. CoNLL04 ``Other``). ``ner2idx.json`` / ``rel2idx.json`` beside the split files
(label -> id) give the schema in id order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prouie_lib.data.readers.base import (
    RawRecord,
    ReadContext,
    join_tokens,
    read_json_array,
    require,
)
from prouie_lib.schema import Labels

NAME = "spert"
DEFAULT_TASK = "RE"
LABEL_FILES = ("ner2idx.json", "rel2idx.json", "types.json")


def sniff(path: Path, first: Any) -> bool:
    return isinstance(first, dict) and "tokens" in first and "entities" in first


def _int(obj: dict, key: str, ctx: ReadContext, where, field_name: str) -> int:
    return require(obj, key, int, ctx, where, f"{field_name}.{key}")


def _parse(item: Any, index: int, ctx: ReadContext) -> RawRecord:
    tokens = require(item, "tokens", list, ctx, index, "tokens")
    if not tokens or not all(isinstance(t, str) and t for t in tokens):
        raise ctx.error("expected a non-empty list of non-empty strings", index, "tokens")
    text, starts = join_tokens(tokens)
    entities = []
    for i, ent in enumerate(require(item, "entities", list, ctx, index, "entities")):
        name = f"entities[{i}]"
        first, stop = _int(ent, "start", ctx, index, name), _int(ent, "end", ctx, index, name)
        if not 0 <= first < stop <= len(tokens):
            raise ctx.error(f"token span [{first}, {stop}) outside the {len(tokens)} tokens", index, f"{name}.end")
        start, end = starts[first], starts[stop - 1] + len(tokens[stop - 1])
        entities.append({"text": text[start:end], "type": require(ent, "type", str, ctx, index, f"{name}.type"),
                         "start": start, "end": end})
    relations = []
    for i, rel in enumerate(require(item, "relations", list, ctx, index, "relations") if "relations" in item else []):
        name = f"relations[{i}]"
        ends = {}
        for side in ("head", "tail"):
            k = _int(rel, side, ctx, index, name)
            if not 0 <= k < len(entities):
                raise ctx.error(f"entity index {k} out of range ({len(entities)} entities)", index, f"{name}.{side}")
            ends[side] = dict(entities[k])
        relations.append({"head": ends["head"], "type": require(rel, "type", str, ctx, index, f"{name}.type"),
                          "tail": ends["tail"]})
    return RawRecord(text=text, where=index, entities=entities, relations=relations)


def read(path: Path, ctx: ReadContext) -> Iterator[RawRecord]:
    return read_json_array(path, ctx, _parse)


def _ordered(mapping: dict) -> list[str]:
    return [name for name, _ in sorted(mapping.items(), key=lambda kv: kv[1])]


def folder_labels(folder: Path, task: str) -> Labels:
    """Schema from ``ner2idx.json``/``rel2idx.json`` (or SpERT's ``types.json``) when present."""
    labels: Labels = {}
    if (folder / "ner2idx.json").is_file():
        labels["entity_types"] = _ordered(json.loads((folder / "ner2idx.json").read_text(encoding="utf-8")))
    if (folder / "rel2idx.json").is_file():
        labels["relation_types"] = _ordered(json.loads((folder / "rel2idx.json").read_text(encoding="utf-8")))
    if (folder / "types.json").is_file() and not labels:
        types = json.loads((folder / "types.json").read_text(encoding="utf-8"))
        labels["entity_types"] = list(types.get("entities", {}))
        labels["relation_types"] = list(types.get("relations", {}))
    return labels
