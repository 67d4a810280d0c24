"""Hand-overs that keep what the last stage learned: keep-best on dev (DE's fallback to its input) and SA's
`continue` hand-over, on the tiny model."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from prouie_lib.config import ConfigError, load_config
from prouie_lib.pipeline import run_pipeline
from prouie_lib.rundir import BEST, KEEP_BEST, KEEP_BEST_PREDICTIONS, MODEL, PHASES, PREDICTIONS


def _lora_b_max(stage_dir) -> float:
    weights = load_file(str(stage_dir / MODEL / "adapter" / "adapter_model.safetensors"))
    return max(float(v.abs().max()) for k, v in weights.items() if "lora_B" in k)


@pytest.fixture(scope="module")
def kept_run(tmp_path_factory, repo_root):
    """base → SA (continue hand-over, keep-best) → DE (keep-best) with a large SA learning rate: the random tiny
    model scores 0 on dev at every check, so each arm's best check is its input (step 0)."""
    config = load_config(repo_root / "configs" / "tiny.yaml", {
        "output_dir": str(tmp_path_factory.mktemp("kept")), "stages": ["base", "sa", "de"],
        "sa.handover": "continue", "sa.lr_fraction": 0.5, "cm.trainer.learning_rate": 0.1,
        "sa.trainer.keep_best": "dev", "sa.trainer.keep_best_limit": 2,
        "de.trainer.keep_best": "dev", "de.trainer.keep_best_limit": 2})
    run_pipeline(config, progress=lambda message: None)
    return config


def test_every_check_is_recorded_and_the_input_wins_ties(kept_run):
    for stage in ("sa", "de"):
        kept = json.loads((kept_run.stage_dir(stage) / KEEP_BEST).read_text())
        steps = [c["step"] for c in kept["checks"]]
        assert steps == list(range(0, kept["final_step"] + 1))  # step 0 (the input), every step (save_steps 1)
        assert all(c["dev_f1"] == 0.0 for c in kept["checks"])  # a random model: every check ties at 0
        assert kept["chosen_step"] == 0 and kept["fell_back_to_input"]
        assert not (kept_run.stage_dir(stage) / BEST).exists()  # deleted with the checkpoints
    # DE's input is SA's kept model, already scored on the same dev head: that check is reused, not redone.
    sa, de = (json.loads((kept_run.stage_dir(s) / KEEP_BEST).read_text()) for s in ("sa", "de"))
    assert "reused_from" not in sa["checks"][0] and sa["checks"][0]["seconds"] > 0
    sa_kept = sa["checks"][sa["chosen_step"]]
    assert de["checks"][0] == {"step": 0, "dev_f1": sa_kept["dev_f1"], "per_dataset": sa_kept["per_dataset"],
                               "seconds": 0.0, "reused_from": "sa"}
    assert set(sa_kept["per_dataset"]) == {json.loads(r)["id"].split("/")[0] for r in (
        kept_run.stage_dir("sa") / PREDICTIONS).read_text().splitlines()} and de["margin"] == 0.0


def test_a_stage_that_kept_its_input_scores_its_input_stages_predictions(kept_run):
    import dataclasses

    from prouie_lib.rundir import SCORES
    from prouie_lib.stages.keep_best import input_predictions_to_reuse

    sa, de = (json.loads((kept_run.stage_dir(s) / SCORES).read_text()) for s in ("sa", "de"))
    assert "predictions_reused_from" not in sa  # SA's input stage (CM) did not run: SA predicted
    assert de["predictions_reused_from"] == "sa" and de["predict_seconds"] == 0.0
    assert (kept_run.stage_dir("de") / PREDICTIONS).read_text() == (kept_run.stage_dir("sa") / PREDICTIONS).read_text()
    assert de["datasets"] == sa["datasets"]
    fmt = de["format"]
    assert input_predictions_to_reuse(kept_run, "de", fmt) == kept_run.stage_dir("sa") / PREDICTIONS
    other_eval = dataclasses.replace(kept_run, eval=dataclasses.replace(kept_run.eval,
                                                                        batch_size=kept_run.eval.batch_size + 1))
    assert input_predictions_to_reuse(other_eval, "de", fmt) is None  # other generation settings: predict again
    assert input_predictions_to_reuse(kept_run, "de", "complete" if fmt != "complete" else "streamlined") is None
    assert input_predictions_to_reuse(kept_run, "sa", fmt) is None


