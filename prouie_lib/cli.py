"""The ``prouie`` command. Each concern registers its own sub-commands (``register(sub)``)."""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that contribute sub-commands, in the order `prouie --help` lists them.
# They must stay light at import time (heavy imports inside the handlers).
COMMAND_MODULES: tuple[str, ...] = (
    "prouie_lib.data.cli",
    "prouie_lib.evaluation.cli",
    "prouie_lib.rewards.cli",
    "prouie_lib.stages.cli",
    "prouie_lib.pipeline_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prouie",
        description="ProUIE kit: data unification, CM/SA/DE training, prediction, evaluation, rewards.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:  # a concern not built yet
            if err.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as err:
        # User-facing errors (bad config, malformed data) get one clear line, not a traceback.
        print(f"prouie: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
