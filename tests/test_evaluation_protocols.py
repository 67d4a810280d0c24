"""Scoring protocols: hand-computed perturbations under every protocol, and one pin per documented quirk."""

from __future__ import annotations

import copy

import pytest

from prouie_lib.evaluation.metrics import Counts, count_multiset, count_set, prf, prf_iepile
from prouie_lib.evaluation.peer_rules import instructuie_format
from prouie_lib.evaluation.protocols import PROTOCOLS, get_protocol
from prouie_lib.evaluation.score import score_predictions
from prouie_lib.schema import argument, empty_structure, entity, make_record, span, structure_of

NER_LABELS = {"entity_types": ["person", "location", "organization"]}
RE_LABELS = {"entity_types": ["person", "organization", "location"], "relation_types": ["work for", "live in"]}
EE_LABELS = {"event_types": {"Attack": ["attacker", "place"], "Election": ["voter"]}}


def rec(rid, dataset, task, text, labels, **units):
    return make_record(id=rid, dataset=dataset, task=task, split="test", text=text, labels=labels, **units)


def rel(head, head_type, rtype, tail, tail_type):
    return {"head": entity(head, head_type), "type": rtype, "tail": entity(tail, tail_type)}


def ner_gold():
    return [
        rec("n1", "N", "NER", "Barack Obama visited Paris and Berlin.", NER_LABELS,
            entities=[entity("Barack Obama", "person"), entity("Paris", "location"), entity("Berlin", "location")]),
        rec("n2", "N", "NER", "Angela Merkel met Apple executives.", NER_LABELS,
            entities=[entity("Angela Merkel", "person"), entity("Apple", "organization")]),
        rec("n3", "N", "NER", "Nothing to see here.", NER_LABELS),
    ]


def re_gold():
    return [
        rec("r1", "R", "RE", "John works for IBM and Mary lives in Paris.", RE_LABELS,
            relations=[rel("John", "person", "work for", "IBM", "organization"),
                       rel("Mary", "person", "live in", "Paris", "location")]),
        rec("r2", "R", "RE", "Bob met Alice.", RE_LABELS),
    ]


def ee_gold():
    return [
        rec("e1", "E", "EE", "Rebels bombed Kabul yesterday.", EE_LABELS,
            events=[{"type": "Attack", "trigger": span("bombed"),
                     "arguments": [argument("attacker", "Rebels"), argument("place", "Kabul")]}]),
        rec("e2", "E", "EE", "Voters elected Smith.", EE_LABELS,
            events=[{"type": "Election", "trigger": span("elected"), "arguments": [argument("voter", "Voters")]}]),
    ]


def gold_lines(gold):
    return [{"id": r["id"], **copy.deepcopy(structure_of(r))} for r in gold]


def scores(gold, lines, protocol, dataset):
    return score_predictions(gold, lines, protocol)["datasets"][dataset]["metrics"]


def assert_prf(values, expected):
    assert (values["p"], values["r"], values["f1"]) == pytest.approx(expected, abs=1e-9)


# ---- gold vs gold -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", list(PROTOCOLS))  # prouie first, then the peers
def test_gold_vs_gold_is_100_everywhere(protocol):
    gold = ner_gold() + re_gold() + ee_gold()
    result = score_predictions(gold, gold_lines(gold), protocol)
    for entry in result["datasets"].values():
        for values in entry["metrics"].values():
            assert_prf(values, (100, 100, 100))
        assert entry["parse_error_rate"] == 0 and entry["hallucination_rate"] == 0
    assert set(result["macro"].values()) == {100.0}


# ---- NER perturbations ---------------------------------------------------------------------------------------
# gold: 5 entities in n1/n2, none in n3. InstructUIE adds the item "none" for n3 on both sides (one extra TP).

def drop_berlin(lines):
    del lines[0]["entities"][2]


def swap_paris_type(lines):
    lines[0]["entities"][1]["type"] = "organization"


def shift_obama(lines):
    lines[0]["entities"][0]["text"] = "Obama"


