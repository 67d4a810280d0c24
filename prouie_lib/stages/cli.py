"""``prouie train {base,cm,sa,de,sft} --config F [--resume] [--set key=value ...]``."""

from __future__ import annotations

import argparse
import json

import yaml


def parse_overrides(items: list[str] | None) -> dict:
    """``--set cm.trainer.max_steps=2`` → ``{"cm.trainer.max_steps": 2}`` (values parsed as YAML)."""
    from prouie_lib.schema import RecordError

    overrides = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or any(not part for part in key.split(".")):
            raise RecordError(f"expects KEY=VALUE with a dotted KEY such as cm.trainer.max_steps=2, got {item!r}",
                              field="--set")
        try:
            overrides[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise RecordError(f"{key}: value {value!r} is not valid YAML ({problem})", field="--set") from None
    return overrides


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="run config YAML (see configs/)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a config field, e.g. --set cm.trainer.max_steps=2 (repeatable)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")


def _train(args: argparse.Namespace) -> int:
    from prouie_lib.config import load_config, preflight

    config = load_config(args.config, parse_overrides(args.set))
    preflight(config, source=str(args.config))  # before the heavy imports: a bad config fails in a second
    from prouie_lib.stages import run_stage
    from prouie_lib.stages.common import graceful_interrupts

    with graceful_interrupts():
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
