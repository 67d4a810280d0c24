"""score_predictions: the issue's JSON object, completions vs structures, missing ids, errors; prediction_line."""

from __future__ import annotations

import copy

import pytest

from prouie_lib.evaluation.protocols import PROTOCOLS
from prouie_lib.evaluation.score import PREDICTION_KEYS, prediction_line, score_predictions
from prouie_lib.formats import FORMATS
from prouie_lib.formats.prompts import split_schema
from prouie_lib.formats.units import restrict_record
from prouie_lib.schema import RecordError, argument, entity, make_record, span, structure_of

NER_LABELS = {"entity_types": ["person", "location", "organization"]}
RE_LABELS = {"entity_types": ["person", "organization"], "relation_types": ["work for", "kill"]}
EE_LABELS = {"event_types": {"Attack": ["attacker", "place"], "Election": ["voter"]}}


def gold_records():
    return [
        make_record(id="n1", dataset="N", task="NER", split="test", text="Barack Obama visited Paris.",
                    labels=NER_LABELS, entities=[entity("Barack Obama", "person", 0, 12),
                                                 entity("Paris", "location", 21, 26)]),
        make_record(id="n2", dataset="N", task="NER", split="test", text="Apple (the firm) grew.",
                    labels=NER_LABELS, entities=[entity("Apple (the firm)", "organization", 0, 16)]),
        make_record(id="r1", dataset="R", task="RE", split="test", text="John works for IBM.",
                    labels=RE_LABELS, relations=[{"head": entity("John", "person", 0, 4), "type": "work for",
                                                  "tail": entity("IBM", "organization", 15, 18)}]),
        make_record(id="e1", dataset="E", task="EE", split="test", text="Rebels bombed Kabul.",
                    labels=EE_LABELS, events=[{"type": "Attack", "trigger": span("bombed", 7, 13),
                                               "arguments": [argument("attacker", "Rebels", 0, 6),
                                                             argument("place", "Kabul", 14, 19)]}]),
        make_record(id="e2", dataset="E", task="EE", split="test", text="Nothing happened.", labels=EE_LABELS),
    ]


def prf_of(values):
    return {k: values[k] for k in ("p", "r", "f1")}


def test_result_has_exactly_the_issue_shape():
    gold = gold_records()
    lines = [{"id": r["id"], **structure_of(r)} for r in gold]
    result = score_predictions(gold, lines)
    assert list(result) == ["protocol", "datasets", "macro", "kit_extensions"] and result["protocol"] == "prouie"
    assert result["kit_extensions"] == []  # prouie is the kit's own protocol: every source is "kit"
    assert list(result["datasets"]) == ["N", "R", "E"]  # NER, RE, EE order
    for name, task, metrics in (("N", "NER", ["ner"]), ("R", "RE", ["re_boundary", "re_strict"]),
                                ("E", "EE", ["ee_trigger_id", "ee_trigger_cls", "ee_arg_id", "ee_arg_cls",
                                             "ee_arg_id_tied", "ee_arg_cls_tied"])):
        entry = result["datasets"][name]
        assert set(entry) == {"task", "n", "missing", "metrics", "parse_error_rate", "hallucination_rate",
                              "off_schema_rate"}
        assert entry["task"] == task and list(entry["metrics"]) == metrics
        assert all(set(v) == {"p", "r", "f1", "source"} and v["source"] == "kit" for v in entry["metrics"].values())
    assert result["datasets"]["N"]["n"] == 2 and result["datasets"]["E"]["n"] == 2
    assert set(result["macro"]) == {"ner", "re_boundary", "re_strict", "ee_trigger_id", "ee_trigger_cls",
                                    "ee_arg_id", "ee_arg_cls", "ee_arg_id_tied", "ee_arg_cls_tied"}


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
@pytest.mark.parametrize("fmt", ["complete", "streamlined"])
def test_gold_rendered_then_parsed_scores_100(fmt, protocol):
    gold = gold_records()
    lines = [{"id": r["id"], "completion": FORMATS[fmt].render(r), "format": fmt} for r in gold]
    result = score_predictions(gold, lines, protocol)
    for entry in result["datasets"].values():
        assert all(v["f1"] == 100 for v in entry["metrics"].values())
        assert entry["parse_error_rate"] == 0 and entry["hallucination_rate"] == 0 and entry["missing"] == 0
    # the same through prediction lines built by prediction_line
    lines = [prediction_line(r, FORMATS[fmt].render(r), fmt) for r in gold]
    assert set(score_predictions(gold, lines, protocol)["macro"].values()) == {100.0}


def test_notypes_loses_strict_re_only():
    gold = gold_records()
    lines = [prediction_line(r, FORMATS["streamlined-notypes"].render(r), "streamlined-notypes") for r in gold]
    metrics = score_predictions(gold, lines)["datasets"]["R"]["metrics"]
    assert metrics["re_boundary"]["f1"] == 100 and metrics["re_strict"]["f1"] == 0


def test_missing_prediction_counts_as_empty():
    gold = gold_records()
    lines = [{"id": r["id"], **structure_of(r)} for r in gold if r["id"] != "n2"]
    entry = score_predictions(gold, lines)["datasets"]["N"]
    assert entry["missing"] == 1
    assert prf_of(entry["metrics"]["ner"]) == pytest.approx({"p": 100, "r": 200 / 3, "f1": 80})
    assert entry["parse_error_rate"] == 0


