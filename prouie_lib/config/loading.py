"""Reading a run config: YAML (with dotted ``--set`` overrides) into the section dataclasses, every value checked
against its field's type, then validated (:mod:`prouie_lib.config.checks`); and the snapshot a run keeps."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from prouie_lib.config.checks import validate
from prouie_lib.config.sections import ConfigError, RunConfig


def build_dataclass(cls: type, values: Any, file: str, prefix: str = ""):
    """Recursively build dataclass ``cls`` from a mapping, rejecting unknown fields."""
    if values is None:
        return cls()
    if not isinstance(values, dict):
        raise ConfigError(f"expected a mapping, got {type(values).__name__}", file=file, field=prefix or None)
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(str(k) for k in set(values) - known)
    if unknown:
        raise ConfigError(f"unknown field(s) {unknown}; known: {sorted(known)}", file=file, field=prefix or None)
    kwargs = {}
    for name, value in values.items():
        hint = hints[name]
        dotted = f"{prefix}.{name}" if prefix else name
        if get_origin(hint) in (Union, UnionType) and value is not None:  # `Section | None`
            hint = next((h for h in get_args(hint) if dataclasses.is_dataclass(h)), hint)
        if dataclasses.is_dataclass(hint):
            kwargs[name] = build_dataclass(hint, value, file, dotted)
        else:
            kwargs[name] = _check_type(value, hint, file, dotted)
    return cls(**kwargs)


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


_YAML11_EXPONENT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")


def _check_type(value: Any, hint: Any, file: str, where: str) -> Any:
    """Check a YAML value against a field's type hint (unions, lists and dicts of plain types)."""
    options = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    if isinstance(value, str) and float in options and str not in options and _YAML11_EXPONENT.match(value):
        value = float(value)  # YAML 1.1 (PyYAML) reads 1e-3 as a string; a float field means the number
    for option in options:
        base = get_origin(option) or option
        if option is type(None):
            if value is None:
                return None
        elif base is Any:
            return value
        elif base is bool:
            if isinstance(value, bool):
                return value
        elif base in (int, float):
            if isinstance(value, int | float) and not isinstance(value, bool) and (base is float or isinstance(value, int)):
                if not math.isfinite(value):
                    raise ConfigError(f"must be a finite number, got {value!r}", file=file, field=where)
                return base(value)
        elif base is list and isinstance(value, list):
            (item,) = get_args(option) or (Any,)
            return [_check_type(v, item, file, f"{where}[{i}]") for i, v in enumerate(value)]
        elif base is dict and isinstance(value, dict):
            key_hint, item_hint = get_args(option) or (Any, Any)
            return {_check_type(k, key_hint, file, f"{where} key"): _check_type(v, item_hint, file, f"{where}.{k}")
                    for k, v in value.items()}
        elif isinstance(base, type) and isinstance(value, base):
            return value
    raise ConfigError(f"expected {_type_name(hint)}, got {value!r}", file=file, field=where)


def config_from_dict(values: dict[str, Any], where: str = "config") -> RunConfig:
    if not isinstance(values, dict):
        raise ConfigError(f"expected a mapping of sections (model, data, cm, ...), got {type(values).__name__}",
                          file=where)
    return validate(build_dataclass(RunConfig, values, where), where)


def read_yaml(path: str | os.PathLike) -> Any:
    """A YAML file's content; unreadable files and syntax errors raise a ConfigError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"not UTF-8 text (byte {err.object[err.start]:#04x} at offset {err.start})",
                          file=str(path)) from None
    except OSError as err:
        raise ConfigError(err.strerror or str(err), file=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"invalid YAML: {where}{problem}", file=str(path)) from None


def load_config(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Load and validate a YAML run config; ``overrides`` uses dotted keys, e.g. ``{"cm.trainer.max_steps": 2}``."""
    path = Path(path)
    values = read_yaml(path)
    if values is None:
        raise ConfigError("empty config", file=str(path))
    if not isinstance(values, dict):
        raise ConfigError(f"expected a mapping of sections (model, data, cm, ...), got {type(values).__name__}",
                          file=str(path))
    for dotted, value in (overrides or {}).items():
        node = values
        *parents, leaf = dotted.split(".")
        for i, part in enumerate(parents):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {dotted}: {'.'.join(parents[:i + 1])} is not a section", file=str(path))
        node[leaf] = value
    return config_from_dict(values, where=str(path))


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def save_config(config: Any, path: str | os.PathLike) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False))