def duplicate_paris(lines):
    lines[0]["entities"].append(copy.deepcopy(lines[0]["entities"][1]))


NER_EXPECTED = {
    # tp 4, gold 5, pred 4; InstructUIE: tp 5, gold 6, pred 5
    "drop": (drop_berlin, {"prouie": (100, 80, 800 / 9), "uie": (100, 80, 800 / 9),
                           "iepile": (100.0, 80.0, 88.89), "instructuie": (100, 500 / 6, 1000 / 11)}),
    # tp 4, gold 5, pred 5; InstructUIE: tp 5, gold 6, pred 6
    "swap type": (swap_paris_type, {"prouie": (80, 80, 80), "uie": (80, 80, 80), "iepile": (80.0, 80.0, 80.0),
                                    "instructuie": (500 / 6, 500 / 6, 500 / 6)}),
    "shift boundary": (shift_obama, {"prouie": (80, 80, 80), "uie": (80, 80, 80), "iepile": (80.0, 80.0, 80.0),
                                     "instructuie": (500 / 6, 500 / 6, 500 / 6)}),
    # sets: nothing changes; multisets: tp 5, gold 5, pred 6
    "duplicate": (duplicate_paris, {"prouie": (100, 100, 100), "instructuie": (100, 100, 100),
                                    "iepile": (83.33, 100.0, 90.91), "uie": (500 / 6, 100, 1000 / 11)}),
}


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
@pytest.mark.parametrize("case", sorted(NER_EXPECTED))
def test_ner_perturbations(case, protocol):
    edit, expected = NER_EXPECTED[case]
    gold = ner_gold()
    lines = gold_lines(gold)
    edit(lines)
    assert_prf(scores(gold, lines, protocol, "N")["ner"], expected[protocol])


# ---- RE perturbations ----------------------------------------------------------------------------------------

def re_swap_head_type(lines):
    lines[0]["relations"][0]["head"]["type"] = "organization"


def re_shift_tail(lines):
    lines[0]["relations"][0]["tail"]["text"] = "IBM and Mary"


def re_drop(lines):
    del lines[0]["relations"][1]


def re_duplicate(lines):
    lines[0]["relations"].append(copy.deepcopy(lines[0]["relations"][0]))


RE_EXPECTED = {  # (re_boundary, re_strict); InstructUIE reports boundary only
    "swap type": (re_swap_head_type, {
        "prouie": ((100, 100, 100), (50, 50, 50)), "uie": ((100, 100, 100), (50, 50, 50)),
        "iepile": ((100.0, 100.0, 100.0), (50.0, 50.0, 50.0)), "instructuie": ((100, 100, 100), None)}),
    "shift boundary": (re_shift_tail, {
        "prouie": ((50, 50, 50), (50, 50, 50)), "uie": ((50, 50, 50), (50, 50, 50)),
        "iepile": ((50.0, 50.0, 50.0), (50.0, 50.0, 50.0)), "instructuie": ((50, 50, 50), None)}),
    # r2 has no relation: unlike NER, InstructUIE's RE drops the "none" item (no ':'), so no extra TP
    "drop": (re_drop, {
        "prouie": ((100, 50, 200 / 3), (100, 50, 200 / 3)), "uie": ((100, 50, 200 / 3), (100, 50, 200 / 3)),
        "iepile": ((100.0, 50.0, 66.67), (100.0, 50.0, 66.67)), "instructuie": ((100, 50, 200 / 3), None)}),
    "duplicate": (re_duplicate, {
        "prouie": ((100, 100, 100), (100, 100, 100)), "instructuie": ((100, 100, 100), None),
        "iepile": ((66.67, 100.0, 80.0), (66.67, 100.0, 80.0)), "uie": ((200 / 3, 100, 80), (200 / 3, 100, 80))}),
}


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
@pytest.mark.parametrize("case", sorted(RE_EXPECTED))
def test_re_perturbations(case, protocol):
    edit, expected = RE_EXPECTED[case]
    gold = re_gold()
    lines = gold_lines(gold)
    edit(lines)
    got = scores(gold, lines, protocol, "R")
    boundary, strict = expected[protocol]
    assert_prf(got["re_boundary"], boundary)
    if strict is None:
        assert "re_strict" not in got
    else:
        assert_prf(got["re_strict"], strict)


