"""``prouie pipeline --config F`` and ``prouie demo`` (the README's main job)."""

from __future__ import annotations

import argparse


def _pipeline(args: argparse.Namespace) -> int:
    from prouie_lib.analysis.report import ablation_table
    from prouie_lib.config import load_config
    from prouie_lib.pipeline import run_pipeline
    from prouie_lib.stages.cli import parse_overrides

    config = load_config(args.config, parse_overrides(args.set))
    report = run_pipeline(config, fresh=args.fresh)
    print(f"\nAblation ({config.run_dir}):\n")
    print(ablation_table(config.run_dir, list(config.stages)))
    print(f"\nreport: {report}")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("pipeline", help="run base → CM → SA → DE → report (resumes finished stages)")
    parser.add_argument("--config", required=True, help="run config YAML (see configs/)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config field")
    parser.add_argument("--fresh", action="store_true", help="delete the run directory first")
    parser.set_defaults(func=_pipeline)
