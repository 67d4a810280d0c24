"""Rewards from user code: ``module:function`` and ``path/to/file.py:function`` wherever a reward is named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from prouie_lib.config import config_from_dict
from prouie_lib.rewards import REWARDS, FunctionReward, get_reward, make_trl_reward_funcs, resolve_reward
from prouie_lib.rewards.registry import UnknownRewardError
from prouie_lib.schema import RecordError, entity, make_record

SPAN_ONLY = '''
from prouie_lib.rewards import RewardResult


def span_only(parsed, gold):
    """Share of gold entity spans found; 0 for a malformed output."""
    wanted = {e["text"] for e in gold["entities"]}
    found = {e["text"] for e in parsed.structure["entities"]} & wanted
    share = len(found) / len(wanted) if wanted else 1.0
    return RewardResult(share if parsed.well_formed else 0.0, {"span_share": share})
'''
GOLD = make_record(id="g", dataset="D", task="NER", split="test", text="Ann met Bob.",
                   labels={"entity_types": ["person"]}, entities=[entity("Ann", "person"), entity("Bob", "person")])


@pytest.fixture(autouse=True)
def clean_registry():
    before = dict(REWARDS)
    yield
    REWARDS.clear()
    REWARDS.update(before)


def write(path, source: str):
    path.write_text(textwrap.dedent(source))
    return path


def test_file_spec_is_loaded_and_registered_under_the_spec(tmp_path):
    spec = f"{write(tmp_path / 'my_rewards.py', SPAN_ONLY)}:span_only"
    reward = resolve_reward(spec)
    assert isinstance(reward, FunctionReward) and reward.name == "span_only"
    assert REWARDS[spec] is reward and get_reward(spec) is reward
    assert reward("(person: Ann)", GOLD, "streamlined").total == 0.5
    (func,) = make_trl_reward_funcs(spec)
    assert func.__name__ == "span_only"
    assert func(completions=["(person: Ann | Bob)"], gold=[json.dumps(GOLD)], format=["streamlined"]) == [1.0]


def test_relative_file_spec_and_reload_after_an_edit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "mine.py", "def constant(parsed, gold):\n    return 0.25\n")
    assert resolve_reward("mine.py:constant").score_structure({"entities": []}, GOLD).total == 0.25
    path.write_text("def constant(parsed, gold):\n    return 0.75\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert resolve_reward("mine.py:constant").score_structure({"entities": []}, GOLD).total == 0.75


def test_module_spec_registered_function_reward_class_and_registered_name(tmp_path, monkeypatch):
    write(tmp_path / "lab_rewards.py", '''
        from prouie_lib.rewards import Reward, RewardResult, register_reward


        @register_reward("tidy", level="completion", description="short outputs")
        def tidy(completion, gold, fmt):
            return -len(completion) / 100


        class Always(Reward):
            name = "always"
            description = "always one"

            def score_parsed(self, parsed, gold):
                return RewardResult(1.0)
    ''')
    monkeypatch.syspath_prepend(str(tmp_path))
    tidy = resolve_reward("lab_rewards:tidy")
    assert tidy is REWARDS["tidy"] and tidy.level == "completion"  # keeps what the decorator declared
    assert get_reward("lab_rewards:tidy")("None", GOLD, "streamlined").total == -0.04
    assert resolve_reward("lab_rewards:Always").score_structure({}, GOLD).total == 1.0
    write(tmp_path / "lab_named.py", '''
        from prouie_lib.rewards import register_reward

        register_reward("half")(lambda parsed, gold: 0.5)
    ''')
    assert resolve_reward("lab_named:half") is REWARDS["half"]


@pytest.mark.parametrize(("spec", "message"), [
    ("no_such_reward", "unknown reward 'no_such_reward'; registered: .*exact_match"),
    ("missing_file.py:fn", "no such file 'missing_file.py'"),
    ("no_such_module_xyz:fn", "cannot import module 'no_such_module_xyz'"),
    ("{dir}/bad.py:fn", "loading .*bad.py failed: ZeroDivisionError"),
    ("{dir}/my_rewards.py:nothing", "has no 'nothing'"),
    ("{dir}/my_rewards.py:RewardResult", "'RewardResult' is a class that is not a Reward"),
])
def test_errors_name_the_spec(tmp_path, spec, message):
    write(tmp_path / "my_rewards.py", SPAN_ONLY)
    write(tmp_path / "bad.py", "1 / 0\n")
    spec = spec.format(dir=tmp_path)
    with pytest.raises(KeyError, match=message):
        resolve_reward(spec)
    with pytest.raises(UnknownRewardError):
        get_reward(spec)


def test_config_accepts_a_spec_and_names_the_field_when_it_fails(tmp_path):
    spec = f"{write(tmp_path / 'my_rewards.py', SPAN_ONLY)}:span_only"
    assert config_from_dict({"de": {"reward": spec}}).de.reward == spec
    with pytest.raises(RecordError, match=r"de\.reward.*has no 'nope'"):
        config_from_dict({"de": {"reward": f"{tmp_path / 'my_rewards.py'}:nope"}})


def test_user_file_reward_drives_the_pipeline(tmp_path, repo_root):
    """`prouie pipeline` on the tiny config trains DE with a reward from a user file (DE only, one step)."""
    spec = f"{write(tmp_path / 'my_rewards.py', SPAN_ONLY)}:span_only"
    overrides = [f"de.reward={spec}", f"output_dir={tmp_path / 'runs'}", "stages=[de]", "de.trainer.max_steps=1",
                 "de.probe_size=0", "de.train_limit=4", "eval.limit_per_dataset=1"]
    command = [sys.executable, "-m", "prouie_lib.cli", "pipeline", "--config", str(repo_root / "configs" / "tiny.yaml")]
    for item in overrides:
        command += ["--set", item]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    de = tmp_path / "runs" / "tiny" / "de"
    traces = [json.loads(line) for line in (de / "reward_traces.jsonl").read_text().splitlines()]
    assert traces and {t["reward_name"] for t in traces} == {spec}
    assert all(set(t["components"]) == {"span_share"} for t in traces)
    assert (de / "scores.json").exists()


def test_reward_score_command_takes_a_file_spec(tmp_path, capsys):
    import json

    from prouie_lib import cli
    from prouie_lib.data import load_examples
    from prouie_lib.formats import get_format

    gold = load_examples("sample", "test")[:3]
    (tmp_path / "gold.jsonl").write_text("".join(json.dumps(r) + "\n" for r in gold))
    (tmp_path / "c.jsonl").write_text("".join(json.dumps({"id": r["id"], "format": "streamlined",
                                                         "completion": get_format("streamlined").render(r)}) + "\n"
                                              for r in gold))
    spec = f"{write(tmp_path / 'my_rewards.py', SPAN_ONLY)}:span_only"
    assert cli.main(["reward", "score", "--gold", str(tmp_path / "gold.jsonl"), "--completions",
                     str(tmp_path / "c.jsonl"), "--reward", spec, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reward"] == "span_only"
    assert cli.main(["reward", "score", "--gold", str(tmp_path / "gold.jsonl"), "--completions",
                     str(tmp_path / "c.jsonl"), "--reward", f"{tmp_path / 'nope.py'}:x"]) == 2
    assert "--reward" in capsys.readouterr().err