def test_margin_and_max_drop_choose_among_the_checks():
    from prouie_lib.stages.keep_best import choose_best

    checks = [{"step": 0, "dev_f1": 40.0, "per_dataset": {"RE": 40.0, "NER": 40.0}},  # the input
              {"step": 8, "dev_f1": 41.3, "per_dataset": {"RE": 60.0, "NER": 22.6}},  # macro up, NER collapses
              {"step": 16, "dev_f1": 40.5, "per_dataset": {"RE": 41.0, "NER": 40.0}},
              {"step": 24, "dev_f1": 42.0, "per_dataset": {"RE": 42.0, "NER": 42.0}}]
    assert choose_best(checks[:3])["step"] == 8  # macro alone: the collapse is kept
    assert choose_best(checks[:3], max_drop=5.0)["step"] == 16
    assert choose_best(checks[:3], margin=1.0, max_drop=5.0)["step"] == 0  # 40.5 is not 1 point above 40
    assert choose_best(checks, margin=1.0)["step"] == 8  # 42.0 is not 1 point above 41.3
    assert choose_best(checks, margin=1.0, max_drop=5.0)["step"] == 24
    assert choose_best([checks[0], {**checks[0], "step": 8}])["step"] == 0  # a tie keeps the input
    assert choose_best([]) is None


def test_falling_back_restores_the_input_weights(kept_run):
    # SA trained at lr 0.05 (0.5 × CM's 0.1) for 2 steps, yet its saved adapter is the untrained one (lora_B = 0):
    # the step-0 weights were restored; DE's likewise, so its completions are SA's.
    assert _lora_b_max(kept_run.stage_dir("sa")) == 0.0
    assert _lora_b_max(kept_run.stage_dir("de")) == 0.0
    sa = [json.loads(x)["completion"] for x in (kept_run.stage_dir("sa") / PREDICTIONS).read_text().splitlines()]
    de = [json.loads(x)["completion"] for x in (kept_run.stage_dir("de") / PREDICTIONS).read_text().splitlines()]
    assert sa == de
    report = (kept_run.run_dir / "report.md").read_text()
    assert "no trained step beat its input on dev, so `de` is its input model (SA's)" in report


def test_continue_handover_uses_a_fraction_of_cms_rate_and_no_warmup(kept_run):
    handover = json.loads((kept_run.stage_dir("sa") / PHASES).read_text())["handover"]
    assert handover == {"rule": "continue", "learning_rate": pytest.approx(0.05), "warmup_steps": 0}
    assert "SA hand-over `continue`" in (kept_run.run_dir / "report.md").read_text()


def test_without_keep_best_the_trained_weights_stay(tmp_path, repo_root):
    """The control for the fallback test: the same SA training without keep-best leaves a trained adapter."""
    config = load_config(repo_root / "configs" / "tiny.yaml", {
        "output_dir": str(tmp_path), "stages": ["sa"], "sa.handover": "continue", "cm.trainer.learning_rate": 0.1})
    run_pipeline(config, progress=lambda message: None)
    assert _lora_b_max(config.stage_dir("sa")) > 0.0
    assert not (config.stage_dir("sa") / KEEP_BEST).exists()


