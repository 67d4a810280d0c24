"""Seeds as an axis: the hierarchical bootstrap (seeds, then records) and a run over two seeds on the tiny model."""

from __future__ import annotations

import dataclasses
import json

import pytest

from prouie_lib.evaluation.metrics import Counts
from prouie_lib.evaluation.seed_bootstrap import (
    hierarchical_interval,
    hierarchical_paired,
    seed_mean,
    verdict,
)


def rule(c: Counts) -> dict[str, float]:
    p = c.tp / c.pred if c.pred else 0.0
    r = c.tp / c.gold if c.gold else 0.0
    return {"f1": 100 * (2 * p * r / (p + r) if p + r else 0.0)}


def records(hits: int, n: int = 40) -> list[Counts]:
    """n records of one gold unit each, the first ``hits`` predicted right (one predicted unit per record)."""
    return [Counts(1 if i < hits else 0, 1, 1) for i in range(n)]


def test_mean_is_the_mean_of_per_seed_f1():
    assert seed_mean([records(10), records(30)], rule) == pytest.approx(50.0)


def test_seed_spread_widens_the_interval():
    agreeing = [records(20), records(20), records(20)]
    spread = [records(4), records(20), records(36)]
    low_a, high_a = hierarchical_interval(agreeing, rule)
    low_s, high_s = hierarchical_interval(spread, rule)
    assert low_a <= 50 <= high_a and low_s <= 50 <= high_s
    assert (high_s - low_s) > 1.5 * (high_a - low_a)  # the record-only bootstrap would call them equal


def test_paired_test_pairs_seed_and_record():
    a = [records(10), records(12), records(14)]
    better = [records(16), records(18), records(20)]
    test = hierarchical_paired(a, better, rule)
    assert test["delta"] == pytest.approx(15.0) and test["p"] < 0.05 and verdict(test) == "helps"
    assert verdict(hierarchical_paired(better, a, rule)) == "hurts"
    same = hierarchical_paired(a, a, rule)
    assert same["delta"] == 0 and same["p"] == 1.0 and verdict(same) == "cannot tell"
    with pytest.raises(ValueError, match="same seeds and records"):
        hierarchical_paired(a, a[:2], rule)


