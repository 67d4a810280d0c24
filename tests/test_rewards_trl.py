"""Reward library, completion level: real formats, the trl adapter (inside trl's own reward loop),
replay of reward traces and the ``prouie reward`` CLI."""

from __future__ import annotations

import argparse
import copy
import json
from collections import defaultdict
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reward_strategies import LABELS, gold_records

from prouie_lib.cli import reward as reward_cli
from prouie_lib.formats import get_format
from prouie_lib.rewards import (
    REWARDS,
    SFRConfig,
    StepwiseReward,
    get_reward,
    make_trl_reward_funcs,
    register_reward,
    replay_traces,
    summarize_replay,
)
from prouie_lib.rewards.scoring import component_means, score_completions
from prouie_lib.schema import RecordError

FORMATS = ("complete", "streamlined")
GARBAGE = ["", "I cannot answer that.", "}{", "((((", '{"person": [', "(person: Obama"]


def ner_gold(i: int = 0) -> dict:
    return {"id": f"g{i}", "dataset": "t", "task": "NER", "split": "test", "text": "Ann Lee visited Paris .",
            "labels": copy.deepcopy(LABELS), "relations": [], "events": [],
            "entities": [{"text": "Ann Lee", "type": "person", "start": 0, "end": 7},
                         {"text": "Paris", "type": "location", "start": 16, "end": 21}]}


def re_gold() -> dict:
    return {**ner_gold(1), "task": "RE", "entities": [], "relations": [
        {"head": {"text": "Ann Lee", "type": "person", "start": 0, "end": 7}, "type": "live in",
         "tail": {"text": "Paris", "type": "location", "start": 16, "end": 21}}]}


# ---------------------------------------------------------------- completion level with the real formats

@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gold=gold_records(), fmt=st.sampled_from(FORMATS))
def test_rendered_gold_gets_the_maximum_through_the_parser(gold, fmt):
    text = get_format(fmt).render(gold)
    for config in (SFRConfig(), SFRConfig(floor=-1, hallucination_penalty=0.5, label_penalty=0.5)):
        assert StepwiseReward(config)(text, gold, fmt).total == pytest.approx(1.0, abs=1e-12)
    assert get_reward("exact_match")(text, gold, fmt).total == 1.0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gold=gold_records(), fmt=st.sampled_from(FORMATS), text=st.text(max_size=200))
def test_never_raises_on_any_string_and_stays_in_range(gold, fmt, text):
    for name in ("sfr", "exact_match", "strict_f1", "format"):
        result = get_reward(name)(text, gold, fmt)
        assert 0.0 <= result.total <= 1.0
    result = StepwiseReward(SFRConfig(floor=-1.0, hallucination_penalty=0.2))(text, gold, fmt)
    assert -1.0 <= result.total <= 1.0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_gets_the_floor(fmt, text):
    for floor in (0.0, -1.0):
        result = StepwiseReward(SFRConfig(floor=floor))(text, ner_gold(), fmt)
        assert result.total == floor and result.components["format"] == 0.0


def test_conversational_completion_and_partial_credit_through_streamlined():
    gold = re_gold()
    fn = make_trl_reward_funcs("sfr")[0]
    # right pair, wrong relation type; typed → pair 0.3 only
    wrong_rel = "(Ann Lee [person] | work for | Paris [location])"
    [total] = fn(prompts=["p"], completions=[[{"role": "assistant", "content": wrong_rel}]],
                 completion_ids=[[1]], gold=[json.dumps(gold)], task=["RE"], format=["streamlined"],
                 id=["g1"])
    assert total == pytest.approx(0.4)


# ---------------------------------------------------------------- the trl adapter inside trl's own loop

def trl_batch(golds: list[dict], completions: list, fmt: str = "streamlined", generations: int = 2):
    """Inputs and prompts shaped as GRPOTrainer builds them: one dict per completion, columns repeated."""
    inputs = []
    for gold in golds:
        for _ in range(generations):
            inputs.append({"prompt": [{"role": "user", "content": f"Extract from: {gold['text']}"}],
                           "gold": json.dumps(gold), "task": gold["task"], "format": fmt, "id": gold["id"]})
    prompts = [x["prompt"] for x in inputs]
    return inputs, prompts, completions, [[101, 102, 103] for _ in completions]