def test_bad_keep_best_settings_fail_with_the_field_named(repo_root):
    with pytest.raises(ConfigError, match="cm.trainer.keep_best"):
        load_config(repo_root / "configs" / "tiny.yaml", {"cm.trainer.keep_best": "dev", "cm.curriculum": "sequential"})
    with pytest.raises(ConfigError, match="sa.handover"):
        load_config(repo_root / "configs" / "tiny.yaml", {"sa.handover": "resume"})
    with pytest.raises(ConfigError, match="keep_best"):
        load_config(repo_root / "configs" / "tiny.yaml", {"sft.trainer": {"keep_best": "test"}})
    with pytest.raises(ConfigError, match="de.trainer.keep_best_margin"):
        load_config(repo_root / "configs" / "tiny.yaml", {"de.trainer.keep_best_margin": -1.0})
    with pytest.raises(ConfigError, match="de.trainer.keep_best_max_drop"):
        load_config(repo_root / "configs" / "tiny.yaml", {"de.trainer.keep_best_max_drop": -0.5})


def test_notebook_04_figure_shows_the_checks_and_the_probe(kept_run):
    from prouie_lib.analysis.stage_progress import load_dev_checks, load_probe, plot_dev_checks

    checks = load_dev_checks(kept_run.run_dir)
    assert list(checks["step"]) == [0, 1, 2] and list(checks["chosen"]) == [True, False, False]
    fig = plot_dev_checks(checks, load_probe(kept_run.run_dir))
    assert len(fig.axes) == 2  # the dev score and, on a twin axis, the probe's share of changed outputs
    assert list(fig.axes[0].lines[0].get_xdata()) == [0, 1, 2]


def test_the_backbone_is_checked_once_for_cm_and_the_control(tmp_path, repo_root):
    config = load_config(repo_root / "configs" / "tiny.yaml", {
        "output_dir": str(tmp_path), "stages": ["cm", "sft"], "cm.format": "streamlined", "cm.curriculum": "mixed",
        "cm.trainer.max_steps": 2, "cm.trainer.keep_best": "dev", "cm.trainer.keep_best_limit": 2,
        "sft.budget_steps": 2, "sft.trainer.keep_best": "dev", "sft.trainer.keep_best_limit": 2})
    run_pipeline(config, progress=lambda message: None)
    cm, sft = (json.loads((config.stage_dir(s) / KEEP_BEST).read_text()) for s in ("cm", "sft"))
    assert cm["checks"][0]["seconds"] > 0 and "reused_from" not in cm["checks"][0]
    assert sft["checks"][0] == {**cm["checks"][0], "seconds": 0.0, "reused_from": "cm"}
    assert [c["step"] for c in sft["checks"]] == [0, 1, 2]


def test_the_backbone_is_checked_once_for_all_seeds(tmp_path, repo_root):
    from prouie_lib.analysis.keep_best_rules import check_predictions_file
    from prouie_lib.pipeline import run_seeds

    def control(run, seeds, **more):
        config = load_config(repo_root / "configs" / "tiny.yaml", {
            "output_dir": str(tmp_path / run), "seeds": seeds, "stages": ["sft"], "sft.budget_steps": 1,
            "sft.trainer.keep_best": "dev", "sft.trainer.keep_best_limit": 2, **more})
        run_seeds(config, progress=lambda message: None)
        return config.run_dir

    def step0(run_dir, seed):
        return json.loads((run_dir / f"seed-{seed}" / "sft" / KEEP_BEST).read_text())["checks"][0]

    both, alone = control("both", [1, 2]), control("alone", [2])
    first, reused, fresh = step0(both, 1), step0(both, 2), step0(alone, 2)
    assert first["seconds"] > 0 and "reused_from" not in first and "reused_from" not in fresh
    assert reused == {**first, "seconds": 0.0, "reused_from": "../seed-1/sft"}
    source = check_predictions_file(both / "seed-2" / "sft", reused)
    assert source.resolve() == (both / "seed-1" / "sft" / KEEP_BEST_PREDICTIONS / "step-0.jsonl").resolve()
    # the premise: a new seed's LoRA adapter starts as the identity, so its backbone gives the same completions
    assert source.read_text() == (alone / "seed-2" / "sft" / KEEP_BEST_PREDICTIONS / "step-0.jsonl").read_text()
    assert (fresh["dev_f1"], fresh["per_dataset"]) == (first["dev_f1"], first["per_dataset"])
    # another seed run with other eval settings scores its backbone itself
    control("both", [3], **{"eval.max_new_tokens": 12})
    assert "reused_from" not in step0(both, 3)