# ---- EE perturbations ----------------------------------------------------------------------------------------

def ee_swap_role(lines):
    lines[0]["events"][0]["arguments"][1]["role"] = "attacker"  # Kabul: place → attacker


def ee_swap_event_type(lines):
    lines[1]["events"][0]["type"] = "Attack"


def ee_shift_trigger(lines):
    lines[0]["events"][0]["trigger"]["text"] = "bombed Kabul"


def ee_drop_argument(lines):
    del lines[0]["events"][0]["arguments"][0]


def ee_duplicate_event(lines):
    lines[1]["events"].append(copy.deepcopy(lines[1]["events"][0]))


T, C = 200 / 3, 400 / 7  # 66.67 and 80.0 / 85.71 helpers below
THIRD = 100 / 3
EE_EXPECTED = {  # metric → (p, r, f1) for prouie (= instructuie = uie unless overridden); gold args: 3
    "swap role": (ee_swap_role, {"ee_trigger_id": (100, 100, 100), "ee_trigger_cls": (100, 100, 100),
                                 "ee_arg_id": (100, 100, 100), "ee_arg_cls": (T, T, T),
                                 "ee_arg_id_tied": (100, 100, 100), "ee_arg_cls_tied": (T, T, T)}),
    "swap type": (ee_swap_event_type, {"ee_trigger_id": (100, 100, 100), "ee_trigger_cls": (50, 50, 50),
                                       "ee_arg_id": (T, T, T), "ee_arg_cls": (T, T, T),
                                       "ee_arg_id_tied": (T, T, T), "ee_arg_cls_tied": (T, T, T)}),
    # untied arguments ignore the trigger: a wrong trigger leaves them intact; the tied pair loses both of
    # e1's arguments (1 of 3 left)
    "shift boundary": (ee_shift_trigger, {"ee_trigger_id": (50, 50, 50), "ee_trigger_cls": (50, 50, 50),
                                          "ee_arg_id": (100, 100, 100), "ee_arg_cls": (100, 100, 100),
                                          "ee_arg_id_tied": (THIRD, THIRD, THIRD), "ee_arg_cls_tied": (THIRD, THIRD, THIRD)}),
    "drop": (ee_drop_argument, {"ee_trigger_id": (100, 100, 100), "ee_trigger_cls": (100, 100, 100),
                                "ee_arg_id": (100, T, 80), "ee_arg_cls": (100, T, 80),
                                "ee_arg_id_tied": (100, T, 80), "ee_arg_cls_tied": (100, T, 80)}),
}
EE_DUPLICATE_MULTISET = {"ee_trigger_id": (T, 100, 80), "ee_trigger_cls": (T, 100, 80),
                         "ee_arg_id": (75, 100, 600 / 7), "ee_arg_cls": (75, 100, 600 / 7),
                         "ee_arg_id_tied": (75, 100, 600 / 7), "ee_arg_cls_tied": (75, 100, 600 / 7)}


def _iepile_round(values):
    p, r, _ = values
    p, r = round(p, 2), round(r, 2)
    return (p, r, round(2 * p * r / (p + r), 2))


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
@pytest.mark.parametrize("case", sorted(EE_EXPECTED) + ["duplicate"])
def test_ee_perturbations(case, protocol):
    gold = ee_gold()
    lines = gold_lines(gold)
    if case == "duplicate":
        ee_duplicate_event(lines)
        expected = ({m: (100, 100, 100) for m in EE_DUPLICATE_MULTISET} if protocol in ("prouie", "instructuie")
                    else EE_DUPLICATE_MULTISET)
    else:
        edit, expected = EE_EXPECTED[case]
        edit(lines)
    got = scores(gold, lines, protocol, "E")
    assert set(got) == set(expected)
    for metric, values in expected.items():
        assert_prf(got[metric], _iepile_round(values) if protocol == "iepile" else values)