def run_trl_calculate_rewards(funcs, inputs, prompts, completions, completion_ids):
    """Call trl 1.16's real GRPOTrainer._calculate_rewards with a minimal trainer stand-in."""
    import torch
    from trl.trainer.grpo_trainer import GRPOTrainer

    fake = SimpleNamespace(
        accelerator=SimpleNamespace(device=torch.device("cpu"), is_main_process=True),
        args=SimpleNamespace(report_to=[]), state=SimpleNamespace(global_step=3),
        reward_funcs=funcs, reward_processing_classes=[None] * len(funcs),
        reward_func_names=[f.__name__ for f in funcs], environments=None,
        _pending_extra_logs=defaultdict(list), _pending_metrics=defaultdict(list),
    )
    fake._log_completion_extra = GRPOTrainer._log_completion_extra.__get__(fake)
    fake._log_metric = GRPOTrainer._log_metric.__get__(fake)
    rewards = GRPOTrainer._calculate_rewards(fake, inputs, prompts, completions, completion_ids)
    return rewards, fake


def test_trl_adapter_in_trl_reward_loop_with_per_task_functions():
    ner, rel = ner_gold(), re_gold()
    ner_fmt, re_fmt = get_format("streamlined").render(ner), get_format("streamlined").render(rel)
    completions = [[{"role": "assistant", "content": c}] for c in (ner_fmt, "garbage", re_fmt, "(x")]
    batch = trl_batch([ner, rel], completions)
    funcs = make_trl_reward_funcs("sfr", per_task=True)
    assert [f.__name__ for f in funcs] == ["sfr_ner", "sfr_re", "sfr_ee"]
    rewards, fake = run_trl_calculate_rewards(funcs, *batch)
    assert rewards.shape == (4, 3)
    assert rewards[0, 0].item() == 1.0 and rewards[1, 0].item() == 0.0  # NER rows scored by sfr_ner
    assert rewards[:2, 1:].isnan().all() and rewards[2:, 0].isnan().all()  # None → NaN elsewhere
    assert rewards[2, 1].item() == 1.0 and rewards[3, 1].item() == 0.0
    assert rewards[:, 2].isnan().all()  # no EE rows
    # components reached trl's pending logs
    assert fake._pending_metrics["rewards/sfr_ner/format"] == [0.5]
    assert fake._pending_metrics["rewards/sfr_re/f1_relation"] == [0.5]
    assert not any(k.startswith("rewards/sfr_ee/") for k in fake._pending_metrics)
    assert fake._pending_extra_logs["sfr_ner/f1_entity_type"] == [1.0, 0.0, None, None]
    assert all(len(v) == 4 for v in fake._pending_extra_logs.values())
    # the trace writer can read the last batch's results without re-scoring
    assert funcs[0].last_results[0].components["f1_entity_type"] == 1.0 and funcs[0].last_results[2] is None
    assert funcs[1].last_ids == ["g0", "g0", "g1", "g1"]
    rows = funcs[1].last_rows()
    assert rows[:2] == [None, None] and rows[2]["completion"] == re_fmt and rows[3]["reward"] == 0.0
    assert rows[2]["id"] == "g1" and rows[2]["reward_name"] == "sfr" and rows[2]["format"] == "streamlined"


def test_trl_adapter_single_function_weights_and_plain_strings():
    funcs = make_trl_reward_funcs("sfr", weights={"format": 0.0, "entity_span": 0.0}, log_components=False)
    assert len(funcs) == 1 and funcs[0].__name__ == "sfr"
    inputs, prompts, _, ids = trl_batch([ner_gold()], [], generations=2)
    completions = ["(person: Ann Lee)", "(location: Ann Lee)"]  # plain strings (standard format)
    rewards, fake = run_trl_calculate_rewards(funcs, inputs, prompts, completions, ids)
    assert rewards[:, 0].tolist() == pytest.approx([2 / 3, 0.0])
    assert not fake._pending_metrics and not fake._pending_extra_logs


def test_trl_adapter_errors_are_clear():
    fn = make_trl_reward_funcs("sfr")[0]
    with pytest.raises(KeyError, match="gold"):
        fn(prompts=["p"], completions=["x"], completion_ids=[[1]], task=["NER"])
    with pytest.raises(RecordError, match="field 'gold'"):
        fn(prompts=["p"], completions=["x"], completion_ids=[[1]], gold=["{not json"], format=["streamlined"])
    with pytest.raises(KeyError, match="format"):
        fn(prompts=["p"], completions=["x"], completion_ids=[[1]], gold=[json.dumps(ner_gold())])
    with pytest.raises(RecordError, match="task column says 'RE'"):
        fn(completions=["x"], gold=[json.dumps(ner_gold())], task=["RE"], format=["streamlined"], id=["a"])
    default = make_trl_reward_funcs("sfr", default_format="streamlined")[0]
    assert default(completions=["(person: Ann Lee)"], gold=[ner_gold()]) == [pytest.approx(0.7)]


