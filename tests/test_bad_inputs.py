"""Every sub-command on bad input: exit code 2, one line that names the file or the field, no traceback.

Runs ``prouie_lib.cli.main`` in process (no model is trained or loaded: every case fails in validation or reading).
"""

from __future__ import annotations

import json
import os

import pytest

from prouie_lib.cli import main
from prouie_lib.data import load_examples, write_jsonl

TINY = "configs/tiny.yaml"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    gold = root / "gold.jsonl"
    records = load_examples("sample", "test", limit=2)
    write_jsonl(records, gold)
    pred = root / "pred.jsonl"
    pred.write_text(json.dumps({"id": records[0]["id"], "completion": "x", "format": "streamlined"}) + "\n")
    (root / "garbage.bin").write_bytes(b"\x94\xff\xfe binary \x00\x01\x02" * 10)
    (root / "empty.jsonl").write_text("")
    (root / "cut.jsonl").write_text(gold.read_text().splitlines()[0] + "\n" + gold.read_text()[:40])
    (root / "folder").mkdir()
    (root / "locked.jsonl").write_text(gold.read_text())
    os.chmod(root / "locked.jsonl", 0)
    (root / "broken.yaml").write_text("name: x\nmodel: {backbone: tiny-random\ndata: [1,\n")
    (root / "list.yaml").write_text("- name\n- x\n")
    (root / "nan.yaml").write_text("name: nan\ncm:\n  trainer: {learning_rate: .nan}\n")
    trace = {"step": 0, "prompt_id": records[0]["id"], "group": 0, "task": records[0]["task"],
             "format": "streamlined", "completion": "x", "reward": 0.0, "reward_name": "sfr", "components": {},
             "advantage": 0.0, "gold": records[0]}
    (root / "traces.jsonl").write_text(json.dumps(trace) + "\n")
    old = {k: v for k, v in trace.items() if k != "format"}  # a trace file written by an older kit version
    (root / "old_traces.jsonl").write_text(json.dumps(old) + "\n")
    (root / "log_history.jsonl").write_text(json.dumps({"step": 1, "loss": 2.0}) + "\n")  # another run file
    (root / "tweets.txt").write_text("Hello\tO\n\tO\n \tB-PER\nJohn\tB-PER\n\n")
    yield root
    os.chmod(root / "locked.jsonl", 0o600)


def _cfg(*sets: str) -> list[str]:
    out = ["pipeline", "--config", TINY, "--set", "output_dir={tmp}/runs"]
    for item in sets:
        out += ["--set", item]
    return out


