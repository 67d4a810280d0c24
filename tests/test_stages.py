"""Stages on the tiny random model: CM/SA/DE write their run-directory files; CM resumes after a kill."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from safetensors.torch import load_file

from prouie_lib.config import load_config
from prouie_lib.stages import run_stage
from prouie_lib.stages.cm import phase_spans, plan_phases


@pytest.fixture(scope="module")
def tiny_run(tiny_pipeline):
    return tiny_pipeline


def test_every_stage_writes_its_files(tiny_run):
    run = tiny_run.run_dir
    assert (run / "config.yaml").exists() and (run / "gold-test.jsonl").exists()
    gold_ids = [json.loads(line)["id"] for line in (run / "gold-test.jsonl").read_text().splitlines()]
    assert len(gold_ids) == 9  # 3 per sample dataset
    for stage in ("base", "cm", "sa", "de", "sft"):
        folder = run / stage
        scores = json.loads((folder / "scores.json").read_text())
        assert set(scores["datasets"]) == {"Sample-NER", "Sample-RE", "Sample-EE"}
        preds = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
        assert [p["id"] for p in preds] == gold_ids
        assert (folder / "model" / "model_chain.json").exists()
        timing = json.loads((folder / "timing.json").read_text())
        assert 50 < timing["peak_rss_mb"] < 24_000 and timing["total_seconds"] > 0  # the stage's own peak, MiB
    for stage in ("cm", "sa", "de", "sft"):
        history = [json.loads(line) for line in (run / stage / "log_history.jsonl").read_text().splitlines()]
        assert any("loss" in h for h in history)
    chain = json.loads((run / "de" / "model" / "model_chain.json").read_text())
    assert chain["base"] == "tiny-random" and len(chain["adapters"]) == 3  # cm, sa, de adapters merged in order


def test_cm_ordered_phases_follow_difficulty_in_one_trainer(tiny_run):
    phases = json.loads((tiny_run.stage_dir("cm") / "phases.json").read_text())
    assert phases["curriculum"] == "ordered"
    # 8 NER rows; RE 8 + 25% of 8 replayed = 10; EE 8 + 25% of 16 = 12; batch 4 → boundaries at 2, 5, 8
    assert [(p["phase"], p["start_step"], p["end_step"], p["examples"]) for p in phases["phases"]] == [
        ("NER", 0, 2, 8), ("RE", 2, 5, 10), ("EE", 5, 8, 12)]
    history = [json.loads(line) for line in (tiny_run.stage_dir("cm") / "log_history.jsonl").read_text().splitlines()]
    steps = [h["step"] for h in history if "loss" in h]
    assert steps == list(range(1, 9))  # one trainer: one global step count, each step once
    assert [h["phase"] for h in history if "loss" in h] == ["NER"] * 2 + ["RE"] * 3 + ["EE"] * 3


def test_cm_scores_each_phase_on_the_tasks_seen_so_far(tiny_run):
    entries = json.loads((tiny_run.stage_dir("cm") / "phase_scores.json").read_text())
    assert [(e["phase"], e["step"], e["tasks"]) for e in entries] == [
        ("NER", 2, ["NER"]), ("RE", 5, ["NER", "RE"]), ("EE", 8, ["NER", "RE", "EE"])]
    assert all(e["split"] == "dev" for e in entries)
    assert sorted(entries[-1]["datasets"]) == ["Sample-EE", "Sample-NER", "Sample-RE"]
    assert all(d["n"] == 2 for d in entries[-1]["datasets"].values())  # phase_eval_limit: 2


def test_control_trains_for_the_steps_of_cm_and_sa(tiny_run):
    phases = json.loads((tiny_run.stage_dir("sft") / "phases.json").read_text())
    cm_steps = json.loads((tiny_run.stage_dir("cm") / "phases.json").read_text())["steps"]
    assert cm_steps == 8 and phases["budget"]["steps"] == 8 + 2  # SA: max_steps 2
    assert phases["phases"][0]["end_step"] == 10 and phases["format"] == "streamlined"
    assert phases["train_examples"] == 24  # all of CM's training records, in the evaluated format
    chain = json.loads((tiny_run.stage_dir("sft") / "model" / "model_chain.json").read_text())
    assert chain["base"] == "tiny-random" and len(chain["adapters"]) == 1  # from the backbone, not from CM


def test_finished_stages_keep_no_checkpoints(tiny_run):
    for stage in ("cm", "sa", "de", "sft"):
        assert not list(tiny_run.stage_dir(stage).rglob("checkpoint-*")), stage


def test_de_probe_logs_changed_fraction(tiny_run):
    lines = [json.loads(x) for x in (tiny_run.stage_dir("de") / "probe.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [0, 1, 2] and lines[0]["changed_vs_start"] == 0.0
    assert all(x["n"] == 2 and len(x["outputs"]) == 2 and 0 <= x["changed_vs_start"] <= 1 for x in lines)


def test_de_traces_replay_to_identical_totals(tiny_run):
    from prouie_lib.rewards import get_reward, replay_traces

    traces = tiny_run.stage_dir("de") / "reward_traces.jsonl"
    lines = [json.loads(line) for line in traces.read_text().splitlines()]
    assert len(lines) == 2 * 4  # 2 steps × batch of 4 completions
    for line in lines:
        assert {"step", "prompt_id", "group", "task", "completion", "reward", "components", "advantage", "gold"} <= set(line)
    replayed = replay_traces(traces, get_reward(lines[0]["reward_name"]))
    assert [r["new_reward"] for r in replayed] == [line["reward"] for line in lines]


def test_plan_phases_orders():
    rows = [{"task": t, "id": f"{t}{i}"} for t in ("EE", "NER", "RE") for i in range(4)]
    seq = plan_phases(rows, "sequential", 0.5, seed=0)
    assert [name for name, _ in seq] == ["NER", "RE", "EE"]
    # replay is sized from the earlier phases' data: half of 4 NER rows, then half of 8 NER + RE rows
    assert len(seq[0][1]) == 4 and len(seq[1][1]) == 4 + 2 and len(seq[2][1]) == 4 + 4
    assert {r["task"] for r in seq[2][1]} <= {"NER", "RE", "EE"} and any(r["task"] != "EE" for r in seq[2][1])
    ordered = plan_phases(rows, "ordered", 0.0, seed=0)
    assert [r["task"] for _, phase in ordered for r in phase] == ["NER"] * 4 + ["RE"] * 4 + ["EE"] * 4
    mixed = plan_phases(rows, "mixed", 0.0, seed=0)
    assert len(mixed) == 1 and sorted(r["id"] for r in mixed[0][1]) == sorted(r["id"] for r in rows)


def test_phase_spans_add_up_to_the_steps_trained():
    # one pass ends at step 8 (phases end at 2, 5, 8)
    assert phase_spans([2, 5, 8], 8) == [(0, 2), (2, 5), (5, 8)]
    # max_steps past one pass (CoNLL04 seeds: 800 rows / 8 = 100 steps a pass, max_steps 111): the last phase
    # holds the extra steps, so the control's budget (the spans' sum) is the 111 steps CM trained, not 100
    assert phase_spans([100], 111) == [(0, 111)]
    assert phase_spans([2, 5, 8], 10) == [(0, 2), (2, 5), (5, 10)]
    # stopped early: cut at the last step
    assert phase_spans([2, 5, 8], 4) == [(0, 2), (2, 4), (4, 4)]


def _cm_args(repo_root, out, *extra):
    return ["train", "cm", "--config", str(repo_root / "configs" / "tiny.yaml"), "--set", f"output_dir={out}",
            "--set", "cm.curriculum=mixed", "--set", "cm.trainer.max_steps=4", "--set", "stages=[cm]",
            "--set", "eval.limit_per_dataset=2", "--set", "cm.phase_eval_limit=1", *extra]


def _cm_cli(repo_root, out, *extra, env=None):
    cmd = [sys.executable, "-m", "prouie_lib.cli", *_cm_args(repo_root, out, *extra)]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600)


def _adapter(out):
    return load_file(out / "tiny" / "cm" / "model" / "adapter" / "adapter_model.safetensors")


def _relative_distance(a: dict, b: dict) -> float:
    """‖a − b‖ / ‖a‖ over all adapter tensors: float noise from a different memory layout or thread count stays
    near 1e-8 here, a resume that loses the optimizer state moves it to ~1e-2."""
    assert a.keys() == b.keys()
    diff = sum(float(((a[k] - b[k]) ** 2).sum()) for k in a) ** 0.5
    return diff / sum(float((a[k] ** 2).sum()) for k in a) ** 0.5


def test_cm_killed_midway_resumes_to_the_same_result(tmp_path, repo_root, capsys):
    from prouie_lib import cli

    # Only the killed run needs its own process (the hook ends it with os._exit); the others run in this one.
    assert cli.main(_cm_args(repo_root, tmp_path / "full")) == 0
    killed = _cm_cli(repo_root, tmp_path / "killed", env={"PROUIE_KILL_AFTER_STEP": "2"})
    assert killed.returncode == 3, killed.stderr[-2000:]
    assert not (tmp_path / "killed" / "tiny" / "cm" / "model").exists()
    assert cli.main(_cm_args(repo_root, tmp_path / "killed")) == 2  # in-process: it stops before any training
    assert "--resume" in capsys.readouterr().err
    # the control: the same checkpoint without its optimizer state (transformers then resumes with fresh moments)
    shutil.copytree(tmp_path / "killed", tmp_path / "no-optimizer")
    for path in (tmp_path / "no-optimizer").rglob("optimizer.pt"):
        path.unlink()
    assert cli.main(_cm_args(repo_root, tmp_path / "killed", "--resume")) == 0
    state = json.loads((tmp_path / "killed" / "tiny" / "cm" / "phases" / "0-mixed" / "state.json").read_text())
    assert state["resumed_from"].endswith("checkpoint-2")
    # Not bitwise: CPU BLAS kernels may round differently with another memory layout, and a CI machine once
    # differed in the last bits. The tolerance sits orders of magnitude between that noise and a lost optimizer.
    assert _relative_distance(_adapter(tmp_path / "full"), _adapter(tmp_path / "killed")) < 1e-5
    assert cli.main(_cm_args(repo_root, tmp_path / "no-optimizer", "--resume")) == 0
    assert _relative_distance(_adapter(tmp_path / "full"), _adapter(tmp_path / "no-optimizer")) > 1e-3
    full_scores = json.loads((tmp_path / "full" / "tiny" / "cm" / "scores.json").read_text())
    resumed_scores = json.loads((tmp_path / "killed" / "tiny" / "cm" / "scores.json").read_text())
    assert full_scores["datasets"] == resumed_scores["datasets"]
    # the resumed stage's timing.json says its seconds are the resumed process's only; the whole run's does not
    timings = {run: json.loads((tmp_path / run / "tiny" / "cm" / "timing.json").read_text()) for run in ("full", "killed")}
    assert timings["killed"]["resumed"] == 1 and "resumed" not in timings["full"]


def test_seed_notes_say_which_stage_continued_an_interrupted_run(tmp_path):
    from prouie_lib.analysis.seeds_report import run_notes

    for seed, resumed in ((42, True), (43, False)):
        for stage in ("cm", "sa"):
            folder = tmp_path / f"seed-{seed}" / stage
            folder.mkdir(parents=True)
            timing = {"total_seconds": 600.0, **({"resumed": 1} if resumed and stage == "sa" else {})}
            (folder / "timing.json").write_text(json.dumps(timing))
    notes = run_notes(tmp_path, ["cm", "sa"])
    assert "Seed 42: 20 min over the stages (`sa` continued an interrupted run: its time counts the part after " \
           "the resume only)." in notes
    assert "Seed 43: 20 min over the stages." in notes


def test_save_dtype_saves_the_evaluated_weights_rounded(tmp_path):
    import torch

    from prouie_lib.models import load_backbone
    from prouie_lib.stages.sft_phase import finish_stage_model

    model, tokenizer = load_backbone("tiny-random")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1e-4 * torch.randn_like(p))  # values that bfloat16 cannot hold exactly
    finish_stage_model(model, tokenizer, tmp_path / "f32", "tiny-random")
    f32 = sum(f.stat().st_size for f in (tmp_path / "f32").rglob("*.safetensors"))
    finish_stage_model(model, tokenizer, tmp_path / "bf16", "tiny-random", save_dtype="bfloat16")
    bf16 = sum(f.stat().st_size for f in (tmp_path / "bf16").rglob("*.safetensors"))
    assert model.dtype == torch.float32 and bf16 < 0.6 * f32
    reloaded, _ = load_backbone(str(tmp_path / "bf16" / "model"))
    for (name, a), b in zip(model.state_dict().items(), reloaded.state_dict().values(), strict=True):
        assert torch.equal(a, b.to(a.dtype)), name  # what is evaluated after saving is what was saved


def test_prefix_reuse_leaves_every_stage_output_unchanged(tiny_run, tmp_path, repo_root):
    """The tiny pipeline run the left-padded way gives the same completions and scores as with prefix reuse.

    Behaviour pinned end to end; the random tiny model barely reads its context, so token-level correctness of
    the reuse (positions, masks) is tested on a sharpened model in tests/test_prefix_cache.py."""
    from prouie_lib.evaluation.predict import record_prompt
    from prouie_lib.evaluation.prefix_cache import MIN_PREFIX_TOKENS, common_prefix_length
    from prouie_lib.models import load_tokenizer
    from prouie_lib.stages.stage_data import load_split

    assert tiny_run.eval.reuse_prefix  # the default: tiny_run evaluated with prefix reuse
    tokenizer = load_tokenizer(tiny_run.model.backbone)
    gold = load_split(tiny_run, tiny_run.eval.split, limit_per_dataset=tiny_run.eval.limit_per_dataset, head=True)
    ner = [tokenizer(record_prompt(tokenizer, r, "streamlined"), add_special_tokens=False)["input_ids"]
           for r in gold if r["task"] == "NER"]
    assert len(ner) > 1 and common_prefix_length(ner) >= MIN_PREFIX_TOKENS  # there is a prefix to reuse
    plain = load_config(repo_root / "configs" / "tiny.yaml", {"output_dir": str(tmp_path), "eval.reuse_prefix": False})
    for stage in plain.stages:
        run_stage(stage, plain)
    for stage in plain.stages:
        a, b = tiny_run.stage_dir(stage), plain.stage_dir(stage)
        assert _completions(a / "predictions.jsonl") == _completions(b / "predictions.jsonl"), stage
        assert json.loads((a / "scores.json").read_text())["datasets"] == \
            json.loads((b / "scores.json").read_text())["datasets"], stage
    phases = "phase_predictions"
    for path in sorted((tiny_run.stage_dir("cm") / phases).glob("*.jsonl")):  # CM's dev evaluations after each phase
        assert _completions(path) == _completions(plain.stage_dir("cm") / phases / path.name), path.name


def _completions(path):
    return [json.loads(line)["completion"] for line in path.read_text().splitlines()]
