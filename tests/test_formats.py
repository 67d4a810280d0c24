"""Target formats: rendering examples, lenient parsing of broken output, escaping, schema checks."""

from __future__ import annotations

import json

import pytest

from prouie_lib.formats import FORMATS, get_format
from prouie_lib.formats.complete import CompleteFormat
from prouie_lib.formats.streamlined import StreamlinedFormat, escape_label, escape_span
from prouie_lib.formats.units import canonical, merge_structures, restrict_record
from prouie_lib.schema import TASK_FIELD, RecordError, argument, entity, make_record, span

NER_LABELS = {"entity_types": ["person", "location", "organization"]}
RE_LABELS = {"entity_types": ["person", "organization", "location"], "relation_types": ["work for", "kill"]}
EE_LABELS = {"event_types": {"Attack": ["attacker", "place"], "Election": ["voter"]}}


def ner_record(entities=None, labels=NER_LABELS):
    return make_record(id="n1", dataset="D", task="NER", split="test", text="Barack Obama visited Paris.",
                       labels=labels, entities=entities if entities is not None else [
                           entity("Barack Obama", "person", 0, 12), entity("Paris", "location", 21, 26)])


def re_record(relations=None):
    rels = relations if relations is not None else [
        {"head": entity("John", "person", 0, 4), "type": "work for", "tail": entity("IBM", "organization", 15, 18)}]
    return make_record(id="r1", dataset="D", task="RE", split="test", text="John works for IBM.",
                       labels=RE_LABELS, relations=rels)


def ee_record(events=None):
    evs = events if events is not None else [
        {"type": "Attack", "trigger": span("bombed", 7, 13),
         "arguments": [argument("place", "Kabul", 14, 19), argument("attacker", "Rebels", 0, 6)]}]
    return make_record(id="e1", dataset="D", task="EE", split="test", text="Rebels bombed Kabul.",
                       labels=EE_LABELS, events=evs)


complete = CompleteFormat()
present = CompleteFormat(exhaustive=False)
streamlined = StreamlinedFormat()
notypes = StreamlinedFormat(keep_entity_types=False)


# ---- registry ----------------------------------------------------------------------------------------------

def test_registry_names_and_lookup():
    assert set(FORMATS) == {"complete", "complete-present", "streamlined", "streamlined-notypes"}
    for name, fmt in FORMATS.items():
        assert fmt.name == name and get_format(name) is fmt
    assert get_format(complete) is complete
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        get_format("xml")


# ---- rendering ---------------------------------------------------------------------------------------------

def test_render_examples_for_every_task():
    assert complete.render(ner_record()) == \
        '{"person": ["Barack Obama"], "location": ["Paris"], "organization": []}'
    assert streamlined.render(ner_record()) == "(person: Barack Obama)(location: Paris)"
    assert complete.render(re_record()) == ('{"work for": [{"head": "John", "head_type": "person", "tail": "IBM", '
                                            '"tail_type": "organization"}], "kill": []}')
    assert streamlined.render(re_record()) == "(John [person] | work for | IBM [organization])"
    assert notypes.render(re_record()) == "(John | work for | IBM)"
    # arguments in schema role order (attacker before place) whatever the record order
    assert complete.render(ee_record()) == \
        '{"Attack": [{"trigger": "bombed", "attacker": ["Rebels"], "place": ["Kabul"]}], "Election": []}'
    assert streamlined.render(ee_record()) == "(Attack: bombed | attacker: Rebels | place: Kabul)"


def test_render_nothing():
    assert streamlined.render(ner_record(entities=[])) == "None"
    assert complete.render(ner_record(entities=[])) == '{"person": [], "location": [], "organization": []}'
    assert complete.render(ee_record(events=[])) == '{"Attack": [], "Election": []}'


def test_render_event_without_arguments_lists_every_role_empty():
    rec = ee_record(events=[{"type": "Attack", "trigger": span("bombed"), "arguments": []}])
    assert json.loads(complete.render(rec)) == {"Attack": [{"trigger": "bombed", "attacker": [], "place": []}],
                                                "Election": []}
    assert streamlined.render(rec) == "(Attack: bombed)"