# (case id, argv with {tmp} for the fixture folder, text the message must contain)
CASES: list[tuple[str, list[str], str]] = [
    # eval score
    ("eval-gold-folder", ["eval", "score", "--gold", "{tmp}/folder", "--pred", "{tmp}/pred.jsonl"], "{tmp}/folder"),
    ("eval-pred-folder", ["eval", "score", "--gold", "{tmp}/gold.jsonl", "--pred", "{tmp}/folder"], "--pred"),
    ("eval-gold-garbage", ["eval", "score", "--gold", "{tmp}/garbage.bin", "--pred", "{tmp}/pred.jsonl"],
     "{tmp}/garbage.bin: record line 1: not UTF-8"),
    ("eval-pred-garbage", ["eval", "score", "--gold", "{tmp}/gold.jsonl", "--pred", "{tmp}/garbage.bin"],
     "{tmp}/garbage.bin"),
    ("eval-gold-empty", ["eval", "score", "--gold", "{tmp}/empty.jsonl", "--pred", "{tmp}/pred.jsonl"],
     "{tmp}/empty.jsonl: field '--gold': empty file"),
    ("eval-gold-missing", ["eval", "score", "--gold", "{tmp}/nope.jsonl", "--pred", "{tmp}/pred.jsonl"],
     "{tmp}/nope.jsonl: field '--gold': no such file"),
    ("eval-gold-unreadable", ["eval", "score", "--gold", "{tmp}/locked.jsonl", "--pred", "{tmp}/pred.jsonl"],
     "{tmp}/locked.jsonl"),
    ("eval-gold-cut", ["eval", "score", "--gold", "{tmp}/cut.jsonl", "--pred", "{tmp}/pred.jsonl"],
     "{tmp}/cut.jsonl: record 1 (line 2): field 'json': invalid JSON"),
    ("eval-pred-cut", ["eval", "score", "--gold", "{tmp}/gold.jsonl", "--pred", "{tmp}/cut.jsonl"],
     "{tmp}/cut.jsonl: record line 2"),
    # predict
    ("predict-batch-size-0", ["predict", "--model", "tiny-random", "--data", "sample", "--out", "{tmp}/p.jsonl",
                              "--batch-size", "0"], "--batch-size"),
    ("predict-limit-negative", ["predict", "--model", "tiny-random", "--data", "sample", "--out", "{tmp}/p.jsonl",
                                "--limit", "-5"], "--limit"),
    ("predict-max-new-tokens-0", ["predict", "--model", "tiny-random", "--data", "sample", "--out", "{tmp}/p.jsonl",
                                  "--max-new-tokens", "0"], "--max-new-tokens"),
    ("predict-model-missing", ["predict", "--model", "/nonexistent/model", "--data", "sample",
                               "--out", "{tmp}/p.jsonl"], "/nonexistent/model: no such model folder"),
    ("predict-model-typo", ["predict", "--model", "tiny-randm", "--data", "sample", "--out", "{tmp}/p.jsonl"],
     "'tiny-randm' is not a known backbone"),
    ("predict-out-folder", ["predict", "--model", "tiny-random", "--data", "sample", "--out", "{tmp}/folder"],
     "{tmp}/folder: field '--out'"),
    ("predict-out-under-file", ["predict", "--model", "tiny-random", "--data", "sample",
                                "--out", "{tmp}/gold.jsonl/p.jsonl"], "is a file, not a folder"),
    # reward
    ("reward-score-garbage", ["reward", "score", "--gold", "{tmp}/gold.jsonl", "--completions", "{tmp}/garbage.bin"],
     "{tmp}/garbage.bin"),
    ("reward-score-unknown", ["reward", "score", "--gold", "{tmp}/gold.jsonl", "--completions", "{tmp}/pred.jsonl",
                              "--reward", "nope"], "field '--reward': unknown reward 'nope'"),
    ("reward-score-gold-folder", ["reward", "score", "--gold", "{tmp}/folder", "--completions", "{tmp}/pred.jsonl"],
     "{tmp}/folder"),
    ("reward-replay-unknown", ["reward", "replay", "--traces", "{tmp}/traces.jsonl", "--reward", "nope"],
     "unknown reward 'nope'"),
    ("reward-replay-log-file", ["reward", "replay", "--traces", "{tmp}/log_history.jsonl", "--reward", "sfr"],
     "{tmp}/log_history.jsonl: record line 1: field 'completion': not a reward trace"),
    ("reward-replay-old-trace", ["reward", "replay", "--traces", "{tmp}/old_traces.jsonl", "--reward", "sfr"],
     "{tmp}/old_traces.jsonl: record line 1: field 'format'"),
    ("reward-replay-empty", ["reward", "replay", "--traces", "{tmp}/empty.jsonl", "--reward", "sfr"],
     "{tmp}/empty.jsonl"),
    ("reward-replay-output-folder", ["reward", "replay", "--traces", "{tmp}/traces.jsonl", "--reward", "sfr",
                                     "--output", "{tmp}/folder"], "field '--output'"),
    # data
    ("data-stats-missing-path", ["data", "stats", "/nonexistent/path"], "/nonexistent/path: no such file or folder"),
    ("data-stats-unknown-name", ["data", "stats", "conll4"], "did you mean"),
    ("data-stats-garbage", ["data", "stats", "{tmp}/garbage.bin"], "pass --format"),
    ("data-stats-tweets-strict", ["data", "stats", "{tmp}/tweets.txt", "--strict"], "--lenient"),
    ("data-convert-limit", ["data", "convert", "sample", "--split", "train", "--out", "{tmp}/c.jsonl",
                            "--limit", "-5"], "field '--limit': must be >= 0"),
    ("data-convert-out-folder", ["data", "convert", "sample", "--split", "train", "--out", "{tmp}/folder"],
     "{tmp}/folder"),
    ("data-convert-no-split", ["data", "convert", "sample", "--split", "nosuch", "--out", "{tmp}/c.jsonl"],
     "no split 'nosuch'"),
    # pipeline / train configs
    ("config-folder", ["pipeline", "--config", "{tmp}/folder"], "{tmp}/folder: field '--config'"),
    ("config-missing", ["train", "cm", "--config", "{tmp}/nope.yaml"], "{tmp}/nope.yaml"),
    ("config-yaml-syntax", ["pipeline", "--config", "{tmp}/broken.yaml"], "{tmp}/broken.yaml: invalid YAML: line"),
    ("config-garbage", ["pipeline", "--config", "{tmp}/garbage.bin"], "{tmp}/garbage.bin: not UTF-8"),
    ("config-not-mapping", ["pipeline", "--config", "{tmp}/list.yaml"], "{tmp}/list.yaml: expected a mapping"),
    ("config-nan", ["pipeline", "--config", "{tmp}/nan.yaml"], "field 'cm.trainer.learning_rate': must be a finite"),
    ("config-eval-batch", _cfg("eval.batch_size=-1"), "configs/tiny.yaml: field 'eval.batch_size': must be > 0"),
    ("config-train-batch", _cfg("cm.trainer.per_device_train_batch_size=-4"),
     "field 'cm.trainer.per_device_train_batch_size'"),
    ("config-limit", _cfg("eval.limit_per_dataset=-5"), "field 'eval.limit_per_dataset'"),
    ("config-enum", ["train", "cm", "--config", TINY, "--set", "cm.curriculum=random"], "field 'cm.curriculum'"),
    ("config-save-dtype", _cfg("model.save_dtype=int8"), "field 'model.save_dtype'"),
    ("config-unknown-field", _cfg("cm.trainer.max_stepz=3"), "unknown field(s) ['max_stepz']"),
    ("config-backbone-typo", _cfg("model.backbone=tiny-randm"), "field 'model.backbone': 'tiny-randm'"),
    ("config-dataset", _cfg("data.datasets=[NoSuchData]"), "field 'data.datasets[0]'"),
    ("config-split", _cfg("eval.split=nosuch"), "field 'eval.split'"),
    ("config-set-syntax", _cfg("cm.trainer.max_steps"), "field '--set'"),
    ("config-de-groups", _cfg("de.num_generations=3"), "field 'de.num_generations'"),
]


