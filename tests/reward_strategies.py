"""Shared hypothesis strategies for the reward tests (no tests here): golds whose spans occur in the text."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from prouie_lib.schema import TASK_FIELD

WORDS = ["Barack", "Obama", "visited", "Paris", "in", "May", "IBM", "hired", "Ann", "Lee", "the",
         "drug", "aspirin", "caused", "rash", "after", "two", "days", "New", "York"]
ENTITY_TYPES = ["person", "location", "organization", "misc"]
RELATION_TYPES = ["work for", "live in", "located in"]
EVENT_TYPES = {"Adverse_event": ["Subject", "Treatment", "Effect"], "Attack": ["Attacker", "Place"]}
LABELS = {"entity_types": ENTITY_TYPES, "relation_types": RELATION_TYPES, "event_types": EVENT_TYPES}


def _span(words: list[str], start: int, length: int) -> dict[str, Any]:
    """A span over words[start:start+length] with exact character offsets into ' '.join(words)."""
    char_start = sum(len(w) + 1 for w in words[:start])
    text = " ".join(words[start:start + length])
    return {"text": text, "start": char_start, "end": char_start + len(text)}


@st.composite
def spans(draw: st.DrawFn, words: list[str]) -> dict[str, Any]:
    start = draw(st.integers(0, len(words) - 1))
    length = draw(st.integers(1, min(3, len(words) - start)))
    return _span(words, start, length)


@st.composite
def gold_records(draw: st.DrawFn, task: str | None = None, *, allow_empty: bool = True,
                 typed_relations: bool = True) -> dict[str, Any]:
    task = task or draw(st.sampled_from(["NER", "RE", "EE"]))
    words = draw(st.lists(st.sampled_from(WORDS), min_size=4, max_size=14))
    text = " ".join(words)
    low = 0 if allow_empty else 1
    entities, relations, events = [], [], []
    if task == "NER":
        for _ in range(draw(st.integers(low, 4))):
            entities.append({**draw(spans(words)), "type": draw(st.sampled_from(ENTITY_TYPES))})
    elif task == "RE":
        for _ in range(draw(st.integers(low, 3))):
            head_type = draw(st.sampled_from(ENTITY_TYPES)) if typed_relations else ""
            tail_type = draw(st.sampled_from(ENTITY_TYPES)) if typed_relations else ""
            head = {**draw(spans(words)), "type": head_type}
            tail = {**draw(spans(words)), "type": tail_type}
            relations.append({"head": head, "type": draw(st.sampled_from(RELATION_TYPES)), "tail": tail})
    else:
        for _ in range(draw(st.integers(low, 2))):
            etype = draw(st.sampled_from(sorted(EVENT_TYPES)))
            args = [{"role": draw(st.sampled_from(EVENT_TYPES[etype])), **draw(spans(words))}
                    for _ in range(draw(st.integers(0, 3)))]
            events.append({"type": etype, "trigger": draw(spans(words)), "arguments": args})
    return {"id": f"test/{task}/{draw(st.integers(0, 10**6))}", "dataset": "test", "task": task,
            "split": "test", "text": text, "labels": copy.deepcopy(LABELS), "entities": entities,
            "relations": relations, "events": events}


def structure(record: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The gold structure as a fresh copy (safe to mutate)."""
    return copy.deepcopy({k: record[k] for k in ("entities", "relations", "events")})


def gold_units(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The task's top-level gold units (entities / relations / events)."""
    key = TASK_FIELD[record["task"]]
    return copy.deepcopy(record[key])


@st.composite
def wrong_units(draw: st.DrawFn, record: dict[str, Any]) -> dict[str, Any]:
    """A random (probably wrong) unit for the record's task, spans drawn from its own text."""
    words = record["text"].split(" ")
    task = record["task"]
    if task == "NER":
        return {**draw(spans(words)), "type": draw(st.sampled_from(ENTITY_TYPES))}
    if task == "RE":
        return {"head": {**draw(spans(words)), "type": draw(st.sampled_from(ENTITY_TYPES))},
                "type": draw(st.sampled_from(RELATION_TYPES)),
                "tail": {**draw(spans(words)), "type": draw(st.sampled_from(ENTITY_TYPES))}}
    etype = draw(st.sampled_from(sorted(EVENT_TYPES)))
    return {"type": etype, "trigger": draw(spans(words)),
            "arguments": [{"role": draw(st.sampled_from(EVENT_TYPES[etype])), **draw(spans(words))}
                          for _ in range(draw(st.integers(0, 2)))]}
