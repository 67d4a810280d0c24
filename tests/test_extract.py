"""prouie_lib.extraction: grounding, sentence windows, schemas, and the Extractor over a scripted backend."""

from __future__ import annotations

import re

import pytest
from extract_helpers import scripted_extractor

from prouie_lib.extraction import ground_structure, make_schema, summarize
from prouie_lib.extraction.grounding import alignment_counts, grounded_spans
from prouie_lib.extraction.html_page import extraction_page
from prouie_lib.extraction.schemas import ExtractionSchema, dataset_schema, parse_events, schema_from_labels
from prouie_lib.extraction.windows import sentence_spans, windows
from prouie_lib.schema import RecordError, entity, event, relation


def _ner(*spans: tuple[str, str]) -> dict:
    return {"entities": [entity(text, type_) for text, type_ in spans], "relations": [], "events": []}


def _assert_exact_spans_match(text: str, structure: dict, task: str) -> None:
    for span in grounded_spans(structure, task):
        if span["alignment"] == "exact":
            assert text[span["start"]:span["end"]] == span["text"]


# ---------------------------------------------------------------- grounding


def test_exact_spans_point_at_their_text():
    text = "Tim Cook met Angela Merkel in Berlin on Monday."
    out = ground_structure(text, _ner(("Tim Cook", "person"), ("Berlin", "location")), "NER")
    assert [(e["start"], e["end"], e["alignment"]) for e in out["entities"]] == [(0, 8, "exact"), (30, 36, "exact")]
    _assert_exact_spans_match(text, out, "NER")


def test_repeated_spans_take_the_next_free_occurrence_then_the_first():
    text = "Paris is big. Paris is old."
    out = ground_structure(text, _ner(("Paris", "location"), ("Paris", "location"), ("Paris", "city")), "NER")
    assert [(e["start"], e["end"]) for e in out["entities"]] == [(0, 5), (14, 19), (0, 5)]
    assert {e["alignment"] for e in out["entities"]} == {"exact"}


def test_absent_spans_are_kept_with_null_offsets():
    text = "Tim Cook met Angela Merkel."
    out = ground_structure(text, _ner(("Barack Obama", "person"), ("Tim Cook", "person")), "NER")
    missing, found = out["entities"]
    assert missing == {"text": "Barack Obama", "type": "person", "start": None, "end": None, "alignment": "not_found"}
    assert (found["start"], found["alignment"]) == (0, "exact")


def test_fuzzy_spans_carry_the_offsets_of_the_text_as_found():
    text = "Tim  Cook met ANGELA Merkel. Cook 's phone rang."
    out = ground_structure(text, _ner(("tim cook", "person"), ("Angela Merkel", "person"), ("Cook's", "person")), "NER")
    got = [(text[e["start"]:e["end"]], e["alignment"]) for e in out["entities"]]
    assert got == [("Tim  Cook", "fuzzy"), ("ANGELA Merkel", "fuzzy"), ("Cook 's", "fuzzy")]


def test_relations_share_an_entity_mention_and_events_ground_every_argument():
    text = "Tim Cook works for Apple. Tim Cook lives in Palo Alto."
    rels = [relation("Tim Cook", "person", "work for", "Apple", "organization"),
            relation("Tim Cook", "person", "live in", "Palo Alto", "location")]
    out = ground_structure(text, {"entities": [], "relations": rels, "events": []}, "RE")
    assert [r["head"]["start"] for r in out["relations"]] == [0, 0]  # one mention in two relations
    assert rels[0]["head"]["start"] is None  # the input is not changed
    _assert_exact_spans_match(text, out, "RE")
    text = "Rebels bombed Kabul; rebels fled."
    out = ground_structure(text, {"entities": [], "relations": [], "events": [
        event("attack", "bombed", [("attacker", "Rebels"), ("place", "Kabul"), ("target", "the market")])]}, "EE")
    ev = out["events"][0]
    assert (ev["trigger"]["start"], ev["trigger"]["alignment"]) == (7, "exact")
    assert [(a["start"], a["alignment"]) for a in ev["arguments"]] == [(0, "exact"), (14, "exact"), (None, "not_found")]
    assert alignment_counts([{"task": "EE", **out}]) == {"exact": 3, "fuzzy": 0, "not_found": 1}


def test_offset_maps_a_window_back_to_its_text():
    text = "First sentence here. Angela Merkel spoke."
    start = text.index("Angela")
    out = ground_structure(text[start - 1:], _ner(("Angela Merkel", "person")), "NER", offset=start - 1)
    e = out["entities"][0]
    assert text[e["start"]:e["end"]] == "Angela Merkel"


# ---------------------------------------------------------------- sentence windows


def test_sentence_spans_skip_abbreviations_and_initials():
    text = "Mr. Smith went to the U.S. Army base. J. Doe stayed!  Then\nnothing happened."
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["Mr. Smith went to the U.S. Army base.", "J. Doe stayed!", "Then", "nothing happened."]


