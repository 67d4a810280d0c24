"""One error path for every ``prouie`` command (:func:`run_handler`).

A *user error* — a bad flag, config, path or input file — prints one line naming the file (and the
record/field where there is one) and exits with 2; anything else is a bug and keeps its traceback (exit 1).
``--debug`` (anywhere on the command line) shows the traceback of user errors too. SIGINT/SIGTERM during a
run exit with 128 + the signal number and print the command that resumes the run. A closed pipe
(``prouie data list | head``) is not an error.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import traceback
from pathlib import Path

from prouie_lib.cli.checks import check_args, file_args
from prouie_lib.schema import RecordError

DEBUG_FLAG = "--debug"
EXIT_USER_ERROR = 2
# The kit's own code: a ValueError or a KeyError with a sentence raised there is a deliberate user error.
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


def run_handler(args: argparse.Namespace, argv: list[str]) -> int:
    """Check the flags, run ``args.func(args)`` and turn what it raises into an exit code."""
    from prouie_lib.distributed import env_is_main, launched

    debug = DEBUG_FLAG in argv
    speaks = env_is_main()
    if launched() and not speaks:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of this process: one voice per run
    try:
        check_args(args)
        return int(args.func(args) or 0)
    except KeyboardInterrupt as err:  # Ctrl-C / SIGTERM (an Interrupted of the stages): resumable
        signum = getattr(err, "signum", signal.SIGINT)
        detail = getattr(err, "detail", "")
        if debug:
            traceback.print_exc()
        if not speaks:
            return 128 + int(signum)
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
        if speaks:
            print(f"prouie: error: {' '.join(message.split())}", file=sys.stderr)
        return EXIT_USER_ERROR


def _undecodable_file(args: argparse.Namespace) -> str | None:
    """Which of the command's input files is not UTF-8 text (a UnicodeDecodeError does not say)."""
    for value in file_args(args):
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
    return bool(frames) and str(Path(frames[-1].filename).resolve()).startswith(PACKAGE_DIR)


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
    from prouie_lib.distributed import launched

    launcher = (f"torchrun --standalone --nproc_per_node {os.environ.get('LOCAL_WORLD_SIZE', os.environ['WORLD_SIZE'])} "
                "-m prouie_lib.cli " if launched() else "prouie ")  # the same number of processes
    return launcher + " ".join(shlex.quote(w) for w in out)