def test_report_note_states_a_stricter_rule(tmp_path):
    from prouie_lib.analysis.selection_notes import keep_best_notes

    checks = [{"step": 0, "dev_f1": 40.0, "seconds": 1.0}, {"step": 8, "dev_f1": 41.3, "seconds": 1.0}]
    kept = {"records": 72, "check_seconds": 2.0, "checks": checks, "final_step": 8, "chosen_step": 0,
            "fell_back_to_input": True, "margin": 0.0, "max_drop": None}
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / KEEP_BEST).write_text(json.dumps(kept))
    [plain] = keep_best_notes(tmp_path, ["de"])
    assert "a check had to" not in plain and "so `de` is its input model (SA's)" in plain
    (tmp_path / "de" / KEEP_BEST).write_text(json.dumps({**kept, "margin": 1.5, "max_drop": 5.0}))
    [strict] = keep_best_notes(tmp_path, ["de"])
    assert ("a check had to beat the best so far by more than 1.5 points and keep every dataset within 5 points "
            "of the input") in strict
    (tmp_path / "de" / KEEP_BEST).write_text(json.dumps({**kept, "margin": 1.0}))
    [one] = keep_best_notes(tmp_path, ["de"])
    assert "a check had to beat the best so far by more than 1 point;" in one


def test_every_check_keeps_its_predictions_and_a_reused_check_points_to_its_source(kept_run):
    from prouie_lib.analysis.keep_best_rules import check_predictions_file, replay_keep_best

    sa_dir, de_dir = kept_run.stage_dir("sa"), kept_run.stage_dir("de")
    sa, de = (json.loads((d / KEEP_BEST).read_text()) for d in (sa_dir, de_dir))
    for check in sa["checks"]:
        lines = (sa_dir / KEEP_BEST_PREDICTIONS / f"step-{check['step']}.jsonl").read_text().splitlines()
        assert len(lines) == 2 * len(check["per_dataset"])  # keep_best_limit 2 per dataset
    assert check_predictions_file(de_dir, de["checks"][0]) == sa_dir / KEEP_BEST_PREDICTIONS / "step-0.jsonl"
    assert not (de_dir / KEEP_BEST_PREDICTIONS / "step-0.jsonl").exists()  # reused, not predicted again
    replayed = replay_keep_best(de_dir)
    assert [c["dev_f1"] for c in replayed["checks"]] == [c["dev_f1"] for c in de["checks"]]  # same numbers
    assert replayed["chosen_step"] == replayed["recorded_step"] == 0 and replayed["held_out_records"] == 0


def _recorded_stage(tmp_path, repo_root, right) -> object:
    """A DE stage folder over the tiny config's dev head of 10 per dataset with three recorded checks, whose
    predictions are the gold where ``right(step, dataset, index in the dataset)`` and empty elsewhere."""
    from prouie_lib.config import save_config
    from prouie_lib.stages.keep_best import check_predictions_path, dev_head

    config = load_config(repo_root / "configs" / "tiny.yaml", {"output_dir": str(tmp_path)})
    stage_dir = config.stage_dir("de")
    stage_dir.mkdir(parents=True)
    save_config(config, stage_dir / "config.yaml")
    records, checks = dev_head(config, 10), []
    for step in (0, 8, 16):
        seen: dict[str, int] = {}
        lines = []
        for r in records:
            i = seen[r["dataset"]] = seen.get(r["dataset"], -1) + 1
            gold = right(step, r["dataset"], i)
            lines.append({"id": r["id"], **{k: r[k] if gold else [] for k in ("entities", "relations", "events")}})
        path = check_predictions_path(stage_dir, step)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        checks.append({"step": step, "dev_f1": 0.0, "per_dataset": {}, "seconds": 1.0})
    (stage_dir / KEEP_BEST).write_text(json.dumps({"limit": 10, "checks": checks, "chosen_step": 16}))
    return stage_dir


