"""``prouie extract``: run a trained model on new text with any schema; one grounded JSON record per text.

Texts, schema and model are checked before any model loads (one line and exit 2 on a mistake); the work is
:class:`prouie_lib.extraction.Extractor`.
"""

from __future__ import annotations

import argparse
import json
import sys

EXAMPLES = """examples:
  prouie extract --model runs/demo/de --task ner --labels "person,location,organization" --text "Tim Cook met Angela Merkel in Berlin."
  prouie extract --model runs/demo/de --task re --relations "work for,live in" --labels "person,location" --input texts.txt
  prouie extract --model runs/demo/de --task ee --events "Attack: attacker, target, place; Injure: victim" --input docs.jsonl
  prouie extract --model runs/demo/de --like CoNLL04 --input texts.txt --out extractions.jsonl --html extractions.html
input: --text (repeatable), --input FILE (.jsonl: a "text" field per line, optional "id", "task", "labels"; any
other file: one text per line), or texts piped on stdin (one per line; --input - too).
Each span gets start/end offsets in its text and an alignment: exact, fuzzy (case/spacing differ) or not_found."""


def register(sub: argparse._SubParsersAction) -> None:
    from prouie_lib.extraction.backends import BACKENDS

    ex = sub.add_parser("extract", help="extract from new text with any schema (grounded spans)",
                        description="Run a model on texts with a schema you choose and write one JSON record per "
                                    "text (unified record + completion, well_formed, grounded offsets).",
                        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    ex.add_argument("--model", required=True,
                    help="a stage folder (runs/<name>/<stage>), a run folder (its stage is chosen and named), "
                         "an exported folder (prouie export), or a backbone spec")
    ex.add_argument("--task", help="ner, re or ee")
    ex.add_argument("--labels", help="entity types, comma-separated (NER; optional for RE)")
    ex.add_argument("--relations", help="relation types, comma-separated (RE)")
    ex.add_argument("--events", help='event types with roles: "Attack: attacker, target; Injure: victim" (EE)')
    ex.add_argument("--like", metavar="DATASET", help="the label schema of a registered dataset (prouie data list)")
    source = ex.add_mutually_exclusive_group()
    source.add_argument("--text", action="append", dest="texts", metavar="TEXT", help="a text (repeatable)")
    source.add_argument("--input", metavar="FILE", help="texts: .jsonl (a 'text' field per line) or one per line; "
                                                         "- for stdin")
    ex.add_argument("--out", help="write the JSON lines here (default: stdout)")
    ex.add_argument("--html", metavar="FILE", help="also write one self-contained page with the extractions highlighted")
    ex.add_argument("--format", dest="fmt", help="answer format (default: the model's own: its stage's, its export's)")
    ex.add_argument("--batch-size", type=int, default=16)
    ex.add_argument("--max-new-tokens", type=int, default=None, help="default: the model's evaluation cap")
    ex.add_argument("--max-prompt-tokens", type=int, default=None,
                    help="longer prompts are split into sentence windows (default: the run's data.max_prompt_tokens)")
    ex.add_argument("--backend", default="transformers", choices=BACKENDS,
                    help="vllm: vLLM's engine on a GPU machine (needs vllm and an exported/standard checkpoint)")
    ex.add_argument("--quiet", action="store_true", help="no progress bar and no summary on stderr")
    ex.set_defaults(func=extract_command, check=check_extract)


def check_extract(args: argparse.Namespace) -> None:
    """Model, schema and texts, before anything heavy is imported; the read texts go to ``args.inputs``."""
    from prouie_lib.cli.checks import check_input_file, check_output_file
    from prouie_lib.extraction import inputs
    from prouie_lib.extraction.schemas import canonical_task, make_schema, schema_from_labels
    from prouie_lib.extraction.stage_choice import resolve_model
    from prouie_lib.models import check_backbone
    from prouie_lib.schema import RecordError

    check_backbone(resolve_model(args.model)[0], field="--model")
    if args.max_prompt_tokens is not None and args.max_prompt_tokens < 1:
        raise RecordError(f"must be >= 1, got {args.max_prompt_tokens}", field="--max-prompt-tokens")
    if args.html:
        check_output_file("--html", args.html)
    if args.fmt:
        from prouie_lib.formats import get_format

        get_format(args.fmt)
    if args.backend == "vllm":
        import importlib.util

        if importlib.util.find_spec("vllm") is None:
            raise RecordError("vllm is not installed here (pip install vllm on a GPU machine)", field="--backend")
    task = canonical_task(args.task) if args.task else None
    jsonl_input = bool(args.input) and inputs.is_jsonl(args.input)
    given = any((args.like, args.labels, args.relations, args.events))
    schema = make_schema(task=task, labels=args.labels, relations=args.relations, events=args.events,
                         like=args.like) if given or not jsonl_input else None
    texts = read_inputs(args, check_input_file)
    schemas = []
    for item in texts:
        if item.labels is None:
            if schema is None:
                raise RecordError("no schema: give --task with --labels/--relations/--events, --like DATASET, or "
                                  "a 'labels' field on every line", file=args.input, record=f"line {item.line}",
                                  field="labels")
            schemas.append(schema)
            continue
        line_task = item.task or task or (schema.task if schema else None)
        if line_task is None:
            raise RecordError("labels without a task: give --task or a 'task' field", file=args.input,
                              record=f"line {item.line}", field="task")
        try:
            line_task = canonical_task(line_task)
        except ValueError as err:
            raise RecordError(str(err), file=args.input, record=f"line {item.line}", field="task") from None
        schemas.append(schema_from_labels(line_task, item.labels, where=f"{args.input}: line {item.line}"))
    args.inputs, args.schemas = texts, schemas


def read_inputs(args: argparse.Namespace, check_input_file) -> list:
    """The texts of ``--text``, ``--input`` or stdin (an empty list is an error)."""
    from prouie_lib.extraction import inputs
    from prouie_lib.schema import RecordError

    if args.texts is not None:
        return inputs.from_strings(args.texts)
    if args.input and args.input != "-":
        check_input_file("--input", args.input)
        return inputs.read_file(args.input)
    if args.input is None and sys.stdin.isatty():
        raise RecordError("no texts: give --text TEXT, --input FILE, or pipe texts on stdin", field="--text")
    return inputs.read_stream(sys.stdin, source="stdin")


def extract_command(args: argparse.Namespace) -> int:
    from prouie_lib.extraction import Extractor, summarize

    say = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr))
    extractor = Extractor.load(args.model, backend=args.backend, format=args.fmt,
                               max_prompt_tokens=args.max_prompt_tokens, max_new_tokens=args.max_new_tokens)
    if extractor.stage is not None:
        say(f"prouie extract: using stage {extractor.stage.stage} of {args.model}: {extractor.stage.reason}")
    records = extractor.extract([t.text for t in args.inputs], args.schemas, ids=[t.id for t in args.inputs],
                                batch_size=args.batch_size, progress=False if args.quiet else None,
                                dataset=args.like or "custom")
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(lines)
    else:
        sys.stdout.write(lines)
    if args.html:
        from prouie_lib.extraction.html_page import extraction_page

        note = f"model {extractor.model} · format {extractor.settings.format}"
        with open(args.html, "w", encoding="utf-8") as handle:
            handle.write(extraction_page(records, title="prouie extract", note=note))
    stats = summarize(records)
    spans = stats["spans"]
    say(f"prouie extract: {stats['texts']} text(s), {stats['split_texts']} split into sentence windows "
        f"({stats['windows']} windows); {stats['units']} unit(s); spans exact {spans['exact']}, fuzzy {spans['fuzzy']}, "
        f"not found {spans['not_found']}; not well-formed {stats['not_well_formed']}; model {extractor.model} "
        f"({extractor.settings.format}, prompts up to {extractor.settings.max_prompt_tokens} tokens)"
        + (f"; wrote {args.out}" if args.out else "") + (f" and {args.html}" if args.html else ""))
    return 0