def test_complete_present_leaves_out_empty_labels_and_roles():
    assert present.render(ner_record()) == '{"person": ["Barack Obama"], "location": ["Paris"]}'
    assert present.render(re_record()) == ('{"work for": [{"head": "John", "head_type": "person", "tail": "IBM", '
                                           '"tail_type": "organization"}]}')
    rec = ee_record(events=[{"type": "Attack", "trigger": span("bombed"), "arguments": [argument("attacker", "Rebels")]}])
    assert present.render(rec) == '{"Attack": [{"trigger": "bombed", "attacker": ["Rebels"]}]}'
    assert present.render(ner_record(entities=[])) == "{}"
    for text, task, labels in [("{}", "NER", NER_LABELS), (present.render(rec), "EE", EE_LABELS)]:
        result = present.parse(text, labels, task)
        assert result.well_formed, result.errors
    # the exhaustive format calls the same answers incomplete
    assert not complete.parse("{}", NER_LABELS, "NER").well_formed
    assert not complete.parse(present.render(rec), EE_LABELS, "EE").well_formed
    assert "found" in present.describe("RE") and "every" in complete.describe("RE")


def test_render_deduplicates_exact_duplicate_units():
    ents = [entity("Paris", "location", 0, 5), entity("Paris", "location", 30, 35), entity("Paris", "person")]
    assert streamlined.render(ner_record(entities=ents)) == "(location: Paris)(person: Paris)"
    assert json.loads(complete.render(ner_record(entities=ents)))["location"] == ["Paris"]
    ents = [entity("A", "person"), entity("B", "location"), entity("C", "person"), entity("A", "person")]
    assert streamlined.render(ner_record(entities=ents)) == "(person: A | C)(location: B)"
    ev = {"type": "Attack", "trigger": span("bombed"),
          "arguments": [argument("place", "Kabul"), argument("place", "Kabul"), argument("place", "Herat")]}
    assert streamlined.render(ee_record(events=[ev, ev])) == "(Attack: bombed | place: Kabul | place: Herat)"


def test_render_rejects_labels_outside_schema_and_empty_spans():
    with pytest.raises(RecordError, match=r"record n1: field 'entities\[0\].type'"):
        streamlined.render(ner_record(entities=[entity("Paris", "city")]))
    with pytest.raises(RecordError, match=r"entities\[0\].text"):
        complete.render(ner_record(entities=[entity("  ", "person")]))
    bad_role = {"type": "Attack", "trigger": span("bombed"), "arguments": [argument("voter", "x")]}
    with pytest.raises(RecordError, match=r"events\[0\].arguments\[0\].role"):
        streamlined.render(ee_record(events=[bad_role]))
    bad_head = {"head": entity("John", "animal"), "type": "kill", "tail": entity("IBM", "organization")}
    with pytest.raises(RecordError, match=r"relations\[0\].head.type"):
        complete.render(re_record(relations=[bad_head]))


def test_complete_refuses_a_role_named_trigger():
    rec = ee_record(events=[])
    rec["labels"] = {"event_types": {"Attack": ["trigger"]}}
    with pytest.raises(RecordError, match="role named 'trigger'"):
        complete.render(rec)
    assert streamlined.render(rec) == "None"  # the streamlined format has no such clash


def test_escaping_rule():
    assert escape_span(r"a(b)|c[d]\e: f") == r"a\(b\)\|c\[d\]\\e: f"
    assert escape_label("x:y(z)") == r"x\:y\(z\)"
    ents = [entity("IL-2 (human) | [x]: y", "person")]
    rec = ner_record(entities=ents, labels={"entity_types": ["person", "loc: (a|b)"]})
    text = streamlined.render(rec)
    assert text == r"(person: IL-2 \(human\) \| \[x\]: y)"
    assert streamlined.parse(text, rec["labels"], "NER").structure["entities"][0]["text"] == "IL-2 (human) | [x]: y"
    rec2 = ner_record(entities=[entity("A: B", "loc: (a|b)")], labels=rec["labels"])
    assert streamlined.render(rec2) == r"(loc\: \(a\|b\): A: B)"
    assert canonical(streamlined.parse(streamlined.render(rec2), rec2["labels"], "NER").structure, "NER") == \
        [("loc: (a|b)", "A: B")]