def test_a_replayed_rule_is_judged_on_the_records_its_head_did_not_see(tmp_path, repo_root):
    from prouie_lib.analysis.keep_best_rules import format_replay, replay_keep_best

    # Step 8 is right on each dataset's first 3 dev records only; step 16 on the last 7 only; step 0 on none.
    stage_dir = _recorded_stage(tmp_path, repo_root, lambda step, name, i: (step == 8 and i < 3)
                                or (step == 16 and i >= 3))
    small = replay_keep_best(stage_dir, head=3)
    assert small["chosen_step"] == 8 and small["recorded_step"] == 16 and small["held_out_records"] == 21
    held = {c["step"]: c["held_out_f1"] for c in small["checks"]}
    assert held == {0: 0.0, 8: 0.0, 16: 100.0}  # what the head of 3 kept does not generalize
    full = replay_keep_best(stage_dir)  # the recorded head of 10: step 16 has 7 of them right, step 8 has 3
    assert full["chosen_step"] == 16 and full["head"] == 10 and full["held_out_records"] == 0
    best = full["checks"][2]["dev_f1"]
    assert replay_keep_best(stage_dir, margin=best)["chosen_step"] == 0  # not more than the margin above step 0
    assert "kept by this rule: step 8 (the run kept step 16)" in format_replay(small)
    unfinished = {**small, "recorded_step": None}  # a stage still training has chosen nothing yet
    assert "(the run has not chosen yet: its stage is unfinished)" in format_replay(unfinished)
    with pytest.raises(ValueError, match="keep_best_limit 10"):
        replay_keep_best(stage_dir, head=11)


def test_a_replayed_floor_rejects_a_check_that_buys_macro_with_one_dataset(tmp_path, repo_root, capsys):
    from prouie_lib import cli

    # Step 8: perfect on NER and RE, nothing on EE, which the input (step 0) had all right; step 16: EE kept.
    stage_dir = _recorded_stage(tmp_path, repo_root, lambda step, name, i: step == 8 and name != "Sample-EE"
                                or step == 0 and name == "Sample-EE" or step == 16 and (name == "Sample-EE" or i < 3))
    from prouie_lib.analysis.keep_best_rules import replay_keep_best

    assert replay_keep_best(stage_dir)["chosen_step"] == 8
    assert replay_keep_best(stage_dir, max_drop=5.0)["chosen_step"] == 16
    assert cli.main(["eval", "keep-best", str(stage_dir), "--max-drop", "5", "--json"]) == 0
    assert cli.main(["eval", "keep-best", str(tmp_path / "nowhere")]) == 2
    (stage_dir / KEEP_BEST_PREDICTIONS / "step-8.jsonl").unlink()
    capsys.readouterr()
    assert cli.main(["eval", "keep-best", str(stage_dir)]) == 2
    assert "step-8.jsonl: the check at step 8 kept no predictions" in capsys.readouterr().err


def test_a_reused_check_whose_source_arm_has_no_such_check_is_one_clear_line(tmp_path, repo_root, capsys):
    from prouie_lib import cli
    from prouie_lib.stages.keep_best import source_input_check

    stage_dir = _recorded_stage(tmp_path, repo_root, lambda step, name, i: True)
    kept = json.loads((stage_dir / KEEP_BEST).read_text())
    kept["checks"][0]["reused_from"] = "sa"
    (stage_dir / KEEP_BEST).write_text(json.dumps(kept))
    sa = {"checks": [{"step": 0}, {"step": 4}], "chosen_step": 4}
    assert source_input_check(sa, "de") == {"step": 4}  # DE trains from SA's kept model
    assert source_input_check(sa, "cm") == {"step": 0}  # CM starts from the backbone, like the source's step 0
    assert source_input_check({**sa, "chosen_step": None}, "de") is None
    capsys.readouterr()
    assert cli.main(["eval", "keep-best", str(stage_dir)]) == 2  # sa/keep_best.json does not exist
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "keep_best.json: no check of sa for de's reused step 0" in err[0]
