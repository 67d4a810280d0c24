"""Label verbalization: source label names -> the names an LLM reads (``Peop`` -> ``person``).

Readers keep the source names; the loader applies a dataset's :class:`Verbalizer` to every label
of a record (entity/relation/event types, roles, and the ``labels`` schema) unless asked for the
originals (``load_examples(..., verbalize=False)``). A verbalizer is an explicit map, optionally
backed by :func:`humanize` for names not in the map; a name in neither is kept as is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from prouie_lib.schema import Labels, Record, unique

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def humanize(label: str) -> str:
    """``Positive_regulation`` -> ``positive regulation``, ``OtherScientificTerm`` -> ``other scientific term``."""
    words = _CAMEL.sub(" ", label)
    words = re.sub(r"[_\-./:]+", " ", words)
    return " ".join(words.split()).lower()


@dataclass(frozen=True)
class Verbalizer:
    """Maps source label names to verbalized ones; unmapped names pass through (or are humanized)."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    humanize: bool = False

    def __bool__(self) -> bool:
        return bool(self.mapping) or self.humanize

    def __call__(self, label: str) -> str:
        if label in self.mapping:
            return self.mapping[label]
        return humanize(label) if self.humanize else label

    def labels(self, labels: Labels) -> Labels:
        out: Labels = {}
        if "entity_types" in labels:
            out["entity_types"] = unique(self(x) for x in labels["entity_types"])
        if "relation_types" in labels:
            out["relation_types"] = unique(self(x) for x in labels["relation_types"])
        if "event_types" in labels:
            events: dict[str, list[str]] = {}
            for etype, roles in labels["event_types"].items():
                merged = events.setdefault(self(etype), [])
                merged.extend(r for r in unique(self(r) for r in roles) if r not in merged)
            out["event_types"] = events
        return out

    def record(self, record: Record) -> Record:
        """A copy of ``record`` with every label verbalized."""
        if not self:
            return record
        out = dict(record)
        out["labels"] = self.labels(record["labels"])
        out["entities"] = [{**e, "type": self(e["type"])} for e in record["entities"]]
        out["relations"] = [{"head": {**r["head"], "type": self(r["head"]["type"])}, "type": self(r["type"]),
                             "tail": {**r["tail"], "type": self(r["tail"]["type"])}} for r in record["relations"]]
        out["events"] = [{"type": self(ev["type"]), "trigger": dict(ev["trigger"]),
                          "arguments": [{**a, "role": self(a["role"])} for a in ev["arguments"]]}
                         for ev in record["events"]]
        return out

    def check_unambiguous(self, labels: Labels) -> None:
        """Raise when two source names of one kind would become the same verbalized name."""
        for key in ("entity_types", "relation_types"):
            seen: dict[str, str] = {}
            for name in labels.get(key, []):
                other = seen.setdefault(self(name), name)
                if other != name:
                    raise ValueError(f"verbalizer maps both {other!r} and {name!r} to {self(name)!r} ({key})")
