"""``prouie export``: a stage's model as one standard Hugging Face checkpoint with a model card."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from prouie_lib.export.hf_checkpoint import DTYPES

    ex = sub.add_parser("export", help="write a stage's model as one merged Hugging Face checkpoint + model card",
                        description="Merge a stage's model chain into one standard checkpoint folder (safetensors, "
                                    "tokenizer with chat template, greedy generation config, README.md model card) "
                                    "that AutoModelForCausalLM.from_pretrained, `prouie predict/extract --model DIR` "
                                    "and `vllm serve DIR` load.")
    ex.add_argument("--model", required=True,
                    help="a stage folder (runs/<name>/<stage>), or a run folder: the stage with the best dev score "
                         "(eval on dev, or trainer.keep_best), else its final stage (it says which)")
    ex.add_argument("--out", dest="out_dir", required=True, metavar="DIR", help="the folder to write (must be new or empty)")
    ex.add_argument("--dtype", default="auto", choices=DTYPES,
                    help="auto: bfloat16 when that is lossless for every weight, else float32")
    ex.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    ex.set_defaults(func=export_command, check=check_export)


def check_export(args: argparse.Namespace) -> None:
    """The model resolves offline (a run folder: one of its stages is finished) before anything loads."""
    from prouie_lib.extraction.stage_choice import resolve_model
    from prouie_lib.models import check_backbone

    spec, _ = resolve_model(args.model)
    check_backbone(spec, field="--model")


def export_command(args: argparse.Namespace) -> int:
    from prouie_lib.export.hf_checkpoint import export_checkpoint
    from prouie_lib.extraction.stage_choice import resolve_model

    _, choice = resolve_model(args.model)
    if choice is not None:
        print(f"using stage {choice.stage} of {args.model}: {choice.reason}", flush=True)
    result = export_checkpoint(args.model, args.out_dir, dtype=args.dtype, force=args.force)
    print(f"wrote {result.out} ({result.dtype} weights, format {result.settings.format}; model card "
          f"{result.out / 'README.md'})")
    return 0
