"""The model card (``README.md``) of an exported checkpoint: what it is, how well each stage of its run scored,
how to prompt it (one example per task, built by the kit's own prompt code), and how to run it."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prouie_lib import rundir
from prouie_lib.evaluation.score import headline_f1s, headline_macro_f1
from prouie_lib.extraction.settings import PromptSettings
from prouie_lib.extraction.stage_choice import StageChoice, eval_split
from prouie_lib.schema import entity, event, make_record, relation

# One example per task: (task, labels, text, gold units) — rendered in the model's format as the expected answer.
EXAMPLE_TEXT = "Tim Cook met Angela Merkel in Berlin on Monday."
HUB_BASES = {"smollm2-135m-offline": "HuggingFaceTB/SmolLM2-135M-Instruct"}


@dataclass
class CardFacts:
    """What the card states (all read by :func:`prouie_lib.export.hf_checkpoint.export_checkpoint`)."""

    out: Path
    source: str  # what was exported, as given
    settings: PromptSettings
    choice: StageChoice | None = None
    backbone: str | None = None
    dtype: str = "float32"
    run_dir: Path | None = None
    stage: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def example_records() -> list[dict[str, Any]]:
    """The three worked examples (NER, RE, EE) on one sentence."""
    ner = make_record(id="ner", dataset="example", task="NER", split="card", text=EXAMPLE_TEXT,
                      labels={"entity_types": ["person", "location", "organization"]},
                      entities=[entity("Tim Cook", "person", 0, 8), entity("Angela Merkel", "person", 13, 26),
                                entity("Berlin", "location", 30, 36)])
    re_ = make_record(id="re", dataset="example", task="RE", split="card", text=EXAMPLE_TEXT,
                      labels={"relation_types": ["work for", "live in"], "entity_types": ["person", "location"]},
                      relations=[relation("Angela Merkel", "person", "live in", "Berlin", "location")])
    ee = make_record(id="ee", dataset="example", task="EE", split="card", text=EXAMPLE_TEXT,
                     labels={"event_types": {"Meet": ["entity", "place", "time"]}},
                     events=[event("Meet", "met", [("entity", "Tim Cook"), ("entity", "Angela Merkel"),
                                                   ("place", "Berlin"), ("time", "Monday")])])
    return [ner, re_, ee]


def prompt_section(settings: PromptSettings) -> str:
    from prouie_lib.formats import get_format
    from prouie_lib.formats.prompts import DEFAULT_SYSTEM, build_messages

    system = settings.system or DEFAULT_SYSTEM
    lines = ["## Prompt format", "",
             f"Chat messages, rendered with the tokenizer's chat template (`add_generation_prompt=True`). The system "
             f"message is always `{system}`; the user message states the task, its label schema, the answer format "
             f"and the text. The model answers in the kit's `{settings.format}` format; generate greedily (at most "
             f"{settings.max_new_tokens} new tokens). Prompts longer than {settings.max_prompt_tokens} tokens were "
             "not seen in training: `prouie extract` splits such texts into sentence windows.", ""]
    target = get_format(settings.format)
    for record in example_records():
        user = build_messages(record, system=system, fmt=settings.format)[-1]["content"]
        lines += [f"**{record['task']}** — user message:", "", "```", user, "```", "", "expected answer:", "",
                  "```", target.render(record), "```", ""]
    return "\n".join(lines)


def scores_section(run_dir: Path | None) -> str:
    """Each finished stage's macro F1 and per-dataset headline F1 from its ``scores.json``."""
    if run_dir is None:
        return ""
    rows = []
    for stage in rundir.STAGES:
        path = run_dir / stage / rundir.SCORES
        if not path.is_file():
            continue
        scores = json.loads(path.read_text())
        per = ", ".join(f"{name} {f1:.1f}" for name, f1 in headline_f1s(scores).items())
        macro = headline_macro_f1(scores)
        rows.append(f"| {rundir.stage_label(stage)} | {'–' if macro is None else f'{macro:.1f}'} | {per or '–'} |")
    if not rows:
        return ""
    split = eval_split(run_dir)
    return "\n".join([f"## Scores of the run's stages ({split} split, protocol as in the run's report)", "",
                      "Headline F1 per dataset (NER `ner`, RE `re_strict`, EE `ee_arg_cls`) and their mean; "
                      f"the full table with intervals is in `{run_dir / rundir.REPORT}`.", "",
                      "| stage | macro F1 | F1 per dataset |", "|---|---|---|", *rows, ""])


def usage_section(out: Path, settings: PromptSettings) -> str:
    folder = shlex.quote(str(out))
    return "\n".join([
        "## Use it", "",
        "With the kit (prompts, parsing, grounded offsets, sentence windows):", "", "```",
        f'prouie extract --model {folder} --task ner --labels "person,location,organization" --text "{EXAMPLE_TEXT}"',
        f'prouie extract --model {folder} --task re --relations "work for,live in" --labels "person,location" '
        "--input texts.txt",
        f'prouie extract --model {folder} --task ee --events "Meet: entity, place, time" --input docs.jsonl '
        "--html extractions.html",
        "```", "",
        "In Python:", "", "```python",
        "from prouie_lib.extraction import Extractor, make_schema",
        "", f"extractor = Extractor.load({str(out)!r})",
        'records = extractor.extract(["..."], make_schema(task="ner", labels="person, location"))', "```", "",
        "With plain transformers (build the user message as above):", "", "```python",
        "from transformers import AutoModelForCausalLM, AutoTokenizer", "",
        f"model = AutoModelForCausalLM.from_pretrained({str(out)!r})",
        f"tokenizer = AutoTokenizer.from_pretrained({str(out)!r})",
        "ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors='pt', return_dict=True)",
        f"out = model.generate(**ids, do_sample=False, max_new_tokens={settings.max_new_tokens})", "```", "",
        "On a GPU machine, vLLM can serve the folder as an OpenAI-compatible chat endpoint (send `temperature: 0`; "
        "not run where this kit was written, which had no GPU):", "", "```", f"vllm serve {folder}", "```", ""])


def model_card(facts: CardFacts) -> str:
    """The whole ``README.md``."""
    base = HUB_BASES.get(str(facts.backbone), facts.backbone if facts.backbone and "/" in facts.backbone
                         and not Path(facts.backbone).exists() else None)
    front = ["---", "library_name: transformers", "pipeline_tag: text-generation",
             "tags: [information-extraction, named-entity-recognition, relation-extraction, event-extraction, prouie]"]
    front += [f"base_model: {base}"] if base else []
    origin = f"stage `{facts.stage}` of the run `{facts.run_dir}`" if facts.stage else f"`{facts.source}`"
    why = f" — chosen as {facts.choice.reason}" if facts.choice else ""
    lines = [*front, "---", "", f"# ProUIE extraction model: {facts.stage or Path(facts.source).name}", "",
             f"Exported by `prouie export` from {origin}{why}. One merged checkpoint (safetensors, {facts.dtype}): the "
             "backbone with every LoRA adapter of the stage's model chain merged in, its tokenizer with the chat "
             "template, and a greedy generation config. `prouie_extract.json` holds the prompt settings the kit "
             "reads back.", "", f"- backbone: `{facts.backbone}`" + (f" ({base})" if base else ""),
             f"- answer format: `{facts.settings.format}`", ""]
    return "\n".join([*lines, scores_section(facts.run_dir), prompt_section(facts.settings),
                      usage_section(facts.out, facts.settings)])
