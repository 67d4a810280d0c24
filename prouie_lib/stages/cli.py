"""``prouie train {base,cm,sa,de,sft} --config F [--resume] [--set key=value ...]``."""

from __future__ import annotations

import argparse
import json

import yaml


def parse_overrides(items: list[str] | None) -> dict:
    """``--set cm.trainer.max_steps=2`` → ``{"cm.trainer.max_steps": 2}`` (values parsed as YAML)."""
    overrides = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set expects key=value, got {item!r}")
        overrides[key] = yaml.safe_load(value)
    return overrides


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="run config YAML (see configs/)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a config field, e.g. --set cm.trainer.max_steps=2 (repeatable)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")


def _train(args: argparse.Namespace) -> int:
    from prouie_lib.config import load_config
    from prouie_lib.stages import run_stage

    config = load_config(args.config, parse_overrides(args.set))
    scores = run_stage(args.stage, config, resume=args.resume)
    print(json.dumps({"stage": args.stage, "run_dir": str(config.stage_dir(args.stage)),
                      "macro": scores.get("macro", {})}, indent=2))
    return 0


def register(sub) -> None:
    from prouie_lib.rundir import STAGES

    parser = sub.add_parser("train", help="run one stage (base evaluation, CM, SA, DE or the plain-SFT control)")
    parser.add_argument("stage", choices=list(STAGES))
    add_config_args(parser)
    parser.set_defaults(func=_train)