# ---- parsing: well-formed text -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", [complete, present, streamlined])
@pytest.mark.parametrize("rec", [ner_record(), re_record(), ee_record()], ids=["NER", "RE", "EE"])
def test_parse_of_render_is_the_gold(fmt, rec):
    result = fmt.parse(fmt.render(rec), rec["labels"], rec["task"])
    assert result.well_formed and result.errors == [] and result.dropped_labels == 0
    assert canonical(result.structure, rec["task"]) == canonical(rec, rec["task"])
    units = result.structure[TASK_FIELD[rec["task"]]]
    assert all(u.get("start", None) is None for u in units)


def test_notypes_parse_leaves_entity_types_empty():
    result = notypes.parse("(John | work for | IBM)", RE_LABELS, "RE")
    assert result.well_formed
    assert canonical(result.structure, "RE") == [("work for", "John", "", "IBM", "")]


def test_streamlined_none_and_whitespace():
    for text in ("None", "  None \n", "none", "None</s>", "None<|im_end|>"):
        result = streamlined.parse(text, NER_LABELS, "NER")
        assert result.well_formed and canonical(result.structure, "NER") == [], text
    result = streamlined.parse(" (person: A)\n (location: B) <|im_end|>", NER_LABELS, "NER")
    assert result.well_formed and len(result.structure["entities"]) == 2


def test_parse_keeps_duplicates_for_the_scorer():
    result = streamlined.parse("(person: A)(person: A | B | A)", NER_LABELS, "NER")
    assert [e["text"] for e in result.structure["entities"]] == ["A", "A", "B", "A"]


def test_streamlined_ner_groups_and_single_units_read_alike():
    grouped = streamlined.parse("(person: A | C)(location: B)", NER_LABELS, "NER")
    single = streamlined.parse("(person: A)(location: B)(person: C)", NER_LABELS, "NER")
    assert grouped.well_formed and single.well_formed
    assert canonical(grouped.structure, "NER") == canonical(single.structure, "NER") == \
        [("location", "B"), ("person", "A"), ("person", "C")]
    result = streamlined.parse("(person: A |  | C)(city: X | Y)", NER_LABELS, "NER")
    assert not result.well_formed and result.dropped_labels == 2
    assert [e["text"] for e in result.structure["entities"]] == ["A", "C", "X", "Y"]
    assert [e.get("off_schema", False) for e in result.structure["entities"]] == [False, False, True, True]


def test_complete_tolerates_fences_and_eos():
    body = '{"person": ["A"], "location": [], "organization": []}'
    for text in (f"```json\n{body}\n```", f"  {body}  ", f"{body}</s>", f"{body}<|endoftext|>", f"```\n{body}"):
        result = complete.parse(text, NER_LABELS, "NER")
        assert result.well_formed, (text, result.errors)
        assert canonical(result.structure, "NER") == [("person", "A")]


# ---- parsing: broken text ------------------------------------------------------------------------------------

def test_complete_keeps_what_it_read_from_truncated_json():
    text = '{"person": ["Barack Obama", "Angela Mer'
    result = complete.parse(text, NER_LABELS, "NER")
    assert not result.well_formed and result.errors
    assert canonical(result.structure, "NER") == [("person", "Barack Obama")]
    text = ('{"work for": [{"head": "John", "head_type": "person", "tail": "IBM", "tail_type": "organization"}, '
            '{"head": "Mary", "head_ty')
    result = complete.parse(text, RE_LABELS, "RE")
    assert not result.well_formed
    assert canonical(result.structure, "RE") == [("work for", "John", "person", "IBM", "organization")]
    assert result.cut_off and result.only_cut_off  # the half-read second item is left out without an error
    text = '{"Attack": [{"trigger": "bombed", "attacker": ["Rebels"], "place": []}, {"trigger": "shot", "pla'
    result = complete.parse(text, EE_LABELS, "EE")
    assert canonical(result.structure, "EE") == [("Attack", "bombed", (("attacker", "Rebels"),))]
    assert result.only_cut_off


