"""prouie extract: the command's shapes on a small LoRA run, its prompts (the kit's own), and every bad input as
one line with exit code 2."""

from __future__ import annotations

import io
import json
import sys

import pytest
from extract_helpers import SYSTEM, make_lora_run

from prouie_lib.cli import main

TEXT = "Tim Cook met Angela Merkel in Berlin on Monday."


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return make_lora_run(tmp_path_factory.mktemp("runs"))


@pytest.fixture()
def stdin(monkeypatch):
    def feed(text: str) -> None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    return feed


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_ner_texts_of_a_run_with_an_html_page(run, tmp_path, capsys):
    page = tmp_path / "out.html"
    assert main(["extract", "--model", str(run), "--task", "ner", "--labels", "person,location,organization",
                 "--text", TEXT, "--text", "Second text.", "--html", str(page)]) == 0
    out, err = capsys.readouterr()
    records = _records(out)
    assert [r["text"] for r in records] == [TEXT, "Second text."] and [r["id"] for r in records] == ["1", "2"]
    for record in records:
        assert record["task"] == "NER" and record["labels"] == {"entity_types": ["person", "location", "organization"]}
        assert isinstance(record["completion"], str) and record["format"] == "streamlined"
        assert isinstance(record["well_formed"], bool) and record["windows"] == [[0, len(record["text"])]]
        for entity in record["entities"]:  # whatever the random model says is grounded or flagged
            assert entity["alignment"] in ("exact", "fuzzy", "not_found")
    assert "using stage sa of" in err and "2 text(s), 0 split into sentence windows" in err
    assert page.read_text().startswith("<!DOCTYPE html>") and "Second text." in page.read_text()


def test_re_from_a_text_file_ee_from_jsonl_and_like_a_dataset(run, tmp_path, capsys, stdin):
    texts = tmp_path / "texts.txt"
    texts.write_text(f"{TEXT}\n\nAda Lovelace lived in London.\n")
    out = tmp_path / "x.jsonl"
    assert main(["extract", "--model", str(run / "sa"), "--task", "re", "--relations", "work for,live in",
                 "--labels", "person,location", "--input", str(texts), "--out", str(out), "--quiet"]) == 0
    records = _records(out.read_text())
    assert [r["id"] for r in records] == ["1", "3"]  # line numbers; the blank line is skipped
    assert records[0]["labels"] == {"relation_types": ["work for", "live in"], "entity_types": ["person", "location"]}
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "d1", "text": TEXT}) + "\n" + json.dumps(
        {"text": "Rebels bombed Kabul.", "labels": {"event_types": {"Die": ["victim"]}}}) + "\n")
    assert main(["extract", "--model", str(run / "sa"), "--task", "ee", "--events",
                 "Attack: attacker, target, place; Injure: victim", "--input", str(docs), "--quiet"]) == 0
    first, second = _records(capsys.readouterr().out)
    assert first["id"] == "d1" and first["labels"]["event_types"] == {
        "Attack": ["attacker", "target", "place"], "Injure": ["victim"]}
    assert second["id"] == "2" and second["labels"] == {"event_types": {"Die": ["victim"]}}  # the line's own
    stdin("Ada Lovelace lived in London.\n")
    assert main(["extract", "--model", str(run / "sa"), "--like", "sample", "--task", "ner", "--quiet"]) == 0
    [record] = _records(capsys.readouterr().out)
    assert record["dataset"] == "sample" and record["task"] == "NER" and record["labels"]["entity_types"]


def test_long_texts_are_split_and_say_so(run, capsys):
    long = " ".join(f"Person{i} visited the old town of City{i} last week." for i in range(30))
    assert main(["extract", "--model", str(run / "sa"), "--task", "ner", "--labels", "person",
                 "--max-prompt-tokens", "90", "--max-new-tokens", "4", "--text", long]) == 0
    out, err = capsys.readouterr()
    [record] = _records(out)
    assert len(record["windows"]) > 1 and len(record["completion"]) == len(record["windows"])
    assert "1 split into sentence windows" in err


