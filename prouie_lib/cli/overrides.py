"""``--set KEY=VALUE``: the one override syntax of every command (values parsed as YAML, as in a config file)."""

from __future__ import annotations

import argparse
from typing import Any

from prouie_lib.schema import RecordError

SET_FLAG = "--set"


def add_set_arg(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument(SET_FLAG, action="append", default=[], metavar="KEY=VALUE",
                        help=f"{help} (value parsed as YAML; repeatable)")


def parse_overrides(items: list[str] | None, example: str = "cm.trainer.max_steps=2") -> dict[str, Any]:
    """``--set cm.trainer.max_steps=2`` → ``{"cm.trainer.max_steps": 2}`` (values parsed as YAML).

    >>> parse_overrides(["cm.trainer.max_steps=2", "de.reward=sfr", "floor=-1", "x=[1, 2]"])
    {'cm.trainer.max_steps': 2, 'de.reward': 'sfr', 'floor': -1, 'x': [1, 2]}
    """
    import yaml  # not at import time: `prouie --help` stays light

    overrides = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or any(not part for part in key.split(".")):
            raise RecordError(f"expects KEY=VALUE such as {example}, got {item!r}",
                              field=SET_FLAG)
        try:
            overrides[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise RecordError(f"{key}: value {value!r} is not valid YAML ({problem})", field=SET_FLAG) from None
    return overrides
