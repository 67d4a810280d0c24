"""Try a model on your own text: a form (text, task, labels) whose Extract button shows the text with every
extracted unit highlighted and a table of the units with their character offsets and alignment."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from prouie_lib.analysis.widgets.base import _message

EXAMPLE_TEXT = "Tim Cook met Angela Merkel in Berlin on Monday."
# What the labels box holds for each task, and the example schema it starts with.
LABEL_FIELDS: dict[str, tuple[str, str]] = {
    "NER": ("entity types", "person, location, organization"),
    "RE": ("relation types", "work for, live in"),
    "EE": ("events: roles", "Meet: entity, place, time; Attack: attacker, target, place"),
}


class ExtractForm(widgets.VBox):
    """Text, task and labels in; the highlighted text, the units table and the raw answer out (:meth:`run`).

    ``model`` is anything :meth:`prouie_lib.extraction.Extractor.load` takes, or a loaded Extractor; it is loaded
    at the first :meth:`run`. Labels are comma-separated entity types (NER) or relation types (RE), or
    ``"Type: role, role; Type: role"`` (EE).
    """

    def __init__(self, model: Any, *, text: str = EXAMPLE_TEXT, task: str = "NER", labels: str | None = None,
                 describe: str | None = None) -> None:
        self.model, self.extractor, self.record = model, None, None
        self.describe = describe or str(model)
        self.text = widgets.Textarea(value=text, description="text", layout=widgets.Layout(width="95%", height="70px"))
        self.task = widgets.Dropdown(options=list(LABEL_FIELDS), value=task, description="task")
        self.labels = widgets.Text(value=labels if labels is not None else LABEL_FIELDS[task][1],
                                   description="labels", placeholder=LABEL_FIELDS[task][0],
                                   layout=widgets.Layout(width="60%"))
        self.button = widgets.Button(description="Extract", button_style="primary")
        self.status = widgets.HTML(_message(f"model: {self.describe} — press Extract"))
        self.result_view = widgets.HTML()
        self.button.on_click(lambda _button: self.run())
        self.task.observe(self._task_changed, names="value")
        super().__init__([self.text, widgets.HBox([self.task, self.labels, self.button]), self.status,
                          self.result_view])

    def _task_changed(self, change: dict) -> None:
        old, new = LABEL_FIELDS[change["old"]], LABEL_FIELDS[change["new"]]
        self.labels.placeholder = new[0]
        if self.labels.value in ("", old[1]):  # the example schema of the old task: show the new task's
            self.labels.value = new[1]

    def schema(self):
        from prouie_lib.extraction import make_schema

        words = {"NER": "labels", "RE": "relations", "EE": "events"}[self.task.value]
        return make_schema(task=self.task.value, **{words: self.labels.value})

    def run(self) -> dict | None:
        """Extract from the text with the schema; show and return the record (None after an error, shown)."""
        from prouie_lib.extraction import Extractor
        from prouie_lib.extraction.grounding import grounded_spans
        from prouie_lib.extraction.html_page import record_html

        try:
            schema = self.schema()
            if not self.text.value.strip():
                raise ValueError("the text is empty")
            if self.extractor is None:
                self.status.value = _message(f"loading {self.describe} ...")
                self.extractor = self.model if isinstance(self.model, Extractor) else Extractor.load(self.model)
            [record] = self.extractor.extract([self.text.value], schema, progress=False)
        except Exception as err:  # a bad schema or text, or a model that fails: say so in the form
            self.status.value = _message(f"{type(err).__name__}: {err}", "#c00")
            return None
        self.record = record
        spans = grounded_spans(record, record["task"])
        found = sum(s.get("start") is not None for s in spans)
        self.status.value = (f"<div class='prouie-extract-status'>model {html.escape(self.describe)} · format "
                             f"{html.escape(self.extractor.settings.format)} · {len(spans)} span(s), {found} placed in "
                             f"the text · {'well-formed' if record['well_formed'] else 'answer not well-formed'}</div>")
        self.result_view.value = f"<div class='prouie-extract-result'>{record_html(record)}</div>"
        return record


def extract_form(source: str | Path, **kwargs: Any) -> ExtractForm:
    """An :class:`ExtractForm` for a model: a run folder uses its final stage (named in the form), anything else
    (a stage folder, an exported folder, a backbone spec) is used as given."""
    from prouie_lib.extraction.stage_choice import final_stage, is_run_folder

    if is_run_folder(source):
        choice = final_stage(source)
        kwargs.setdefault("describe", f"stage {choice.stage} of {Path(source).name} (its final stage)")
        return ExtractForm(str(choice.folder), **kwargs)
    return ExtractForm(source, **kwargs)