def test_extraction_prompts_are_the_kits_evaluation_prompts(run):
    """The same records through `predict_records` (the stage's evaluation) and through the Extractor."""
    from prouie_lib.data import load_examples
    from prouie_lib.evaluation.predict import predict_records
    from prouie_lib.extraction import Extractor
    from prouie_lib.extraction.schemas import ExtractionSchema

    records = load_examples("sample", "test")[::20][:6]
    extractor = Extractor.load(run / "sa")
    assert extractor.settings.system == SYSTEM and extractor.settings.max_new_tokens == 12
    got = extractor.extract([r["text"] for r in records], [ExtractionSchema(r["task"], r["labels"]) for r in records])
    backend = extractor.backend
    lines = predict_records(backend.model, backend.tokenizer, records, "streamlined", system=SYSTEM,
                            max_new_tokens=12, progress=False, reuse_prefix=True)
    assert [r["completion"] for r in got] == [line["completion"] for line in lines]
    assert [r["well_formed"] for r in got] == [line["well_formed"] for line in lines]


# (case, argv after `extract`, stdin or None, what the one line must name)
BAD: list[tuple[str, list[str], str | None, str]] = [
    ("no-texts-on-stdin", ["--task", "ner", "--labels", "person"], "\n\n", "stdin: no texts"),
    ("empty-input-file", ["--task", "ner", "--labels", "person", "--input", "{tmp}/empty.txt"], None,
     "empty.txt: field '--input': empty file"),
    ("empty-text", ["--task", "ner", "--labels", "person", "--text", " "], None, "'--text': empty text"),
    ("empty-schema", ["--task", "ner", "--labels", " , ", "--text", "x"], None, "empty schema: NER"),
    ("re-without-relations", ["--task", "re", "--labels", "person", "--text", "x"], None, "--relations"),
    ("ee-empty-events", ["--task", "ee", "--events", ";", "--text", "x"], None, "empty schema: EE"),
    ("unknown-task", ["--task", "srl", "--labels", "x", "--text", "x"], None, "unknown task 'srl'"),
    ("no-task", ["--labels", "person", "--text", "x"], None, "give --task"),
    ("unknown-dataset", ["--like", "CoNLL05", "--text", "x"], None, "unknown dataset 'CoNLL05'; did you mean CoNLL04"),
    ("like-and-labels", ["--like", "sample", "--labels", "x", "--text", "x"], None, "--like takes"),
    ("mixed-dataset-no-task", ["--like", "sample", "--text", "x"], None, "several tasks: give --task"),
    ("missing-model", ["--task", "ner", "--labels", "x", "--text", "x", "--model", "{tmp}/nope"], None,
     "'--model': {tmp}/nope: no such model folder"),
    ("jsonl-without-text", ["--task", "ner", "--labels", "x", "--input", "{tmp}/notext.jsonl"], None,
     "notext.jsonl: record line 2: field 'text': no 'text' field"),
    ("jsonl-not-json", ["--task", "ner", "--labels", "x", "--input", "{tmp}/broken.jsonl"], None,
     "broken.jsonl: record line 1: not a JSON object"),
    ("jsonl-bad-labels", ["--task", "ner", "--input", "{tmp}/badlabels.jsonl"], None,
     "badlabels.jsonl: line 1: field 'labels.entity_types': expected a list of strings"),
    ("jsonl-no-schema", ["--input", "{tmp}/plain.jsonl"], None, "record line 1: field 'labels': no schema"),
    ("html-is-a-folder", ["--task", "ner", "--labels", "x", "--text", "x", "--html", "{tmp}"], None,
     "field '--html': is a folder"),
    ("prompt-budget", ["--task", "ner", "--labels", "x", "--text", "x", "--max-prompt-tokens", "0"], None,
     "'--max-prompt-tokens': must be >= 1"),
    ("unknown-format", ["--task", "ner", "--labels", "x", "--text", "x", "--format", "xml"], None,
     "unknown format 'xml'"),
]


@pytest.mark.parametrize(("case", "argv", "stdin_text", "expected"), BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_one_line_and_exit_2(case, argv, stdin_text, expected, tmp_path, capsys, stdin):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "notext.jsonl").write_text('{"text": "fine"}\n{"id": 7, "txt": "typo"}\n')
    (tmp_path / "broken.jsonl").write_text('{"text": "cut\n')
    (tmp_path / "plain.jsonl").write_text('{"text": "no labels here"}\n')
    (tmp_path / "badlabels.jsonl").write_text('{"text": "x", "labels": {"entity_types": "person"}}\n')
    stdin(stdin_text if stdin_text is not None else "")
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    model = [] if "--model" in args else ["--model", "tiny-random"]
    assert main(["extract", *model, *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith("prouie: error: ") and expected.replace("{tmp}", str(tmp_path)) in err, err