def test_user_reward_from_main_through_trl_adapter():
    namespace = {"__name__": "__main__", "register_reward": register_reward}
    exec(compile("@register_reward('test_n_units')\n"
                 "def n_units(parsed, gold):\n"
                 "    return float(len(parsed.structure['entities']))\n", "<cell>", "exec"), namespace)
    try:
        [fn] = make_trl_reward_funcs("test_n_units")
        assert fn.__name__ == "test_n_units"
        assert fn(completions=["(person: Ann Lee)(location: Paris)"], gold=[json.dumps(ner_gold())],
                  format=["streamlined"]) == [2.0]
    finally:
        REWARDS.pop("test_n_units", None)


# ---------------------------------------------------------------- replay

def write_traces(path, reward_name: str = "sfr"):
    """Traces the way the DE stage writes them, from the adapter's last_results."""
    golds = [ner_gold(0), re_gold()]
    texts = {"g0": ["(person: Ann Lee)(location: Paris)", "(location: Ann Lee)", "(person: Paris)", "junk"],
             "g1": ["(Ann Lee [person] | live in | Paris [location])", "(Ann Lee [person] | work for | Paris "
                    "[location])", "(Paris [location] | live in | Ann Lee [person])", "None"]}
    [fn] = make_trl_reward_funcs(reward_name)
    lines = []
    for step in (0, 1):
        for group, gold in enumerate(golds):
            comps = texts[gold["id"]] if step == 0 else list(reversed(texts[gold["id"]]))
            fn(completions=comps, gold=[json.dumps(gold)] * 4, task=[gold["task"]] * 4,
               format=["streamlined"] * 4, id=[gold["id"]] * 4)
            for row in fn.last_rows():
                lines.append({"step": step, "prompt_id": row["id"], "group": group, "dataset": "t",
                              "advantage": None, "gold": gold, **row})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return lines


def test_replay_with_the_same_reward_gives_identical_totals(tmp_path):
    path = tmp_path / "reward_traces.jsonl"
    lines = write_traces(path)
    replayed = replay_traces(path, "sfr")
    assert [x["new_reward"] for x in replayed] == [x["reward"] for x in lines]
    assert [x["new_components"] for x in replayed] == [x["components"] for x in lines]
    summary = summarize_replay(replayed)
    assert summary["argmax_changed"] == 0 and summary["groups"] == 4 and summary["mean_abs_change"] == 0.0


def test_replay_with_another_reward_changes_group_argmax(tmp_path):
    path = tmp_path / "reward_traces.jsonl"
    write_traces(path)
    replayed = replay_traces(path, "exact_match")
    assert all(x["new_reward"] in (0.0, 1.0) for x in replayed)
    summary = summarize_replay(replayed)
    # NER groups: sfr ranks the perfect completion alone on top; exact_match too → no change.
    # RE groups: only the perfect one scores 1 under both → no change either; format-only ties everything.
    assert summary["argmax_changed"] == 0
    assert summarize_replay(replay_traces(path, "format"))["argmax_changed"] == 4


def test_replay_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"completion": "x", "format": "streamlined"}) + "\n")
    with pytest.raises(RecordError, match=r"t\.jsonl: record line 1: field 'gold'"):
        replay_traces(path, "sfr")


# ---------------------------------------------------------------- scoring a completions file (library)

def test_score_completions_indexes_gold_by_id_and_counts_missing():
    gold = [ner_gold(0), ner_gold(5)]
    lines = [{"id": "g0", "completion": "(person: Ann Lee)(location: Paris)", "format": "streamlined"}]
    report = score_completions(gold, lines, "sfr", options={"re_entity_types": True})  # YAML's `on`
    assert report["reward"] == "sfr" and report["missing"] == 1 and report["mean"] == pytest.approx(1.0)
    assert component_means(report["items"])["format"] == (1.0, 1)
    with pytest.raises(RecordError, match=r"g\.jsonl: record g0: field 'id': duplicate gold id"):
        score_completions([ner_gold(0), ner_gold(0)], lines, "sfr", gold_source="g.jsonl")
    with pytest.raises(RecordError, match=r"c\.jsonl: record line 1: field 'id'"):
        score_completions(gold, [{"completion": "x"}], "sfr", source="c.jsonl")


