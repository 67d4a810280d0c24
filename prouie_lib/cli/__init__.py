"""The ``prouie`` command: one module per top-level command, each with a ``register(sub)``.

Each command module only defines its flags and prints; the work is done by the library, imported inside the
handlers so that ``prouie --help`` loads no torch. Every handler runs through one error path
(:func:`prouie_lib.cli.errors.run_handler`): flags are checked first (:mod:`.checks`), a user error prints
one line and exits with 2, a bug keeps its traceback, ``--debug`` (anywhere) shows the traceback of user
errors too, and an interrupted run prints the command that resumes it.
"""

from __future__ import annotations

import argparse
import sys

from prouie_lib.cli import data, eval, export, extract, pipeline, predict, reward, train
from prouie_lib.cli.errors import DEBUG_FLAG, run_handler

# The command modules, in the order `prouie --help` lists them.
COMMANDS = (data, eval, predict, extract, export, reward, train, pipeline)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prouie",
        description="ProUIE kit: data unification, CM/SA/DE training, prediction, evaluation, rewards, "
                    "extraction from new text, export.",
        epilog=f"{DEBUG_FLAG} (anywhere): show the traceback of input errors too (they print one line by default).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args([a for a in argv if a != DEBUG_FLAG])
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    return run_handler(args, argv)


__all__ = ["COMMANDS", "build_parser", "main"]
