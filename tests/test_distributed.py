"""Many processes, one run: the tiny pipeline, `prouie predict` and `prouie eval` under torchrun (2 CPU processes
over gloo) against one process, and an interrupted 2-process run that resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from prouie_lib import distributed
from prouie_lib.rundir import PREDICTIONS, REWARD_TRACES, TIMING

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
CLI = ["-m", "prouie_lib.cli"]
TRAINED = ("cm", "sa", "de", "sft")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")}
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    return env


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)


def _files(run_dir: Path) -> set[str]:
    return {str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file() and "checkpoint-" not in str(p)}


# ---------------------------------------------------------------- one process: the degenerate case


def test_one_process_helpers_are_plain_calls():
    assert not distributed.launched() and distributed.world_size() == 1 and distributed.is_main()
    assert distributed.shard_map([3, 1, 2], lambda xs: [x * 10 for x in xs]) == [30, 10, 20]
    assert distributed.gather_lists([1, 2]) == [1, 2]
    assert distributed.any_rank(True) and not distributed.any_rank(False)
    with pytest.raises(ValueError, match="boom"):
        distributed.on_main(lambda: (_ for _ in ()).throw(ValueError("boom")))


# ---------------------------------------------------------------- two processes


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory, repo_root):
    out = tmp_path_factory.mktemp("torchrun")
    start = time.time()
    proc = _run([*TORCHRUN, *CLI, "pipeline", "--config", "configs/tiny.yaml", "--fresh",
                 "--set", f"output_dir={out}"], repo_root)
    return proc, out / "tiny", time.time() - start


def test_tiny_pipeline_under_torchrun_matches_one_process(two_process_run, tiny_pipeline):
    proc, run_dir, seconds = two_process_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (run_dir / "report.md").is_file()
    assert proc.stdout.count("Ablation (") == 1  # one voice: the other process prints nothing to stdout
    one = tiny_pipeline.run_dir
    assert _files(run_dir) == _files(one)  # the same files; none with a rank suffix
    gold_ids = [json.loads(line)["id"] for line in (run_dir / "gold-test.jsonl").read_text().splitlines()]
    for stage in ("base", *TRAINED):
        ids = [json.loads(line)["id"] for line in (run_dir / stage / PREDICTIONS).read_text().splitlines()]
        assert ids == gold_ids, stage  # every evaluated record once, in record order
    assert (run_dir / "base" / PREDICTIONS).read_text() == (one / "base" / PREDICTIONS).read_text()
    for stage in TRAINED:
        timing = json.loads((run_dir / stage / TIMING).read_text())
        assert timing["world_size"] == 2, stage
        assert timing["effective_batch_size"] == 2 * timing["per_device_train_batch_size"] * \
            timing["gradient_accumulation_steps"]
    # The control's budget is counted in optimizer steps of the same run: CM + SA as they ran with 2 processes.
    phases = {s: json.loads((run_dir / s / "phases.json").read_text()) for s in ("cm", "sa", "sft")}
    steps = {s: sum(p["end_step"] - p["start_step"] for p in v["phases"]) for s, v in phases.items()}
    assert steps["sft"] == steps["cm"] + steps["sa"]


def test_de_traces_hold_every_completion_once(two_process_run, repo_root):
    proc, run_dir, _ = two_process_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    from prouie_lib.config import load_config

    config = load_config(repo_root / "configs" / "tiny.yaml")
    de = config.de
    per_step = de.trainer.per_device_train_batch_size * 2  # completions per optimizer step with 2 processes
    lines = [json.loads(line) for line in (run_dir / "de" / REWARD_TRACES).read_text().splitlines()]
    steps = Counter(line["step"] for line in lines)
    assert set(steps.values()) == {per_step}, steps
    groups: dict[tuple[int, int], set[str]] = {}
    for line in lines:
        groups.setdefault((line["step"], line["group"]), set()).add(line["prompt_id"])
    assert all(len(ids) == 1 for ids in groups.values())  # a group is one prompt's completions
    assert all(n == de.num_generations for n in Counter((x["step"], x["group"]) for x in lines).values())


def test_predict_and_eval_under_torchrun_equal_one_process(tmp_path, repo_root):
    common = ["--model", "tiny-random", "--data", "sample", "--split", "test", "--limit", "5",
              "--max-new-tokens", "8", "--batch-size", "2"]
    one = _run([sys.executable, *CLI, "predict", *common, "--out", str(tmp_path / "one.jsonl")], repo_root)
    two = _run([*TORCHRUN, *CLI, "predict", *common, "--out", str(tmp_path / "two.jsonl")], repo_root)
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    assert (tmp_path / "two.jsonl").read_text() == (tmp_path / "one.jsonl").read_text()
    assert two.stdout.count("wrote ") == 1
    # `prouie eval score` under the launcher: one table, from the main process.
    gold = tmp_path / "gold.jsonl"
    from prouie_lib.data import load_examples, write_jsonl

    write_jsonl(load_examples("sample", "test", limit=5), gold)
    scored = _run([*TORCHRUN, *CLI, "eval", "score", "--gold", str(gold), "--pred", str(tmp_path / "two.jsonl")],
                  repo_root)
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert scored.stdout.count("macro F1 over datasets") == 1


def test_interrupted_two_process_run_resumes(tmp_path, repo_root):
    """SIGTERM to the launcher stops both processes after one step with one checkpoint; a resume with another
    world size stops with one line; the same command completes the run."""
    args = [*CLI, "pipeline", "--config", "configs/tiny.yaml", "--set", f"output_dir={tmp_path}"]
    launcher = subprocess.Popen([*TORCHRUN, *args, "--fresh"], cwd=repo_root, env=_env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    checkpoints = tmp_path / "tiny" / "cm" / "phases"
    deadline = time.time() + 240
    while time.time() < deadline and not list(checkpoints.glob("*/checkpoints/checkpoint-1")):
        if launcher.poll() is not None:
            break
        time.sleep(0.1)
    assert launcher.poll() is None, "the run ended before CM saved its first checkpoint"
    launcher.send_signal(signal.SIGTERM)
    _, stderr = launcher.communicate(timeout=120)
    assert launcher.returncode != 0
    assert stderr.count("prouie: interrupted by SIGTERM") == 1, stderr[-3000:]
    assert "resume with: torchrun --standalone --nproc_per_node 2" in stderr
    saved = sorted(checkpoints.glob("*/checkpoints/checkpoint-*"))
    assert saved and not (tmp_path / "tiny" / "cm" / "scores.json").exists()

    other = _run([sys.executable, *args], repo_root)  # one process on a 2-process checkpoint
    assert other.returncode == 2
    errors = [line for line in other.stderr.splitlines() if line.startswith("prouie: error:")]
    assert len(errors) == 1 and "started with 2 process(es)" in errors[0], other.stderr[-2000:]

    resumed = _run([*TORCHRUN, *args], repo_root)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "cm: resuming from" in resumed.stderr
    assert (tmp_path / "tiny" / "report.md").is_file()
    assert all((tmp_path / "tiny" / stage / "scores.json").is_file() for stage in ("base", *TRAINED))
