"""prouie export: a stage (or a run's chosen stage) as one standard checkpoint that plain transformers loads and
that predicts exactly as the stage does."""

from __future__ import annotations

import json

import pytest
from extract_helpers import make_lora_run, write_scores

from prouie_lib.cli import main
from prouie_lib.extraction.stage_choice import choose_stage, final_stage, resolve_model


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return make_lora_run(tmp_path_factory.mktemp("runs"), stages={"cm": 30.0, "sa": 40.0, "sft": 50.0})


@pytest.fixture(scope="module")
def exported(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "model"
    assert main(["export", "--model", str(run), "--out", str(out)]) == 0
    return out


def test_export_of_a_run_is_its_final_stage_as_a_standard_checkpoint(run, exported, capsys):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from prouie_lib.models import load_backbone

    names = {p.name for p in exported.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "generation_config.json", "README.md",
            "prouie_extract.json"} <= names and not any(n.endswith(".bin") for n in names)
    generation = json.loads((exported / "generation_config.json").read_text())
    assert generation["do_sample"] is False and generation["max_new_tokens"] == 12
    settings = json.loads((exported / "prouie_extract.json").read_text())
    assert settings["format"] == "streamlined" and settings["extra"]["stage"] == "sa"
    tokenizer = AutoTokenizer.from_pretrained(exported)
    assert tokenizer.chat_template
    plain = AutoModelForCausalLM.from_pretrained(exported, dtype=torch.float32)
    stage, _ = load_backbone(str(run / "sa"), device="cpu")
    merged = stage.state_dict()
    assert plain.state_dict().keys() == merged.keys()
    assert all(torch.equal(tensor, merged[name]) for name, tensor in plain.state_dict().items())
    base, _ = load_backbone("tiny-random", device="cpu")
    assert not torch.equal(base.state_dict()["model.layers.0.mlp.up_proj.weight"],
                           merged["model.layers.0.mlp.up_proj.weight"])  # the adapter is merged in


def test_model_card_states_stage_scores_prompts_and_the_extract_line(run, exported):
    card = (exported / "README.md").read_text()
    assert "stage `sa`" in card and "final finished stage" in card and "backbone: `tiny-random`" in card
    assert "| +CM | 30.0 |" in card and "| +SA | 40.0 |" in card and "| plain SFT (same budget) | 50.0 |" in card
    for task in ("**NER**", "**RE**", "**EE**"):
        assert task in card
    assert "Extract entities of these types: person, location, organization." in card
    assert "(person: Tim Cook | Angela Merkel)(location: Berlin)" in card  # the streamlined answer
    assert f'prouie extract --model {exported} --task ner --labels "person,location,organization"' in card
    assert f"vllm serve {exported}" in card and "not run" in card


def test_predict_gives_identical_completions_from_the_export_and_the_stage(run, exported, tmp_path):
    outputs = []
    for model in (run / "sa", exported):
        out = tmp_path / f"{model.name}.jsonl"
        assert main(["predict", "--model", str(model), "--data", "sample", "--split", "test", "--limit", "6",
                     "--max-new-tokens", "12", "--out", str(out)]) == 0
        outputs.append([json.loads(line)["completion"] for line in out.read_text().splitlines()])
    assert outputs[0] == outputs[1] and len(outputs[0]) == 6 and any(outputs[0])


def test_export_refuses_a_non_empty_folder_and_an_unfinished_run(run, exported, tmp_path, capsys):
    assert main(["export", "--model", str(run / "sa"), "--out", str(exported)]) == 2
    assert main(["export", "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    (tmp_path / "empty_run" / "sa").mkdir(parents=True)
    (tmp_path / "empty_run" / "config.yaml").write_text("name: empty_run\n")
    assert main(["export", "--model", str(tmp_path / "empty_run"), "--out", str(tmp_path / "o")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("prouie: error: ") for line in lines), lines
    assert "not empty" in lines[0] and "--force" in lines[0]
    assert "no such model folder" in lines[1] and "no finished stage" in lines[2]


def _stage_folders(root, split: str, stages: dict[str, float]):
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(f"name: r\neval: {{split: {split}}}\n")
    for stage, f1 in stages.items():
        (root / stage / "model").mkdir(parents=True)
        write_scores(root / stage, f1)
    return root


def test_stage_choice_best_dev_score_else_final_stage_not_the_control(tmp_path):
    dev = _stage_folders(tmp_path / "dev", "devel", {"base": 5.0, "cm": 30.0, "sa": 20.0, "sft": 30.0})
    choice = choose_stage(dev)
    assert choice.stage == "cm" and "best dev score" in choice.reason  # a tie goes to the earlier stage
    test = _stage_folders(tmp_path / "test", "test", {"cm": 30.0, "sa": 20.0, "sft": 60.0})
    choice = choose_stage(test)
    assert choice.stage == "sa" and "final" in choice.reason and "no dev score" in choice.reason
    kept = {"cm": 12.0, "sa": 31.0, "sft": 25.0}  # trainer.keep_best: dev gives every trained arm a dev score
    for stage, f1 in kept.items():
        (test / stage / "keep_best.json").write_text(json.dumps({"split": "dev", "records": 24, "best_dev_f1": f1}))
    choice = choose_stage(test)
    assert choice.stage == "sa" and "keep_best" in choice.reason and "31.0" in choice.reason
    (test / "sft" / "keep_best.json").write_text(json.dumps({"split": "dev", "records": 8, "best_dev_f1": 99.0}))
    assert "final" in choose_stage(test).reason  # dev heads of different sizes are not compared
    assert final_stage(_stage_folders(tmp_path / "control", "test", {"sft": 1.0})).stage == "sft"
    seeds = tmp_path / "seeds"
    for seed in (1, 2):
        _stage_folders(seeds / f"seed-{seed}", "test", {"sa": 10.0})
    (seeds / "config.yaml").write_text("name: seeds\n")
    with pytest.raises(ValueError, match="a run over 2 seeds; give one seed's run folder"):
        resolve_model(seeds)
    assert resolve_model(seeds / "seed-2")[0] == str(seeds / "seed-2" / "sa")


def test_lossless_dtype_keeps_float32_unless_bfloat16_loses_nothing():
    import torch

    from prouie_lib.export.hf_checkpoint import lossless_dtype

    layer = torch.nn.Linear(4, 4)
    assert lossless_dtype(layer) == "float32"
    with torch.no_grad():
        layer.weight.copy_(layer.weight.to(torch.bfloat16).float())
        layer.bias.copy_(layer.bias.to(torch.bfloat16).float())
    assert lossless_dtype(layer) == "bfloat16"


def test_extract_from_the_export_prompts_and_answers_as_the_stage(run, exported):
    from extract_helpers import SYSTEM

    from prouie_lib.extraction import Extractor, make_schema

    texts = ["Tim Cook met Angela Merkel in Berlin on Monday.", "Ada Lovelace lived in London."]
    schema = make_schema(task="re", relations="work for, live in", labels="person, location")
    got = []
    for model in (run / "sa", exported):
        extractor = Extractor.load(model)
        assert (extractor.settings.system, extractor.settings.max_new_tokens, extractor.settings.max_prompt_tokens) == (
            SYSTEM, 12, 160)
        got.append([r["completion"] for r in extractor.extract(texts, schema)])
    assert got[0] == got[1] and all(got[0])
