"""Extract from any text with any schema: load a model once, then :meth:`Extractor.extract` lists of texts.

::

    from prouie_lib.extraction import Extractor, make_schema

    extractor = Extractor.load("runs/demo/de")            # a stage, a run (its stage is chosen), an export, a spec
    schema = make_schema(task="ner", labels="person, location, organization")
    records = extractor.extract(["Tim Cook met Angela Merkel in Berlin on Monday."], schema)

Each text becomes one unified record (:mod:`prouie_lib.schema`): ``text``, the schema as ``labels``, the units
in ``entities``/``relations``/``events`` with grounded spans (:mod:`.grounding`), plus ``completion`` (the raw
model answer; a list with one answer per window when the text was split), ``format``, ``well_formed`` (False
when the answer could not be read completely: the units read are kept) and ``windows`` (the ``[start, end)``
ranges the text was extracted in). Prompts are the kit's own (:func:`~prouie_lib.evaluation.predict.record_prompt`,
with the model's settings: :mod:`.settings`); a text whose prompt exceeds ``max_prompt_tokens`` is split into
sentence windows (:mod:`.windows`) whose offsets map back to the text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prouie_lib.extraction.backends import Backend, load_backend
from prouie_lib.extraction.grounding import alignment_counts, ground_structure
from prouie_lib.extraction.schemas import ExtractionSchema
from prouie_lib.extraction.settings import PromptSettings, settings_for
from prouie_lib.extraction.stage_choice import StageChoice, resolve_model
from prouie_lib.extraction.windows import windows
from prouie_lib.schema import TASK_FIELD, Record, make_record

PROGRESS_FROM = 32  # prompts: a progress bar for inputs at least this long (progress=None)


@dataclass
class _Job:
    text: int  # index of the text
    start: int
    end: int
    prompt: str
    group: str


class Extractor:
    """A loaded model with its prompt settings (:meth:`load` it once; :meth:`extract` as often as needed)."""

    def __init__(self, backend: Backend, settings: PromptSettings, *, model: str,
                 stage: StageChoice | None = None) -> None:
        self.backend, self.settings, self.model, self.stage = backend, settings, model, stage

    @classmethod
    def load(cls, model: str | Path, *, backend: str = "transformers", device: str | None = None,
             **overrides: Any) -> Extractor:
        """Load ``model``: a stage folder, a run folder (its stage chosen by :func:`choose_stage`), an exported
        folder, or any backbone spec. ``overrides`` replace the model's :class:`PromptSettings` fields
        (``format``, ``system``, ``max_new_tokens``, ``max_prompt_tokens``); None values are ignored."""
        spec, choice = resolve_model(model)
        settings = settings_for(spec)
        given = {key: value for key, value in overrides.items() if value is not None}
        if given:
            settings = replace(settings, **given)
        if settings.max_prompt_tokens < 1 or settings.max_new_tokens < 1:
            raise ValueError("max_prompt_tokens and max_new_tokens must be >= 1")
        from prouie_lib.formats import get_format

        get_format(settings.format)  # an unknown format fails before the model loads
        return cls(load_backend(backend, spec, device=device), settings, model=spec, stage=choice)

    @property
    def tokenizer(self):
        return self.backend.tokenizer

    def prompt(self, text: str, schema: ExtractionSchema) -> str:
        """The chat-templated prompt for one text (exactly as the kit prompts a record in training)."""
        from prouie_lib.evaluation.predict import record_prompt

        record = {"task": schema.task, "labels": schema.labels, "text": text}
        return record_prompt(self.tokenizer, record, self.settings.format, self.settings.system)

    def prompt_tokens(self, text: str, schema: ExtractionSchema) -> int:
        return len(self.tokenizer(self.prompt(text, schema), add_special_tokens=False)["input_ids"])

    def fits(self, text: str, schema: ExtractionSchema) -> Callable[[int, int], bool]:
        """Whether the prompt for ``text[start:end]`` stays within the model's prompt budget."""
        return lambda start, end: self.prompt_tokens(text[start:end], schema) <= self.settings.max_prompt_tokens

    def _jobs(self, texts: Sequence[str], schemas: Sequence[ExtractionSchema]) -> list[_Job]:
        jobs = []
        for i, (text, schema) in enumerate(zip(texts, schemas, strict=True)):
            if not text.strip():
                continue  # nothing to read: an empty record, no generation
            for start, end in windows(text, self.fits(text, schema)):
                jobs.append(_Job(i, start, end, self.prompt(text[start:end], schema), schema.key()))
        return jobs

    def extract(self, texts: Sequence[str], schema: ExtractionSchema | Sequence[ExtractionSchema], *,
                ids: Sequence[str] | None = None, batch_size: int = 16, max_new_tokens: int | None = None,
                progress: bool | None = None, dataset: str = "custom") -> list[Record]:
        """One grounded record per text, in input order (see the module docstring).

        ``schema``: one for all texts, or one per text. ``ids``: the records' ids (default ``"1"``, ``"2"``, ...).
        ``progress``: a progress bar on stderr (default: for inputs of at least 32 prompts)."""
        texts = list(texts)
        if not texts:
            raise ValueError("no texts to extract from")
        for n, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"text {n + 1} is a {type(text).__name__}, not a string")
        schemas = [schema] * len(texts) if isinstance(schema, ExtractionSchema) else list(schema)
        if len(schemas) != len(texts):
            raise ValueError(f"{len(schemas)} schemas for {len(texts)} texts")
        ids = [str(n + 1) for n in range(len(texts))] if ids is None else [str(i) for i in ids]
        jobs = self._jobs(texts, schemas)
        completions = self.backend.complete(
            [job.prompt for job in jobs], [job.group for job in jobs], batch_size=batch_size,
            max_new_tokens=max_new_tokens or self.settings.max_new_tokens,
            progress=len(jobs) >= PROGRESS_FROM if progress is None else progress) if jobs else []
        by_text: dict[int, list[tuple[_Job, str]]] = {}
        for job, completion in zip(jobs, completions, strict=True):
            by_text.setdefault(job.text, []).append((job, completion))
        return [self._record(ids[i], text, schemas[i], by_text.get(i, []), dataset)
                for i, text in enumerate(texts)]

    def _record(self, rid: str, text: str, schema: ExtractionSchema, parts: list[tuple[_Job, str]],
                dataset: str) -> Record:
        from prouie_lib.evaluation.score import prediction_line

        record = make_record(id=rid, dataset=dataset, task=schema.task, split="input", text=text,
                             labels=schema.labels)
        well_formed = True
        for job, completion in parts:
            line = prediction_line(record, completion, self.settings.format)
            grounded = ground_structure(text[job.start:job.end], line, schema.task, offset=job.start)
            record[TASK_FIELD[schema.task]] += grounded[TASK_FIELD[schema.task]]
            well_formed = well_formed and line["well_formed"]
        answers = [completion for _, completion in parts]  # none for a blank text (nothing was generated)
        record.update(completion=answers[0] if len(answers) == 1 else answers or "", format=self.settings.format,
                      well_formed=well_formed, windows=[[job.start, job.end] for job, _ in parts])
        return record


def summarize(records: Sequence[Record]) -> dict[str, Any]:
    """Counts over extracted records: texts, texts split into windows, windows, not well-formed, units, spans by
    alignment status."""
    from prouie_lib.schema import units_of

    return {"texts": len(records), "split_texts": sum(len(r.get("windows") or []) > 1 for r in records),
            "windows": sum(len(r.get("windows") or []) for r in records),
            "not_well_formed": sum(not r.get("well_formed", True) for r in records),
            "units": sum(len(units_of(r, r["task"])) for r in records), "spans": alignment_counts(records)}
