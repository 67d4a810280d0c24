"""Flag checks that run before any handler: numbers in range, input files readable, output files creatable.

A command adds its own checks with ``set_defaults(check=fn)`` (e.g. ``prouie reward``: the reward spec
resolves); :func:`check_args` runs them after the shared ones. Each failure is a :class:`RecordError`
naming the flag, so it prints as one line.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from prouie_lib.schema import RecordError

# Flags that name input files (must be readable, non-empty regular files) and output files (must not be folders).
INPUT_FILE_ARGS: tuple[str, ...] = ("config", "gold", "pred", "completions", "traces")
OUTPUT_FILE_ARGS: tuple[str, ...] = ("out", "output")
# Numeric flags: (argparse dest, test, rule), checked on every sub-command that has the flag.
NUMBER_ARGS: tuple[tuple[str, Any, str], ...] = (
    ("limit", lambda v: v >= 0, ">= 0"),
    ("batch_size", lambda v: v > 0, "> 0"),
    ("max_new_tokens", lambda v: v > 0, "> 0"),
)


def flag(dest: str) -> str:
    """The command-line spelling of an argparse dest: ``batch_size`` → ``--batch-size``."""
    return "--" + dest.replace("_", "-")


def check_input_file(flag: str, value: str) -> None:
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


def check_output_file(flag: str, value: str) -> None:
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


def check_args(args: argparse.Namespace) -> None:
    """The shared checks, then the command's own (``args.check``, when it set one)."""
    for dest, ok, rule in NUMBER_ARGS:
        value = getattr(args, dest, None)
        if value is not None and not ok(value):
            raise RecordError(f"must be {rule}, got {value}", field=flag(dest))
    for dest in INPUT_FILE_ARGS:
        value = getattr(args, dest, None)
        if isinstance(value, str):
            check_input_file(flag(dest), value)
    for dest in OUTPUT_FILE_ARGS:
        value = getattr(args, dest, None)
        if isinstance(value, str):
            check_output_file(flag(dest), value)
    check = getattr(args, "check", None)
    if check is not None:
        check(args)


def file_args(args: argparse.Namespace) -> list[str]:
    """The command's input files and datasets, as given (to name the one that is not UTF-8)."""
    return [v for dest in (*INPUT_FILE_ARGS, "data", "dataset") if isinstance(v := getattr(args, dest, None), str)]