# ---------------------------------------------------------------- CLI

def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="prouie")
    reward_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_module_is_listed():
    from prouie_lib.cli import COMMANDS

    assert reward_cli in COMMANDS


def test_cli_score_json_with_text_and_structured_lines(tmp_path, capsys):
    gold_path, comp_path = tmp_path / "gold.jsonl", tmp_path / "comp.jsonl"
    gold_path.write_text(json.dumps(ner_gold(0)) + "\n" + json.dumps(re_gold()) + "\n")
    comp_path.write_text(
        json.dumps({"id": "g0", "completion": '{"person": ["Ann Lee"], "location": [], "organization": [], '
                                              '"misc": []}', "format": "complete"}) + "\n"
        + json.dumps({"id": "g1", "entities": [], "relations": re_gold()["relations"], "events": []}) + "\n")
    assert run_cli(["reward", "score", "--gold", str(gold_path), "--completions", str(comp_path),
                    "--reward", "sfr", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reward"] == "sfr" and [i["id"] for i in report["items"]] == ["g0", "g1"]
    assert report["items"][0]["total"] == pytest.approx(0.7) and report["items"][1]["total"] == 1.0
    assert report["mean"] == pytest.approx(0.85)
    assert set(report["items"][0]["components"]) >= {"format", "f1_entity_span", "f1_entity_type"}
    # entity types forced on: the structured line's gold relation is typed, so it stays perfect
    assert run_cli(["reward", "score", "--gold", str(gold_path), "--completions", str(comp_path),
                    "--reward", "strict_f1", "--set", "re_entity_types=on", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [i["total"] for i in report["items"]] == pytest.approx([2 / 3, 1.0])


def test_cli_score_text_output_and_options(tmp_path, capsys):
    gold_path, comp_path = tmp_path / "gold.jsonl", tmp_path / "comp.jsonl"
    gold_path.write_text(json.dumps(ner_gold(0)) + "\n" + json.dumps(ner_gold(5)) + "\n")
    comp_path.write_text(json.dumps({"id": "g0", "completion": "(person: Ann Lee)"}) + "\n")
    assert run_cli(["reward", "score", "--gold", str(gold_path), "--completions", str(comp_path),
                    "--format", "streamlined", "--set", "format=0", "--set", "entity_span=0"]) == 0
    captured = capsys.readouterr()
    assert "mean 0.6667" in captured.out and "f1_entity_type" in captured.out
    assert "1 gold record(s)" in captured.err


def test_cli_score_errors_name_file_record_and_field(tmp_path):
    gold_path, comp_path = tmp_path / "gold.jsonl", tmp_path / "comp.jsonl"
    gold_path.write_text(json.dumps(ner_gold(0)) + "\n")
    comp_path.write_text(json.dumps({"id": "g0", "completion": "(person: Ann Lee)"}) + "\n")
    with pytest.raises(RecordError, match=r"comp\.jsonl: record g0: field 'format'"):
        run_cli(["reward", "score", "--gold", str(gold_path), "--completions", str(comp_path)])
    comp_path.write_text(json.dumps({"id": "nope", "completion": "x", "format": "streamlined"}) + "\n")
    with pytest.raises(RecordError, match="record nope: field 'id'"):
        run_cli(["reward", "score", "--gold", str(gold_path), "--completions", str(comp_path)])
    comp_path.write_text(json.dumps({"id": "g0", "entities": [{"text": "Ann Lee"}]}) + "\n")
    with pytest.raises(RecordError, match=r"record g0: field 'entities\[0\]\.type'"):
        run_cli(["reward", "score", "--gold", str(gold_path), "--completions", str(comp_path)])


def test_cli_replay_reports_means_and_argmax_changes(tmp_path, capsys):
    path = tmp_path / "reward_traces.jsonl"
    write_traces(path)
    out = tmp_path / "replayed.jsonl"
    assert run_cli(["reward", "replay", "--traces", str(path), "--reward", "format", "--json",
                    "--output", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["argmax_changed"] == 4 and summary["groups"] == 4
    assert summary["mean_new"] == pytest.approx(7 / 8)  # only "junk" is malformed
    assert len(out.read_text().splitlines()) == 16
    assert run_cli(["reward", "replay", "--traces", str(path), "--reward", "sfr"]) == 0
    text = capsys.readouterr().out
    assert "group argmax changed in 0 of 4" in text and "mean |change| 0.0000" in text