def test_iepile_duplicate_event_numbers_by_hand():
    gold = ee_gold()
    lines = gold_lines(gold)
    ee_duplicate_event(lines)
    got = scores(gold, lines, "iepile", "E")
    assert_prf(got["ee_trigger_cls"], (66.67, 100.0, 80.0))
    assert_prf(got["ee_arg_cls"], (75.0, 100.0, 85.71))


# ---- counting and reporting primitives ----------------------------------------------------------------------

def test_counting_set_vs_multiset():
    # landscape §2.2, checked there against IEPile's NERMetric: gold {A, C}, predictions [A, A, B]
    assert count_set(["A", "C"], ["A", "A", "B"]) == Counts(tp=1, gold=2, pred=2)
    assert count_multiset(["A", "C"], ["A", "A", "B"]) == Counts(tp=1, gold=2, pred=3)
    assert count_multiset(["A", "A"], ["A"]) == Counts(tp=1, gold=2, pred=1)
    assert prf_iepile(Counts(1, 2, 3)) == {"p": 33.33, "r": 50.0, "f1": 40.0}
    assert prf(Counts(1, 2, 3))["f1"] == pytest.approx(40.0)


def test_iepile_rounds_p_and_r_before_f1():
    # exact F1 = 28.571…, IEPile: R = 16.67 first, then F1 = round(2·100·16.67 / 116.67, 2) = 28.58
    assert prf(Counts(1, 6, 1))["f1"] == pytest.approx(200 / 7)
    assert prf_iepile(Counts(1, 6, 1)) == {"p": 100.0, "r": 16.67, "f1": 28.58}
    assert prf_iepile(Counts(0, 0, 0)) == {"p": 0.0, "r": 0.0, "f1": 0.0}


def test_empty_dataset_metric():
    nothing = [rec("z1", "Z", "NER", "Nothing.", NER_LABELS)]
    lines = gold_lines(nothing)
    assert_prf(scores(nothing, lines, "prouie", "Z")["ner"], (100, 100, 100))  # nothing vs nothing
    assert_prf(scores(nothing, lines, "iepile", "Z")["ner"], (0, 0, 0))
    assert_prf(scores(nothing, lines, "uie", "Z")["ner"], (0, 0, 0))
    assert_prf(scores(nothing, lines, "instructuie", "Z")["ner"], (100, 100, 100))  # the "none" item


# ---- prouie rules -----------------------------------------------------------------------------------------

def test_prouie_normalizes_whitespace_and_case_only():
    gold = [rec("p1", "P", "NER", "Barack  Obama met the New York , NY team.", NER_LABELS,
                entities=[entity("Barack  Obama", "person"), entity("New York , NY", "location")])]
    lines = [{"id": "p1", "entities": [entity(" barack obama\n", "PERSON"), entity("New York, NY", "location")]}]
    assert_prf(scores(gold, lines, "prouie", "P")["ner"], (50, 50, 50))
    assert_prf(scores(gold, lines, "instructuie", "P")["ner"], (100, 100, 100))  # spaces around ',' dropped
    assert_prf(scores(gold, lines, "uie", "P")["ner"], (0, 0, 0))
    assert_prf(scores(gold, lines, "iepile", "P")["ner"], (0, 0, 0))


def test_prouie_drops_na_relations_the_peers_keep_them():
    # landscape §2.1 quirk 2, checked there: gold "works for: A, B; NA: A, C", prediction "works for: A, B"
    labels = {"entity_types": ["person"], "relation_types": ["works for", "NA"]}
    gold = [rec("q1", "Q", "RE", "A B C", labels,
                relations=[rel("A", "person", "works for", "B", "person"), rel("A", "person", "NA", "C", "person")])]
    lines = [{"id": "q1", "relations": [rel("A", "person", "works for", "B", "person")]}]
    assert_prf(scores(gold, lines, "instructuie", "Q")["re_boundary"], (100, 50, 200 / 3))
    # IEPile and UIE have no NA rule: an NA triple is a triple (issue 12 item 5)
    assert_prf(scores(gold, lines, "uie", "Q")["re_boundary"], (100, 50, 200 / 3))
    assert_prf(scores(gold, lines, "iepile", "Q")["re_boundary"], (100, 50, 66.67))
    assert scores(gold, lines, "prouie", "Q")["re_boundary"]["f1"] == 100  # prouie: NA is "no relation"
    # predicting the NA pair matches it under the peers; under prouie it is no unit at all
    lines[0]["relations"].append(rel("A", "person", "NA", "C", "person"))
    for protocol in PROTOCOLS:
        assert_prf(scores(gold, lines, protocol, "Q")["re_boundary"], (100, 100, 100))


