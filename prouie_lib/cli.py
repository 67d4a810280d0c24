"""The ``prouie`` command. Each concern registers its own sub-commands (``register(sub)``).

One error path for every sub-command (:func:`main`): flags are checked before a handler runs (:func:`check_args`);
a *user error* — a bad flag, config, path or input file — prints one line naming the file (and the record/field
where there is one) and exits with 2; anything else is a bug and keeps its traceback (exit 1). ``--debug`` (anywhere
on the command line) shows the traceback of user errors too. SIGINT/SIGTERM during a run exit with 128 + the signal
number and print the command that resumes the run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from prouie_lib.schema import RecordError

# Modules that contribute sub-commands, in the order `prouie --help` lists them.
# They must stay light at import time (heavy imports inside the handlers).
COMMAND_MODULES: tuple[str, ...] = (
    "prouie_lib.data.cli",
    "prouie_lib.evaluation.cli",
    "prouie_lib.rewards.cli",
    "prouie_lib.stages.cli",
    "prouie_lib.pipeline_cli",
)
DEBUG_FLAG = "--debug"
EXIT_USER_ERROR = 2

# Flags that name input files (must be readable, non-empty regular files) and output files (must not be folders).
INPUT_FILE_ARGS: tuple[str, ...] = ("config", "gold", "pred", "completions", "traces")
OUTPUT_FILE_ARGS: tuple[str, ...] = ("out", "output")
# Numeric flags: (argparse dest, test, rule), checked on every sub-command that has the flag.
NUMBER_ARGS: tuple[tuple[str, Any, str], ...] = (
    ("limit", lambda v: v >= 0, ">= 0"),
    ("batch_size", lambda v: v > 0, "> 0"),
    ("max_new_tokens", lambda v: v > 0, "> 0"),
)
# Fields a reward trace line needs (`prouie reward replay`; written by the DE stage).
TRACE_FIELDS: tuple[str, ...] = ("completion", "format", "gold")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prouie",
        description="ProUIE kit: data unification, CM/SA/DE training, prediction, evaluation, rewards.",
        epilog=f"{DEBUG_FLAG} (anywhere): show the traceback of input errors too (they print one line by default).",
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


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _check_input_file(flag: str, value: str) -> None:
    path = Path(value).expanduser()
    if not path.exists():
        raise RecordError("no such file", file=value, field=flag)
    if path.is_dir():
        raise RecordError("is a folder, expected a file", file=value, field=flag)
    if not os.access(path, os.R_OK):
        raise RecordError("permission denied (not readable)", file=value, field=flag)
    if not path.is_file():
        raise RecordError("not a regular file", file=value, field=flag)
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError as err:
        raise RecordError(err.strerror or str(err), file=value, field=flag) from None
    if not head.strip():
        raise RecordError("empty file (no records)", file=value, field=flag)


def _check_output_file(flag: str, value: str) -> None:
    path = Path(value).expanduser()
    if path.is_dir():
        raise RecordError("is a folder, expected a file name", file=value, field=flag)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise RecordError(f"cannot create it: {parent} is a file, not a folder", file=value, field=flag)
    if not os.access(parent, os.W_OK):
        raise RecordError(f"cannot create it: folder {parent} is not writable", file=value, field=flag)


def _check_traces(value: str) -> None:
    """The first trace line has the fields a reward trace holds (catches a log or prediction file passed by mistake)."""
    from prouie_lib.data.io import iter_json_objects

    for number, line in iter_json_objects(value):
        missing = [key for key in TRACE_FIELDS if key not in line]
        if missing:
            raise RecordError(f"not a reward trace (a DE stage's reward_traces.jsonl): missing {missing}",
                              file=value, record=f"line {number}", field=missing[0])
        return


def check_args(args: argparse.Namespace) -> None:
    """Validate flags before a handler runs: numbers in range, input files readable, output files creatable."""
    for dest, ok, rule in NUMBER_ARGS:
        value = getattr(args, dest, None)
        if value is not None and not ok(value):
            raise RecordError(f"must be {rule}, got {value}", field=_flag(dest))
    for dest in INPUT_FILE_ARGS:
        value = getattr(args, dest, None)
        if isinstance(value, str):
            _check_input_file(_flag(dest), value)
    for dest in OUTPUT_FILE_ARGS:
        value = getattr(args, dest, None)
        if isinstance(value, str):
            _check_output_file(_flag(dest), value)
    if args.command == "reward" and getattr(args, "reward_command", None) in ("score", "replay"):
        from prouie_lib.rewards.registry import UnknownRewardError, resolve_reward

        try:  # a registered name, module:function or path/to/file.py:function
            resolve_reward(args.reward)
        except UnknownRewardError as err:
            raise RecordError(str(err), field="--reward") from None
        if args.reward_command == "replay":
            _check_traces(args.traces)
    if args.command == "predict":
        from prouie_lib.models import check_backbone

        check_backbone(args.model, field="--model")


def _file_args(args: argparse.Namespace) -> list[str]:
    return [v for dest in (*INPUT_FILE_ARGS, "data", "dataset") if isinstance(v := getattr(args, dest, None), str)]


def _undecodable_file(args: argparse.Namespace) -> str | None:
    """Which of the command's input files is not UTF-8 text (a UnicodeDecodeError does not say)."""
    for value in _file_args(args):
        path = Path(value)
        if path.is_file():
            try:
                with open(path, encoding="utf-8-sig") as handle:
                    while handle.read(1 << 20):
                        pass
            except UnicodeDecodeError:
                return value
            except OSError:
                continue
    return None


