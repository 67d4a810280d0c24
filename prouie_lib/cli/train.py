"""``prouie train {base,cm,sa,de,sft} --config F [--resume] [--set key=value ...]``: run one stage."""

from __future__ import annotations

import argparse
import json

from prouie_lib.cli.overrides import add_set_arg, parse_overrides


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """``--config`` and ``--set`` (shared with ``prouie pipeline``)."""
    parser.add_argument("--config", required=True, help="run config YAML (see configs/)")
    add_set_arg(parser, "override a config field, e.g. --set cm.trainer.max_steps=2")


def load_checked_config(args: argparse.Namespace):
    """The run config with the ``--set`` overrides, validated before the heavy imports (a bad one fails fast)."""
    from prouie_lib.config import load_config, preflight

    config = load_config(args.config, parse_overrides(args.set))
    preflight(config, source=str(args.config))
    return config


def register(sub: argparse._SubParsersAction) -> None:
    from prouie_lib.rundir import STAGES

    parser = sub.add_parser("train", help="run one stage (base evaluation, CM, SA, DE or the plain-SFT control)")
    parser.add_argument("stage", choices=list(STAGES))
    add_config_args(parser)
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    config = load_checked_config(args)
    from prouie_lib.stages import run_stage
    from prouie_lib.stages.interrupts import graceful_interrupts

    with graceful_interrupts():
        scores = run_stage(args.stage, config, resume=args.resume)
    print(json.dumps({"stage": args.stage, "run_dir": str(config.stage_dir(args.stage)),
                      "macro": scores.get("macro", {})}, indent=2))
    return 0
