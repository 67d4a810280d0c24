"""``prouie predict``: batched greedy prediction on a dataset split, written as prediction JSON Lines."""

from __future__ import annotations

import argparse

FORMAT_NAMES = ("complete", "complete-present", "streamlined", "streamlined-notypes")  # keep in sync with formats.FORMATS (tested)


def register(sub: argparse._SubParsersAction) -> None:
    pr = sub.add_parser("predict", help="batched greedy prediction on a dataset split",
                        description="Generate completions for a dataset split and write prediction JSONL.")
    pr.add_argument("--model", required=True, help="backbone spec, hub id, local path or stage run folder")
    pr.add_argument("--data", required=True, help="dataset registry name or path")
    pr.add_argument("--split", default="test")
    pr.add_argument("--format", dest="fmt", default="streamlined", choices=FORMAT_NAMES)
    pr.add_argument("--out", required=True, help="prediction JSONL to write")
    pr.add_argument("--limit", type=int, default=None, help="first N records only")
    pr.add_argument("--batch-size", type=int, default=16)
    pr.add_argument("--max-new-tokens", type=int, default=128)
    pr.add_argument("--no-reuse-prefix", dest="reuse_prefix", action="store_false",
                    help="left-pad every prompt instead of reusing the shared prompt prefix's KV cache "
                         "(same outputs, slower; as eval.reuse_prefix: false in a run config)")
    pr.set_defaults(func=predict_command, check=_check_model)


def _check_model(args: argparse.Namespace) -> None:
    """The backbone resolves offline (before any heavy import)."""
    from prouie_lib.models import check_backbone

    check_backbone(args.model, field="--model")


def predict_command(args: argparse.Namespace) -> int:
    from prouie_lib.evaluation.predict import predict_to_file

    out = predict_to_file(args.model, args.data, args.split, args.fmt, args.out, limit=args.limit,
                          batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
                          reuse_prefix=args.reuse_prefix)
    print(f"wrote {out}")
    return 0