# ---- InstructUIE quirks ------------------------------------------------------------------------------------

def test_instructuie_format_is_the_reference_function():
    # the example in EvaluatorBase._remove_redundant_space's comment, then _format's extra steps
    assert instructuie_format("  kjc,  jns , ((  : ()  )  ( . )( ln  kc  a,,  ") == "kjc,jns,((:())(.)(ln kc a,"
    assert instructuie_format(" Location: New York ,  NY;; ’s {x}...") == "located:new york,ny;'s x."  # ’ and {} go after the space step


def test_instructuie_location_becomes_located_on_both_sides():
    gold = [rec("l1", "L", "NER", "Paris, Locationville.", NER_LABELS,
                entities=[entity("Paris", "location"), entity("Locationville", "location")])]
    lines = [{"id": "l1", "entities": [entity("Paris", "LOCATED"), entity("Locatedville", "location")]}]
    assert_prf(scores(gold, lines, "instructuie", "L")["ner"], (100, 100, 100))
    assert_prf(scores(gold, lines, "prouie", "L")["ner"], (0, 0, 0))


def test_instructuie_ner_none_is_an_item():
    proto = get_protocol("instructuie")
    assert proto.units("ner", empty_structure()) == ["none"]
    assert proto.units("re_boundary", empty_structure()) == []  # RE keeps only items with ':'
    # one record with an entity but an empty prediction (FP "none", FN), one empty record (TP "none")
    gold = [rec("a1", "A", "NER", "Bob ran.", NER_LABELS, entities=[entity("Bob", "person")]),
            rec("a2", "A", "NER", "It rained.", NER_LABELS)]
    lines = [{"id": "a1", "entities": []}, {"id": "a2", "entities": []}]
    assert_prf(scores(gold, lines, "instructuie", "A")["ner"], (50, 50, 50))
    assert_prf(scores(gold, lines, "prouie", "A")["ner"], (0, 0, 0))
    # entities predicted for an empty record: the gold item "none" becomes an FN
    lines = [{"id": "a1", "entities": [entity("Bob", "person")]}, {"id": "a2", "entities": [entity("x", "person")]}]
    assert_prf(scores(gold, lines, "instructuie", "A")["ner"], (50, 50, 50))


def test_instructuie_semicolon_splits_a_span():
    gold = [rec("s1", "S", "NER", "A; B", NER_LABELS, entities=[entity("A; B", "person")])]
    assert get_protocol("instructuie").units("ner", structure_of(gold[0])) == ["person:a", "b"]
    lines = [{"id": "s1", "entities": [entity("A", "person")]}]
    assert_prf(scores(gold, lines, "instructuie", "S")["ner"], (100, 50, 200 / 3))
    assert_prf(scores(gold, lines, "prouie", "S")["ner"], (0, 0, 0))


def test_instructuie_reports_no_strict_re():
    assert PROTOCOLS["instructuie"].metrics("RE") == ("re_boundary",)
    assert PROTOCOLS["prouie"].metrics("RE") == ("re_boundary", "re_strict")


# ---- IEPile and UIE quirks -------------------------------------------------------------------------------------