def test_cut_off_is_only_the_end_of_the_text():
    # a cut inside a unit, nothing else wrong: only_cut_off (the reward's partial-credit case)
    for fmt, text, labels, task in [
        (streamlined, "(person: A)(location: Par", NER_LABELS, "NER"),
        (complete, '{"person": ["A", "Ange', NER_LABELS, "NER"),
        (complete, '{"person": ["A"], "loca', NER_LABELS, "NER"),
    ]:
        result = fmt.parse(text, labels, task)
        assert result.cut_off and result.only_cut_off and not result.well_formed, text
        assert canonical(result.structure, task) == [("person", "A")], text
    # a cut plus another defect: not only_cut_off
    result = streamlined.parse("(person A)(location: Par", NER_LABELS, "NER")
    assert result.cut_off and not result.only_cut_off
    # broken but not cut: no cut_off
    for fmt, text in [(streamlined, "(person: A) blah"), (complete, '{"person": ["A"] x'), (streamlined, "")]:
        assert not fmt.parse(text, NER_LABELS, "NER").cut_off, text


def test_blank_types_are_malformed_where_the_schema_has_them():
    # issue 12 item 7: "(A [] | work for | B [])" is a malformed unit in a typed format (kept, not well-formed)
    result = streamlined.parse("(John [] | work for | IBM [])", RE_LABELS, "RE")
    assert not result.well_formed and len(result.structure["relations"]) == 1
    item = '{"head": "John", "head_type": "", "tail": "IBM", "tail_type": ""}'
    result = complete.parse('{"work for": [' + item + '], "live in": []}', RE_LABELS, "RE")
    assert not result.well_formed and len(result.structure["relations"]) == 1
    # a schema without entity types renders blank types: they parse back well-formed
    untyped = {"relation_types": ["work for", "live in"]}
    assert streamlined.parse("(John [] | work for | IBM [])", untyped, "RE").well_formed
    assert complete.parse('{"work for": [' + item + '], "live in": []}', untyped, "RE").well_formed
    # the notypes format never writes types
    result = notypes.parse("(John | work for | IBM)", RE_LABELS, "RE")
    assert result.well_formed and not result.typed_relations
    assert streamlined.parse("None", RE_LABELS, "RE").typed_relations
    # empty labels and roles
    assert not streamlined.parse("(: A)", NER_LABELS, "NER").well_formed
    assert not streamlined.parse("( | work for | B [person])", RE_LABELS, "RE").well_formed
    assert not streamlined.parse("(John [person] |  | IBM [organization])", RE_LABELS, "RE").well_formed
    assert not streamlined.parse("(Attack: bombed | : Kabul)", EE_LABELS, "EE").well_formed
    assert not complete.parse('{"": ["A"], "person": [], "location": [], "organization": []}',
                              NER_LABELS, "NER").well_formed


def test_complete_reports_missing_labels_roles_and_junk():
    result = complete.parse('{"person": ["A"]}', NER_LABELS, "NER")
    assert not result.well_formed and any("missing labels" in e for e in result.errors)
    assert canonical(result.structure, "NER") == [("person", "A")]
    result = complete.parse('{"Attack": [{"trigger": "bombed"}], "Election": []}', EE_LABELS, "EE")
    assert not result.well_formed and any("missing roles" in e for e in result.errors)
    assert len(result.structure["events"]) == 1
    body = '{"person": ["A"], "location": [], "organization": []}'
    for text in (f"Sure! {body}", f"{body} and more", "no json here", "", "[1, 2]"):
        result = complete.parse(text, NER_LABELS, "NER")
        assert not result.well_formed, text


