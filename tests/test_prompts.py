"""Prompts: task, schema in order, answer format, text; schema splitting and merging back."""

from __future__ import annotations

import random

import pytest

from prouie_lib.formats import FORMATS
from prouie_lib.formats.prompts import DEFAULT_SYSTEM, build_messages, merge_structures, split_schema
from prouie_lib.formats.units import restrict_record
from prouie_lib.schema import RecordError, entity, make_record, span

NER = make_record(id="n1", dataset="D", task="NER", split="test", text="Barack Obama visited Paris.",
                  labels={"entity_types": ["person", "location", "organization"]},
                  entities=[entity("Barack Obama", "person"), entity("Paris", "location")])
RE = make_record(id="r1", dataset="D", task="RE", split="test", text="John works for IBM.",
                 labels={"entity_types": ["person", "organization"], "relation_types": ["work for", "kill"]},
                 relations=[{"head": entity("John", "person"), "type": "work for",
                             "tail": entity("IBM", "organization")}])
EE = make_record(id="e1", dataset="D", task="EE", split="test", text="Rebels bombed Kabul.",
                 labels={"event_types": {"Attack": ["attacker", "place"], "Election": []}},
                 events=[{"type": "Attack", "trigger": span("bombed"), "arguments": []}])


def user(record, **kwargs):
    messages = build_messages(record, **kwargs)
    assert messages[-1]["role"] == "user"
    return messages[-1]["content"]


def test_messages_with_and_without_system():
    messages = build_messages(NER)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == DEFAULT_SYSTEM
    assert [m["role"] for m in build_messages(NER, system=None)] == ["user"]
    assert build_messages(NER, system="Be brief.")[0]["content"] == "Be brief."


def test_ner_prompt_states_schema_in_order_format_and_text():
    text = user(NER)
    assert text == ("Extract entities of these types: person, location, organization.\n"
                    "Answer with (type: span | span ...) for each entity type found, or None.\n"
                    "Text: Barack Obama visited Paris.")
    assert "JSON object" in user(NER, fmt="complete")


def test_re_prompt_lists_entity_types_only_when_the_format_writes_them():
    for fmt in ("streamlined", "complete"):
        assert "Entity types: person, organization." in user(RE, fmt=fmt)
    text = user(RE, fmt="streamlined-notypes")
    assert "Entity types" not in text and "(head | relation | tail)" in text
    assert text.startswith("Extract relations of these types: work for, kill.")


def test_ee_prompt_lists_roles():
    assert user(EE).startswith("Extract events of these types (with their roles): Attack (attacker, place); "
                               "Election.")
    assert "(event type: trigger | role: argument | ...)" in user(EE)


def test_prompts_are_short():
    for rec in (NER, RE, EE):
        for fmt in FORMATS:
            words = user(rec, fmt=fmt).split()
            assert len(words) - len(rec["text"].split()) < 45, (rec["task"], fmt)


def test_label_subset_narrows_the_schema():
    text = user(NER, label_subset=["organization", "person"])
    assert text.startswith("Extract entities of these types: organization, person.")
    with pytest.raises(RecordError):
        build_messages(NER, label_subset=["city"])


def test_split_schema_iepile_defaults_and_shuffle():
    big = dict(NER, labels={"entity_types": [f"t{i}" for i in range(14)]}, entities=[])
    chunks = split_schema(big)
    assert [len(c) for c in chunks] == [6, 6, 2]  # IEPile: 6 per instruction for NER
    assert sum(chunks, []) == big["labels"]["entity_types"]
    assert split_schema(RE) == [["work for", "kill"]]  # 4 for other tasks
    assert split_schema(RE, 1) == [["work for"], ["kill"]]
    shuffled = split_schema(big, 5, rng=random.Random(0))
    flat = sum(shuffled, [])
    assert sorted(flat) == sorted(big["labels"]["entity_types"]) and flat != big["labels"]["entity_types"]
    assert split_schema(dict(NER, labels={"entity_types": []})) == [[]]
    with pytest.raises(ValueError):
        split_schema(NER, 0)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_split_render_parse_merge_recovers_the_record(fmt):
    target = FORMATS[fmt]
    parts = []
    for chunk in split_schema(NER, 1):
        sub = restrict_record(NER, chunk)
        parts.append(target.parse(target.render(sub), sub["labels"], "NER").structure)
    merged = merge_structures(parts)
    assert sorted((e["type"], e["text"]) for e in merged["entities"]) == [("location", "Paris"),
                                                                         ("person", "Barack Obama")]