def test_iepile_and_uie_are_case_and_space_sensitive():
    gold = [rec("c1", "C", "NER", "Paris", NER_LABELS, entities=[entity("Paris", "location")])]
    for text in ("paris", "Paris ", " Paris"):
        lines = [{"id": "c1", "entities": [entity(text, "location")]}]
        for protocol in ("iepile", "uie"):
            assert scores(gold, lines, protocol, "C")["ner"]["f1"] == 0, (protocol, text)
        assert scores(gold, lines, "prouie", "C")["ner"]["f1"] == 100


def test_iepile_wrong_trigger_right_argument():
    # landscape §2.2, checked there against EEMetric: event F1 0, argument F1 100
    gold = [rec("w1", "W", "EE", "Rebels bombed Kabul.", EE_LABELS,
                events=[{"type": "Attack", "trigger": span("bombed"), "arguments": [argument("place", "Kabul")]}])]
    lines = [{"id": "w1", "events": [{"type": "Attack", "trigger": span("Rebels"),
                                      "arguments": [argument("place", "Kabul")]}]}]
    got = scores(gold, lines, "iepile", "W")
    assert got["ee_trigger_cls"]["f1"] == 0 and got["ee_arg_cls"]["f1"] == 100


def test_iepile_json_the_decoder_rejects_predicts_nothing():
    gold = [rec("j1", "J", "NER", "Paris", NER_LABELS, entities=[entity("Paris", "location")])]
    body = '{"person": [], "location": ["Paris"], "organization": []}'
    for completion in (f"```json\n{body}\n```", body + "</s>", '{"person": [], "location": ["Paris"]'):
        lines = [{"id": "j1", "completion": completion, "format": "complete"}]
        assert scores(gold, lines, "iepile", "J")["ner"]["f1"] == 0, completion
        assert scores(gold, lines, "uie", "J")["ner"]["f1"] == 100, completion  # our lenient parse
    lines = [{"id": "j1", "completion": body, "format": "complete"}]
    assert scores(gold, lines, "iepile", "J")["ner"]["f1"] == 100


def test_iepile_skips_a_bare_string_value_even_when_the_parsed_structure_has_it():
    # IEPile's extracter: type(values) != list -> continue; the line's parsed structure is not used
    gold = [rec("s1", "S", "NER", "x", NER_LABELS, entities=[entity("x", "person")])]
    lines = [{"id": "s1", "completion": '{"person": "x"}', "format": "complete",
              "entities": [entity("x", "person")]}]
    got = score_predictions(gold, lines, "iepile")["datasets"]["S"]
    assert got["metrics"]["ner"] == {"p": 0.0, "r": 0.0, "f1": 0.0, "source": "peer"}
    assert scores(gold, lines, "prouie", "S")["ner"]["f1"] == 100


def test_uie_strict_keeps_types_boundary_does_not():
    gold = re_gold()[:1]
    lines = gold_lines(gold)
    re_swap_head_type(lines)
    lines[0]["relations"][1]["tail"]["type"] = "organization"
    got = scores(gold, lines, "uie", "R")
    assert got["re_boundary"]["f1"] == 100 and got["re_strict"]["f1"] == 0


# ---- hallucination -----------------------------------------------------------------------------------------

def test_hallucination_rate_uses_the_protocol_normalization():
    gold = [rec("h1", "H", "NER", "Barack  Obama visited Paris.", NER_LABELS,
                entities=[entity("Barack  Obama", "person"), entity("Paris", "location")])]
    lines = [{"id": "h1", "entities": [entity("barack obama", "person"), entity("Paris", "location"),
                                       entity("Berlin", "location"), entity("Obama visited", "person")]}]
    rates = {p: score_predictions(gold, lines, p)["datasets"]["H"]["hallucination_rate"] for p in PROTOCOLS}
    assert rates["prouie"] == 25.0  # only Berlin
    assert rates["instructuie"] == 25.0
    assert rates["iepile"] == rates["uie"] == 50.0  # exact substrings: "barack obama" and Berlin are not
    re_lines = [{"id": "r1", "relations": [rel("John", "person", "work for", "Google", "organization")]},
                {"id": "r2", "relations": []}]
    assert score_predictions(re_gold(), re_lines)["datasets"]["R"]["hallucination_rate"] == 50.0