def test_complete_wrong_value_kinds():
    text = '{"person": "A", "location": [3, "", "B"], "organization": []}'
    result = complete.parse(text, NER_LABELS, "NER")
    assert not result.well_formed
    assert canonical(result.structure, "NER") == [("location", "B"), ("person", "A")]


def test_complete_duplicate_keys_are_merged_but_flagged():
    text = '{"person": ["A"], "person": ["B"], "location": [], "organization": []}'
    result = complete.parse(text, NER_LABELS, "NER")
    assert not result.well_formed
    assert canonical(result.structure, "NER") == [("person", "A"), ("person", "B")]


def off_schema_keys(structure, task):
    """(label, text) of every unit flagged off-schema (events: their type; arguments: their role)."""
    out = []
    for unit in structure[TASK_FIELD[task]]:
        if unit.get("off_schema"):
            out.append((unit["type"], unit.get("text") or unit.get("head", {}).get("text")
                        or unit["trigger"]["text"]))
        for arg in unit.get("arguments") or []:
            if arg.get("off_schema"):
                out.append((arg["role"], arg["text"]))
    return out


def test_labels_outside_schema_are_kept_flagged_and_counted():
    # issue 12 item 1: off-schema units stay in the structure (flagged); scorers decide what they cost
    text = '{"person": ["A"], "city": ["X", "Y"], "location": [], "organization": []}'
    result = complete.parse(text, NER_LABELS, "NER")
    assert result.dropped_labels == result.off_schema_units == 2 and result.well_formed
    assert canonical(result.structure, "NER") == [("city", "X"), ("city", "Y"), ("person", "A")]
    assert off_schema_keys(result.structure, "NER") == [("city", "X"), ("city", "Y")]
    result = streamlined.parse("(PERSON: A)(city: X)(animal: Y)", NER_LABELS, "NER")
    assert result.dropped_labels == 3 and result.well_formed  # case-changed labels are outside the schema too
    assert off_schema_keys(result.structure, "NER") == [("PERSON", "A"), ("city", "X"), ("animal", "Y")]
    result = streamlined.parse("(John [person] | marry | IBM [organization])(John [robot] | kill | X [person])"
                               "(A [person] | NA | B [person])", RE_LABELS, "RE")
    assert result.dropped_labels == 3 and len(result.structure["relations"]) == 3 and result.well_formed
    result = streamlined.parse("(Attack: bombed | weapon: bomb | place: Kabul)(Riot: x | who: y)", EE_LABELS, "EE")
    assert result.dropped_labels == 2
    assert canonical(result.structure, "EE") == [("Attack", "bombed", (("place", "Kabul"), ("weapon", "bomb"))),
                                                 ("Riot", "x", (("who", "y"),))]
    assert off_schema_keys(result.structure, "EE") == [("weapon", "bomb"), ("Riot", "x")]
    text = '{"Attack": [{"trigger": "bombed", "attacker": [], "place": [], "weapon": ["bomb"]}], "Election": []}'
    result = complete.parse(text, EE_LABELS, "EE")
    assert result.dropped_labels == 1 and result.well_formed
    assert off_schema_keys(result.structure, "EE") == [("weapon", "bomb")]
    text = ('{"Attack": [], "Election": [], "Riot": [{"trigger": "x", "who": ["y"]}], '
            '"kill": [{"head": "A", "head_type": "person", "tail": "B", "tail_type": "person"}]}')
    result = complete.parse(text, EE_LABELS, "EE")
    assert not result.well_formed and result.dropped_labels == 1  # "kill": an event item without a trigger
    assert off_schema_keys(result.structure, "EE") == [("Riot", "x")]


