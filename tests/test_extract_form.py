"""The try-it form of notebook 00, driven through its controls without a browser."""

from __future__ import annotations

import html
import re

from extract_helpers import scripted_extractor, write_scores

from prouie_lib.analysis.widgets import ExtractForm, extract_form


def _marks(markup: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<mark data-status="extracted"[^>]*>([^<]*)</mark>', markup)]


def test_form_highlights_units_with_offsets_and_follows_the_task():
    answers = {"NER": "(person: Tim Cook | Angela Merkel)(location: Berlin)",
               "RE": "(Angela Merkel [person] | live in | Berlin [location])"}
    form = ExtractForm(scripted_extractor(lambda text: answers[form.task.value]))
    record = form.run()
    assert record["well_formed"] and _marks(form.result_view.value) == ["Tim Cook", "Angela Merkel", "Berlin"]
    assert "<td" in form.result_view.value and ">30<" in form.result_view.value  # Berlin's start offset
    assert "3 span(s), 3 placed in the text" in form.status.value
    form.task.value = "RE"
    assert form.labels.value == "work for, live in"  # the example schema follows the task
    form.labels.value = "live in"
    form.text.value = "Angela Merkel lives in Berlin."
    record = form.run()
    assert record["labels"] == {"relation_types": ["live in"], "entity_types": []}
    assert _marks(form.result_view.value) == ["Angela Merkel", "Berlin"]


def test_form_reports_bad_schemas_and_unreadable_answers_in_place():
    form = ExtractForm(scripted_extractor(lambda text: "no idea"), task="EE", labels=" ; ")
    assert form.run() is None and "empty schema" in form.status.value
    form.labels.value = "Meet: entity, place"
    record = form.run()
    assert record is not None and not record["well_formed"] and "answer not well-formed" in form.status.value
    assert "no idea" in form.result_view.value


def test_form_of_a_run_uses_its_final_stage(tmp_path):
    (tmp_path / "config.yaml").write_text("name: r\neval: {split: test}\n")
    for stage in ("cm", "sa", "sft"):
        (tmp_path / stage / "model").mkdir(parents=True)
        write_scores(tmp_path / stage, 10.0)
    form = extract_form(tmp_path)
    assert form.model == str(tmp_path / "sa") and "stage sa" in form.describe and form.extractor is None
