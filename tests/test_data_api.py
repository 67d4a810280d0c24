"""Public data API: registry, load_examples, JSONL and datasets round trips, the `prouie data` CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prouie_lib.cli import main
from prouie_lib.data import (
    DATASETS,
    dataset_stats,
    from_hf_row,
    get_spec,
    load_examples,
    read_jsonl,
    registry,
    to_hf_dataset,
    write_jsonl,
)
from prouie_lib.schema import RECORD_FIELDS

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
needs_sample = pytest.mark.skipif(not (SAMPLE / "train.jsonl").is_file(), reason="data/sample not generated")


def _records(tmp_path: Path) -> list[dict]:
    """A small unified dataset with all three tasks and None offsets, written as a folder."""
    recs = [
        {"id": "x/test/0", "dataset": "x", "task": "NER", "split": "test", "text": "Ada met Bob in Rome.",
         "labels": {"entity_types": ["person", "location"]},
         "entities": [{"text": "Ada", "type": "person", "start": 0, "end": 3},
                      {"text": "Rome", "type": "location", "start": None, "end": None}],
         "relations": [], "events": []},
        {"id": "x/test/1", "dataset": "x", "task": "RE", "split": "test", "text": "Ada works for Acme.",
         "labels": {"entity_types": ["person", "organization"], "relation_types": ["work for"]},
         "entities": [{"text": "Ada", "type": "person", "start": 0, "end": 3},
                      {"text": "Acme", "type": "organization", "start": 14, "end": 18}],
         "relations": [{"head": {"text": "Ada", "type": "person", "start": 0, "end": 3}, "type": "work for",
                        "tail": {"text": "Acme", "type": "organization", "start": 14, "end": 18}}], "events": []},
        {"id": "x/test/2", "dataset": "x", "task": "EE", "split": "test", "text": "Rebels bombed Kabul — again.",
         "labels": {"event_types": {"Attack": ["Attacker", "Place"], "Meet": []}}, "entities": [], "relations": [],
         "events": [{"type": "Attack", "trigger": {"text": "bombed", "start": 7, "end": 13},
                     "arguments": [{"role": "Attacker", "text": "Rebels", "start": 0, "end": 6},
                                   {"role": "Place", "text": "Kabul", "start": None, "end": None}]}]},
    ]
    write_jsonl(recs, tmp_path / "x" / "test.jsonl")
    return recs


# ---------------------------------------------------------------------------------------------- registry


def test_registry_names_and_errors():
    assert get_spec("conll04") is DATASETS["CoNLL04"]
    with pytest.raises(ValueError, match="unknown dataset 'nope'; `prouie data list` shows the"):
        get_spec("nope")
    with pytest.raises(ValueError, match="unknown dataset 'conll4'; did you mean .*CoNLL04"):
        get_spec("conll4")
    with pytest.raises(ValueError, match="no existing file or folder"):
        load_examples("nope", "train")
    with pytest.raises(FileNotFoundError, match="data/nope: no such file or folder"):
        load_examples("data/nope", "train")
    with pytest.raises(ValueError, match="has no split 'foo'; splits: train, dev, test"):
        get_spec("CoNLL04").files("foo")
    assert get_spec("CoNLL04").split_name("devel") == "dev"
    for spec in DATASETS.values():
        assert spec.task in ("NER", "RE", "EE", "mixed") and spec.splits
        spec.verbalizer.check_unambiguous(spec.labels or {})
    assert registry.curriculum_order(["PHEE", "CoNLL04", "bc2gm", "GENIA2011-GE"]) == [
        "bc2gm", "CoNLL04", "PHEE", "GENIA2011-GE"]
    assert set(registry.names_by_task("EE")) == {"PHEE", "GENIA2011-GE"}


def test_data_root_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.DATA_ROOT_ENV, str(tmp_path))
    assert registry.data_root() == tmp_path
    with pytest.raises(FileNotFoundError, match=r"PROUIE_DATA_ROOT"):
        load_examples("CoNLL04", "train")
    folder = tmp_path / "RE" / "CoNLL04" / "ie_instructions"
    folder.mkdir(parents=True)
    (folder / "labels.json").write_text('["Work for"]')
    (folder / "test.json").write_text(json.dumps([{"sentence": "Ann works for Acme .", "relations": [
        {"head": {"name": "Ann", "type": "People", "pos": [0, 3]}, "type": "Work for",
         "tail": {"name": "Acme", "type": "Organization", "pos": [14, 18]}}]}]))
    rec = load_examples("CoNLL04", "test")[0]
    assert rec["relations"][0]["type"] == "work for" and rec["relations"][0]["head"]["type"] == "person"
    assert load_examples("CoNLL04", "test", verbalize=False)[0]["relations"][0]["type"] == "Work for"


# ---------------------------------------------------------------------------------------------- round trips


def test_jsonl_round_trip_and_field_order(tmp_path):
    recs = _records(tmp_path)
    back = load_examples(tmp_path / "x", "test")
    assert back == recs
    assert all(list(r) == list(RECORD_FIELDS) for r in back)
    assert load_examples(tmp_path / "x" / "test.jsonl", "test", limit=2) == recs[:2]


def test_hf_dataset_round_trip(tmp_path):
    recs = _records(tmp_path)
    ds = to_hf_dataset(recs)
    assert ds.column_names == list(RECORD_FIELDS)
    assert all(ds.features[c].dtype == "string" for c in RECORD_FIELDS)
    assert [from_hf_row(row) for row in ds] == recs
    assert json.loads(ds[2]["labels"]) == {"event_types": {"Attack": ["Attacker", "Place"], "Meet": []}}


def test_cli_convert_round_trip_and_stats_json(tmp_path, capsys):
    recs = _records(tmp_path)
    out = tmp_path / "out" / "conv.jsonl"
    assert main(["data", "convert", str(tmp_path / "x"), "--split", "test", "--out", str(out)]) == 0
    assert read_jsonl(out) == recs
    capsys.readouterr()
    assert main(["data", "stats", str(tmp_path / "x"), "--json"]) == 0
    printed = capsys.readouterr().out
    stats = json.loads(printed)  # exactly one JSON object
    assert stats == {"dataset": "x", "task": "mixed", "format": "unified", "splits": {"test": {
        "examples": 3, "entities": 4, "relations": 1, "events": 1, "arguments": 2, "repairs": 0, "drops": 0,
        "labels": {"person": 1, "location": 1, "work for": 1, "Attack": 1, "Meet": 0}}}}
    assert stats == dataset_stats(tmp_path / "x")


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["data", "stats", "no-such-dataset"]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    bad = REPO / "tests" / "fixtures" / "broken" / "unified_empty_text.jsonl"
    assert main(["data", "convert", str(bad), "--split", "test", "--out", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "unified_empty_text.jsonl: record 1 (line 2): field 'text'" in err
    assert main(["data", "convert", str(bad), "--split", "test", "--out", str(tmp_path / "o.jsonl"), "--lenient"]) == 0
    assert "1 drops" in capsys.readouterr().out


def test_cli_help_is_light():
    """``prouie --help`` and every command's ``--help`` load no heavy library (handlers import them)."""
    code = ("import contextlib, io, sys\n"
            "from prouie_lib.cli import main\n"
            "for argv in [['--help']] + [[c, '--help'] for c in ('data', 'eval', 'predict', 'reward', 'train',"
            " 'pipeline')]:\n"
            "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "        main(argv)\n"
            "heavy = ('torch', 'datasets', 'transformers', 'trl', 'peft', 'pandas', 'matplotlib')\n"
            "print(sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


# ---------------------------------------------------------------------------------------------- sample


@needs_sample
def test_sample_loads_through_the_registry():
    stats = dataset_stats("sample")
    assert set(stats["splits"]) == {"train", "dev", "test"}
    assert stats["splits"]["train"]["examples"] >= 400 and stats["splits"]["test"]["examples"] >= 100
    train = load_examples("sample", "train")
    assert {r["task"] for r in train} == {"NER", "RE", "EE"}
    assert all(r["dataset"].startswith("Sample") for r in train)  # records keep their own dataset names
    assert load_examples("SAMPLE", "test", limit=5) == load_examples("sample", "test")[:5]
