"""``prouie pipeline --config F``: every configured stage, then the report (the README's main job)."""

from __future__ import annotations

import argparse

from prouie_lib.cli.train import add_config_args, load_checked_config


def register(sub: argparse._SubParsersAction) -> None:
    from prouie_lib.rundir import STAGES

    parser = sub.add_parser("pipeline", help="run base → CM → SA → DE → report (resumes finished stages)",
                            description="Run every configured stage and write the report. Finished stages are "
                                        "skipped and an interrupted one resumes from its last complete checkpoint; "
                                        "a stage whose config changed stops the run (see docs/reliability.md).")
    add_config_args(parser)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--fresh", action="store_true", help="delete the run directory first")
    what.add_argument("--rerun-from", choices=list(STAGES), metavar="STAGE",
                      help=f"recompute this stage and every stage after it ({', '.join(STAGES)})")
    parser.add_argument("--seeds", type=int, nargs="+", metavar="K",
                        help="run the whole ablation once per seed in runs/<name>/seed-<k>/ and aggregate them "
                             "(as `seeds: [...]` in the config)")
    parser.set_defaults(func=_pipeline)


def _pipeline(args: argparse.Namespace) -> int:
    config = load_checked_config(args)
    if args.seeds:
        import dataclasses

        config = dataclasses.replace(config, seeds=list(args.seeds))
    from prouie_lib.analysis.report import ablation_table
    from prouie_lib.pipeline import run_pipeline

    report = run_pipeline(config, fresh=args.fresh, rerun_from=args.rerun_from, source=str(args.config))
    if config.seeds:
        print(f"\n{report.read_text()}\nreport: {report}")
        return 0
    print(f"\nAblation ({config.run_dir}):\n")
    print(ablation_table(config.run_dir, list(config.stages)))
    print(f"\nreport: {report}")
    return 0