def test_pipeline_over_two_seeds_writes_each_seed_and_the_aggregate(tmp_path, repo_root):
    from prouie_lib.config import load_config
    from prouie_lib.data.io import iter_json_objects, read_jsonl
    from prouie_lib.evaluation.score import score_predictions
    from prouie_lib.pipeline import run_pipeline
    from prouie_lib.rundir import PREDICTIONS, SEEDS_SUMMARY, gold_file, seed_dirs

    config = load_config(repo_root / "configs" / "tiny.yaml",
                         {"output_dir": str(tmp_path), "seeds": [3, 4], "stages": ["base", "sa", "sft"],
                          "sft.budget_steps": 2})
    report = run_pipeline(config, progress=lambda message: None)
    assert report == config.run_dir / "report.md" and "2 seeds (3, 4)" in report.read_text()
    assert sorted(seed_dirs(config.run_dir)) == [3, 4]
    summary = json.loads((config.run_dir / SEEDS_SUMMARY).read_text())
    assert summary["seeds"] == [3, 4] and summary["stages"] == ["base", "sa", "sft"]
    assert {(t["a"], t["b"]) for t in summary["tests"]} == {("base", "sa"), ("sft", "sa")}  # consecutive; final vs control
    for seed, folder in seed_dirs(config.run_dir).items():
        assert json.loads((folder / "sft" / "timing.json").read_text())["world_size"] == 1
        gold = read_jsonl(folder / gold_file(config.eval.split))
        lines = [line for _, line in iter_json_objects(folder / "sft" / PREDICTIONS)]
        independent = score_predictions(gold, lines, protocol=config.eval.protocol)  # re-scored on its own
        for name, entry in summary["scores"]["sft"].items():
            metric = entry["metric"]
            assert entry["per_seed"][str(seed)] == independent["datasets"][name]["metrics"][metric]["f1"]
    # The figure of notebooks 00/06: one panel per dataset, each seed a dot beside the mean per stage.
    from prouie_lib.analysis.seeds_report import plot_seed_scores

    fig = plot_seed_scores(config.run_dir)
    assert len(fig.axes) == len(summary["scores"]["sft"])
    from matplotlib.collections import PathCollection

    dots = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in dots) == 2 * 3  # 2 seeds × 3 stages
    assert "one seed" in plot_seed_scores(seed_dirs(config.run_dir)[3]).axes[0].texts[0].get_text()
    # Resumable seed by seed: a second call finds every stage of both seeds done.
    messages: list[str] = []
    run_pipeline(config, progress=messages.append)
    assert sum("done already" in m for m in messages) == 6
    # Kept in the repository seed by seed (scripts/archive_run.py): no weights and no gold in the archive; the
    # aggregate recomputed from the archived seeds alone (gold rebuilt from the datasets) equals the run's own,
    # and re-scoring every archived prediction file agrees until one completion is changed.
    import shutil

    from prouie_lib.analysis.archive import aggregate_archive, archive_run, check_archive

    archive = tmp_path / "archive" / config.name
    archive_run(seed_dirs(config.run_dir)[3], archive / "seed-3")
    # Seed 4 in two sessions: the chain's stages first, the control later; the second archive keeps the first.
    for part, dropped in (("chain", ["sft"]), ("control", ["base", "sa"])):
        shutil.copytree(seed_dirs(config.run_dir)[4], tmp_path / part)
        for stage in dropped:
            shutil.rmtree(tmp_path / part / stage)
        archive_run(tmp_path / part, archive / "seed-4")
    # The parent config is copied from the last archived command's run (here: the control alone, one seed).
    from prouie_lib.config import load_config, save_config

    save_config(dataclasses.replace(config, seeds=[4], stages=["sft"]), archive / "config.yaml")
    seed4 = load_config(archive / "seed-4" / "config.yaml")  # and each seed's from its last command's (the control)
    save_config(dataclasses.replace(seed4, stages=["sft"]), archive / "seed-4" / "config.yaml")
    kept = {p.relative_to(archive).as_posix() for p in archive.rglob("*") if p.is_file()}
    assert {"seed-3/sft/predictions.jsonl", "seed-4/sa/scores.json", "seed-4/report.md"} <= kept
    assert not [p for p in kept if "/model/" in p or "gold-" in p or p.endswith(".safetensors")]
    (archive / "seed-4" / "report.md").write_text("the control's partial report")
    aggregate_archive(archive)
    assert json.loads((archive / SEEDS_SUMMARY).read_text()) == summary
    described = load_config(archive / "config.yaml")  # rewritten to describe the archive
    assert described.seeds == [3, 4] and described.stages == ["base", "sa", "sft"]
    assert load_config(archive / "seed-4" / "config.yaml").stages == ["base", "sa", "sft"]  # was the control's [sft]
    assert "| plain SFT (same budget) |" in (archive / "seed-4" / "report.md").read_text()  # rewritten, all arms
    assert "| +SA |" in (archive / "seed-4" / "report.md").read_text()
    assert check_archive(archive) == []
    # A seed whose control is still running is left out and named; it does not drop the control from the report.
    running = tmp_path / "running" / config.name
    shutil.copytree(archive, running)
    shutil.rmtree(running / "seed-4" / "sft")
    aggregate_archive(running)
    partial = json.loads((running / SEEDS_SUMMARY).read_text())
    assert partial["seeds"] == [3] and partial["stages"] == ["base", "sa", "sft"]
    assert partial["left_out"] == {"4": ["sft"]} and summary["left_out"] == {}
    for name, entry in summary["scores"]["sft"].items():
        assert partial["scores"]["sft"][name]["per_seed"] == {"3": entry["per_seed"]["3"]}
    assert "Seed 4 is left out until it finishes plain SFT" in (running / "report.md").read_text()
    assert check_archive(running) == []
    path = archive / "seed-4" / "sft" / PREDICTIONS
    lines = path.read_text().splitlines()
    first, truth = json.loads(lines[0]), read_jsonl(seed_dirs(config.run_dir)[4] / gold_file(config.eval.split))[0]
    assert first["id"] == truth["id"]
    first.update({key: truth[key] for key in ("entities", "relations", "events")}, well_formed=True)  # now right
    path.write_text("\n".join([json.dumps(first)] + lines[1:]) + "\n")
    assert any("seed-4/sft/predictions.jsonl" in p for p in check_archive(archive))