def _in_our_code(err: BaseException) -> bool:
    """Whether the exception was raised by the kit's own code (deliberately), not inside a library."""
    frames = traceback.extract_tb(err.__traceback__)
    package = str(Path(__file__).resolve().parent)
    return bool(frames) and str(Path(frames[-1].filename).resolve()).startswith(package)


def user_error_message(err: BaseException, args: argparse.Namespace | None = None) -> str | None:
    """The one-line message for a user error, or None when ``err`` is a bug (it then keeps its traceback)."""
    if isinstance(err, RecordError):
        return str(err)
    if isinstance(err, UnicodeDecodeError):
        name = _undecodable_file(args) if args is not None else None
        byte = err.object[err.start] if isinstance(err.object, bytes | bytearray) and err.start < len(err.object) else None
        what = f"byte {byte:#04x} at offset {err.start}" if byte is not None else err.reason
        return f"{name or 'input'}: not UTF-8 text ({what}); is it the right file?"
    if isinstance(err, OSError):
        name = err.filename if err.filename is not None else None
        reason = err.strerror or str(err)
        if isinstance(err, IsADirectoryError):
            reason = "is a folder, expected a file"
        return f"{name}: {reason}" if name else reason
    if isinstance(err, ValueError) and _in_our_code(err):  # the kit raises ValueError for bad input
        return str(err)
    if isinstance(err, KeyError) and _in_our_code(err) and err.args and " " in str(err.args[0]):
        return str(err.args[0])  # a deliberate KeyError carries a sentence; a bare key is a bug
    return None


def resume_command(argv: list[str]) -> str:
    """The command line that continues an interrupted run."""
    words = [w for w in argv if w != DEBUG_FLAG]
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in ("--fresh",):
            continue
        if word == "--rerun-from":
            skip = True
            continue
        if word.startswith("--rerun-from="):
            continue
        out.append(word)
    if out and out[0] == "train" and "--resume" not in out:
        out.append("--resume")
    return "prouie " + " ".join(shlex.quote(w) for w in out)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv
    parser = build_parser()
    args = parser.parse_args([a for a in argv if a != DEBUG_FLAG])
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        check_args(args)
        return int(args.func(args) or 0)
    except KeyboardInterrupt as err:  # Ctrl-C / SIGTERM (prouie_lib.stages.common.Interrupted): resumable
        signum = getattr(err, "signum", signal.SIGINT)
        detail = getattr(err, "detail", "")
        if debug:
            traceback.print_exc()
        print(f"\nprouie: interrupted by {signal.Signals(signum).name}" + (f" ({detail})" if detail else "")
              + f"; resume with: {resume_command(argv)}", file=sys.stderr)
        return 128 + int(signum)
    except BrokenPipeError:  # `prouie data list | head`: the reader went away, not an error
        sys.stderr.close()
        return 0
    except Exception as err:
        message = user_error_message(err, args)
        if message is None:
            raise  # a bug: keep the traceback
        if debug:
            traceback.print_exc()
        print(f"prouie: error: {' '.join(message.split())}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
