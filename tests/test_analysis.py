"""Loaders, error analysis, highlighting, reward tables and figures on the synthetic run ``run_tiny``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from prouie_lib.analysis import data_plots, plots, tables
from prouie_lib.analysis import errors as err
from prouie_lib.analysis.highlight import highlight_html, span_marks
from prouie_lib.analysis.loaders import (
    gold_path,
    load_gold,
    load_log_history,
    load_phases,
    load_predictions,
    load_run,
    load_timing,
)
from prouie_lib.analysis.reward_tables import group_advantages, ranking_changes, replay_frame, sfr_breakdown
from prouie_lib.analysis.run_files import list_stages
from prouie_lib.analysis.traces import COMPONENT_PREFIX, load_reward_traces, trace_lines
from prouie_lib.schema import RecordError

RUN = Path(__file__).resolve().parent / "fixtures" / "run_tiny"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def run():
    return load_run(RUN)


@pytest.fixture(scope="module")
def errors(run):
    return err.error_table(run.predictions)


@pytest.fixture()
def run_copy(tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(RUN, target)
    return target


# ---------------------------------------------------------------- fixture


def test_fixture_is_small_and_complete():
    size = sum(p.stat().st_size for p in RUN.rglob("*") if p.is_file())
    assert size < 200_000
    assert list_stages(RUN) == ["base", "cm", "sa", "de"]
    gold = _lines(RUN / "gold-test.jsonl")
    assert {t: sum(r["task"] == t for r in gold) for t in ("NER", "RE", "EE")} == {"NER": 10, "RE": 10, "EE": 10}


def test_fixture_completions_parse_to_the_stored_predictions():
    """The fixture follows the current parsers (else: python tests/fixtures/make_run_tiny.py)."""
    from prouie_lib.formats import get_format

    gold = load_gold(RUN)
    for stage in ("base", "cm", "sa", "de"):
        for line in _lines(RUN / stage / "predictions.jsonl"):
            record = gold[line["id"]]
            parsed = get_format(line["format"]).parse(line["completion"], record["labels"], record["task"])
            stored = {k: line[k] for k in ("entities", "relations", "events")}
            assert (parsed.structure, parsed.well_formed) == (stored, line["well_formed"]), (
                f"{stage}/{line['id']}: run_tiny is stale; regenerate it with tests/fixtures/make_run_tiny.py")


# ---------------------------------------------------------------- loaders


def test_log_history_is_tidy_and_tagged_with_phases(run):
    log = run.log_history
    assert list(log.columns[:4]) == ["stage", "phase", "step", "epoch"]
    assert list(dict.fromkeys(log["stage"])) == ["cm", "sa", "de"]
    raw = _lines(RUN / "cm" / "log_history.jsonl")
    cm = log[log["stage"] == "cm"]
    assert cm["loss"].tolist() == [e["loss"] for e in raw]
    assert cm["phase"].tolist() == [e["phase"] for e in raw]
    assert "rewards/sfr/mean" in log.columns and log.loc[log["stage"] == "de", "rewards/sfr/mean"].notna().all()


def test_log_phase_comes_from_phases_json_when_entries_lack_it(run_copy: Path):
    path = run_copy / "cm" / "log_history.jsonl"
    entries = _lines(path)
    path.write_text("".join(json.dumps({k: v for k, v in e.items() if k != "phase"}) + "\n" for e in entries))
    log = load_log_history(run_copy, ["cm"])
    phases = load_phases(run_copy, ["cm"])
    for row in log.itertuples():
        bound = phases[(phases["start_step"] < row.step) & (row.step <= phases["end_step"])]
        assert row.phase == bound["phase"].item()
    assert log["phase"].nunique() == 3


def test_phases_table(run):
    cm = run.phases[run.phases["stage"] == "cm"]
    raw = json.loads((RUN / "cm" / "phases.json").read_text())["phases"]
    assert cm["phase"].tolist() == [p["phase"] for p in raw]
    assert cm["end_step"].tolist() == [p["end_step"] for p in raw]


def test_reward_traces_one_row_per_completion_with_flat_components(run):
    raw = _lines(RUN / "de" / "reward_traces.jsonl")
    traces = run.traces
    assert len(traces) == len(raw)
    for line, row in zip(raw, traces.to_dict("records"), strict=True):
        assert row["completion"] == line["completion"] and row["reward"] == pytest.approx(line["reward"])
        assert row["completion_chars"] == len(line["completion"])
        for name, value in line["components"].items():
            assert row[COMPONENT_PREFIX + name] == pytest.approx(value)
    sizes = traces.groupby(["step", "prompt_id", "group"])["position"].agg(["min", "max", "count"])
    assert (sizes["min"] == 0).all() and (sizes["max"] == sizes["count"] - 1).all()
    back = trace_lines(traces)
    assert back[0]["components"] == raw[0]["components"] and back[0]["gold"] == raw[0]["gold"]


def test_predictions_join_gold_and_prediction_lines(run):
    gold = load_gold(RUN)
    preds = run.predictions
    assert len(preds) == 4 * len(gold)
    line = _lines(RUN / "sa" / "predictions.jsonl")[7]
    row = preds[(preds["stage"] == "sa") & (preds["id"] == line["id"])].iloc[0]
    assert row["text"] == gold[line["id"]]["text"] and row["task"] == gold[line["id"]]["task"]
    assert row["predicted"] == {k: line[k] for k in ("entities", "relations", "events")}
    assert row["gold"]["entities"] == gold[line["id"]]["entities"]
    assert row["completion"] == line["completion"] and row["well_formed"] == line["well_formed"]


def test_missing_prediction_line_is_kept_as_failed_output(run_copy: Path):
    path = run_copy / "cm" / "predictions.jsonl"
    lines = _lines(path)
    path.write_text("".join(json.dumps(x) + "\n" for x in lines[1:]))
    preds = load_predictions(run_copy, ["cm"])
    row = preds[preds["id"] == lines[0]["id"]].iloc[0]
    assert not row["has_prediction"] and not row["well_formed"] and pd.isna(row["completion"])
    assert row["predicted"] == {"entities": [], "relations": [], "events": []}


def test_bad_lines_raise_errors_naming_file_line_and_field(run_copy: Path):
    path = run_copy / "sa" / "predictions.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    with pytest.raises(RecordError, match=r"sa/predictions.jsonl: record line 2"):
        load_predictions(run_copy, ["sa"])
    path.write_text("\n".join([lines[0].replace('"id": "', '"id": "nope/'), *lines[1:]]) + "\n")
    with pytest.raises(RecordError, match=r"record nope/.*field 'id'"):
        load_predictions(run_copy, ["sa"])
    traces = run_copy / "de" / "reward_traces.jsonl"
    first, *rest = traces.read_text().splitlines()
    traces.write_text("\n".join([json.dumps({k: v for k, v in json.loads(first).items() if k != "reward"}), *rest]))
    with pytest.raises(RecordError, match=r"reward_traces.jsonl: record line 1: field 'reward'"):
        load_reward_traces(run_copy)
    with pytest.raises(FileNotFoundError):
        load_run(run_copy / "missing")
    with pytest.raises(ValueError, match="no stage folder"):
        load_predictions(run_copy, ["xx"])
    path.write_text("\n".join([lines[0], lines[0], *lines[1:]]) + "\n")
    with pytest.raises(RecordError, match=r"duplicate prediction id"):
        load_predictions(run_copy, ["sa"])
    gold = run_copy / "gold-test.jsonl"
    first, *rest = gold.read_text().splitlines()
    gold.write_text("\n".join([first, first, *rest]) + "\n")
    with pytest.raises(RecordError, match=r"gold-test.jsonl: .*duplicate gold id"):
        load_gold(run_copy)
    gold.write_text("\n".join([json.dumps({k: v for k, v in json.loads(first).items() if k != "text"}), *rest]))
    with pytest.raises(RecordError, match=r"field 'text'"):
        load_gold(run_copy)


def test_gold_file_choice(run_copy: Path):
    shutil.copy(run_copy / "gold-test.jsonl", run_copy / "gold-dev.jsonl")
    assert gold_path(run_copy).name == "gold-test.jsonl"  # config.yaml: eval.split = test
    (run_copy / "config.yaml").unlink()
    with pytest.raises(ValueError, match="several gold files"):
        gold_path(run_copy)
    assert gold_path(run_copy, "dev").name == "gold-dev.jsonl"


def test_scores_table_matches_scores_json_and_a_rescore(run):
    from prouie_lib.evaluation.score import score_predictions

    scores = run.scores
    for stage in ("base", "de"):
        raw = json.loads((RUN / stage / "scores.json").read_text())
        for name, entry in raw["datasets"].items():
            for metric, values in entry["metrics"].items():
                row = scores[(scores["stage"] == stage) & (scores["dataset"] == name) & (scores["metric"] == metric)]
                assert row["f1"].item() == pytest.approx(values["f1"]) and row["p"].item() == pytest.approx(values["p"])
                assert row["parse_error_rate"].item() == pytest.approx(entry["parse_error_rate"])
        macro = scores[(scores["stage"] == stage) & (scores["dataset"] == "macro")]
        assert dict(zip(macro["metric"], macro["f1"], strict=True)) == pytest.approx(raw["macro"])
    gold = list(load_gold(RUN).values())
    lines = _lines(RUN / "cm" / "predictions.jsonl")
    again = score_predictions(gold, lines, protocol="prouie")
    ner = scores[(scores["stage"] == "cm") & (scores["dataset"] == "Sample-NER") & (scores["metric"] == "ner")]
    ner = ner["f1"].item()
    assert again["datasets"]["Sample-NER"]["metrics"]["ner"]["f1"] == pytest.approx(ner)


def test_timing_table(run):
    timing = load_timing(RUN)
    assert timing["stage"].tolist() == ["base", "cm", "sa", "de"]
    raw = json.loads((RUN / "sa" / "timing.json").read_text())
    assert timing.set_index("stage").loc["sa", "train_seconds"] == raw["train_seconds"]
    assert timing["predict_seconds"].notna().all()


# ---------------------------------------------------------------- error analysis


def _ent(text, type_, start=None, end=None):
    return {"text": text, "type": type_, "start": start, "end": end}


NER_RECORD = {
    "id": "t/ner", "task": "NER", "text": "Lucia Vasquez spent three years in Da Nang studying dengue fever in children.",
    "entities": [_ent("Lucia Vasquez", "person", 0, 13), _ent("Da Nang", "location", 35, 42),
                 _ent("dengue fever", "disease", 52, 64), _ent("children", "person", 68, 76)],
    "relations": [], "events": [],
}


def _categories(rows):
    return sorted((r["category"], r["gold_label"], r["pred_label"]) for r in rows)


def test_ner_categories_hand_computed():
    pred = {"entities": [_ent("lucia  vasquez", "person"), _ent("Da Nang", "person"), _ent("dengue", "disease"),
                         _ent("Atlantis", "location"), _ent("years", "person"), _ent("Lucia Vasquez", "person")]}
    rows = err.classify_record(NER_RECORD, pred)
    assert _categories(rows) == sorted([
        ("correct", "person", "person"),  # case and whitespace are normalized; the duplicate counts once
        ("wrong_type", "location", "person"),
        ("wrong_boundary", "disease", "disease"),
        ("hallucinated", None, "location"),
        ("spurious", None, "person"),
        ("missed", "person", None),  # children
    ])


def test_overlap_of_a_different_type_is_not_a_boundary_error():
    pred = {"entities": [_ent("dengue", "person")]}
    assert _categories(err.classify_record(NER_RECORD, pred)) == sorted(
        [("spurious", None, "person")] + [("missed", e["type"], None) for e in NER_RECORD["entities"]])


def test_not_well_formed_adds_a_record_row_and_keeps_units():
    rows = err.classify_record(NER_RECORD, {"entities": [_ent("Da Nang", "location")]}, well_formed=False)
    cats = [r["category"] for r in rows]
    assert cats.count("not_well_formed") == 1 and cats.count("correct") == 1 and cats.count("missed") == 3


def test_re_categories_hand_computed():
    text = "Anders Obuya, born in Cluj-Napoca, works at Bellhaven Genome Center."
    head = _ent("Anders Obuya", "person", 0, 12)
    city = _ent("Cluj-Napoca", "location", 22, 33)
    org = _ent("Bellhaven Genome Center", "organization", 44, 67)
    record = {"id": "t/re", "task": "RE", "text": text, "entities": [head, city, org], "events": [],
              "relations": [{"head": head, "type": "born in", "tail": city},
                            {"head": head, "type": "work for", "tail": org}]}
    pred = {"relations": [
        {"head": _ent("Anders Obuya", "person"), "type": "located in", "tail": _ent("Cluj-Napoca", "location")},
        {"head": _ent("Anders Obuya", "person"), "type": "work for", "tail": _ent("Genome Center", "organization")},
        {"head": _ent("Zorbania", "person"), "type": "work for", "tail": _ent("Cluj-Napoca", "location")},
    ]}
    assert _categories(err.classify_record(record, pred)) == sorted([
        ("wrong_type", "born in", "located in"), ("wrong_boundary", "work for", "work for"),
        ("hallucinated", None, "work for")])
    swapped = {"relations": [{"head": _ent("Anders Obuya", "organization"), "type": "born in",
                              "tail": _ent("Cluj-Napoca", "location")}]}
    assert _categories(err.classify_record(record, swapped)) == sorted([
        ("wrong_type", "born in", "born in"), ("missed", "work for", None)])  # entity type differs


def test_ee_arguments_are_compared_inside_paired_events():
    text = "Pavel Lindahl was elected prime minister of Belgium after a runoff."
    record = {"id": "t/ee", "task": "EE", "text": text, "entities": [], "relations": [], "events": [
        {"type": "election", "trigger": {"text": "elected", "start": 18, "end": 25}, "arguments": [
            {"role": "winner", "text": "Pavel Lindahl", "start": 0, "end": 13},
            {"role": "office", "text": "prime minister", "start": 26, "end": 40},
            {"role": "place", "text": "Belgium", "start": 44, "end": 51}]}]}
    pred = {"events": [
        {"type": "attack", "trigger": {"text": "elected"}, "arguments": [
            {"role": "winner", "text": "Pavel Lindahl"}, {"role": "place", "text": "prime minister"},
            {"role": "winner", "text": "Zorbania"}]},
        {"type": "election", "trigger": {"text": "runoff"}, "arguments": [{"role": "place", "text": "Belgium"}]},
    ]}
    rows = err.classify_record(record, pred)
    by_kind = {k: sorted((r["category"], r["gold_label"], r["pred_label"]) for r in rows if r["kind"] == k)
               for k in ("trigger", "argument")}
    assert by_kind["trigger"] == sorted([("wrong_type", "election", "attack"), ("spurious", None, "election")])
    assert by_kind["argument"] == sorted([
        ("correct", "winner", "winner"), ("wrong_type", "office", "place"), ("hallucinated", None, "winner"),
        ("missed", "place", None),  # Belgium sits in the unpaired predicted event:
        ("spurious", None, "place"),
    ])


def test_every_unit_is_counted_once(run, errors):
    """Across the fixture: gold-side rows = unique gold units and prediction-side rows = unique predicted units."""
    for row in run.predictions.itertuples():
        part = errors[(errors["stage"] == row.stage) & (errors["id"] == row.id)]
        for kind, field in {"entity": "entities", "relation": "relations", "trigger": "events"}.items():
            if kind not in err.UNIT_KINDS[row.task]:
                continue
            rows = part[part["kind"] == kind]
            gold_units = err._units(row.record, row.task, row.text, row.id)
            pred_units = err._units(row.predicted, row.task, row.text, row.id)
            assert rows["gold"].notna().sum() == len(gold_units), (row.stage, row.id, field)
            assert rows["pred"].notna().sum() == len(pred_units), (row.stage, row.id, field)


@pytest.mark.parametrize(("task", "metric"), [("NER", "ner"), ("RE", "re_strict"), ("EE", "ee_trigger_cls")])
def test_correct_units_agree_with_the_strict_scores(run, errors, task, metric):
    for stage in ("base", "cm", "sa", "de"):
        part = errors[(errors["stage"] == stage) & (errors["task"] == task)]
        kind = {"NER": "entity", "RE": "relation", "EE": "trigger"}[task]
        part = part[part["kind"] == kind]
        tp = (part["category"] == "correct").sum()
        n_pred, n_gold = part["pred"].notna().sum(), part["gold"].notna().sum()
        f1 = 200 * tp / (n_pred + n_gold) if n_pred + n_gold else 100.0
        scores = run.scores[run.scores["dataset"] != "macro"]
        expected = scores[(scores["stage"] == stage) & (scores["metric"] == metric)]["f1"].item()
        assert f1 == pytest.approx(expected), stage


def test_category_counts_and_type_confusion(errors):
    one = pd.DataFrame([err.classify_record(NER_RECORD, {"entities": [
        _ent("Da Nang", "person"), _ent("Lucia Vasquez", "person"), _ent("years", "drug")]})[i] | {"stage": "x"}
        for i in range(5)])
    table = err.type_confusion(one, task=None)
    assert table.loc["location", "person"] == 1 and table.loc["person", "person"] == 1
    assert table.loc[err.NONE_LABEL, "drug"] == 1 and table.loc["disease", err.NONE_LABEL] == 1
    assert table.to_numpy().sum() == 5
    counts = err.category_counts(errors)
    assert list(counts.columns) == list(err.CATEGORIES)
    assert counts.to_numpy().sum() == len(errors)
    assert counts.loc[("base", "NER"), "not_well_formed"] == sum(
        not x["well_formed"] for x in _lines(RUN / "base" / "predictions.jsonl") if x["id"].startswith("Sample-NER"))


# ---------------------------------------------------------------- highlighting


def test_span_marks_statuses():
    pred = {"entities": [_ent("Lucia Vasquez", "person"), _ent("Da Nang", "person"), _ent("Zorbania", "person")]}
    marks, unplaced = span_marks(NER_RECORD, pred)
    text = NER_RECORD["text"]
    status = {text[m.start:m.end]: m.status for m in marks}
    assert status == {"Lucia Vasquez": "both", "Da Nang": "conflict", "dengue fever": "gold", "children": "gold"}
    assert unplaced == ["Zorbania"]
    boundary = span_marks(NER_RECORD, {"entities": [_ent("Vasquez spent", "person")]})[0]
    assert [(text[m.start:m.end], m.status) for m in boundary][:3] == [
        ("Lucia ", "gold"), ("Vasquez", "conflict"), (" spent", "pred")]


def test_highlight_html_escapes_and_marks():
    record = {**NER_RECORD, "text": "<b>Lucia</b> & co", "entities": [_ent("Lucia", "person", 3, 8)]}
    out = highlight_html(record, {"entities": [_ent("co", "organization")]})
    assert "&lt;b&gt;" in out and "<b>Lucia" not in out
    assert '<mark data-status="gold"' in out and '<mark data-status="pred"' in out and ">co</mark>" in out


# ---------------------------------------------------------------- reward tables


def test_sfr_breakdown_per_step(run):
    from prouie_lib.rewards import get_reward

    preds = run.predictions
    for row in preds[(preds["stage"] == "cm")].itertuples():
        result, table = sfr_breakdown(row.record, completion=row.completion, fmt=row.format)
        assert result.total == pytest.approx(get_reward("sfr")(row.completion, row.record, row.format).total)
        for step in table.itertuples():
            if "f1_" + step.step in result.components:
                assert step.f1 == pytest.approx(result.components["f1_" + step.step])
            else:  # an inactive step (RE entity types when a side carries none)
                assert step.step == "relation_entity_types" and pd.isna(step.f1)
            matched = len([x for x in step.matched.split("; ") if x])
            missed = len([x for x in step.missed.split("; ") if x])
            assert matched + missed == step.gold
    perfect = run.predictions.iloc[0]["record"]
    result, table = sfr_breakdown(perfect, predicted={k: perfect[k] for k in ("entities", "relations", "events")})
    assert result.total == pytest.approx(1.0) and (table["spurious"] == "").all()


def test_replay_with_the_logged_reward_reproduces_rewards_and_advantages(run):
    replayed = replay_frame(run.traces, "sfr")
    assert np.allclose(replayed["new_reward"], replayed["reward"], atol=1e-6)
    assert np.allclose(replayed["new_advantage"], replayed["advantage"], atol=1e-4)
    assert (ranking_changes(replayed)["argmax_changed"] == False).all()  # noqa: E712


def test_ranking_changes_hand_computed():
    frame = pd.DataFrame({"step": 0, "prompt_id": "p", "group": 0, "position": [0, 1, 2], "task": "NER",
                          "reward": [0.9, 0.5, 0.1], "new_reward": [0.1, 0.5, 0.9]})
    frame["advantage"] = group_advantages(frame["reward"], pd.Series(0, index=frame.index))
    frame["new_advantage"] = group_advantages(frame["new_reward"], pd.Series(0, index=frame.index))
    assert frame["advantage"].tolist() == pytest.approx([0.4 / (0.4 + 1e-4), 0.0, -0.4 / (0.4 + 1e-4)])
    row = ranking_changes(frame).iloc[0]
    assert row["argmax_changed"] and row["advantage_sign_changes"] == 2 and row["spearman"] == pytest.approx(-1)


# ---------------------------------------------------------------- figures


def test_loss_figure_marks_phase_boundaries(run):
    fig = plots.plot_loss(run.log_history, run.phases)
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["+CM: training loss", "+SA: training loss", "+DE: training loss"]
    cm = fig.axes[0]
    vlines = sorted(line.get_xdata()[0] for line in cm.lines if line.get_linestyle() == "--")
    assert vlines == [4, 8]
    assert [t.get_text() for t in cm.texts] == ["NER", "RE", "EE"]


def test_reward_component_curves(run):
    traces = run.traces
    fig = plots.plot_reward_components(traces, ["reward", "format"], up_to_step=2)  # trainer steps 1 and 2
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    assert set(lines) == {"reward", "format"}
    assert list(lines["reward"].get_xdata()) == [1, 2] and fig.axes[0].get_xlabel() == "DE trainer step"
    expected = traces[traces["step"] <= 1].groupby("step")["reward"].mean()
    assert np.allclose(lines["reward"].get_ydata(), expected.to_numpy())
    smooth = plots.plot_reward_components(traces, ["reward"], smoothing=0.5).axes[0].lines[0].get_ydata()
    raw = traces.groupby("step")["reward"].mean().to_numpy()
    assert smooth[0] == pytest.approx(raw[0]) and smooth[1] == pytest.approx((raw[1] + 0.5 * raw[0]) / 1.5)
    with pytest.raises(KeyError, match="no component 'nope'"):
        plots.plot_reward_components(traces, ["nope"])


def test_reward_panels_show_the_total_and_chosen_components_in_trainer_steps(run):
    traces = run.traces
    fig = plots.plot_reward_panels(traces)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "total reward" and 2 <= len(titles) <= 4 and "DE" in fig.get_suptitle()
    first = fig.axes[0].lines[0]
    assert list(first.get_xdata()) == [s + 1 for s in sorted(traces["step"].unique())]  # trl's step numbers
    assert np.allclose(first.get_ydata(), traces.groupby("step")["reward"].mean().to_numpy())
    fig = plots.plot_reward_panels(traces, ["format"])
    assert [ax.get_title() for ax in fig.axes] == ["total reward", "format"]


def test_zero_spread_fraction_and_other_figures(run, errors):
    frac = tables.zero_spread_fraction(run.traces)
    for step, value in frac.items():
        groups = [g["reward"].tolist() for _, g in run.traces[run.traces["step"] == step].groupby("prompt_id")]
        assert value == pytest.approx(sum(len(set(g)) == 1 for g in groups) / len(groups))
    assert frac.max() > 0  # the fixture has one group without reward spread
    for fig in (plots.plot_zero_spread(run.traces, run.log_history), plots.plot_completion_length(run.traces),
                plots.plot_error_categories(errors), plots.plot_type_confusion(errors, task="NER")):
        assert isinstance(fig, Figure) and plots.figure_png(fig).startswith(b"\x89PNG")


def test_ablation_chart_uses_headline_metrics(run):
    table = tables.headline_table(run.scores)
    raw = json.loads((RUN / "de" / "scores.json").read_text())["datasets"]
    assert table.loc["Sample-RE", "de"] == pytest.approx(raw["Sample-RE"]["metrics"]["re_strict"]["f1"])
    assert table.loc["macro", "de"] == pytest.approx(table.loc[["Sample-NER", "Sample-RE", "Sample-EE"], "de"].mean())
    assert list(table.columns) == ["base", "cm", "sa", "de"] and list(table.index)[0] == "Sample-NER"
    fig = plots.plot_f1_by_stage(run.scores)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert len(heights) == table.size and np.allclose(sorted(heights), sorted(table.to_numpy().ravel()))


def test_error_figure_heights_are_the_counts(errors):
    fig = plots.plot_error_categories(errors, categories=("missed",))
    ner = fig.axes[0]
    counts = errors[(errors["task"] == "NER") & (errors["category"] == "missed")].groupby("stage").size()
    assert [p.get_height() for p in ner.patches] == [counts.get(s, 0) for s in ("base", "cm", "sa", "de")]
    heat = plots.plot_type_confusion(errors, task="RE", stage="cm")
    image = heat.axes[0].images[0].get_array()
    assert np.array_equal(np.asarray(image), err.type_confusion(errors, task="RE", stage="cm").to_numpy())


def test_dataset_figures_and_tables():
    from prouie_lib.data import split_stats
    from prouie_lib.data.validation import ValidationReport

    records = _lines(RUN / "gold-test.jsonl")
    by_task = {task: [r for r in records if r["task"] == task] for task in ("NER", "RE", "EE")}
    stats = {"dataset": "run_tiny", "task": "mixed", "format": "unified",
             "splits": {"test": split_stats(records, ValidationReport())}}
    assert tables.stats_table([stats])[["dataset", "split", "examples"]].values.tolist() == [["run_tiny", "test", 30]]
    assert list(tables.report_table({"run_tiny/test": ValidationReport()}).columns)[:2] == ["source", "action"]
    assert data_plots.units_per_example(by_task["RE"][0]) == len(by_task["RE"][0]["relations"])
    for fig in (data_plots.label_distribution(stats), data_plots.text_lengths(by_task),
                data_plots.mentions_per_example(by_task)):
        assert isinstance(fig, Figure) and plots.figure_png(fig).startswith(b"\x89PNG")
