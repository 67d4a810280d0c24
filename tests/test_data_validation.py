"""Validation: every broken fixture fails with file + record + field; lenient mode repairs/drops and counts."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from prouie_lib.data import load_split, validate_record
from prouie_lib.data.validation import ValidationReport
from prouie_lib.schema import RecordError

BROKEN = Path(__file__).parent / "fixtures" / "broken"

# fixture -> (file named in the error, record, field, lenient: (records kept, repairs, drops))
CASES = {
    "ie_instructions_offset_mismatch.json": (None, "1", "entities[0].start", (2, 1, 0)),
    "ie_instructions_bad_pos.json": (None, "0", "entities[0].pos", (0, 0, 1)),
    "ie_instructions_empty_sentence.json": (None, "1", "text", (1, 0, 1)),
    "unified_label_outside_schema.jsonl": (None, "1 (line 2)", "entities[1].type", (2, 0, 1)),
    "unified_empty_text.jsonl": (None, "1 (line 2)", "text", (1, 0, 1)),
    "unified_missing_field.jsonl": (None, "1 (line 2)", "labels", (1, 0, 1)),
    "unified_malformed_line.jsonl": (None, "1 (line 2)", "json", (1, 0, 1)),
    "unified_task_mismatch.jsonl": (None, "1 (line 2)", "relations", (1, 0, 1)),
    "unified_role_outside_schema.jsonl": (None, "0 (line 1)", "events[0].arguments[1].role", (1, 0, 1)),
    "bio_bad_tag.tsv": (None, "1 (line 5)", "tokens[2].tag", (2, 0, 1)),
    "bio_missing_column.tsv": (None, "1 (line 4)", "tokens[1].tag", (1, 0, 1)),
    "spert_bad_relation_index.json": (None, "0", "relations[0].tail", (0, 0, 1)),
    "spert_entity_outside_tokens.json": (None, "1", "entities[1].end", (1, 0, 1)),
    "dygie_relation_not_entity.json": (None, "0 (document X01, sentence 0)", "relations[0][0].tail", (0, 0, 1)),
    "semeval_missing_tag.txt": (None, "1 (line 5)", "text", (1, 0, 1)),
    "semeval_no_direction.txt": (None, "0 (line 1)", "relation", (0, 0, 1)),
    "kbp_empty_mention.txt": (None, "1 (line 5)", "entities[0].text", (2, 0, 2)),
    "phee_offset_mismatch.json": (None, "0 (line 1)", "events[0].arguments[2].start", (1, 1, 0)),
    "phee_missing_trigger.json": (None, "1 (line 2)", "annotations[0].events[0].Trigger", (1, 0, 1)),
    "uniner_bad_answer.json": (None, "2", "conversations[3].value", (1, 0, 1)),
    "uniner_conflict.json": (None, "2", "conversations", (1, 0, 1)),
    "bionlp_unknown_reference": ("bionlp_unknown_reference/doc1.a2", "line 3 (E2)", "E2.Cause", (0, 0, 1)),
    "bionlp_offset_mismatch": ("bionlp_offset_mismatch/doc1.a2", "line 1 (T4)", "T4.offsets", (0, 0, 1)),
}


def test_every_fixture_has_a_case():
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_fixture_error_names_file_record_field(name):
    file, record, field, _ = CASES[name]
    with pytest.raises(RecordError) as info:
        load_split(str(BROKEN / name), "test", lenient=False)
    err = info.value
    expected_file = str(BROKEN / (file or name))
    assert err.file == expected_file
    assert str(err.record) == record
    assert err.field == field
    message = str(err)
    assert message.startswith(f"{expected_file}: record {record}: field {field!r}: ")
    assert err.reason  # says what is wrong


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_fixture_lenient_counts_repairs_and_drops(name):
    kept, repairs, drops = CASES[name][3]
    result = load_split(str(BROKEN / name), "test", lenient=True)
    assert (len(result.records), result.report.repairs, result.report.drops) == (kept, repairs, drops)
    assert len(result.report.issues) == repairs + drops
    for issue in result.report.issues:
        assert issue.file and issue.record is not None and issue.field
    for record in result.records:  # what survives is valid
        validate_record(record, file="check", record_index=record["id"])


def test_lenient_relocation_moves_the_span_to_the_unique_occurrence():
    result = load_split(str(BROKEN / "ie_instructions_offset_mismatch.json"), "test", lenient=True)
    ent = result.records[1]["entities"][0]
    assert (ent["text"], ent["start"], ent["end"]) == ("ibuprofen", 15, 24)
    assert result.records[1]["text"][15:24] == "ibuprofen"
    assert result.report.by_kind == {"repaired span": 1}


# ---------------------------------------------------------------------------------------------
# validate_record directly


def _re_record(text: str, relations: list[dict]) -> dict:
    return {"id": "t/0", "dataset": "t", "task": "RE", "split": "test", "text": text,
            "labels": {"entity_types": ["person", "location"], "relation_types": ["live in"]},
            "entities": [], "relations": relations, "events": []}


def _ent(text, type_, start):
    return {"text": text, "type": type_, "start": start, "end": start + len(text)}


def test_valid_record_is_returned_unchanged():
    rec = _re_record("Tal lives in Israel .", [{"head": _ent("Tal", "person", 0), "type": "live in",
                                                 "tail": _ent("Israel", "location", 13)}])
    assert validate_record(rec, file="f", record_index=0) is rec


def test_duplicated_relations_get_one_occurrence_each():
    # IE_INSTRUCTIONS CoNLL04 dev/101: two "Israel" mentions, both relations point at "[1, 7)" (in "Yisrael").
    text = "Yisrael Tal , one of the strategists in Israel , says Israel will win ."
    bad_tail = {"text": "Israel", "type": "location", "start": 1, "end": 7}
    rel = {"head": _ent("Yisrael Tal", "person", 0), "type": "live in", "tail": bad_tail}
    rec = _re_record(text, [copy.deepcopy(rel), copy.deepcopy(rel)])
    with pytest.raises(RecordError, match=r"field 'relations\[0\]\.tail\.start'"):
        validate_record(rec, file="f", record_index=3)
    report = ValidationReport()
    fixed = validate_record(rec, file="f", record_index=3, lenient=True, report=report)
    starts = [r["tail"]["start"] for r in fixed["relations"]]
    assert starts == [text.index(" Israel ") + 1, text.rindex(" Israel ") + 1]
    assert all(text[r["tail"]["start"]:r["tail"]["end"]] == "Israel" for r in fixed["relations"])
    assert (report.repairs, report.drops) == (2, 0)
    assert rec["relations"][0]["tail"]["start"] == 1  # the input is not mutated


def test_ambiguous_relocation_drops_the_unit():
    text = "Israel and Israel ."
    rel = {"head": _ent("Tal", "person", 0), "type": "live in", "tail": _ent("Israel", "location", 0)}
    rec = _re_record("Tal met Israel and Israel .", [rel])
    rec["text"] = "Tal met " + text
    report = ValidationReport()
    fixed = validate_record(rec, file="f", record_index=0, lenient=True, report=report)
    assert fixed["relations"] == []
    assert (report.repairs, report.drops) == (0, 1)
    assert report.issues[0].field == "relations[0].tail.start"


def test_word_boundaries_matter_for_relocation():
    # "GE" occurs inside "manager" (case-insensitively) and once as a word: only the word counts.
    text = "the manager of the GE plant"
    rec = _re_record(text, [{"head": _ent("manager", "person", 4), "type": "live in",
                             "tail": {"text": "GE", "type": "location", "start": 7, "end": 9}}])
    fixed = validate_record(rec, file="f", record_index=0, lenient=True)
    assert fixed["relations"][0]["tail"]["start"] == text.index("GE")


def test_offsets_none_must_occur_in_text():
    rec = _re_record("Tal lives in Israel .", [])
    rec["task"], rec["labels"] = "NER", {"entity_types": ["person"]}
    rec["entities"] = [{"text": "Tal", "type": "person", "start": None, "end": None}]
    assert validate_record(rec) is rec
    rec["entities"] = [{"text": "Dan", "type": "person", "start": None, "end": None}]
    with pytest.raises(RecordError, match="does not occur"):
        validate_record(rec, file="f", record_index=1)


@pytest.mark.parametrize("mutate, field", [
    (lambda r: r.update(task="XX"), "task"),
    (lambda r: r.pop("events"), "events"),
    (lambda r: r.update(extra=1), "extra"),
    (lambda r: r.update(labels={"entity_types": ["person"]}), "labels.relation_types"),
    (lambda r: r.update(labels={**r["labels"], "bogus": []}), "labels.bogus"),
    (lambda r: r["relations"][0].update(type="born in"), "relations[0].type"),
    (lambda r: r["relations"][0]["head"].update(end=None), "relations[0].head.end"),
    (lambda r: r["relations"][0]["head"].update(start=99, end=102), "relations[0].head.start"),
    (lambda r: r["relations"][0]["tail"].update(type="org"), "relations[0].tail.type"),
    (lambda r: r.update(id=""), "id"),
])
def test_validate_record_names_the_field(mutate, field):
    rec = _re_record("Tal lives in Israel .", [{"head": _ent("Tal", "person", 0), "type": "live in",
                                                 "tail": _ent("Israel", "location", 13)}])
    mutate(rec)
    with pytest.raises(RecordError) as info:
        validate_record(rec, file="x.jsonl", record_index=7)
    assert info.value.field == field
    assert str(info.value).startswith(f"x.jsonl: record 7: field {field!r}")


def test_event_checks_trigger_and_drops_only_bad_arguments():
    rec = {"id": "e/0", "dataset": "e", "task": "EE", "split": "test", "text": "Rebels bombed Kabul .",
           "labels": {"event_types": {"Attack": ["Attacker", "Place"]}}, "entities": [], "relations": [],
           "events": [{"type": "Attack", "trigger": {"text": "bombed", "start": 7, "end": 13},
                       "arguments": [{"role": "Attacker", "text": "Rebels", "start": 0, "end": 6},
                                     {"role": "Place", "text": "Kabul", "start": 13, "end": 18}]}]}
    report = ValidationReport()
    fixed = validate_record(rec, lenient=True, report=report)
    assert [a["role"] for a in fixed["events"][0]["arguments"]] == ["Attacker", "Place"]
    assert fixed["events"][0]["arguments"][1]["start"] == 14  # re-located
    rec["events"][0]["trigger"]["start"] = 0
    rec["events"][0]["trigger"]["end"] = 6
    report = ValidationReport()
    fixed = validate_record(rec, lenient=True, report=report)
    assert fixed["events"][0]["trigger"]["start"] == 7  # trigger re-located too ("bombed" occurs once)
    rec["events"][0]["type"] = "Bombing"
    report = ValidationReport()
    fixed = validate_record(rec, lenient=True, report=report)
    assert fixed["events"] == [] and report.by_kind["dropped event"] == 1
