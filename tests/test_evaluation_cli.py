"""``prouie eval score``, ``prouie eval protocols`` and ``prouie predict`` wiring."""

from __future__ import annotations

import json
import sys
import types

import pytest

from prouie_lib import cli
from prouie_lib.cli import eval as eval_cli
from prouie_lib.cli import predict as predict_cli
from prouie_lib.data.io import read_json_objects
from prouie_lib.evaluation.protocols import PROTOCOLS
from prouie_lib.formats import FORMATS
from prouie_lib.schema import entity, make_record, structure_of


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture
def files(tmp_path):
    labels = {"entity_types": ["person", "location"]}
    gold = [make_record(id="a", dataset="Toy", task="NER", split="test", text="Ann lives in Rome.", labels=labels,
                        entities=[entity("Ann", "person", 0, 3), entity("Rome", "location", 13, 17)]),
            make_record(id="b", dataset="Toy", task="NER", split="test", text="Bo sings.", labels=labels,
                        entities=[entity("Bo", "person", 0, 2)])]
    preds = [{"id": "a", "completion": "(person: Ann)(location: Rome)", "format": "streamlined"},
             {"id": "b", **structure_of(gold[1]), "entities": []}]
    return write_jsonl(tmp_path / "gold.jsonl", gold), write_jsonl(tmp_path / "pred.jsonl", preds)


def test_choices_match_the_registries():
    assert eval_cli.PROTOCOL_NAMES == tuple(PROTOCOLS)
    assert set(predict_cli.FORMAT_NAMES) == set(FORMATS)


def test_score_json_prints_one_object(files, capsys):
    gold, pred = files
    assert cli.main(["eval", "score", "--gold", str(gold), "--pred", str(pred), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["protocol"] == "prouie"
    assert result["datasets"]["Toy"]["metrics"]["ner"] == pytest.approx({"p": 100, "r": 200 / 3, "f1": 80,
                                                                        "source": "kit"})
    assert cli.main(["eval", "score", "--gold", str(gold), "--pred", str(pred), "--json",
                     "--protocol", "iepile"]) == 0
    assert json.loads(capsys.readouterr().out)["datasets"]["Toy"]["metrics"]["ner"] == \
        {"p": 100.0, "r": 66.67, "f1": 80.0, "source": "peer"}


def test_score_table(files, capsys):
    gold, pred = files
    assert cli.main(["eval", "score", "--gold", str(gold), "--pred", str(pred)]) == 0
    out = capsys.readouterr().out
    assert "protocol: prouie" in out
    assert "Toy" in out and "ner" in out and " 66.67 " in out and " 80.00" in out
    assert "macro F1 over datasets: ner 80.00" in out


def test_score_errors_name_the_file_and_line(files, tmp_path, capsys):
    gold, _ = files
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "entities": []}\n{"id": \n')
    assert cli.main(["eval", "score", "--gold", str(gold), "--pred", str(bad)]) == 2
    assert f"{bad}: record line 2: invalid JSON" in capsys.readouterr().err
    unknown = write_jsonl(tmp_path / "unknown.jsonl", [{"id": "zz", "entities": []}])
    assert cli.main(["eval", "score", "--gold", str(gold), "--pred", str(unknown)]) == 2
    assert "prediction id 'zz' is not in the gold data" in capsys.readouterr().err
    assert cli.main(["eval", "score", "--gold", str(tmp_path / "nope.jsonl"), "--pred", str(unknown)]) == 2
    assert "no such file" in capsys.readouterr().err.lower()


def test_minimal_reader(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n\n{"b": 2}\n')
    assert read_json_objects(path) == [{"a": 1}, {"b": 2}]
    path.write_text("[1]\n")
    with pytest.raises(ValueError, match="expected a JSON object"):
        read_json_objects(path)


def test_protocols_lists_every_protocol_with_rules(capsys):
    assert cli.main(["eval", "protocols"]) == 0
    out = capsys.readouterr().out
    for name in PROTOCOLS:
        assert f"== {name} ==" in out
    assert "location" in out and "round" in out


def test_eval_without_subcommand_prints_help(capsys):
    assert cli.main(["eval"]) == 2
    assert "score" in capsys.readouterr().out


def test_predict_calls_predict_to_file(monkeypatch, tmp_path, capsys):
    calls = []
    fake = types.ModuleType("prouie_lib.evaluation.predict")

    def predict_to_file(model, data, split, fmt, out, *, limit=None, batch_size=16, max_new_tokens=128,
                        reuse_prefix=True):
        calls.append((model, data, split, fmt, out, limit, batch_size, max_new_tokens, reuse_prefix))
        return out

    fake.predict_to_file = predict_to_file
    monkeypatch.setitem(sys.modules, "prouie_lib.evaluation.predict", fake)
    out = str(tmp_path / "p.jsonl")
    assert cli.main(["predict", "--model", "tiny-random", "--data", "CoNLL04", "--format", "complete",
                     "--out", out, "--limit", "5", "--batch-size", "4", "--max-new-tokens", "32"]) == 0
    assert calls == [("tiny-random", "CoNLL04", "test", "complete", out, 5, 4, 32, True)]
    assert "wrote" in capsys.readouterr().out
    assert cli.main(["predict", "--model", "tiny-random", "--data", "CoNLL04", "--out", out, "--no-reuse-prefix"]) == 0
    assert calls[-1][-1] is False


def test_score_bootstrap_interval(files, capsys):
    gold, pred = files
    assert cli.main(["eval", "score", "--gold", str(gold), "--pred", str(pred), "--json", "--bootstrap", "500"]) == 0
    result = json.loads(capsys.readouterr().out)
    # Two records: "a" perfect (2 of 2), "b" missed (0 of 1). Resamples {a,a} → 100, {a,b} → 80, {b,b} → 0;
    # each outer case has probability 1/4, so the 2.5th and 97.5th percentiles are 0 and 100.
    assert result["datasets"]["Toy"]["metrics"]["ner"]["ci"] == [0.0, 100.0]
    assert result["bootstrap"]["resamples"] == 500
    assert cli.main(["eval", "score", "--gold", str(gold), "--pred", str(pred), "--bootstrap", "200"]) == 0
    assert "[0.00, 100.00]" in capsys.readouterr().out
    assert cli.main(["eval", "score", "--gold", str(gold), "--pred", str(pred), "--bootstrap", "-1"]) == 2
