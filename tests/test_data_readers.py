"""Each reader on small hand-written inputs (no shared data needed), format detection, verbalizers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prouie_lib.data import load_examples, load_split, resolve
from prouie_lib.data.readers import detect_format
from prouie_lib.data.readers.base import UnlabeledSplitError
from prouie_lib.data.readers.bio import decode
from prouie_lib.data.readers.bionlp import split_sentences
from prouie_lib.data.verbalizers import Verbalizer, humanize


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _spans(record, key="entities"):
    return [(e["text"], e["type"], e["start"], e["end"]) for e in record[key]]


# ---------------------------------------------------------------------------------------------- BIO


@pytest.mark.parametrize("lines", [
    "EU\tB-ORG\nrejects\tO\nGerman\tB-MISC\ncall\tO\n",  # 2 columns, tab, IOB2
    "EU NNP I-ORG\nrejects VBZ O\nGerman JJ I-MISC\ncall NN O\n",  # 3 columns, space, IOB1
    "-DOCSTART- -X- O O\n\nEU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP I-MISC\ncall NN I-NP O\n",  # CoNLL-03
])
def test_bio_variants_read_the_same(tmp_path, lines):
    path = _write(tmp_path / "train.txt", lines + "\nPeter\tB-PER\n")
    records = load_examples(path, "train")
    assert [r["text"] for r in records] == ["EU rejects German call", "Peter"]
    assert _spans(records[0]) == [("EU", "ORG", 0, 2), ("German", "MISC", 11, 17)]
    assert records[0]["labels"] == {"entity_types": ["MISC", "ORG", "PER"]}  # scanned from the file


def test_bio_iob1_adjacent_mentions_and_iob2_continuation():
    tokens = ["New", "York", "Boston", "and", "Paris", "Rome"]
    iob1 = ["I-LOC", "I-LOC", "B-LOC", "O", "I-LOC", "B-LOC"]
    assert [e["text"] for e in decode(tokens, iob1)] == ["New York", "Boston", "Paris", "Rome"]
    iob2 = ["B-LOC", "I-LOC", "B-LOC", "O", "B-LOC", "I-ORG"]  # I- of another type opens a mention
    assert [(e["text"], e["type"]) for e in decode(tokens, iob2)] == [
        ("New York", "LOC"), ("Boston", "LOC"), ("Paris", "LOC"), ("Rome", "ORG")]


# ---------------------------------------------------------------------------------------------- JSON


def test_ie_instructions_re_entities_come_from_relations(tmp_path):
    folder = tmp_path / "re"
    _write(folder / "labels.json", json.dumps(["Work for", "Live in"]))
    _write(folder / "test.json", json.dumps([{"sentence": "Ann works for Acme in Rome .", "relations": [
        {"head": {"name": "Ann", "type": "People", "pos": [0, 3]}, "type": "Work for",
         "tail": {"name": "Acme", "type": "Organization", "pos": [14, 18]}},
        {"head": {"name": "Ann", "type": "People", "pos": [0, 3]}, "type": "Live in",
         "tail": {"name": "Rome", "type": "Location", "pos": [22, 26]}}]}]))
    rec = load_examples(folder, "test")[0]
    assert rec["task"] == "RE" and rec["id"] == "re/test/0"
    assert rec["labels"]["relation_types"] == ["Work for", "Live in"]  # from labels.json, in file order
    assert rec["labels"]["entity_types"] == ["Location", "Organization", "People"]  # scanned
    assert _spans(rec) == [("Ann", "People", 0, 3), ("Acme", "Organization", 14, 18), ("Rome", "Location", 22, 26)]


def test_ie_instructions_ee_variant(tmp_path):
    folder = tmp_path / "ee"
    _write(folder / "labels.json", json.dumps([["attack", "meet"], "attacker, place"]))
    _write(folder / "dev.json", json.dumps([
        {"sentence": "Rebels bombed Kabul .", "events": [
            {"type": "attack", "trigger": "bombed", "pos": [7, 13],
             "arguments": [{"name": "Rebels", "role": "attacker", "pos": [0, 6]}, {"name": "Kabul", "role": "place"}]},
            {"type": "NA", "trigger": "", "arguments": []}]}]))
    result = load_split(folder, "dev")
    ev = result.records[0]["events"]
    assert result.records[0]["labels"] == {"event_types": {"attack": ["attacker", "place"], "meet": ["attacker", "place"]}}
    assert ev == [{"type": "attack", "trigger": {"text": "bombed", "start": 7, "end": 13}, "arguments": [
        {"role": "attacker", "text": "Rebels", "start": 0, "end": 6},
        {"role": "place", "text": "Kabul", "start": None, "end": None}]}]
    assert result.report.omitted == {"IE_INSTRUCTIONS events typed NA/empty (= no event)": 1}


def test_spert_with_label_files(tmp_path):
    folder = tmp_path / "spert"
    _write(folder / "ner2idx.json", json.dumps({"Peop": 0, "Org": 1}))
    _write(folder / "rel2idx.json", json.dumps({"Work_For": 0}))
    _write(folder / "train_triples.json", json.dumps([{"tokens": ["John", "Smith", "works", "for", "Acme", "."],
        "entities": [{"type": "Peop", "start": 0, "end": 2}, {"type": "Org", "start": 4, "end": 5}],
        "relations": [{"type": "Work_For", "head": 0, "tail": 1}], "orig_id": 7}]))
    assert detect_format(folder) == "spert"
    rec = load_examples(folder, "train")[0]
    assert rec["text"] == "John Smith works for Acme ."
    assert rec["labels"] == {"entity_types": ["Peop", "Org"], "relation_types": ["Work_For"]}
    assert rec["relations"] == [{"head": {"text": "John Smith", "type": "Peop", "start": 0, "end": 10},
                                 "type": "Work_For", "tail": {"text": "Acme", "type": "Org", "start": 21, "end": 25}}]


def test_dygie_sentences_relations_and_events(tmp_path):
    doc = {"doc_key": "D1", "sentences": [["We", "use", "CRFs", "."], ["CRFs", "help", "parsing", "."]],
           "ner": [[[2, 2, "Method"]], [[4, 4, "Method"], [6, 6, "Task"]]],
           "relations": [[], [[4, 4, 6, 6, "USED-FOR"]]], "clusters": [[[2, 2], [4, 4]]]}
    path = _write(tmp_path / "sci" / "test.json", json.dumps(doc) + "\n")
    result = load_split(path, "test")
    first, second = result.records
    assert (first["id"], second["id"]) == ("sci/test/D1/0", "sci/test/D1/1")
    assert second["text"] == "CRFs help parsing ."
    assert second["relations"][0]["head"] == {"text": "CRFs", "type": "Method", "start": 0, "end": 4}
    assert second["relations"][0]["tail"]["text"] == "parsing"
    assert result.report.omitted == {"DyGIE coreference clusters": 1}
    ace = {"doc_key": "A", "sentences": [["Rebels", "attacked", "Kabul"]], "ner": [[[0, 0, "PER"]]],
           "relations": [[]], "events": [[[[1, "Conflict.Attack"], [0, 0, "Attacker"], [2, 2, "Place"]]]]}
    rec = load_examples(_write(tmp_path / "ace" / "dev.json", json.dumps(ace) + "\n"), "dev")[0]
    assert rec["task"] == "EE" and rec["entities"] == []
    assert rec["events"][0]["trigger"] == {"text": "attacked", "start": 7, "end": 15}
    assert [(a["role"], a["text"]) for a in rec["events"][0]["arguments"]] == [("Attacker", "Rebels"), ("Place", "Kabul")]


def test_phee_roles_fragments_and_attributes(tmp_path):
    text = "Paroxetine and fentanyl caused severe serotonin syndrome in a woman."
    event = {"event_id": "E1", "event_type": "Adverse_event",
             "Trigger": {"text": [["caused"]], "start": [[24]], "entity_id": ["T1"]},
             "Treatment": {"text": [["Paroxetine", "fentanyl"]], "start": [[0, 15]], "entity_id": ["T2"],
                           "Drug": {"text": [["Paroxetine"], ["fentanyl"]], "start": [[0], [15]], "entity_id": ["T3", "T4"]}},
             "Effect": {"text": [["severe serotonin syndrome"]], "start": [[31]], "entity_id": ["T5"]},
             "Subject": {"text": [["a woman"]], "start": [[60]], "entity_id": ["T6"],
                         "Gender": {"text": [["woman"]], "start": [[62]], "entity_id": ["T7"]}},
             "Severity": {"text": [["severe"]], "start": [[31]], "entity_id": ["T8"], "value": "High"}}
    path = _write(tmp_path / "train.json", json.dumps({"id": "1_1", "context": text, "annotations": [{"events": [event]}]}) + "\n")
    result = load_split(path, "train")
    ev = result.records[0]["events"][0]
    assert ev["trigger"] == {"text": "caused", "start": 24, "end": 30}
    assert [(a["role"], a["text"], a["start"]) for a in ev["arguments"]] == [
        ("Treatment", "Paroxetine", 0), ("Treatment", "fentanyl", 15), ("Treatment.Drug", "Paroxetine", 0),
        ("Treatment.Drug", "fentanyl", 15), ("Effect", "severe serotonin syndrome", 31), ("Subject", "a woman", 60),
        ("Subject.Gender", "woman", 62)]
    assert result.report.omitted == {"PHEE attribute Severity": 1}


def test_uniner_groups_queries_by_sentence(tmp_path):
    def query(i, text, etype, answer):
        return {"id": f"q{i}", "conversations": [
            {"from": "human", "value": f"Text: {text}"}, {"from": "gpt", "value": "I've read this text."},
            {"from": "human", "value": f"What describes {etype} in the text?"}, {"from": "gpt", "value": json.dumps(answer)}]}
    a, b = "Sutton and Barto wrote a book .", "Bayes was a minister ."
    data = [query(0, a, "researcher", ["Sutton", "Barto"]), query(1, a, "book", []), query(2, b, "researcher", ["Bayes"]),
            query(3, b, "book", []), query(4, a, "researcher", ["Sutton", "Barto"])]
    result = load_split(_write(tmp_path / "CrossNER_AI.json", json.dumps(data)), "test")
    assert [r["text"] for r in result.records] == [a, b]
    assert result.records[0]["labels"] == {"entity_types": ["book", "researcher"]}
    assert _spans(result.records[0]) == [("Sutton", "researcher", None, None), ("Barto", "researcher", None, None)]
    assert result.report.omitted == {"UniNER repeated identical queries": 1}


# ---------------------------------------------------------------------------------------------- text


def test_semeval_and_kbp_marked_pairs(tmp_path):
    semeval = ('1\t"The <e1>author</e1> of a keygen uses a <e2>disassembler</e2>."\r\nInstrument-Agency(e2,e1)\r\n'
               'Comment:\r\n\r\n2\t"A misty <e1>ridge</e1> uprises from the <e2>surge</e2>."\r\nOther\r\nComment:\r\n\r\n')
    records = load_examples(_write(tmp_path / "TRAIN_FILE.TXT", semeval), "train")
    first = records[0]
    assert first["text"] == "The author of a keygen uses a disassembler."
    assert first["relations"] == [{"head": {"text": "disassembler", "type": "entity", "start": 30, "end": 42},
                                   "type": "Instrument-Agency",
                                   "tail": {"text": "author", "type": "entity", "start": 4, "end": 10}}]
    assert records[1]["relations"] == [] and len(records[1]["entities"]) == 2
    kbp = '0\t" <e1> Thom Yorke </e1> of <e2> Radiohead </e2> sings . "\nper:employee_of(e1,e2)\n\n\n'
    rec = load_examples(_write(tmp_path / "kbp" / "dev.txt", kbp), "dev")[0]
    assert rec["text"] == "Thom Yorke of Radiohead sings ."
    assert _spans(rec) == [("Thom Yorke", "entity", 0, 10), ("Radiohead", "entity", 14, 23)]
    assert rec["relations"][0]["type"] == "per:employee_of"


def _bionlp_doc(folder: Path, name: str, text: str, a1: str, a2: str | None) -> None:
    _write(folder / f"{name}.txt", text)
    _write(folder / f"{name}.a1", a1)
    if a2 is not None:
        _write(folder / f"{name}.a2", a2)


def test_bionlp_flattening_sentences_and_merging(tmp_path):
    text = ("BMP-6 induces Id1 expression. Smad5 is unrelated. "
            "Phosphorylation of Stat3 was seen. It required Jak2.\nA title line")
    a1 = "T1\tProtein 0 5\tBMP-6\nT2\tProtein 14 17\tId1\nT3\tProtein 30 35\tSmad5\nT4\tProtein 69 74\tStat3\nT5\tProtein 97 101\tJak2\n"
    a2 = ("T6\tGene_expression 18 28\texpression\nT7\tPositive_regulation 6 13\tinduces\n"
          "T8\tPhosphorylation 50 65\tPhosphorylation\nT9\tPositive_regulation 88 96\trequired\n"
          "E1\tGene_expression:T6 Theme:T2\nE2\tPositive_regulation:T7 Theme:E1 Cause:T1\n"
          "E3\tPhosphorylation:T8 Theme:T4\nE4\tPositive_regulation:T9 Theme:E3 Cause:T5\n"
          "M1\tSpeculation E4\n*\tEquiv T4 T5\n")
    folder = tmp_path / "ge" / "train"
    _bionlp_doc(folder, "PMID-1", text, a1, a2)
    _bionlp_doc(tmp_path / "ge" / "test", "PMID-2", "Unlabeled text.", "", None)
    spec = resolve(tmp_path / "ge")
    assert (list(spec.splits), list(spec.unlabeled)) == (["train"], ["test"])
    result = load_split(tmp_path / "ge", "train")
    texts = [r["text"] for r in result.records]
    # E4's trigger ("required", sentence 4) takes E3 (sentence 3) as Theme: sentences 3+4 merge.
    assert texts == ["BMP-6 induces Id1 expression.", "Smad5 is unrelated.",
                     "Phosphorylation of Stat3 was seen. It required Jak2.", "A title line"]
    assert [r["id"] for r in result.records] == [f"ge/train/PMID-1/{k}" for k in range(4)]
    e2 = result.records[0]["events"][1]
    assert e2["type"] == "Positive_regulation"
    assert [(a["role"], a["text"]) for a in e2["arguments"]] == [("Theme", "expression"), ("Cause", "BMP-6")]
    e4 = result.records[2]["events"][1]
    assert [(a["role"], a["text"], a["start"]) for a in e4["arguments"]] == [
        ("Theme", "Phosphorylation", 0), ("Cause", "Jak2", 47)]
    assert sum(len(r["events"]) for r in result.records) == 4
    assert result.report.omitted == {"BioNLP modifications (Negation/Speculation)": 1, "BioNLP equivalence sets": 1}
    with pytest.raises(UnlabeledSplitError, match="no .a2 gold"):
        load_examples(tmp_path / "ge" / "test", "test")


def test_sentence_splitter_never_cuts_a_protected_span():
    doc = "Cells with S. Typhimurium died. Next one"
    assert split_sentences(doc, []) == [(0, 13), (14, 31), (32, 40)]
    assert split_sentences(doc, [(11, 25)]) == [(0, 31), (32, 40)]  # the span "S. Typhimurium"
    assert split_sentences("  One.\n\nTwo  ", []) == [(2, 6), (8, 11)]


# ---------------------------------------------------------------------------------------------- misc


def test_detect_format_errors_are_clear(tmp_path):
    _write(tmp_path / "notes.txt", "just some words\nnothing tabular here at all\n")
    with pytest.raises(ValueError, match="cannot detect the format"):
        detect_format(tmp_path / "notes.txt")
    _write(tmp_path / "a" / "x.txt", "1")
    with pytest.raises(ValueError, match="sub-folders a"):
        detect_format(tmp_path)
    with pytest.raises(FileNotFoundError):
        detect_format(tmp_path / "missing")


def test_folder_split_names_fall_back_to_stems(tmp_path):
    row = json.dumps([{"sentence": "Ann left .", "entities": [{"name": "Ann", "type": "PER", "pos": [0, 3]}]}])
    for stem in ("fold_1_train", "fold_1_test", "fold_2_train"):
        _write(tmp_path / "folds" / f"{stem}.json", row)
    assert sorted(resolve(tmp_path / "folds").splits) == ["fold_1_test", "fold_1_train", "fold_2_train"]
    for stem in ("my_training_set", "valid", "test"):
        _write(tmp_path / "std" / f"{stem}.json", row)
    assert resolve(tmp_path / "std").splits == {"dev": "valid.json", "test": "test.json", "train": "my_training_set.json"}
    assert load_examples(tmp_path / "std", "validation")[0]["split"] == "dev"


def test_humanize_and_verbalizer():
    assert humanize("Positive_regulation") == "positive regulation"
    assert humanize("OtherScientificTerm") == "other scientific term"
    assert humanize("USED-FOR") == "used for"
    verb = Verbalizer({"Peop": "person"}, humanize=True)
    assert (verb("Peop"), verb("Located_In"), Verbalizer()("Located_In")) == ("person", "located in", "Located_In")
    record = {"labels": {"entity_types": ["Peop", "Loc"], "relation_types": ["Live_In"],
                         "event_types": {"Gene_expression": ["Theme", "Theme2"]}},
              "entities": [{"text": "A", "type": "Peop", "start": 0, "end": 1}],
              "relations": [{"head": {"text": "A", "type": "Peop", "start": 0, "end": 1}, "type": "Live_In",
                             "tail": {"text": "B", "type": "Loc", "start": 2, "end": 3}}],
              "events": [{"type": "Gene_expression", "trigger": {"text": "A", "start": 0, "end": 1},
                          "arguments": [{"role": "Theme2", "text": "B", "start": 2, "end": 3}]}]}
    out = verb.record(record)
    assert out["labels"] == {"entity_types": ["person", "loc"], "relation_types": ["live in"],
                             "event_types": {"gene expression": ["theme", "theme2"]}}
    assert out["relations"][0]["type"] == "live in" and out["relations"][0]["tail"]["type"] == "loc"
    assert out["events"][0]["arguments"][0]["role"] == "theme2"
    assert record["entities"][0]["type"] == "Peop"  # input untouched
    with pytest.raises(ValueError, match="maps both"):
        Verbalizer({"A": "x", "B": "x"}).check_unambiguous({"entity_types": ["A", "B"]})