def test_parse_error_rate_and_partial_output():
    gold = gold_records()
    lines = [{"id": "n1", "completion": "(person: Barack Obama)(location: Par", "format": "streamlined"},
             {"id": "n2", "completion": "(organization: Apple \\(the firm\\))", "format": "streamlined"}]
    entry = score_predictions(gold, lines)["datasets"]["N"]
    assert entry["parse_error_rate"] == 50.0
    assert prf_of(entry["metrics"]["ner"]) == pytest.approx({"p": 100, "r": 200 / 3, "f1": 80})
    # structure lines say themselves whether they were well-formed
    lines = [{"id": "n1", "entities": [], "well_formed": False}, {"id": "n2", "entities": []}]
    assert score_predictions(gold, lines)["datasets"]["N"]["parse_error_rate"] == 50.0


def test_structure_fields_win_over_completion():
    gold = gold_records()[:1]
    line = {"id": "n1", "completion": "garbage", "format": "streamlined", "well_formed": True,
            "entities": copy.deepcopy(gold[0]["entities"])}
    entry = score_predictions(gold, [line])["datasets"]["N"]
    assert entry["metrics"]["ner"]["f1"] == 100 and entry["parse_error_rate"] == 0


def test_one_dataset_with_two_tasks_gets_two_entries():
    gold = gold_records()
    gold[2] = dict(gold[2], dataset="N")
    result = score_predictions(gold, [])
    assert list(result["datasets"]) == ["N/NER", "N/RE", "E"]
    assert result["datasets"]["N/NER"]["missing"] == 2


def test_macro_is_the_mean_over_datasets():
    gold = gold_records() + [make_record(id="m1", dataset="M", task="NER", split="test", text="Bob",
                                         labels=NER_LABELS, entities=[entity("Bob", "person")])]
    lines = [{"id": r["id"], **structure_of(r)} for r in gold if r["id"] != "m1"]
    result = score_predictions(gold, lines)
    assert result["datasets"]["M"]["metrics"]["ner"]["f1"] == 0
    assert result["macro"]["ner"] == 50.0


@pytest.mark.parametrize("lines, message", [
    ([{"id": "zz", "entities": []}], "prediction id 'zz' is not in the gold data"),
    ([{"entities": []}], "prediction line has no id"),
    ([{"id": "n1", "entities": []}, {"id": "n1", "entities": []}], "duplicate prediction id"),
    ([{"id": "n1"}], "needs a completion"),
    ([{"id": "n1", "completion": "None"}], "a completion needs its format"),
    ([{"id": "n1", "completion": "None", "format": "xml"}], "unknown format 'xml'"),
    ([{"id": "n1", "entities": [{"text": "x"}]}], r"field 'entities\[0\].type'"),
    ([{"id": "r1", "relations": [{"type": "kill", "head": {"text": "a"}}]}], r"relations\[0\].tail"),
    ([{"id": "e1", "events": [{"type": "Attack", "trigger": {"text": "x"}, "arguments": [{"text": "y"}]}]}],
     r"events\[0\].arguments\[0\].role"),
    ([{"id": "n1", "entities": [], "well_formed": "yes"}], "well_formed"),
])
def test_bad_prediction_lines_raise_clear_errors(lines, message):
    with pytest.raises(RecordError, match=message) as info:
        score_predictions(gold_records(), lines, pred_source="p.jsonl")
    assert str(info.value).startswith("p.jsonl: ")


def test_bad_gold_raises_clear_errors():
    gold = gold_records()
    with pytest.raises(RecordError, match="g.jsonl: record n1: field 'id': duplicate gold id"):
        score_predictions(gold + gold[:1], [], gold_source="g.jsonl")
    with pytest.raises(RecordError, match="unknown task 'XX'"):
        score_predictions([dict(gold[0], task="XX")], [])
    with pytest.raises(ValueError, match="unknown protocol"):
        score_predictions(gold, [], "nope")


def test_prediction_line_shape_and_parse():
    record = gold_records()[0]
    line = prediction_line(record, "(person: Barack Obama)(city: X)(location: Par", "streamlined")
    assert tuple(line) == PREDICTION_KEYS
    assert line["id"] == "n1" and line["format"] == "streamlined" and line["well_formed"] is False
    assert [e["text"] for e in line["entities"]] == ["Barack Obama", "X"]  # the off-schema unit is kept
    assert line["entities"][1]["off_schema"] is True and "off_schema" not in line["entities"][0]
    assert line["relations"] == [] and line["events"] == []


def test_prediction_line_with_split_schema_merges_chunks():
    record = gold_records()[0]
    chunks = split_schema(record, 2)
    assert chunks == [["person", "location"], ["organization"]]
    fmt = FORMATS["complete"]
    completions = [fmt.render(restrict_record(record, chunk)) for chunk in chunks]
    line = prediction_line(record, completions, "complete", label_subsets=chunks)
    assert line["well_formed"] and line["completion"] == completions
    assert sorted(e["text"] for e in line["entities"]) == ["Barack Obama", "Paris"]
    # the full-schema parse of the first chunk's text misses labels; per-chunk parsing does not
    assert not fmt.parse(completions[0], record["labels"], "NER").well_formed
    assert score_predictions([record], [line])["datasets"]["N"]["metrics"]["ner"]["f1"] == 100
    with pytest.raises(ValueError, match="one completion per label subset"):
        prediction_line(record, completions[:1], "complete", label_subsets=chunks)