def test_windows_pack_sentences_and_cut_long_ones_at_whitespace():
    text = "One two. Three four five. " + "x " * 30 + "end."
    spans = windows(text, lambda s, e: e - s <= 26)
    assert all(e - s <= 26 or " " not in text[s:e] for s, e in spans)
    assert [text[s:e] for s, e in spans][:2] == ["One two. Three four five.", "x x x x x x x x x x x x x"]
    assert all(a[1] <= b[0] and not text[a[1]:b[0]].strip() for a, b in zip(spans, spans[1:], strict=False))
    assert windows("short", lambda s, e: True) == [(0, 5)]


# ---------------------------------------------------------------- schemas


def test_schemas_from_names_labels_and_datasets():
    assert parse_events("Attack: attacker, target, place; Injure: victim; Die") == {
        "Attack": ["attacker", "target", "place"], "Injure": ["victim"], "Die": []}
    schema = make_schema(task="re", relations="work for, live in", labels="person,location")
    assert schema == ExtractionSchema("RE", {"relation_types": ["work for", "live in"],
                                             "entity_types": ["person", "location"]})
    assert schema.key() == make_schema(task="RE", relations="work for,live in", labels="person, location").key()
    for bad in ({"task": "ner", "labels": " , "}, {"task": "re", "labels": "person"}, {"task": "ee", "events": ""}):
        with pytest.raises(RecordError, match="empty schema"):
            make_schema(**bad)
    with pytest.raises(ValueError, match="unknown task"):
        make_schema(task="srl", labels="x")
    with pytest.raises(ValueError, match="unknown dataset"):
        make_schema(like="NoSuchSet")
    with pytest.raises(RecordError, match="labels.entity_types"):
        schema_from_labels("NER", {"entity_types": "person"}, where="f.jsonl")
    sample = dataset_schema("sample", "EE")
    assert sample.task == "EE" and sample.labels["event_types"]


def test_conll04_schema_is_the_one_its_records_are_prompted_with():
    from prouie_lib.data import load_examples
    from prouie_lib.data.registry import get_spec

    if not get_spec("CoNLL04").folder().exists():
        pytest.skip("CoNLL04 is not under the data root")
    assert dataset_schema("CoNLL04") == ExtractionSchema("RE", load_examples("CoNLL04", "test", limit=1)[0]["labels"])


# ---------------------------------------------------------------- the Extractor, over a scripted backend


def _people(text: str) -> str:
    names = re.findall(r"Person\d+", text)
    return "(person: " + " | ".join(names) + ")" if names else "None"


def test_long_texts_are_split_into_windows_with_offsets_in_the_whole_text():
    text = " ".join(f"Person{i} visited the old town of City{i} last week." for i in range(40))
    extractor = scripted_extractor(_people, max_prompt_tokens=120)
    schema = make_schema(task="ner", labels="person, location")
    short, long = extractor.extract(["Person7 slept.", text], schema)
    assert len(short["windows"]) == 1 and isinstance(short["completion"], str)
    assert len(long["windows"]) > 1 and len(long["completion"]) == len(long["windows"])
    assert all(extractor.prompt_tokens(text[s:e], schema) <= 120 for s, e in long["windows"])
    assert [e["text"] for e in long["entities"]] == [f"Person{i}" for i in range(40)]
    for e in long["entities"]:
        assert e["alignment"] == "exact" and text[e["start"]:e["end"]] == e["text"]
    stats = summarize([short, long])
    assert stats["split_texts"] == 1 and stats["spans"] == {"exact": 41, "fuzzy": 0, "not_found": 0}
    prompts, groups = extractor.backend.calls[0]
    assert len(set(groups)) == 1 and len(prompts) == stats["windows"]  # one schema: one shared prefix group


def test_unparseable_answers_are_records_and_schemas_group_the_prompts():
    extractor = scripted_extractor(lambda text: "(person: Ada" if "Ada" in text else "garbage ((")
    ner, re_ = make_schema(task="ner", labels="person"), make_schema(task="re", relations="knows")
    records = extractor.extract(["Ada wrote.", "Bob ran.", "   "], [ner, re_, ner], ids=["a", "b", "c"])
    assert [r["id"] for r in records] == ["a", "b", "c"]
    assert [r["well_formed"] for r in records] == [False, False, True]
    assert records[0]["completion"] == "(person: Ada" and records[2]["windows"] == [] and records[2]["completion"] == ""
    _, groups = extractor.backend.calls[0]
    assert groups == [ner.key(), re_.key()]  # the blank text is not sent
    with pytest.raises(ValueError, match="no texts"):
        extractor.extract([], ner)


def test_html_page_highlights_every_found_span_with_its_offsets():
    text = "Tim Cook met Angela Merkel."
    extractor = scripted_extractor(lambda t: "(person: Tim Cook | angela merkel | Barack Obama)")
    [record] = extractor.extract([text], make_schema(task="ner", labels="person"))
    page = extraction_page([record], title="t")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page
    assert re.findall(r'<mark data-status="extracted"[^>]*>([^<]*)</mark>', page) == ["Tim Cook", "Angela Merkel"]
    assert "Not found in the text: <code>Barack Obama</code>" in page
    assert "<td" in page and ">13<" in page and ">fuzzy<" in page
