"""The run report on a tiny pipeline run: intervals, the control's budget, paired tests, per-stage figures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def tiny_run(tiny_pipeline):
    return tiny_pipeline


def test_report_has_intervals_control_budget_and_paired_tests(tiny_run):
    from prouie_lib.analysis.report import write_report

    text = write_report(tiny_run).read_text()
    table = text.split("## Ablation")[1].split("## Paired tests")[0]
    assert [line.split(" | ")[0].lstrip("| ") for line in table.splitlines() if line.startswith("| ")][1:] == [
        "base", "+CM", "+SA", "+DE", "plain SFT (same budget)"]
    assert "[95% CI]" in table and "budget = cm 8 (measured) + sa 2 (measured)" in table
    assert "| plain SFT (same budget) → +DE | Sample-RE | re_strict |" in text
    assert "## CM per phase (dev)" in text and "## DE probe" in text
    for name in ("loss.png", "cm_phases.png", "rewards.png", "probe.png", "ablation.png"):
        assert (tiny_run.run_dir / "figures" / name).exists(), name


def test_comparisons_are_consecutive_stages_and_final_vs_control():
    from prouie_lib.analysis.report import comparisons

    assert comparisons(["base", "cm", "sa", "de", "sft"]) == [
        ("base", "cm"), ("cm", "sa"), ("sa", "de"), ("sft", "de")]
    assert comparisons(["base", "sa", "sft"]) == [("base", "sa"), ("sft", "sa")]
    assert comparisons(["base"]) == []


def test_cm_keeps_the_predictions_behind_each_phase_score(tiny_run):
    import json

    folder = tiny_run.stage_dir("cm") / "phase_predictions"
    entries = json.loads((tiny_run.stage_dir("cm") / "phase_scores.json").read_text())
    for entry in entries:
        lines = (folder / f"{entry['phase']}.jsonl").read_text().splitlines()
        assert len(lines) == sum(d["n"] for d in entry["datasets"].values())
