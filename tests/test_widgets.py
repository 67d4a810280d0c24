"""Drive the analysis widgets headless through their controls and check what they show."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prouie_lib.analysis.errors import error_table, record_categories
from prouie_lib.analysis.loaders import load_run
from prouie_lib.analysis.widgets import (
    ExtractionInspector,
    RewardPlayground,
    RewardTraceViewer,
    extraction_inspector,
    reward_playground,
    reward_trace_viewer,
)
from prouie_lib.rewards import REWARDS, RewardResult, get_reward, register_reward

RUN = Path(__file__).resolve().parent / "fixtures" / "run_tiny"


@pytest.fixture(scope="module")
def run():
    return load_run(RUN)


@pytest.fixture()
def scratch_rewards():
    """Names registered by a test are removed afterwards (the registry is global)."""
    before = set(REWARDS)
    yield
    for name in set(REWARDS) - before:
        del REWARDS[name]


def _statuses(markup: str) -> list[tuple[str, str]]:
    return [(s, html.unescape(t)) for s, t in re.findall(r'<mark data-status="(\w+)"[^>]*>(.*?)</mark>', markup)]


# ---------------------------------------------------------------- ExtractionInspector


def test_inspector_filters_by_stage_task_and_category(run):
    inspector = extraction_inspector(RUN)
    assert isinstance(inspector, ExtractionInspector) and inspector.stage.value == "de"
    assert inspector.status.value.startswith("30 record")
    categories = record_categories(error_table(run.predictions))
    inspector.stage.value = "base"
    inspector.task.value = "RE"
    inspector.category.value = "not_well_formed"
    expected = [rid for (stage, rid), cats in categories.items()
                if stage == "base" and rid.startswith("Sample-RE") and "not_well_formed" in cats]
    assert len(expected) >= 2 and inspector.status.value.startswith(f"{len(expected)} record")
    assert inspector.example.max == len(expected) - 1
    seen = []
    for i in range(len(expected)):
        inspector.example.value = i
        seen.append(re.search(r"<b>([^<]+)</b>", inspector.header.value).group(1))
        assert "not well-formed" in inspector.header.value
    assert seen == expected


def test_inspector_shows_spans_units_completion_and_reward(run):
    inspector = extraction_inspector(run, stage="cm")
    inspector.task.value = "NER"
    inspector.category.value = "wrong_type"
    row = inspector.current()
    assert row is not None and row["stage"] == "cm"
    # spans: every gold entity is marked, and a type disagreement shows as a conflict
    marks = _statuses(inspector.text_view.value)
    assert {t for s, t in marks if s in ("both", "gold", "conflict")} >= {
        e["text"] for e in row["gold"]["entities"]} - {t for s, t in marks if s == "pred"}
    assert any(s == "conflict" for s, _ in marks)
    # units table: the wrong-type row names both labels
    assert "wrong_type" in inspector.units_view.value
    # raw completion, escaped
    assert html.escape(row["completion"]) in inspector.completion_view.value
    # per-unit reward breakdown equals the registered SFR on the same completion
    total = get_reward("sfr")(row["completion"], row["record"], row["format"]).total
    assert f"total <b>{total:.3f}</b>" in inspector.reward_view.value
    assert "entity_span" in inspector.reward_view.value and "entity_type" in inspector.reward_view.value


def test_inspector_relations_and_events_tables(run):
    inspector = ExtractionInspector(run.predictions, stage="sa")
    inspector.task.value = "RE"
    assert "<i>Relations</i>" in inspector.units_view.value and "—" in inspector.units_view.value
    inspector.task.value = "EE"
    inspector.category.value = "correct"
    assert "<i>Events (triggers)</i>" in inspector.units_view.value
    assert "<i>Event arguments</i>" in inspector.units_view.value


def test_inspector_empty_filter_and_jump(run):
    inspector = ExtractionInspector(run.predictions)
    inspector.dataset.value = "Sample-NER"
    inspector.task.value = "EE"
    assert inspector.status.value.startswith("0 record") and "No record matches" in inspector.header.value
    assert inspector.text_view.value == ""
    inspector.show("Sample-RE/test/3")
    assert "<b>Sample-RE/test/3</b>" in inspector.header.value and inspector.task.value == "(all)"
    with pytest.raises(KeyError):
        inspector.show("nope")


def test_inspector_reports_a_failing_reward(run, scratch_rewards):
    @register_reward("test_broken")
    def broken(parsed, gold):
        raise RuntimeError("boom")

    inspector = ExtractionInspector(run.predictions, reward="test_broken")
    assert "reward failed: RuntimeError: boom" in inspector.reward_view.value


# ---------------------------------------------------------------- RewardTraceViewer


def test_trace_viewer_slider_limits_curves_and_picks_groups(run):
    viewer = reward_trace_viewer(RUN)
    assert isinstance(viewer, RewardTraceViewer)
    traces = run.traces
    # trace lines hold steps 0–2 (the step their batch was generated at); the viewer counts trainer steps 1–3
    assert sorted(traces["step"].unique()) == [0, 1, 2]
    assert (viewer.step.min, viewer.step.max, viewer.step.value) == (1, 3, 3)
    assert viewer.figure.axes[0].get_xlabel() == "DE trainer step"
    first_png = viewer.curves.value
    viewer.step.value = 1
    assert viewer.curves.value != first_png
    lines = {line.get_label(): line for line in viewer.figure.axes[0].lines}
    assert max(lines["reward"].get_xdata()) == 1
    assert lines["reward"].get_ydata()[0] == pytest.approx(traces[traces["step"] == 0]["reward"].mean())
    prompts = list(dict.fromkeys(traces[traces["step"] == 0]["prompt_id"]))
    assert [label.split(" (")[0] for label, _ in viewer.prompt.options] == prompts
    assert "DE step 1 " in viewer.group_view.value
    viewer.step.value = 2
    assert max(viewer.figure.axes[0].lines[0].get_xdata()) == 2


def test_trace_viewer_group_side_by_side(run):
    viewer = RewardTraceViewer(run.traces)
    viewer.step.value = 2
    viewer.prompt.value = 1
    key = viewer.group_key()
    assert key[0] == 1  # trainer step 2 shows the batch generated at trace step 1
    rows = run.traces[(run.traces["step"] == key[0]) & (run.traces["prompt_id"] == key[1])]
    shown = viewer.group_view.value
    assert len(rows) == 4
    for completion, reward, advantage in zip(rows["completion"], rows["reward"], rows["advantage"], strict=True):
        assert html.escape(completion) in shown
        assert f">{reward:.3f}<" in shown and f">{advantage:.3f}<" in shown
    assert shown.count("<th") >= 1 + 4  # one column per completion


def test_trace_viewer_component_toggles(run):
    default = RewardTraceViewer(run.traces)  # the total and a few components, not every one of them
    shown = [line.get_label() for line in default.figure.axes[0].lines]
    assert shown[0] == "reward" and 2 <= len(shown) <= 4 < len(default.toggles)
    viewer = RewardTraceViewer(run.traces, components=["reward", "format"])
    assert [line.get_label() for line in viewer.figure.axes[0].lines] == ["reward", "format"]
    viewer.toggles["format"].value = False
    viewer.toggles["f1_entity_type"].value = True
    assert [line.get_label() for line in viewer.figure.axes[0].lines] == ["reward", "f1_entity_type"]
    assert ">f1_entity_type</th>" in viewer.group_view.value and ">format</th>" not in viewer.group_view.value
    before = viewer.curves.value
    viewer.band.value = "std"
    assert viewer.curves.value != before
    with pytest.raises(ValueError, match="unknown component"):
        RewardTraceViewer(run.traces, components=["nope"])


# ---------------------------------------------------------------- RewardPlayground


def test_playground_same_reward_changes_nothing(run):
    playground = reward_playground(RUN)
    assert isinstance(playground, RewardPlayground) and playground.reward.value == "sfr"
    result = playground.replay()
    assert np.allclose(result["new_reward"], result["reward"], atol=1e-6)
    assert "best completion changed in <b>0</b>/6 groups" in playground.summary.value
    assert bytes(playground.plot.value).startswith(b"\x89PNG")


def test_playground_sfr_weights_from_sliders(run):
    from prouie_lib.analysis.traces import trace_lines
    from prouie_lib.rewards import replay_traces

    playground = RewardPlayground(run.traces)
    playground.weights["format"].value = 0.5
    playground.weights["entity_type"].value = 0.0
    result = playground.replay()
    direct = replay_traces(trace_lines(run.traces), "sfr", **playground.options())
    assert np.allclose(result["new_reward"], [x["new_reward"] for x in direct])
    assert not np.allclose(result["new_reward"], result["reward"])
    assert f"mean <b>{result['new_reward'].mean():.3f}</b>" in playground.summary.value


def test_playground_picks_a_reward_registered_later(run, scratch_rewards):
    playground = RewardPlayground(run.traces)
    assert "test_span_recall" not in playground.reward.options

    @register_reward("test_span_recall")
    def span_recall(parsed, gold):
        found = {e["text"].casefold() for e in parsed.structure["entities"]}
        wanted = {e["text"].casefold() for e in gold["entities"]}
        return RewardResult(len(found & wanted) / len(wanted) if wanted else 1.0, {"recall": 0.0})

    playground.refresh_button.click()
    assert "test_span_recall" in playground.reward.options
    playground.reward.value = "test_span_recall"
    assert all(slider.disabled for slider in playground.weights.values()) and playground.options() == {}
    result = playground.replay()
    expected = [get_reward("test_span_recall")(c, g, f).total
                for c, g, f in zip(run.traces["completion"], run.traces["gold"], run.traces["format"], strict=True)]
    assert np.allclose(result["new_reward"], expected)
    changes = playground.changes
    assert len(changes) == 6 and "argmax_changed" in playground.ranking_view.value
    assert int(changes["argmax_changed"].sum()) > 0  # recall ignores types and relations: rankings move
    assert f"in <b>{int(changes['argmax_changed'].sum())}</b>/6 groups" in playground.summary.value


def test_playground_shows_replay_errors(run, scratch_rewards):
    playground = RewardPlayground(run.traces)
    playground.floor.value = 0.1
    playground.weights["format"].value = 0.0  # floor above the format weight: SFRConfig refuses it
    assert playground.replay() is None
    assert "replay failed" in playground.summary.value and "floor" in playground.summary.value


def test_widgets_refuse_empty_tables():
    with pytest.raises(ValueError, match="no reward traces"):
        RewardTraceViewer(pd.DataFrame(columns=["step"]))
    with pytest.raises(ValueError, match="no predictions"):
        ExtractionInspector(pd.DataFrame(columns=["stage"]))