def test_streamlined_keeps_readable_units_of_broken_output():
    result = streamlined.parse("(person: A)(location: Par", NER_LABELS, "NER")
    assert not result.well_formed and canonical(result.structure, "NER") == [("person", "A")]
    result = streamlined.parse("(person: A) blah (location: B)", NER_LABELS, "NER")
    assert not result.well_formed and len(result.structure["entities"]) == 2
    result = streamlined.parse("(person A)(location: B)", NER_LABELS, "NER")
    assert not result.well_formed and canonical(result.structure, "NER") == [("location", "B")]
    result = streamlined.parse("None(person: A)", NER_LABELS, "NER")
    assert not result.well_formed and len(result.structure["entities"]) == 1
    result = streamlined.parse("(John | work for | IBM [organization])", RE_LABELS, "RE")
    assert not result.well_formed
    assert canonical(result.structure, "RE") == [("work for", "John", "", "IBM", "organization")]
    result = streamlined.parse("(John [person] | work for)", RE_LABELS, "RE")
    assert not result.well_formed and result.structure["relations"] == []
    result = streamlined.parse("(Attack: bombed | Rebels | place: Kabul)", EE_LABELS, "EE")
    assert not result.well_formed
    assert canonical(result.structure, "EE") == [("Attack", "bombed", (("place", "Kabul"),))]
    for text in ("", "   ", "(person: )", ")", "(person: A))"):
        assert not streamlined.parse(text, NER_LABELS, "NER").well_formed, text


def test_streamlined_reads_balanced_unescaped_parentheses_as_text():
    result = streamlined.parse("(person: IL (2) cell)", NER_LABELS, "NER")
    assert result.well_formed and result.structure["entities"][0]["text"] == "IL (2) cell"


def test_parse_rejects_unknown_task_without_raising():
    result = streamlined.parse("(person: A)", NER_LABELS, "XYZ")
    assert not result.well_formed and "unknown task" in result.errors[0]
    assert not complete.parse(None, NER_LABELS, "NER").well_formed  # type: ignore[arg-type]


# ---- units helpers --------------------------------------------------------------------------------------------

def test_restrict_record_and_merge():
    rec = ner_record()
    sub = restrict_record(rec, ["location"])
    assert sub["labels"]["entity_types"] == ["location"]
    assert [e["text"] for e in sub["entities"]] == ["Paris"]
    assert rec["labels"]["entity_types"] == ["person", "location", "organization"]  # not modified
    assert complete.render(sub) == '{"location": ["Paris"]}'
    with pytest.raises(RecordError, match="not in the schema"):
        restrict_record(rec, ["city"])
    a = streamlined.parse("(person: A)(location: B)", NER_LABELS, "NER").structure
    b = streamlined.parse("(location: B)(organization: C)", NER_LABELS, "NER").structure
    merged = merge_structures([a, b])
    assert [(e["type"], e["text"]) for e in merged["entities"]] == [("person", "A"), ("location", "B"),
                                                                    ("organization", "C")]


# ---- lenient JSON reader and pathological inputs ------------------------------------------------------------

def test_lenient_json_reader():
    from prouie_lib.formats.lenient_json import JsonObject, read_json, to_plain

    read = read_json('{"a": [1, "x", {"b": null}], "a": true}')
    assert read.complete and read.errors == []
    assert isinstance(read.value, JsonObject) and [k for k, _ in read.value] == ["a", "a"]
    assert to_plain(read.value) == {"a": True}
    read = read_json('{"a": ["x", "y')
    assert not read.complete and to_plain(read.value) == {"a": ["x"]}
    read = read_json('{"a": 1,}')
    assert not read.complete and to_plain(read.value) == {"a": 1}
    assert read_json('{"a": "b\nc"}').errors  # raw control character: read, but reported
    assert read_json("").value is None and not read_json("").complete


@pytest.mark.parametrize("text", ["[" * 50_000, '{"a": ' * 20_000, "(" * 50_000, ")" * 50_000,
                                  "\\" * 50_001, "(person: A)" * 5_000, '{"person": [' + '"A", ' * 20_000])
def test_pathological_inputs_do_not_raise(text):
    for fmt in FORMATS.values():
        result = fmt.parse(text, NER_LABELS, "NER")
        assert isinstance(result.well_formed, bool)