@pytest.mark.parametrize(("argv", "needle"), [(argv, needle) for _, argv, needle in CASES],
                         ids=[case for case, _, _ in CASES])
def test_bad_input_exits_2_with_one_line(files, capsys, argv, needle):
    if "locked" in " ".join(argv) and os.access(files / "locked.jsonl", os.R_OK):
        pytest.skip("running as root: file permissions do not apply")
    tmp = str(files)
    code = main([a.replace("{tmp}", tmp) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("prouie: error: "), err
    assert needle.replace("{tmp}", tmp) in lines[0], lines[0]
    assert not (files / "runs").exists()  # nothing ran


def test_debug_shows_the_traceback_of_a_user_error(files, capsys):
    code = main(["eval", "score", "--gold", str(files / "garbage.bin"), "--pred", str(files / "pred.jsonl"),
                 "--debug"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" in err and err.strip().splitlines()[-1].startswith("prouie: error: ")


def test_a_bug_keeps_its_traceback(monkeypatch):
    import prouie_lib.cli.data as data_cli

    def broken(args):
        return {}["no such key"]  # a programming error, not a user error

    monkeypatch.setattr(data_cli, "_list", broken)
    with pytest.raises(KeyError):
        main(["data", "list"])


def test_there_are_at_least_30_cases_over_every_sub_command():
    assert len(CASES) >= 30
    commands = {argv[0] + (" " + argv[1] if argv[0] in ("eval", "reward", "data") else "") for _, argv, _ in CASES}
    assert {"eval score", "predict", "reward score", "reward replay", "data stats", "data convert", "pipeline",
            "train"} <= commands


def test_lenient_iob_keeps_sentences_with_whitespace_tokens(files, capsys):
    from prouie_lib.data import load_split

    result = load_split(files / "tweets.txt", "train", lenient=True)
    assert [r["text"] for r in result.records] == ["Hello John"]
    assert result.report.repairs == 2 and result.report.drops == 0
    assert [e["text"] for e in result.records[0]["entities"]] == ["John"]
    assert main(["data", "stats", str(files / "tweets.txt"), "--lenient", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["splits"]["tweets"]["examples"] == 1 and stats["splits"]["tweets"]["repairs"] == 2
